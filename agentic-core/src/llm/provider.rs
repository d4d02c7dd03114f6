//! The provider trait.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures_core::Stream;

use super::{ChatRequest, ChatResponse, LlmError, StreamEvent};

/// A stream of answer events, ending with [`StreamEvent::Done`].
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

/// What a provider supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Native tool calling.
    pub tools: bool,
    /// Streaming answers.
    pub streaming: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self { tools: true, streaming: true }
    }
}

/// A chat-completion provider. Object safe: the engine holds `Arc<dyn LlmProvider>`.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait LlmProvider: Send + Sync + std::fmt::Debug {
    /// The provider's name in cost records and metrics (`anthropic`, `openai`, `ollama`, `mock`, …).
    fn name(&self) -> &str;

    /// One complete answer.
    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError>;

    /// The answer as a stream of deltas ending with the usage.
    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError>;

    /// What the provider supports.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// The name of every provider a call may reach: itself, or a failover chain's members in order (wrappers
    /// delegate). The outgoing guardrail exempts a call only when every one of them is exempt.
    fn reaches(&self) -> Vec<String> {
        vec![self.name().to_owned()]
    }
}

/// Resolves the provider name of an agent's `llm: {provider, model}` to a provider. Implemented by
/// `agentic_llm::registry::ProviderRegistry`; the [`Platform`](crate::Platform) holds one.
pub trait ProviderResolver: Send + Sync + std::fmt::Debug {
    /// The provider for `name` (`claude`, `anthropic`, `openai`, `ollama`, `mock`, …), or
    /// [`LlmError::NotConfigured`] saying what is missing.
    fn resolve(&self, name: &str) -> Result<Arc<dyn LlmProvider>, LlmError>;

    /// The provider names an agent's specification may use (configured or not: an agent naming a provider that is
    /// not configured is saved, and its runs fail or fall back when they start), or `None` to accept any name.
    fn known_names(&self) -> Option<Vec<String>> {
        None
    }

    /// Whether every name resolves to a scripted mock (no real provider configured).
    fn is_mock_only(&self) -> bool {
        false
    }

    /// The longest one call may take, every retry and backoff included, if bounded. A budget reservation must
    /// outlive it: one that expired mid-call would let other calls spend the money this one is about to.
    fn longest_call(&self) -> Option<std::time::Duration> {
        None
    }
}

/// One provider for every name: what [`PlatformBuilder::llm`](crate::PlatformBuilder::llm) installs when a host app
/// runs everything on one model (`agentic_llm::MockProvider` in tests, one gateway in production).
#[derive(Debug, Clone)]
pub struct SingleProvider(pub Arc<dyn LlmProvider>);

impl ProviderResolver for SingleProvider {
    fn resolve(&self, _name: &str) -> Result<Arc<dyn LlmProvider>, LlmError> {
        Ok(Arc::clone(&self.0))
    }

    fn is_mock_only(&self) -> bool {
        self.0.name() == "mock"
    }
}
