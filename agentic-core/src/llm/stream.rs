//! Reassembling a streamed answer into a [`ChatResponse`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::{ChatResponse, ChatStream, LlmError, StopReason, StreamEvent, ToolCall, Usage};

/// Accumulates stream events; [`StreamAssembler::finish`] yields the complete answer.
#[derive(Debug, Default)]
pub struct StreamAssembler {
    text: String,
    calls: BTreeMap<usize, (Option<String>, Option<String>, String)>,
    done: Option<(StopReason, String, Usage)>,
}

impl StreamAssembler {
    /// Adds one event.
    pub fn push(&mut self, event: StreamEvent) {
        match event {
            StreamEvent::TextDelta(text) => self.text.push_str(&text),
            StreamEvent::ToolCallDelta(delta) => {
                let entry = self.calls.entry(delta.index).or_default();
                if delta.id.is_some() {
                    entry.0 = delta.id;
                }
                if delta.name.is_some() {
                    entry.1 = delta.name;
                }
                entry.2.push_str(&delta.arguments);
            }
            StreamEvent::Done { stop_reason, model, usage } => self.done = Some((stop_reason, model, usage)),
        }
    }

    /// The complete answer; an error if the stream ended without [`StreamEvent::Done`] or a tool call is
    /// incomplete.
    pub fn finish(self, latency: Duration) -> Result<ChatResponse, LlmError> {
        let (stop_reason, model, usage) = self.done.ok_or_else(|| LlmError::BadResponse {
            message: "the stream ended without a final event".into(),
            excerpt: super::excerpt(&self.text),
        })?;
        let mut tool_calls = Vec::with_capacity(self.calls.len());
        for (index, (id, name, arguments)) in self.calls {
            let bad = |message: String| LlmError::BadResponse { message, excerpt: super::excerpt(&arguments) };
            let name = name.ok_or_else(|| bad(format!("tool call {index} has no name")))?;
            let arguments = if arguments.trim().is_empty() {
                serde_json::Value::Object(Default::default())
            } else {
                serde_json::from_str(&arguments).map_err(|e| bad(format!("tool call `{name}` arguments: {e}")))?
            };
            tool_calls.push(ToolCall { id: id.unwrap_or_else(|| format!("call_{index}")), name, arguments });
        }
        Ok(ChatResponse { text: self.text, tool_calls, stop_reason, model, usage, latency, provider: None })
    }
}

/// Drains a stream into a complete answer.
pub async fn collect_stream(mut stream: ChatStream) -> Result<ChatResponse, LlmError> {
    let started = Instant::now();
    let mut assembler = StreamAssembler::default();
    while let Some(event) = stream.next().await {
        assembler.push(event?);
    }
    assembler.finish(started.elapsed())
}
