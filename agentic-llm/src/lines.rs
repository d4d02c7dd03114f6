//! Framing of streamed bodies: server-sent events (Anthropic, OpenAI) and newline-delimited JSON (Ollama).
//!
//! Hand-written rather than a dependency: we need only `event:`/`data:` fields and blank-line dispatch (the
//! WHATWG rules for `id:`/`retry:` do not apply to these APIs), and the maintained SSE crates bring a parser
//! framework for what is a 40-line state machine. Bytes may split anywhere, including inside a UTF-8 character.

use agentic_core::llm::LlmError;
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field (`message` when absent).
    pub(crate) event: String,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
}

/// Splits a byte stream into complete lines (without the `\n` or `\r\n`).
pub(crate) fn lines<S>(body: S) -> impl Stream<Item = Result<String, LlmError>> + Send
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
{
    futures_util::stream::unfold(
        (Box::pin(body), BytesMut::new(), false),
        |(mut body, mut buffer, mut ended)| async move {
            loop {
                if let Some(pos) = buffer.iter().position(|b| *b == b'\n') {
                    let mut line = buffer.split_to(pos + 1);
                    line.truncate(pos);
                    if line.last() == Some(&b'\r') {
                        line.truncate(pos - 1);
                    }
                    let text = String::from_utf8(line.to_vec()).map_err(|_| LlmError::BadResponse {
                        message: "stream is not UTF-8".into(),
                        excerpt: String::new(),
                    });
                    return Some((text, (body, buffer, ended)));
                }
                if ended {
                    if buffer.is_empty() {
                        return None;
                    }
                    // A last line without a newline.
                    let rest = buffer.split();
                    let text = String::from_utf8(rest.to_vec()).map_err(|_| LlmError::BadResponse {
                        message: "stream is not UTF-8".into(),
                        excerpt: String::new(),
                    });
                    return Some((text, (body, buffer, ended)));
                }
                match body.next().await {
                    Some(Ok(chunk)) => buffer.extend_from_slice(&chunk),
                    Some(Err(error)) => return Some((Err(crate::http::transport(error)), (body, buffer, true))),
                    None => ended = true,
                }
            }
        },
    )
}

/// Groups lines into server-sent events.
pub(crate) fn sse<S>(body: S) -> impl Stream<Item = Result<SseEvent, LlmError>> + Send
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
{
    let lines = Box::pin(lines(body).fuse());
    futures_util::stream::unfold(lines, |mut lines| async move {
        let mut event = String::new();
        let mut data: Option<String> = None;
        loop {
            match lines.next().await {
                Some(Ok(line)) => {
                    if line.is_empty() {
                        if let Some(data) = data.take() {
                            let event =
                                if event.is_empty() { "message".to_owned() } else { std::mem::take(&mut event) };
                            return Some((Ok(SseEvent { event, data }), lines));
                        }
                        event.clear();
                        continue;
                    }
                    if line.starts_with(':') {
                        continue;
                    }
                    let (field, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "event" => event = value.to_owned(),
                        "data" => match &mut data {
                            Some(existing) => {
                                existing.push('\n');
                                existing.push_str(value);
                            }
                            None => data = Some(value.to_owned()),
                        },
                        _ => {}
                    }
                }
                Some(Err(error)) => return Some((Err(error), lines)),
                None => {
                    // A final event without its blank line still counts.
                    let data = data.take()?;
                    let event = if event.is_empty() { "message".to_owned() } else { event };
                    return Some((Ok(SseEvent { event, data }), lines));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static {
        let owned: Vec<Result<Bytes, reqwest::Error>> = parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
        futures_util::stream::iter(owned)
    }

    #[tokio::test]
    async fn events_split_anywhere_are_reassembled() {
        let text = "event: a\r\ndata: {\"x\":1}\r\n\r\n: comment\ndata: first\ndata: second\n\nevent: é\ndata:tail";
        let bytes = text.as_bytes();
        // Split inside the multi-byte 'é' and inside a CRLF.
        let split: Vec<&[u8]> = vec![&bytes[..9], &bytes[9..25], &bytes[25..60], &bytes[60..71], &bytes[71..]];
        let events: Vec<SseEvent> = sse(chunks(&split)).map(|e| e.unwrap()).collect().await;
        assert_eq!(
            events,
            vec![
                SseEvent { event: "a".into(), data: "{\"x\":1}".into() },
                SseEvent { event: "message".into(), data: "first\nsecond".into() },
                SseEvent { event: "é".into(), data: "tail".into() },
            ]
        );
    }

    #[tokio::test]
    async fn ndjson_lines() {
        let got: Vec<String> =
            lines(chunks(&[b"{\"a\":1}\n{\"b\"", b":2}\n", b"{\"c\":3}"])).map(|l| l.unwrap()).collect().await;
        assert_eq!(got, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }
}
