//! The client: where the platform is, how to authenticate, timeouts and retries, and the one way requests go
//! out ([`AgenticClient::call`]).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// When a refused call is tried again: 429 (rate limited) and 503 (busy, unavailable) after their `Retry-After`
/// (or a doubling backoff without one), only for calls that are safe to repeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub max_retries: u32,
    /// The longest wait before one retry (a longer `Retry-After` gives up at once and reports the error).
    pub max_wait: Duration,
    /// The first backoff without `Retry-After`; it doubles per retry.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, waits up to 30 s each, backoff from 250 ms.
    fn default() -> Self {
        Self { max_retries: 3, max_wait: Duration::from_secs(30), backoff: Duration::from_millis(250) }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }
}

/// Builds an [`AgenticClient`].
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    credential: Option<SecretString>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
}

impl ClientBuilder {
    /// Authenticates with an API key (`agk_…`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credential = Some(SecretString::from(key.into()));
        self
    }

    /// Authenticates with an access token (a JWT from `POST /v1/auth/login`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credential = Some(SecretString::from(token.into()));
        self
    }

    /// The most one request may take (default 90 s: above the server's longest long-poll, 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most connecting may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` (default `agentic-sdk/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The client.
    pub fn build(self) -> Result<AgenticClient> {
        let base = url::Url::parse(self.base_url.trim_end_matches('/'))
            .map_err(|e| Error::Config(format!("`{}` is not a URL: {e}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config(format!("`{}` is not an http(s) URL", self.base_url)));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(|e| Error::Config(format!("the HTTP client cannot be built: {e}")))?;
        let base = base.as_str().trim_end_matches('/').to_owned();
        Ok(AgenticClient { inner: Arc::new(Inner { http, base, credential: self.credential, retry: self.retry }) })
    }
}

/// A client of one platform, with one credential. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct AgenticClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    credential: Option<SecretString>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for AgenticClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgenticClient").field("base", &self.inner.base).finish_non_exhaustive()
    }
}

/// Whether a call may be sent again after a 429/503 without doing its work twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Reads, and writes that converge (PUT, DELETE, a decision).
    Safe,
    /// Creates something each time it is sent.
    Unsafe,
}

impl AgenticClient {
    /// A builder for a client of the platform at `base_url` (e.g. `http://127.0.0.1:9000`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            credential: None,
            timeout: Duration::from_secs(90),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("agentic-sdk/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
        }
    }

    /// The HTTP client (shared connections).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The URL of `path` on the platform.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base)
    }

    /// The credential, if any.
    pub(crate) fn credential(&self) -> Option<&SecretString> {
        self.inner.credential.as_ref()
    }

    /// The retry policy.
    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// `GET path?query`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Option<&(dyn ErasedQuery + Sync)>,
    ) -> Result<T> {
        self.call(Method::GET, path, query, None, Repeat::Safe).await
    }

    /// `POST path` with a JSON body (or none).
    pub(crate) async fn post<T: DeserializeOwned, B: Serialize + Sync>(
        &self,
        path: &str,
        body: Option<&B>,
        repeat: Repeat,
    ) -> Result<T> {
        match body {
            Some(body) => self.call(Method::POST, path, None, Some(&Json(body)), repeat).await,
            None => self.call(Method::POST, path, None, None, repeat).await,
        }
    }

    /// `PATCH path` with a JSON body.
    pub(crate) async fn patch<T: DeserializeOwned, B: Serialize + Sync>(&self, path: &str, body: &B) -> Result<T> {
        self.call(Method::PATCH, path, None, Some(&Json(body)), Repeat::Safe).await
    }

    /// `DELETE path`, reading the answer's JSON (`()` for none).
    pub(crate) async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::DELETE, path, None, None, Repeat::Safe).await
    }

    /// Sends a request and reads its JSON answer, retrying 429 and 503 as the policy allows when the call is
    /// safe to repeat.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Option<&(dyn ErasedQuery + Sync)>,
        body: Option<&(dyn ErasedBody + Sync)>,
        repeat: Repeat,
    ) -> Result<T> {
        let bytes = self.send(method, path, query, body, repeat).await?;
        if bytes.is_empty() {
            return serde_json::from_slice(b"null").map_err(|e| Error::Decode(e.to_string()));
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode(format!("{path}: {e}")))
    }

    /// Sends a request; its body bytes on 2xx.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: Option<&(dyn ErasedQuery + Sync)>,
        body: Option<&(dyn ErasedBody + Sync)>,
        repeat: Repeat,
    ) -> Result<Vec<u8>> {
        let policy = &self.inner.retry;
        let mut backoff = policy.backoff;
        let mut retries = 0;
        loop {
            let mut request = self.inner.http.request(method.clone(), self.url(path));
            if let Some(credential) = &self.inner.credential {
                request = request.bearer_auth(credential.expose_secret());
            }
            if let Some(query) = query {
                request = query.apply(request);
            }
            if let Some(body) = body {
                request = body.apply(request);
            }
            let response = request.send().await.map_err(Error::Transport)?;
            let status = response.status().as_u16();
            let headers = response.headers();
            let retry_after = agentic_core::retry_after::retry_after(|n| headers.get(n).and_then(|v| v.to_str().ok()));
            let bytes = response.bytes().await.map_err(Error::Transport)?.to_vec();
            if (200..300).contains(&status) {
                return Ok(bytes);
            }
            let wait = retry_after.unwrap_or(backoff);
            let retryable = matches!(status, 429 | 503) && repeat == Repeat::Safe;
            if retryable && retries < policy.max_retries && wait <= policy.max_wait {
                tokio::time::sleep(wait).await;
                retries += 1;
                backoff = backoff.saturating_mul(2);
                continue;
            }
            return Err(Error::from_response(status, retry_after, &bytes));
        }
    }
}

/// A query string, type-erased so [`AgenticClient::call`] takes any.
pub(crate) trait ErasedQuery {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder;
}

impl<T: Serialize> ErasedQuery for T {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.query(self)
    }
}

/// A request body, type-erased: JSON, or YAML text.
pub(crate) trait ErasedBody {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder;
}

/// A JSON body.
pub(crate) struct Json<'a, T: Serialize>(pub(crate) &'a T);

impl<T: Serialize> ErasedBody for Json<'_, T> {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.json(self.0)
    }
}

/// A JSON body sent under an `Idempotency-Key`: the server answers a repeat with what the first request did, so
/// such a call is safe to send again.
pub(crate) struct Keyed<'a, T: Serialize> {
    pub(crate) body: &'a T,
    pub(crate) key: &'a str,
}

impl<T: Serialize> ErasedBody for Keyed<'_, T> {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("idempotency-key", self.key).json(self.body)
    }
}

/// A body (or none) sent under a precondition: `If-Match` for a version (or `*`), `If-None-Match: *` for absent.
pub(crate) struct Conditional<'a, B: ErasedBody> {
    pub(crate) body: Option<&'a B>,
    pub(crate) expect: agentic_core::model::Expect,
}

impl<B: ErasedBody> ErasedBody for Conditional<'_, B> {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        use agentic_core::model::Expect;
        let request = match self.expect {
            Expect::Any => request,
            Expect::Version(version) => request.header("if-match", format!("\"{version}\"")),
            Expect::Present => request.header("if-match", "*"),
            Expect::Absent => request.header("if-none-match", "*"),
        };
        match self.body {
            Some(body) => body.apply(request),
            None => request,
        }
    }
}

/// A YAML body (agent specifications).
pub(crate) struct Yaml<'a>(pub(crate) &'a str);

impl ErasedBody for Yaml<'_> {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("content-type", "application/yaml").body(self.0.to_owned())
    }
}
