//! Rate limiting as a tower [`Layer`](tower::Layer), in two stages.
//!
//! [`Stage::ClientIp`] runs before authentication and limits by the client address (axum's
//! `ConnectInfo<SocketAddr>`; requests without one pass). [`Stage::Principal`] runs after the
//! [`AuthLayer`](crate::http::layer::auth::AuthLayer) and applies the tenant's plan quota and the principal's route,
//! role or general quota, keyed by the matched route template. A refusal is a 429 problem with `Retry-After`;
//! every decided response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds). When
//! the limiter cannot decide, the policy's [`FailMode`](crate::limit::FailMode) applies, with a warning in the
//! log and `rate_limit_backend_errors_total` counted.

mod layer;
mod service;

pub use layer::{RateLimitLayer, Stage};
pub use service::RateLimit;
