//! What every HTTP adapter shares: the client, turning HTTP failures into [`LlmError`], and `Retry-After`.

use std::time::{Duration, Instant};

use agentic_core::llm::{ChatResponse, LlmError, excerpt};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};

/// Sends a request and returns the response if its status is a success, else the matching [`LlmError`].
pub(crate) async fn send(request: RequestBuilder) -> Result<Response, LlmError> {
    let response = request.send().await.map_err(transport)?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    Err(status_error(status, retry_after, &body))
}

/// Sends a non-streaming request and decodes the answer with `decode`, timing the whole call.
pub(crate) async fn complete(
    request: RequestBuilder,
    decode: fn(&[u8]) -> Result<ChatResponse, LlmError>,
) -> Result<ChatResponse, LlmError> {
    let started = Instant::now();
    let response = send(request).await?;
    let body = response.bytes().await.map_err(transport)?;
    let mut answer = decode(&body)?;
    answer.latency = started.elapsed();
    Ok(answer)
}

pub(crate) fn transport(error: reqwest::Error) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout(Duration::ZERO)
    } else if error.is_decode() {
        LlmError::BadResponse { message: error.to_string(), excerpt: String::new() }
    } else {
        LlmError::Transport(Box::new(error))
    }
}

/// Maps an HTTP error status and body to an error. The message is taken from the common JSON error shapes
/// (`{"error":{"message":…}}`, `{"error":"…"}`, `{"message":…}`), else the body's start.
pub(crate) fn status_error(status: StatusCode, retry_after: Option<Duration>, body: &str) -> LlmError {
    let message = error_message(body);
    let lower = message.to_lowercase();
    let kind = error_kind(body).unwrap_or_default();
    match status.as_u16() {
        429 => LlmError::RateLimited { retry_after },
        529 => LlmError::Overloaded { retry_after },
        401 | 403 => LlmError::Auth { status: status.as_u16(), message },
        _ if kind == "overloaded_error" => LlmError::Overloaded { retry_after },
        _ if is_context_error(&lower, &kind) => LlmError::ContextTooLong { message },
        500..=599 => LlmError::Unavailable { status: status.as_u16(), excerpt: excerpt(body), retry_after },
        400..=499 => LlmError::InvalidRequest { status: status.as_u16(), message },
        _ => LlmError::BadResponse { message: format!("unexpected HTTP {status}"), excerpt: excerpt(body) },
    }
}

fn is_context_error(message: &str, kind: &str) -> bool {
    kind == "context_length_exceeded"
        || message.contains("context length")
        || message.contains("context_length")
        || message.contains("context window")
        || message.contains("prompt is too long")
        || message.contains("too many tokens")
}

fn error_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error").filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
    });
    from_json.unwrap_or_else(|| excerpt(body))
}

fn error_kind(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.pointer("/error/code").or_else(|| v.pointer("/error/type")).and_then(|k| k.as_str()).map(str::to_owned)
}

/// `Retry-After` (or `retry-after-ms`) of a response ([`agentic_core::retry_after`]).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    agentic_core::retry_after::retry_after(|name| headers.get(name).and_then(|v| v.to_str().ok()))
}

/// Joins a base URL and a path without doubling or dropping the `/`.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_map_to_kinds() {
        let check = |status: u16, body: &str, expected: &str| {
            let error = status_error(StatusCode::from_u16(status).unwrap(), None, body);
            let debug = format!("{error:?}");
            assert!(debug.starts_with(expected), "{status} {body}: {debug}");
        };
        check(429, "{}", "RateLimited");
        check(529, "{}", "Overloaded");
        check(500, r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#, "Overloaded");
        check(503, "upstream down", "Unavailable");
        check(401, r#"{"error":{"message":"bad key"}}"#, "Auth");
        check(400, r#"{"error":{"message":"prompt is too long: 300000 tokens > 200000 maximum"}}"#, "ContextTooLong");
        check(400, r#"{"error":{"code":"context_length_exceeded","message":"too long"}}"#, "ContextTooLong");
        check(400, r#"{"error":"model 'x' not found"}"#, "InvalidRequest");
        check(404, "not json", "InvalidRequest");
    }

    #[test]
    fn retry_after_forms() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn urls_join() {
        assert_eq!(join("http://h:1/", "/v1/messages"), "http://h:1/v1/messages");
        assert_eq!(join("http://h:1/v1", "chat/completions"), "http://h:1/v1/chat/completions");
    }
}
