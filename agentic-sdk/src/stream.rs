//! Following Server-Sent Events from the platform (`/v1/events/stream`, `/v1/runs/{id}/events`) as a `Stream` of
//! typed [`Event`]s. A connection that drops is opened again after the last event received (`Last-Event-ID`), so
//! nothing is missed or repeated; a run's stream ends after the run's end event.

use std::pin::Pin;
use std::time::Duration;

use agentic_core::events::Event;
use agentic_core::framing::{FramingError, SseEvent};
use agentic_core::model::RunKind;
use futures_core::Stream;
use futures_util::StreamExt;
use secrecy::ExposeSecret;

use crate::client::{AgenticClient, ErasedQuery};
use crate::error::{Error, Result};

/// A stream of the platform's events; see the module docs.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<Event>> + Send>>;

/// What a stream follows.
pub(crate) struct Follow {
    pub(crate) path: String,
    pub(crate) query: Option<agentic_core::store::EventQuery>,
    /// For a run's stream: its kind, to know its end event; `None` for the endless tenant stream.
    pub(crate) run: Option<RunKind>,
}

type Frames = Pin<Box<dyn Stream<Item = std::result::Result<SseEvent, FramingError<reqwest::Error>>> + Send>>;

struct State {
    client: AgenticClient,
    follow: Follow,
    last_id: Option<String>,
    frames: Option<Frames>,
    /// Consecutive failed connections.
    failures: u32,
    /// Whether the last event received was the followed run's end.
    saw_end: bool,
    done: bool,
}

/// Opens the stream lazily: the first poll connects. Errors the server answers with (401, 404, 422) end it with
/// that error; a dropped connection is retried as the client's [`RetryPolicy`](crate::RetryPolicy) allows.
pub(crate) fn follow(client: AgenticClient, follow: Follow, resume: Option<String>) -> EventStream {
    let state = State { client, follow, last_id: resume, frames: None, failures: 0, saw_end: false, done: false };
    Box::pin(futures_util::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    }))
}

impl State {
    async fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if self.done {
                return None;
            }
            let frames = match self.frames.as_mut() {
                Some(frames) => frames,
                None => match connect(&self.client, &self.follow, self.last_id.as_deref()).await {
                    Ok(frames) => {
                        self.failures = 0;
                        self.frames.insert(frames)
                    }
                    Err(error) => match self.reconnect_after(&error) {
                        Some(wait) => {
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        None => {
                            self.done = true;
                            return Some(Err(error));
                        }
                    },
                },
            };
            match frames.next().await {
                Some(Ok(frame)) => {
                    self.failures = 0;
                    let event = match serde_json::from_str::<Event>(&frame.data) {
                        Ok(event) => event,
                        Err(error) => return Some(Err(Error::Decode(format!("an event of the stream: {error}")))),
                    };
                    self.last_id = frame.id.or_else(|| Some(event.id.to_string()));
                    // The run's end, if the server closes after it (it does not for an abandoned attempt's event).
                    self.saw_end = self.follow.run.is_some_and(|kind| event.kind.ends_run(kind));
                    return Some(Ok(event));
                }
                Some(Err(FramingError::NotUtf8)) => {
                    self.done = true;
                    return Some(Err(Error::Decode("the event stream is not UTF-8".into())));
                }
                // The connection dropped, or the server closed a stream that had more to say: open it again
                // after the last event received.
                None if self.saw_end => {
                    self.done = true;
                    return None;
                }
                Some(Err(FramingError::Body(_))) | None => {
                    self.frames = None;
                    self.failures += 1;
                    if self.failures > self.client.retry_policy().max_retries.max(1) {
                        self.done = true;
                        let reason = "the event stream kept closing before its end; giving up after retries";
                        return Some(Err(Error::Decode(reason.into())));
                    }
                    tokio::time::sleep(self.backoff()).await;
                }
            }
        }
    }

    /// How long to wait before connecting again after `error`; `None`: give up and report it.
    fn reconnect_after(&mut self, error: &Error) -> Option<Duration> {
        let retryable = match error {
            Error::Transport(_) => true,
            Error::RateLimited { .. } => true,
            Error::Server { status, .. } => *status == 503,
            _ => false,
        };
        self.failures += 1;
        if !retryable || self.failures > self.client.retry_policy().max_retries {
            return None;
        }
        let wait = match error {
            Error::RateLimited { retry_after: Some(wait), .. } => *wait,
            _ => self.backoff(),
        };
        (wait <= self.client.retry_policy().max_wait).then_some(wait)
    }

    /// The policy's backoff, doubled per consecutive failure.
    fn backoff(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(16);
        self.client.retry_policy().backoff.saturating_mul(1 << doublings)
    }
}

/// Opens the stream after `last_id`.
async fn connect(client: &AgenticClient, follow: &Follow, last_id: Option<&str>) -> Result<Frames> {
    let mut request = client.http().get(client.url(&follow.path));
    if let Some(credential) = client.credential() {
        request = request.bearer_auth(credential.expose_secret());
    }
    if let Some(query) = &follow.query {
        request = query.apply(request);
    }
    request = request.header("accept", "text/event-stream");
    if let Some(id) = last_id {
        request = request.header("last-event-id", id);
    }
    // The stream outlives the client's per-request timeout: only connecting is bounded.
    let response = request.timeout(Duration::from_secs(60 * 60 * 24 * 365)).send().await.map_err(Error::Transport)?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let headers = response.headers();
        let retry_after = agentic_core::retry_after::retry_after(|n| headers.get(n).and_then(|v| v.to_str().ok()));
        let body = response.bytes().await.map_err(Error::Transport)?;
        return Err(Error::from_response(status, retry_after, &body));
    }
    Ok(Box::pin(agentic_core::framing::sse(response.bytes_stream())))
}
