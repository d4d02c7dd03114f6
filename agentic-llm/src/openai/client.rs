//! The OpenAI-compatible client and its builder.

use std::time::Duration;

use agentic_core::llm::{ChatRequest, ChatResponse, ChatStream, LlmError, LlmProvider};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{completion, streaming};
use crate::http;

/// The official endpoint (including `/v1`).
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Builds a [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_key: Option<SecretString>,
    http: Option<reqwest::Client>,
    connect_timeout: Option<Duration>,
    name: Option<String>,
}

impl ClientBuilder {
    /// The API key, sent as `Authorization: Bearer`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The base URL including the version segment (default [`DEFAULT_BASE_URL`]); the client appends
    /// `/chat/completions`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    crate::http_client_setters!();

    /// The provider name reported in cost records (default `openai`; e.g. `vllm` for a self-hosted server).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Builds the client. An API key is required for the official endpoint only.
    pub fn build(self) -> Result<Client, LlmError> {
        if self.api_key.is_none() && self.base_url.is_none() {
            return Err(LlmError::NotConfigured("openai: an API key is required for the official endpoint".into()));
        }
        let http = crate::client_or_default(self.http, self.connect_timeout)?;
        Ok(Client {
            http,
            base_url: self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            api_key: self.api_key,
            name: self.name.unwrap_or_else(|| "openai".to_owned()),
        })
    }
}

/// A client of an OpenAI-compatible chat completions endpoint.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<SecretString>,
    name: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("openai::Client")
            .field("base_url", &self.base_url)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    fn post(&self, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.request("/chat/completions", body)
    }

    /// A JSON `POST` of `body` to `path` under the base URL, with the key.
    pub(crate) fn request(&self, path: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        let mut request =
            self.http.post(http::join(&self.base_url, path)).header("content-type", "application/json").body(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        request
    }
}

#[async_trait]
impl LlmProvider for Client {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        http::complete(self.post(completion::encode(&request, false)?), completion::decode_response).await
    }

    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let response = http::send(self.post(completion::encode(&request, true)?)).await?;
        Ok(streaming::events(response))
    }
}
