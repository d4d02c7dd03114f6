//! [`Timeout`]: bounds each call, and for streams the wait for each next event.

use std::sync::Arc;
use std::time::Duration;

use agentic_core::llm::{ChatRequest, ChatResponse, ChatStream, LlmError, LlmProvider};
use async_trait::async_trait;
use futures_util::StreamExt;

/// A provider whose calls fail with [`LlmError::Timeout`] when they take too long.
#[derive(Debug, Clone)]
pub struct Timeout {
    inner: Arc<dyn LlmProvider>,
    limit: Duration,
}

impl Timeout {
    /// Wraps `inner`: a plain call must finish within `limit`; a stream must open, and then yield each event,
    /// within `limit`.
    pub fn new(inner: Arc<dyn LlmProvider>, limit: Duration) -> Self {
        Self { inner, limit }
    }
}

#[async_trait]
impl LlmProvider for Timeout {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn reaches(&self) -> Vec<String> {
        self.inner.reaches()
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        tokio::time::timeout(self.limit, self.inner.chat(request)).await.map_err(|_| LlmError::Timeout(self.limit))?
    }

    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let limit = self.limit;
        let stream = tokio::time::timeout(limit, self.inner.chat_stream(request))
            .await
            .map_err(|_| LlmError::Timeout(limit))??;
        let guarded = futures_util::stream::unfold(Some(stream), move |state| async move {
            let mut stream = state?;
            match tokio::time::timeout(limit, stream.next()).await {
                Ok(Some(item)) => Some((item, Some(stream))),
                Ok(None) => None,
                Err(_) => Some((Err(LlmError::Timeout(limit)), None)),
            }
        });
        Ok(Box::pin(guarded))
    }

    fn capabilities(&self) -> agentic_core::llm::Capabilities {
        self.inner.capabilities()
    }
}
