//! The Ollama client and its builder.

use std::time::Duration;

use agentic_core::llm::{ChatRequest, ChatResponse, ChatStream, LlmError, LlmProvider};
use async_trait::async_trait;

use super::{completion, streaming};
use crate::http;

/// Ollama's default address.
pub const DEFAULT_HOST: &str = "http://127.0.0.1:11434";

/// Builds a [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    host: Option<String>,
    http: Option<reqwest::Client>,
    connect_timeout: Option<Duration>,
}

impl ClientBuilder {
    /// The server (default [`DEFAULT_HOST`]); a bare `host:port` gets `http://`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    crate::http_client_setters!();

    /// Builds the client.
    pub fn build(self) -> Result<Client, LlmError> {
        let http = crate::client_or_default(self.http, self.connect_timeout)?;
        let host = self.host.unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let host = if host.contains("://") { host } else { format!("http://{host}") };
        Ok(Client { http, host })
    }
}

/// A client of Ollama's chat API.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    host: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ollama::Client").field("host", &self.host).finish_non_exhaustive()
    }
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    fn post(&self, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.http.post(http::join(&self.host, "/api/chat")).header("content-type", "application/json").body(body)
    }
}

#[async_trait]
impl LlmProvider for Client {
    fn name(&self) -> &str {
        "ollama"
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        http::complete(self.post(completion::encode(&request, false)?), completion::decode_response).await
    }

    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let response = http::send(self.post(completion::encode(&request, true)?)).await?;
        Ok(streaming::events(response))
    }
}
