//! [`Retry`]: retries transient failures with exponential backoff and full jitter, honouring `Retry-After`.
//!
//! Only errors for which [`LlmError::is_retryable`] holds are retried (429, 529, 5xx, timeouts, transport); an
//! auth or invalid-request error returns at once. A provider's `Retry-After` replaces the computed backoff but is
//! capped at [`RetryPolicy::max_retry_after`], so a misbehaving server cannot park a run for an hour. Streams are
//! retried only while being opened: once events have flowed, a failure is the caller's to handle.
//!
//! ```
//! use std::sync::Arc;
//! use agentic_llm::{mock::MockProvider, retry::{Retry, RetryPolicy}};
//!
//! let provider = Retry::new(Arc::new(MockProvider::echo()), RetryPolicy::default());
//! # let _ = provider;
//! ```

use std::sync::Arc;
use std::time::Duration;

use agentic_core::llm::{ChatRequest, ChatResponse, ChatStream, LlmError, LlmProvider};
use async_trait::async_trait;

/// How to retry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, including the first (1 disables retrying).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Cap on the computed backoff.
    pub max_delay: Duration,
    /// Cap on a provider-requested `Retry-After` wait.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The longest a call can take when each attempt is cut off after `per_attempt`: every attempt timing out,
    /// with the longest wait allowed between them.
    pub fn longest_call(&self, per_attempt: Duration) -> Duration {
        let attempts = self.max_attempts.max(1);
        let longest_wait = self.max_delay.max(self.max_retry_after);
        per_attempt.saturating_mul(attempts).saturating_add(longest_wait.saturating_mul(attempts - 1))
    }

    /// The wait before attempt `attempt + 1` (so `attempt` ≥ 1) after `error`.
    pub fn delay(&self, attempt: u32, error: &LlmError) -> Duration {
        if let Some(wait) = error.retry_after() {
            return wait.min(self.max_retry_after);
        }
        let exponent = attempt.saturating_sub(1).min(20);
        let backoff = self.base_delay.saturating_mul(1_u32 << exponent).min(self.max_delay);
        // Full jitter: uniformly in [0, backoff], so synchronised clients spread out.
        backoff.mul_f64(random_fraction())
    }
}

fn random_fraction() -> f64 {
    let mut bytes = [0_u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1_u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

/// A provider that retries its inner provider.
#[derive(Debug, Clone)]
pub struct Retry {
    inner: Arc<dyn LlmProvider>,
    policy: RetryPolicy,
}

impl Retry {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn LlmProvider>, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }

    async fn attempt<T, F, Fut>(&self, mut call: F) -> Result<T, LlmError>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = Result<T, LlmError>> + Send,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(error) if error.is_retryable() && attempt < self.policy.max_attempts => {
                    let wait = self.policy.delay(attempt, &error);
                    tracing::warn!(provider = self.inner.name(), attempt, ?wait, %error, "LLM call failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

#[async_trait]
impl LlmProvider for Retry {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn reaches(&self) -> Vec<String> {
        self.inner.reaches()
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        self.attempt(|| self.inner.chat(request.clone())).await
    }

    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        self.attempt(|| self.inner.chat_stream(request.clone())).await
    }

    fn capabilities(&self) -> agentic_core::llm::Capabilities {
        self.inner.capabilities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_jitters_and_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let transient = LlmError::Timeout(Duration::ZERO);
        for attempt in 1..10 {
            let cap = Duration::from_millis(100 * (1 << (attempt - 1))).min(Duration::from_secs(1));
            for _ in 0..20 {
                assert!(policy.delay(attempt, &transient) <= cap);
            }
        }
        let asked = LlmError::RateLimited { retry_after: Some(Duration::from_secs(3)) };
        assert_eq!(policy.delay(1, &asked), Duration::from_secs(3));
        let greedy = LlmError::RateLimited { retry_after: Some(Duration::from_secs(3600)) };
        assert_eq!(policy.delay(1, &greedy), Duration::from_secs(60));
    }
}
