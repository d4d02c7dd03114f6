//! # agentic-llm
//!
//! LLM providers for the agentic platform, behind `agentic_core::llm::LlmProvider`:
//!
//! - [`anthropic`]: the Messages API; [`openai`]: any OpenAI-compatible chat completions server (OpenAI, vLLM,
//!   llama.cpp, LM Studio); [`ollama`]: Ollama's native chat API. One module per provider, each with a client,
//!   its wire types (`completion.rs`) and its stream decoder (`streaming.rs`).
//! - Decorators, each a provider wrapping a provider: [`retry::Retry`] (backoff with jitter, `Retry-After`),
//!   [`timeout::Timeout`], [`failover::Failover`].
//! - [`registry::ProviderRegistry`]: providers built from configuration, resolved by name.
//! - [`mock::MockProvider`]: a scripted provider for host apps' tests.
//!
//! ```
//! use std::sync::Arc;
//! use agentic_core::llm::{ChatRequest, LlmProvider, Message};
//! use agentic_llm::registry::{ProviderRegistry, ProviderSettings};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // Nothing configured: every agent gets the echoing mock.
//! let registry = ProviderRegistry::from_settings(&ProviderSettings::default()).unwrap();
//! let llm = registry.resolve("claude").unwrap();
//! let answer = llm.chat(ChatRequest::new("claude-sonnet-4", vec![Message::user("ping")])).await.unwrap();
//! assert_eq!(answer.text, "mock reply to: ping");
//! # }
//! ```

pub mod anthropic;
pub mod failover;
mod http;
mod lines;
pub mod mock;
pub mod ollama;
pub mod openai;
pub mod registry;
pub mod retry;
pub mod timeout;

use std::time::Duration;

use agentic_core::llm::LlmError;

/// Installs rustls' aws-lc-rs crypto provider as the process default (a no-op if one is installed). Call once at
/// start-up, before the first TLS connection.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Setters every adapter's builder shares (fields `http` and `connect_timeout`).
macro_rules! http_client_setters {
    () => {
        /// A shared `reqwest` client (connection pools are per client).
        pub fn http_client(mut self, client: reqwest::Client) -> Self {
            self.http = Some(client);
            self
        }

        /// TCP connect timeout for the default HTTP client (default 10 s).
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.connect_timeout = Some(timeout);
            self
        }
    };
}
pub(crate) use http_client_setters;

/// The given client, or the default one.
pub(crate) fn client_or_default(
    given: Option<reqwest::Client>,
    connect_timeout: Option<Duration>,
) -> Result<reqwest::Client, LlmError> {
    given.map_or_else(|| default_http_client(connect_timeout), Ok)
}

/// The HTTP client adapters use by default: rustls, HTTP/2 when offered, a connect timeout, and no overall
/// timeout (streams may be long; [`timeout::Timeout`] bounds calls).
pub(crate) fn default_http_client(connect_timeout: Option<Duration>) -> Result<reqwest::Client, LlmError> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout.unwrap_or(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("agentic/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| LlmError::NotConfigured(format!("cannot build the HTTP client: {e}")))
}
