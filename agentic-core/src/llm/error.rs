//! Typed LLM failures.

use std::time::Duration;

/// Why an LLM call failed. [`LlmError::is_retryable`] tells the retry decorator what to try again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    /// HTTP 429: too many requests.
    #[error("rate limited by the provider{}", after(.retry_after))]
    RateLimited {
        /// The provider's `Retry-After`, if given.
        retry_after: Option<Duration>,
    },
    /// HTTP 529 or an `overloaded` error: the provider is out of capacity.
    #[error("provider overloaded{}", after(.retry_after))]
    Overloaded {
        /// The provider's `Retry-After`, if given.
        retry_after: Option<Duration>,
    },
    /// Other 5xx answers.
    #[error("provider unavailable (HTTP {status}): {excerpt}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// Start of the provider's body.
        excerpt: String,
        /// The provider's `Retry-After`, if given.
        retry_after: Option<Duration>,
    },
    /// The call did not finish in time.
    #[error("LLM call timed out after {0:?}")]
    Timeout(Duration),
    /// HTTP 401/403: the credentials were refused.
    #[error("provider refused the credentials (HTTP {status}): {message}")]
    Auth {
        /// HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// HTTP 400/404/422: the request is wrong; retrying will not help.
    #[error("provider rejected the request (HTTP {status}): {message}")]
    InvalidRequest {
        /// HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The prompt does not fit the model's context window.
    #[error("prompt too long for the model's context: {message}")]
    ContextTooLong {
        /// The provider's message.
        message: String,
    },
    /// The answer could not be understood.
    #[error("unexpected response from the provider: {message} (body starts: {excerpt})")]
    BadResponse {
        /// What was wrong.
        message: String,
        /// Start of the body.
        excerpt: String,
    },
    /// The connection failed (DNS, TCP, TLS, reset).
    #[error("transport error: {0}")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The provider is not configured or cannot be built.
    #[error("provider not available: {0}")]
    NotConfigured(String),
}

impl LlmError {
    /// An answer that is not what was asked (no body excerpt to show).
    pub fn bad_response(message: impl Into<String>) -> Self {
        LlmError::BadResponse { message: message.into(), excerpt: String::new() }
    }

    /// The failure as a tenant may read it: its kind and the provider's status, never transport details or
    /// response excerpts (a proxy's error page or a connection error can name internal hosts).
    pub fn public_detail(&self) -> String {
        match self {
            LlmError::Unavailable { status, .. } => format!("provider unavailable (HTTP {status})"),
            LlmError::Auth { status, .. } => format!("provider refused the credentials (HTTP {status})"),
            LlmError::BadResponse { .. } => "unexpected response from the provider".into(),
            LlmError::Transport(_) => "could not reach the provider".into(),
            LlmError::NotConfigured(_) => "the agent's provider is not configured".into(),
            LlmError::RateLimited { .. }
            | LlmError::Overloaded { .. }
            | LlmError::Timeout(_)
            | LlmError::InvalidRequest { .. }
            | LlmError::ContextTooLong { .. } => self.to_string(),
        }
    }

    /// The failure's kind, short and stable: the `status` label of `llm_calls_total`.
    pub const fn kind(&self) -> &'static str {
        match self {
            LlmError::RateLimited { .. } => "rate_limited",
            LlmError::Overloaded { .. } => "overloaded",
            LlmError::Unavailable { .. } => "unavailable",
            LlmError::Timeout(_) => "timeout",
            LlmError::Auth { .. } => "auth",
            LlmError::InvalidRequest { .. } => "invalid_request",
            LlmError::ContextTooLong { .. } => "context_too_long",
            LlmError::BadResponse { .. } => "bad_response",
            LlmError::Transport(_) => "transport",
            LlmError::NotConfigured(_) => "not_configured",
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LlmError::RateLimited { .. }
                | LlmError::Overloaded { .. }
                | LlmError::Unavailable { .. }
                | LlmError::Timeout(_)
                | LlmError::Transport(_)
        )
    }

    /// The wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::RateLimited { retry_after }
            | LlmError::Overloaded { retry_after }
            | LlmError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

fn after(retry_after: &Option<Duration>) -> String {
    retry_after.map(|d| format!(" (retry after {d:?})")).unwrap_or_default()
}

/// The first 300 characters of a body, for error messages (never the whole body: it may be huge).
pub fn excerpt(body: &str) -> String {
    const MAX: usize = 300;
    match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_owned(),
    }
}
