//! Framing of streamed HTTP bodies: server-sent events (the LLM providers' streams, the platform's own
//! `/v1/events/stream` and `/v1/runs/{id}/events` as the SDK reads them) and newline-delimited JSON (Ollama).
//!
//! Hand-written rather than a dependency: we need only `event:`/`data:`/`id:` fields and blank-line dispatch, and
//! the maintained SSE crates bring a parser framework for what is a 40-line state machine. Bytes may split
//! anywhere, including inside a UTF-8 character or a CRLF. Generic over the body's error, so every client (the
//! LLM adapters, the SDK) maps transport failures into its own error type.

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field (`message` when absent).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field of this event, if it had one (what a client resumes after).
    pub id: Option<String>,
}

/// Why a framed stream stopped.
#[derive(Debug, thiserror::Error)]
pub enum FramingError<E> {
    /// A line was not UTF-8.
    #[error("the stream is not UTF-8")]
    NotUtf8,
    /// The body failed.
    #[error(transparent)]
    Body(E),
}

/// Splits a byte stream into complete lines (without the `\n` or `\r\n`).
pub fn lines<S, E>(body: S) -> impl Stream<Item = Result<String, FramingError<E>>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Send + 'static,
{
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| FramingError::NotUtf8);
    futures_util::stream::unfold(
        (Box::pin(body), BytesMut::new(), false),
        move |(mut body, mut buffer, mut ended)| async move {
            loop {
                if let Some(pos) = buffer.iter().position(|b| *b == b'\n') {
                    let mut line = buffer.split_to(pos + 1);
                    line.truncate(pos);
                    if line.last() == Some(&b'\r') {
                        line.truncate(pos - 1);
                    }
                    return Some((text(&line), (body, buffer, ended)));
                }
                if ended {
                    if buffer.is_empty() {
                        return None;
                    }
                    // A last line without a newline.
                    let rest = buffer.split();
                    return Some((text(&rest), (body, buffer, ended)));
                }
                match body.next().await {
                    Some(Ok(chunk)) => buffer.extend_from_slice(&chunk),
                    Some(Err(error)) => return Some((Err(FramingError::Body(error)), (body, buffer, true))),
                    None => ended = true,
                }
            }
        },
    )
}

/// Groups lines into server-sent events (comments skipped; a last event without its blank line still counts).
pub fn sse<S, E>(body: S) -> impl Stream<Item = Result<SseEvent, FramingError<E>>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Send + 'static,
{
    let lines = Box::pin(lines(body).fuse());
    futures_util::stream::unfold(lines, |mut lines| async move {
        let mut event = String::new();
        let mut id = None;
        let mut data: Option<String> = None;
        let finish = |event: &mut String, id: &mut Option<String>, data: String| SseEvent {
            event: if event.is_empty() { "message".to_owned() } else { std::mem::take(event) },
            data,
            id: id.take(),
        };
        loop {
            match lines.next().await {
                Some(Ok(line)) => {
                    if line.is_empty() {
                        if let Some(data) = data.take() {
                            return Some((Ok(finish(&mut event, &mut id, data)), lines));
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
                        "id" => id = Some(value.to_owned()),
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
                    let data = data.take()?;
                    return Some((Ok(finish(&mut event, &mut id, data)), lines));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        let owned: Vec<Result<Bytes, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
        futures_util::stream::iter(owned)
    }

    #[tokio::test]
    async fn events_split_anywhere_are_reassembled() {
        let text =
            "event: a\r\nid: 7\r\ndata: {\"x\":1}\r\n\r\n: comment\ndata: first\ndata: second\n\nevent: é\ndata:tail";
        let bytes = text.as_bytes();
        // Split inside a CRLF and inside the multi-byte 'é'.
        let split: Vec<&[u8]> = vec![&bytes[..9], &bytes[9..25], &bytes[25..70], &bytes[70..81], &bytes[81..]];
        let events: Vec<SseEvent> = sse(chunks(&split)).map(|e| e.unwrap()).collect().await;
        assert_eq!(
            events,
            vec![
                SseEvent { event: "a".into(), data: "{\"x\":1}".into(), id: Some("7".into()) },
                SseEvent { event: "message".into(), data: "first\nsecond".into(), id: None },
                SseEvent { event: "é".into(), data: "tail".into(), id: None },
            ]
        );
    }

    #[tokio::test]
    async fn ndjson_lines_and_bad_bytes() {
        let got: Vec<String> =
            lines(chunks(&[b"{\"a\":1}\n{\"b\"", b":2}\n", b"{\"c\":3}"])).map(|l| l.unwrap()).collect().await;
        assert_eq!(got, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
        let bad: Vec<_> = lines(chunks(&[b"\xff\xfe\n"])).collect().await;
        assert!(matches!(bad.as_slice(), [Err(FramingError::NotUtf8)]));
    }
}
