//! The Redis rate limiter.

use std::time::Duration;

use agentic_core::limit::{Decision, LimitCheck, LimitError, LimitScope, RateLimiter};
use async_trait::async_trait;
use redis::Script;
use redis::aio::ConnectionManager;

/// Connection and timing settings.
#[derive(Clone, Debug)]
pub struct RedisLimiterOptions {
    /// Longest a decision may take before it counts as unavailable (default 250 ms).
    pub timeout: Duration,
    /// Prefix of every key (default `agentic:rl:`), so several platforms can share a Redis.
    pub prefix: String,
}

impl Default for RedisLimiterOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_millis(250), prefix: "agentic:rl:".into() }
    }
}

/// Why the limiter could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The URL is malformed.
    #[error("invalid Redis URL: {0}")]
    Url(#[source] redis::RedisError),
    /// Redis could not be reached.
    #[error("cannot connect to Redis: {0}")]
    Connect(#[source] redis::RedisError),
    /// Connecting took longer than the timeout.
    #[error("cannot connect to Redis: timed out after {0:?}")]
    Timeout(Duration),
}

/// GCRA rate limits in Redis, exact across replicas.
#[derive(Clone)]
pub struct RedisRateLimiter {
    connection: ConnectionManager,
    script: Script,
    options: RedisLimiterOptions,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter").field("options", &self.options).finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Connects to `url` (failing within a few timeouts if Redis is unreachable) and loads nothing yet: the
    /// script is sent with `EVALSHA`, falling back to `EVAL` once per connection.
    pub async fn connect(url: &str, options: RedisLimiterOptions) -> Result<Self, RedisStoreError> {
        let connection = crate::connect(url, options.timeout).await?;
        Ok(Self { connection, script: Script::new(include_str!("gcra.lua")), options })
    }

    /// The SHA-1 of the Lua script (what `EVALSHA` names), e.g. to compare with `redis-benchmark`.
    pub fn script_hash(&self) -> &str {
        self.script.get_hash()
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, checks: &[LimitCheck]) -> Result<Decision, LimitError> {
        if checks.is_empty() {
            return Ok(Decision {
                allowed: true,
                limit: 0,
                remaining: 0,
                reset_micros: 0,
                retry_after_micros: 0,
                denied_by: None,
            });
        }
        let mut invocation = self.script.prepare_invoke();
        for check in checks {
            invocation.key(format!("{}{}", self.options.prefix, check.key));
            invocation.arg(check.quota.limit).arg(check.quota.interval_micros());
        }
        let mut connection = self.connection.clone();
        let reply: Vec<i64> = tokio::time::timeout(self.options.timeout, invocation.invoke_async(&mut connection))
            .await
            .map_err(|_| LimitError(format!("Redis did not answer within {:?}", self.options.timeout)))?
            .map_err(|e| LimitError(format!("Redis error: {e}")))?;
        let [allowed, limit, remaining, reset, retry, refused_by] = reply[..] else {
            return Err(LimitError(format!("unexpected reply from the limiter script: {reply:?}")));
        };
        let denied_by: Option<LimitScope> =
            usize::try_from(refused_by).ok().filter(|i| *i > 0).and_then(|i| checks.get(i - 1)).map(|c| c.scope);
        Ok(Decision {
            allowed: allowed == 1,
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            remaining: u32::try_from(remaining).unwrap_or(0),
            reset_micros: reset,
            retry_after_micros: retry,
            denied_by,
        })
    }
}
