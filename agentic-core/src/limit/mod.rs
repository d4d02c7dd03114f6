//! Rate limits: GCRA decisions behind the [`RateLimiter`] trait, and the [`RateLimitPolicy`] that says which
//! limits a request is subject to.
//!
//! A decision covers every limit of a request at once and is all-or-nothing: a request refused by its route
//! limit does not consume its tenant's quota. Backends: `agentic_store_memory::MemoryRateLimiter` (one process)
//! and `agentic_store_redis::RedisRateLimiter` (exact across replicas: one Lua script per decision, on Redis's
//! clock).

mod gcra;
mod limiter;
mod plans;
mod policy;

pub use gcra::{GcraState, evaluate};
pub use limiter::{Decision, LimitCheck, LimitError, LimitScope, RateLimiter};
pub use plans::PlanCache;
pub use policy::{FailMode, PlanQuotas, Quota, QuotaParseError, RateLimitPolicy, RouteOverride};
