//! [`Failover`]: tries providers in order until one answers.

use std::sync::Arc;

use agentic_core::llm::{ChatRequest, ChatResponse, ChatStream, LlmError, LlmProvider};
use async_trait::async_trait;

/// A chain of providers. A provider is skipped when it fails in a way another might not (transient failures,
/// refused credentials, not configured); a request the provider judged invalid is returned at once, because the
/// next provider would judge it the same.
///
/// Each request keeps its `model`: chain providers that serve the same model name, or wrap them so they map it.
#[derive(Debug, Clone)]
pub struct Failover {
    providers: Vec<Arc<dyn LlmProvider>>,
}

impl Failover {
    /// A chain; the first provider is preferred. An empty chain is a configuration error.
    pub fn new(providers: Vec<Arc<dyn LlmProvider>>) -> Result<Self, LlmError> {
        if providers.is_empty() {
            return Err(LlmError::NotConfigured("a failover chain needs at least one provider".into()));
        }
        Ok(Self { providers })
    }

    fn should_fail_over(error: &LlmError) -> bool {
        error.is_retryable() || matches!(error, LlmError::Auth { .. } | LlmError::NotConfigured(_))
    }
}

/// The first answer of the chain, with the provider that gave it.
macro_rules! chain {
    ($self:ident, $method:ident, $request:ident) => {{
        let mut last = None;
        for provider in &$self.providers {
            match provider.$method($request.clone()).await {
                Ok(answer) => return Ok((answer, provider)),
                Err(error) if Failover::should_fail_over(&error) => {
                    tracing::warn!(provider = provider.name(), %error, "LLM provider failed; trying the next");
                    last = Some(error);
                }
                Err(error) => return Err(error),
            }
        }
        Err(last.unwrap_or_else(|| LlmError::NotConfigured("empty failover chain".into())))
    }};
}

#[async_trait]
impl LlmProvider for Failover {
    /// The preferred provider's name.
    fn name(&self) -> &str {
        self.providers.first().map_or("failover", |p| p.name())
    }

    /// Every member: a call reaches the later ones when the first fail.
    fn reaches(&self) -> Vec<String> {
        self.providers.iter().flat_map(|p| p.reaches()).collect()
    }

    /// The answer names the provider that gave it (a cost record is priced and attributed by it).
    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        let (mut answer, provider) = self.first_chat(request).await?;
        answer.provider.get_or_insert_with(|| provider.name().to_owned());
        Ok(answer)
    }

    /// A stream has no place for the provider's name: it is attributed to the preferred provider.
    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        self.first_stream(request).await.map(|(stream, _)| stream)
    }
}

impl Failover {
    async fn first_chat(&self, request: ChatRequest) -> Result<(ChatResponse, &Arc<dyn LlmProvider>), LlmError> {
        chain!(self, chat, request)
    }

    async fn first_stream(&self, request: ChatRequest) -> Result<(ChatStream, &Arc<dyn LlmProvider>), LlmError> {
        chain!(self, chat_stream, request)
    }
}
