use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, MatchedPath};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower::Service;

use super::Stage;
use super::layer::Shared;
use crate::api::{Problem, ProblemType};
use crate::auth::Principal;
use crate::http::problem::problem_response;
use crate::limit::{Decision, LimitCheck};

/// A service that enforces rate limits before calling the inner service.
#[derive(Clone)]
pub struct RateLimit<S> {
    pub(super) inner: S,
    pub(super) shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").field("stage", &self.shared.stage).finish_non_exhaustive()
    }
}

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

enum Verdict {
    Proceed(Option<Decision>),
    Refuse(Decision),
    Unavailable,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RateLimit<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        let subject = subject(&shared, &request);
        Box::pin(async move {
            match decide(&shared, subject).await {
                Verdict::Proceed(decision) => {
                    let mut response = inner.call(request).await?;
                    if let Some(decision) = decision {
                        set_headers(response.headers_mut(), &decision, false);
                    }
                    Ok(response)
                }
                Verdict::Refuse(decision) => {
                    let scope = decision.denied_by.map_or("unknown", |s| s.as_str());
                    shared.metrics.limits.hits_total.with_label_values(&[scope]).inc();
                    let detail = format!(
                        "rate limit exceeded ({scope}: {} requests); retry in {} s",
                        decision.limit,
                        decision.retry_after_secs()
                    );
                    let mut response = problem_response(&Problem::new(ProblemType::RateLimited, detail));
                    set_headers(response.headers_mut(), &decision, true);
                    Ok(response)
                }
                Verdict::Unavailable => Ok(problem_response(&Problem::new(
                    ProblemType::RateLimiterUnavailable,
                    "the rate limiter cannot decide right now; retry shortly",
                ))),
            }
        })
    }
}

/// What the limits are keyed on, taken from the request before any await (the body need not be `Sync`).
enum Subject {
    Nobody,
    Ip(std::net::IpAddr),
    Principal { principal: Principal, method: String, route: String },
}

fn subject<B>(shared: &Shared, request: &Request<B>) -> Subject {
    let extensions = request.extensions();
    match shared.stage {
        // The client behind trusted proxies when the client-address layer ran, else the peer.
        Stage::ClientIp => match extensions.get::<crate::http::layer::client_ip::ClientIp>() {
            Some(client) => Subject::Ip(client.0),
            None => extensions.get::<ConnectInfo<SocketAddr>>().map_or(Subject::Nobody, |c| Subject::Ip(c.0.ip())),
        },
        Stage::Principal => match (extensions.get::<Principal>(), extensions.get::<MatchedPath>()) {
            (Some(principal), Some(route)) => Subject::Principal {
                principal: principal.clone(),
                method: request.method().as_str().to_owned(),
                route: route.as_str().to_owned(),
            },
            _ => Subject::Nobody,
        },
    }
}

async fn decide(shared: &Shared, subject: Subject) -> Verdict {
    let checks: Vec<LimitCheck> = match subject {
        Subject::Nobody => Vec::new(),
        Subject::Ip(ip) => shared.policy.ip_check(ip).into_iter().collect(),
        Subject::Principal { principal, method, route } => {
            let plan = match shared.plans.plan(principal.tenant_id).await {
                Ok(plan) => plan,
                Err(error) => return unavailable(shared, &error.to_string()),
            };
            shared.policy.principal_checks(&principal, plan, &method, &route)
        }
    };
    if checks.is_empty() {
        return Verdict::Proceed(None);
    }
    match shared.limiter.check(&checks).await {
        Ok(decision) if decision.allowed => Verdict::Proceed(Some(decision)),
        Ok(decision) => Verdict::Refuse(decision),
        Err(error) => unavailable(shared, &error.to_string()),
    }
}

fn unavailable(shared: &Shared, error: &str) -> Verdict {
    if shared.policy.fail_mode.lets_through(&error, &shared.metrics) {
        Verdict::Proceed(None)
    } else {
        Verdict::Unavailable
    }
}

/// Sets the RateLimit headers (and `Retry-After` when refused); an inner stage's headers are kept.
fn set_headers(headers: &mut HeaderMap, decision: &Decision, refused: bool) {
    if headers.contains_key(LIMIT) && !refused {
        return;
    }
    let number = |n: u64| HeaderValue::from(n);
    headers.insert(LIMIT, number(u64::from(decision.limit)));
    headers.insert(REMAINING, number(u64::from(decision.remaining)));
    headers.insert(RESET, number(decision.reset_secs()));
    if refused {
        headers.insert(http::header::RETRY_AFTER, number(decision.retry_after_secs()));
    }
}
