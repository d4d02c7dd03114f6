//! Framing of the providers' streamed bodies: [`agentic_core::framing`] (server-sent events, NDJSON), with
//! transport failures turned into [`LlmError`]s.

use agentic_core::framing::FramingError;
use agentic_core::llm::LlmError;
use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;

pub(crate) use agentic_core::framing::SseEvent;

fn llm_error(error: FramingError<reqwest::Error>) -> LlmError {
    match error {
        FramingError::NotUtf8 => {
            LlmError::BadResponse { message: "stream is not UTF-8".into(), excerpt: String::new() }
        }
        FramingError::Body(error) => crate::http::transport(error),
    }
}

/// Splits a byte stream into complete lines (without the `\n` or `\r\n`).
pub(crate) fn lines<S>(body: S) -> impl Stream<Item = Result<String, LlmError>> + Send
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
{
    agentic_core::framing::lines(body).map(|line| line.map_err(llm_error))
}

/// Groups lines into server-sent events.
pub(crate) fn sse<S>(body: S) -> impl Stream<Item = Result<SseEvent, LlmError>> + Send
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
{
    agentic_core::framing::sse(body).map(|event| event.map_err(llm_error))
}
