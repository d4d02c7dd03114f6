//! Answers in a form ([`OutputSchema`]) through a forced tool call: the Messages API has no response format, so
//! the form is offered as a tool whose input schema is the form's, the model is made to call a tool, and the call
//! of the form's tool comes back as the answer's text.

use std::collections::BTreeSet;

use agentic_core::llm::{ChatResponse, ChatStream, OutputSchema, StopReason, StreamEvent};
use futures_util::StreamExt;
use serde::Serialize;

/// What the form's tool tells the model.
pub(super) const FORM_TOOL_DESCRIPTION: &str =
    "Give your final answer by calling this tool; its input is the answer, in the form asked for.";

/// `tool_choice`: the form's tool itself when it is the only tool, else any tool (the model may still use the
/// others first, and can finish only through the form).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ToolChoice<'a> {
    Tool { name: &'a str },
    Any,
}

pub(super) fn tool_choice(form: &OutputSchema, other_tools: usize) -> ToolChoice<'_> {
    if other_tools == 0 { ToolChoice::Tool { name: &form.name } } else { ToolChoice::Any }
}

/// Turns the call of the form's tool into the answer's text; the answer ends its turn unless other tools were
/// called beside it.
pub(super) fn into_answer(mut response: ChatResponse, form: &OutputSchema) -> ChatResponse {
    let Some(position) = response.tool_calls.iter().position(|call| call.name == form.name) else {
        return response;
    };
    let call = response.tool_calls.remove(position);
    response.text = call.arguments.to_string();
    if response.tool_calls.is_empty() {
        response.stop_reason = StopReason::EndTurn;
    }
    response
}

/// [`into_answer`] for a stream: the form's tool call arrives as text deltas.
pub(super) fn into_answer_stream(stream: ChatStream, form: &OutputSchema) -> ChatStream {
    let name = form.name.clone();
    let (mut form_calls, mut other_calls) = (BTreeSet::new(), BTreeSet::new());
    Box::pin(stream.map(move |event| {
        Ok(match event? {
            StreamEvent::ToolCallDelta(delta) => {
                if delta.name.as_deref() == Some(name.as_str()) {
                    form_calls.insert(delta.index);
                } else if delta.name.is_some() {
                    other_calls.insert(delta.index);
                }
                if form_calls.contains(&delta.index) {
                    StreamEvent::TextDelta(delta.arguments)
                } else {
                    StreamEvent::ToolCallDelta(delta)
                }
            }
            StreamEvent::Done { stop_reason: StopReason::ToolUse, model, usage }
                if !form_calls.is_empty() && other_calls.is_empty() =>
            {
                StreamEvent::Done { stop_reason: StopReason::EndTurn, model, usage }
            }
            other => other,
        })
    }))
}
