//! `/api/chat` newline-delimited JSON chunks → [`StreamEvent`]s.

use agentic_core::llm::{ChatStream, LlmError, StreamEvent, ToolCallDelta};
use futures_util::StreamExt;

use super::completion::{WireChunk, stop_reason, tool_call, usage};
use crate::lines::lines;

#[derive(Default)]
struct State {
    tools: usize,
    done: bool,
}

/// Turns the response body into stream events; the chunk with `done: true` carries the usage.
pub(super) fn events(response: reqwest::Response) -> ChatStream {
    let stream = lines(response.bytes_stream())
        .scan(State::default(), |state, line| {
            if state.done {
                return futures_util::future::ready(None);
            }
            let out = match line {
                Ok(line) if line.trim().is_empty() => vec![],
                Ok(line) => translate(state, &line),
                Err(error) => {
                    state.done = true;
                    vec![Err(error)]
                }
            };
            futures_util::future::ready(Some(out))
        })
        .flat_map(futures_util::stream::iter);
    Box::pin(stream)
}

fn translate(state: &mut State, line: &str) -> Vec<Result<StreamEvent, LlmError>> {
    let chunk: WireChunk = match serde_json::from_str(line) {
        Ok(chunk) => chunk,
        Err(e) => {
            state.done = true;
            return vec![Err(LlmError::BadResponse {
                message: format!("invalid stream line: {e}"),
                excerpt: agentic_core::llm::excerpt(line),
            })];
        }
    };
    if let Some(error) = &chunk.error {
        state.done = true;
        return vec![Err(LlmError::BadResponse {
            message: format!("provider error: {error}"),
            excerpt: String::new(),
        })];
    }
    let mut out = Vec::new();
    let usage = usage(&chunk);
    if let Some(message) = chunk.message {
        if !message.content.is_empty() {
            out.push(Ok(StreamEvent::TextDelta(message.content)));
        }
        for call in message.tool_calls {
            let call = tool_call(state.tools, call);
            out.push(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                index: state.tools,
                id: Some(call.id),
                name: Some(call.name),
                arguments: call.arguments.to_string(),
            })));
            state.tools += 1;
        }
    }
    if chunk.done {
        state.done = true;
        out.push(Ok(StreamEvent::Done {
            stop_reason: stop_reason(chunk.done_reason.as_deref(), state.tools > 0),
            model: chunk.model,
            usage,
        }));
    }
    out
}
