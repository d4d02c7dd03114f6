//! # agentic-store-redis
//!
//! [`RedisContextStore`]: projects' shared context (`agentic_core::store::ContextStore`), every write one Lua
//! script, so compare-and-set and appends hold across replicas; Redis expires the values itself.
//!
//! [`RedisRateLimiter`]: rate limits that hold exactly across any number of server replicas. Each decision is
//! one `EVALSHA` of a GCRA Lua script that reads the clock with Redis `TIME` (so replicas' clocks do not
//! matter), checks every limit of the request, and consumes them only if all pass. It talks through a
//! `ConnectionManager` (one multiplexed connection, reconnecting on its own) and bounds every decision with a
//! timeout: a slow or stopped Redis becomes a [`LimitError`](agentic_core::limit::LimitError), which the
//! policy's fail mode turns into "let through" or "503" — never a hang.
//!
//! ```no_run
//! use std::sync::Arc;
//! use agentic_core::limit::RateLimitPolicy;
//! use agentic_store_redis::{RedisLimiterOptions, RedisRateLimiter};
//!
//! # async fn run(builder: agentic_core::PlatformBuilder) -> Result<(), Box<dyn std::error::Error>> {
//! let limiter = RedisRateLimiter::connect("redis://127.0.0.1:6379", RedisLimiterOptions::default()).await?;
//! let platform = builder.rate_limits(Arc::new(limiter), RateLimitPolicy::default()).build()?;
//! # let _ = platform; Ok(()) }
//! ```

mod context;
mod limiter;

pub use context::{RedisContextOptions, RedisContextStore};
pub use limiter::{RedisLimiterOptions, RedisRateLimiter, RedisStoreError};
