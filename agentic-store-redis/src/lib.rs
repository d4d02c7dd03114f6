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

/// A `ConnectionManager` to `url` whose every command is bounded by `timeout`; connecting fails within a few
/// timeouts if Redis is unreachable.
async fn connect(url: &str, timeout: std::time::Duration) -> Result<redis::aio::ConnectionManager, RedisStoreError> {
    let client = redis::Client::open(url).map_err(RedisStoreError::Url)?;
    let connect_timeout = timeout.max(std::time::Duration::from_secs(2));
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(2);
    tokio::time::timeout(connect_timeout * 3, redis::aio::ConnectionManager::new_with_config(client, config))
        .await
        .map_err(|_| RedisStoreError::Timeout(connect_timeout * 3))?
        .map_err(RedisStoreError::Connect)
}

pub use context::{RedisContextOptions, RedisContextStore};
pub use limiter::{RedisLimiterOptions, RedisRateLimiter, RedisStoreError};
