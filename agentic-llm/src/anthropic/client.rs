//! The Anthropic client and its builder.

use std::time::Duration;

use agentic_core::llm::{ChatRequest, ChatResponse, ChatStream, LlmError, LlmProvider};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{completion, form, streaming};
use crate::http;

/// The official endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
const API_VERSION: &str = "2023-06-01";

/// Builds a [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_key: Option<SecretString>,
    http: Option<reqwest::Client>,
    connect_timeout: Option<Duration>,
}

impl ClientBuilder {
    /// The API key (`x-api-key`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The base URL (default [`DEFAULT_BASE_URL`]); the client appends `/v1/messages`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    crate::http_client_setters!();

    /// Builds the client. An API key is required unless a base URL is given (local servers need none).
    pub fn build(self) -> Result<Client, LlmError> {
        if self.api_key.is_none() && self.base_url.is_none() {
            return Err(LlmError::NotConfigured("anthropic: an API key is required".into()));
        }
        let http = crate::client_or_default(self.http, self.connect_timeout)?;
        Ok(Client {
            http,
            base_url: self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            api_key: self.api_key,
        })
    }
}

/// A client of the Anthropic Messages API.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<SecretString>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("anthropic::Client").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    fn post(&self, body: Vec<u8>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(http::join(&self.base_url, "/v1/messages"))
            .header("anthropic-version", API_VERSION)
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key.expose_secret());
        }
        request
    }
}

#[async_trait]
impl LlmProvider for Client {
    fn name(&self) -> &str {
        "anthropic"
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        let response =
            http::complete(self.post(completion::encode(&request, false)?), completion::decode_response).await?;
        Ok(match &request.output_schema {
            Some(form) => form::into_answer(response, form),
            None => response,
        })
    }

    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let body = completion::encode(&request, true)?;
        let response = http::send(self.post(body)).await?;
        let events = streaming::events(response);
        Ok(match &request.output_schema {
            Some(form) => form::into_answer_stream(events, form),
            None => events,
        })
    }
}
