//! The limiter trait and its answers.

use std::time::Duration;

use async_trait::async_trait;

use super::Quota;

/// Which limit a check enforces (the `scope` label of `rate_limit_hits_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitScope {
    /// Per client IP, before authentication.
    Ip,
    /// Per tenant, by plan.
    Tenant,
    /// Per principal (user or API key), possibly by role.
    Principal,
    /// Per principal on one route.
    Route,
    /// Per account named at sign-in (tenant slug + e-mail), before anyone is authenticated.
    Account,
}

impl LimitScope {
    /// Every scope.
    pub const ALL: [Self; 5] = [Self::Ip, Self::Tenant, Self::Principal, Self::Route, Self::Account];
}

impl LimitScope {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitScope::Ip => "ip",
            LimitScope::Tenant => "tenant",
            LimitScope::Principal => "principal",
            LimitScope::Route => "route",
            LimitScope::Account => "account",
        }
    }
}

/// One limit to check: a key and its quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitCheck {
    /// The key (e.g. `t:<tenant id>`); backends may prefix it.
    pub key: String,
    /// The quota.
    pub quota: Quota,
    /// What the limit is for.
    pub scope: LimitScope,
}

/// The answer for a set of checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed (every check passed; only then were the quotas consumed).
    pub allowed: bool,
    /// The limit of the tightest check (`RateLimit-Limit`).
    pub limit: u32,
    /// Requests left under it (`RateLimit-Remaining`).
    pub remaining: u32,
    /// Microseconds until it is fully replenished (`RateLimit-Reset`).
    pub reset_micros: i64,
    /// When refused: microseconds until a retry can succeed (`Retry-After`).
    pub retry_after_micros: i64,
    /// When refused: the limit that refused.
    pub denied_by: Option<LimitScope>,
}

impl Decision {
    /// `reset_micros` as whole seconds, rounded up.
    pub fn reset_secs(&self) -> u64 {
        micros_to_secs(self.reset_micros)
    }

    /// `retry_after_micros` as whole seconds, rounded up (at least 1 when refused).
    pub fn retry_after_secs(&self) -> u64 {
        micros_to_secs(self.retry_after_micros).max(u64::from(!self.allowed))
    }

    /// `retry_after_micros` as a duration.
    pub fn retry_after(&self) -> Duration {
        Duration::from_micros(u64::try_from(self.retry_after_micros).unwrap_or(0))
    }
}

fn micros_to_secs(micros: i64) -> u64 {
    u64::try_from(micros).unwrap_or(0).div_ceil(1_000_000)
}

/// The limiter could not decide (its backend is down or slow); the policy's fail mode decides instead.
#[derive(Debug, thiserror::Error)]
#[error("rate limiter unavailable: {0}")]
pub struct LimitError(pub String);

/// Decides rate limits. Implementations are atomic per call: concurrent calls on the same keys, from any
/// number of processes sharing the backend, never admit more than the quota.
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Checks every limit of one request; consumes them only if all pass. Must not block for long: a backend
    /// that cannot answer promptly returns [`LimitError`].
    async fn check(&self, checks: &[LimitCheck]) -> Result<Decision, LimitError>;
}
