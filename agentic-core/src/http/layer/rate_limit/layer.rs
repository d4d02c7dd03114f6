use std::sync::Arc;

use tower::Layer;

use super::RateLimit;
use crate::limit::{PlanCache, RateLimitPolicy, RateLimiter};
use crate::metrics::Metrics;

/// Which limits a [`RateLimitLayer`] enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Per client IP, before authentication.
    ClientIp,
    /// Per tenant and principal, after authentication.
    Principal,
}

pub(super) struct Shared {
    pub(super) limiter: Arc<dyn RateLimiter>,
    pub(super) policy: RateLimitPolicy,
    pub(super) plans: PlanCache,
    pub(super) metrics: Metrics,
    pub(super) stage: Stage,
}

/// Wraps services in [`RateLimit`].
#[derive(Clone)]
pub struct RateLimitLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer").field("stage", &self.shared.stage).finish_non_exhaustive()
    }
}

impl RateLimitLayer {
    /// A layer deciding with `limiter` under `policy`; tenant plans come from `plans`.
    pub fn new(
        stage: Stage,
        limiter: Arc<dyn RateLimiter>,
        policy: RateLimitPolicy,
        plans: PlanCache,
        metrics: Metrics,
    ) -> Self {
        Self { shared: Arc::new(Shared { limiter, policy, plans, metrics, stage }) }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit { inner, shared: Arc::clone(&self.shared) }
    }
}
