//! Chat completion chunks (SSE `data:` lines, ending with `[DONE]`) → [`StreamEvent`]s.

use agentic_core::llm::{ChatStream, LlmError, StreamEvent, ToolCallDelta};
use futures_util::StreamExt;
use serde::Deserialize;

use super::completion::{WireUsage, stop_reason};
use crate::lines::sse;

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: String,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolDelta>,
}

#[derive(Deserialize)]
struct ToolDelta {
    #[serde(default)]
    index: usize,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Default)]
struct State {
    model: String,
    finish: Option<String>,
    usage: Option<WireUsage>,
    saw_tool: bool,
    done: bool,
}

/// Turns the response body into stream events. The final [`StreamEvent::Done`] is emitted at `[DONE]` (or at
/// the end of the body, for servers that omit it) with the usage chunk's counts.
pub(super) fn events(response: reqwest::Response) -> ChatStream {
    let body = sse(response.bytes_stream()).map(Some).chain(futures_util::stream::iter([None]));
    let stream = body
        .scan(State::default(), |state, item| {
            if state.done {
                return futures_util::future::ready(None);
            }
            let out = match item {
                Some(Ok(event)) if event.data.trim() == "[DONE]" => vec![Ok(finish(state))],
                Some(Ok(event)) => translate(state, &event.data),
                Some(Err(error)) => {
                    state.done = true;
                    vec![Err(error)]
                }
                None => vec![Ok(finish(state))],
            };
            futures_util::future::ready(Some(out))
        })
        .flat_map(futures_util::stream::iter);
    Box::pin(stream)
}

fn finish(state: &mut State) -> StreamEvent {
    state.done = true;
    StreamEvent::Done {
        stop_reason: stop_reason(state.finish.as_deref(), state.saw_tool),
        model: std::mem::take(&mut state.model),
        usage: state.usage.unwrap_or_default().to_usage(),
    }
}

fn translate(state: &mut State, data: &str) -> Vec<Result<StreamEvent, LlmError>> {
    let chunk: Chunk = match serde_json::from_str(data) {
        Ok(chunk) => chunk,
        Err(e) => {
            state.done = true;
            let error = match serde_json::from_str::<serde_json::Value>(data).ok().and_then(|v| v.get("error").cloned())
            {
                Some(error) => LlmError::BadResponse {
                    message: format!("provider error in stream: {error}"),
                    excerpt: String::new(),
                },
                None => LlmError::BadResponse {
                    message: format!("invalid stream chunk: {e}"),
                    excerpt: agentic_core::llm::excerpt(data),
                },
            };
            return vec![Err(error)];
        }
    };
    if !chunk.model.is_empty() {
        state.model = chunk.model;
    }
    if chunk.usage.is_some() {
        state.usage = chunk.usage;
    }
    let mut out = Vec::new();
    for choice in chunk.choices {
        if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
            out.push(Ok(StreamEvent::TextDelta(text)));
        }
        for call in choice.delta.tool_calls {
            state.saw_tool = true;
            let (name, arguments) = call.function.map_or((None, None), |f| (f.name, f.arguments));
            out.push(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                index: call.index,
                id: call.id,
                name,
                arguments: arguments.unwrap_or_default(),
            })));
        }
        if choice.finish_reason.is_some() {
            state.finish = choice.finish_reason;
        }
    }
    out
}
