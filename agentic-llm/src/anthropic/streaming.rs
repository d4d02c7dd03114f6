//! Messages API server-sent events → [`StreamEvent`]s.

use agentic_core::llm::{ChatStream, LlmError, StopReason, StreamEvent, ToolCallDelta};
use futures_util::StreamExt;
use serde::Deserialize;

use super::completion::{WireUsage, stop_reason};
use crate::lines::{SseEvent, sse};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: StartBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    MessageDelta {
        delta: MessageDelta,
        #[serde(default)]
        usage: Option<PartialUsage>,
    },
    MessageStop,
    Error {
        error: ErrorBody,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartMessage {
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StartBlock {
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

/// Variant names are the API's `type` tags.
#[derive(Deserialize)]
#[allow(clippy::enum_variant_names)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDelta {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct PartialUsage {
    output_tokens: Option<u64>,
    input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
}

#[derive(Default)]
struct State {
    model: String,
    usage: WireUsage,
    stop: Option<String>,
    saw_tool: bool,
    finished: bool,
}

/// Turns the response body into stream events; the usage of `message_start` and `message_delta` is summed into
/// the final [`StreamEvent::Done`].
pub(super) fn events(response: reqwest::Response) -> ChatStream {
    let sse = sse(response.bytes_stream());
    let stream = sse
        .scan(State::default(), |state, item| {
            let out = match item {
                Ok(event) => translate(state, &event),
                Err(error) => vec![Err(error)],
            };
            futures_util::future::ready(if state.finished && out.is_empty() { None } else { Some(out) })
        })
        .flat_map(futures_util::stream::iter);
    Box::pin(stream)
}

fn translate(state: &mut State, event: &SseEvent) -> Vec<Result<StreamEvent, LlmError>> {
    let parsed: Event = match serde_json::from_str(&event.data) {
        Ok(parsed) => parsed,
        Err(e) => {
            return vec![Err(LlmError::BadResponse {
                message: format!("invalid stream event `{}`: {e}", event.event),
                excerpt: agentic_core::llm::excerpt(&event.data),
            })];
        }
    };
    match parsed {
        Event::MessageStart { message } => {
            state.model = message.model;
            state.usage = message.usage;
            vec![]
        }
        Event::ContentBlockStart { index, content_block: StartBlock::ToolUse { id, name } } => {
            state.saw_tool = true;
            vec![Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                index,
                id: Some(id),
                name: Some(name),
                arguments: String::new(),
            }))]
        }
        Event::ContentBlockStart { .. } => vec![],
        Event::ContentBlockDelta { delta: BlockDelta::TextDelta { text }, .. } => {
            vec![Ok(StreamEvent::TextDelta(text))]
        }
        Event::ContentBlockDelta { index, delta: BlockDelta::InputJsonDelta { partial_json } } => {
            vec![Ok(StreamEvent::ToolCallDelta(ToolCallDelta { index, id: None, name: None, arguments: partial_json }))]
        }
        Event::ContentBlockDelta { .. } => vec![],
        Event::MessageDelta { delta, usage } => {
            state.stop = delta.stop_reason.or(state.stop.take());
            if let Some(usage) = usage {
                if let Some(out) = usage.output_tokens {
                    state.usage.output_tokens = out;
                }
                if let Some(input) = usage.input_tokens {
                    state.usage.input_tokens = input;
                }
                if let Some(cached) = usage.cache_read_input_tokens {
                    state.usage.cache_read_input_tokens = cached;
                }
            }
            vec![]
        }
        Event::MessageStop => {
            state.finished = true;
            let stop_reason: StopReason = stop_reason(state.stop.as_deref(), state.saw_tool);
            vec![Ok(StreamEvent::Done {
                stop_reason,
                model: std::mem::take(&mut state.model),
                usage: state.usage.to_usage(),
            })]
        }
        Event::Error { error } => {
            state.finished = true;
            let mapped = match error.kind.as_str() {
                "overloaded_error" => LlmError::Overloaded { retry_after: None },
                "rate_limit_error" => LlmError::RateLimited { retry_after: None },
                _ => LlmError::BadResponse {
                    message: format!("{}: {}", error.kind, error.message),
                    excerpt: String::new(),
                },
            };
            vec![Err(mapped)]
        }
        Event::Other => vec![],
    }
}
