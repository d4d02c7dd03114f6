//! Wire types of the Messages API and their conversion to and from the core types.

use std::time::Duration;

use agentic_core::llm::{ChatRequest, ChatResponse, LlmError, Message, StopReason, ToolCall, Usage};
use serde::{Deserialize, Serialize};

use super::form;

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<form::ToolChoice<'a>>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a serde_json::Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: &'a str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a serde_json::Value,
}

/// Encodes a request as the Messages API's JSON body.
pub fn encode_request(request: &ChatRequest) -> Result<Vec<u8>, LlmError> {
    encode(request, false)
}

pub(super) fn encode(request: &ChatRequest, stream: bool) -> Result<Vec<u8>, LlmError> {
    let mut tools: Vec<WireTool<'_>> = request
        .tools
        .iter()
        .map(|t| WireTool { name: &t.name, description: &t.description, input_schema: &t.input_schema })
        .collect();
    let tool_choice = request.output_schema.as_ref().map(|form| {
        let choice = form::tool_choice(form, tools.len());
        tools.push(WireTool { name: &form.name, description: form::FORM_TOOL_DESCRIPTION, input_schema: &form.schema });
        choice
    });
    let wire = WireRequest {
        model: &request.model,
        max_tokens: request.max_tokens,
        system: request.system.as_deref(),
        messages: messages(&request.messages),
        tools,
        temperature: request.temperature,
        stop_sequences: &request.stop,
        stream,
        tool_choice,
    };
    serde_json::to_vec(&wire).map_err(|e| LlmError::InvalidRequest { status: 0, message: e.to_string() })
}

/// Consecutive messages of one role merge into one (the API requires alternating roles; tool results travel
/// as `user` content).
fn messages(messages: &[Message]) -> Vec<WireMessage<'_>> {
    let mut out: Vec<WireMessage<'_>> = Vec::with_capacity(messages.len());
    for message in messages {
        let (role, blocks) = match message {
            Message::User { content } => ("user", vec![Block::Text { text: content }]),
            Message::Assistant { content, tool_calls } => {
                let mut blocks = Vec::with_capacity(1 + tool_calls.len());
                if !content.is_empty() {
                    blocks.push(Block::Text { text: content });
                }
                blocks.extend(tool_calls.iter().map(|c| Block::ToolUse {
                    id: &c.id,
                    name: &c.name,
                    input: &c.arguments,
                }));
                ("assistant", blocks)
            }
            Message::Tool { tool_call_id, content, is_error, .. } => {
                ("user", vec![Block::ToolResult { tool_use_id: tool_call_id, content, is_error: *is_error }])
            }
        };
        match out.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => out.push(WireMessage { role, content: blocks }),
        }
    }
    out
}

#[derive(Deserialize)]
pub(super) struct WireResponse {
    #[serde(default)]
    pub(super) content: Vec<ResponseBlock>,
    #[serde(default)]
    pub(super) model: String,
    pub(super) stop_reason: Option<String>,
    #[serde(default)]
    pub(super) usage: WireUsage,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ResponseBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: serde_json::Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default, Clone, Copy)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub(super) input_tokens: u64,
    #[serde(default)]
    pub(super) output_tokens: u64,
    #[serde(default)]
    pub(super) cache_read_input_tokens: u64,
    #[serde(default)]
    pub(super) cache_creation_input_tokens: u64,
}

impl WireUsage {
    /// Cache reads are the cached input and cache writes their own count, each at its price in the pricing table.
    pub(super) fn to_usage(self) -> Usage {
        Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cached_input_tokens: self.cache_read_input_tokens,
            cache_write_input_tokens: self.cache_creation_input_tokens,
        }
    }
}

pub(super) fn stop_reason(reason: Option<&str>, has_tool_calls: bool) -> StopReason {
    match reason {
        Some("end_turn") => StopReason::EndTurn,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("stop_sequence") => StopReason::StopSequence,
        Some("tool_use") => StopReason::ToolUse,
        Some("refusal") => StopReason::ContentFilter,
        Some(other) => StopReason::Other(other.to_owned()),
        None if has_tool_calls => StopReason::ToolUse,
        None => StopReason::EndTurn,
    }
}

/// Decodes a Messages API response body. Latency is left at zero for the caller to fill.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, LlmError> {
    let wire: WireResponse = serde_json::from_slice(body).map_err(|e| LlmError::BadResponse {
        message: format!("invalid JSON: {e}"),
        excerpt: agentic_core::llm::excerpt(&String::from_utf8_lossy(body)),
    })?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in wire.content {
        match block {
            ResponseBlock::Text { text: t } => text.push_str(&t),
            ResponseBlock::ToolUse { id, name, input } => tool_calls.push(ToolCall { id, name, arguments: input }),
            ResponseBlock::Other => {}
        }
    }
    Ok(ChatResponse {
        stop_reason: stop_reason(wire.stop_reason.as_deref(), !tool_calls.is_empty()),
        text,
        tool_calls,
        model: wire.model,
        usage: wire.usage.to_usage(),
        latency: Duration::ZERO,
        provider: None,
    })
}

#[cfg(test)]
mod tests {
    use agentic_core::llm::{ToolCall, ToolDefinition};
    use serde_json::json;

    use super::*;

    #[test]
    fn cache_reads_and_writes_are_counted_apart_from_input() {
        let body = json!({"model": "claude-sonnet-4", "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 20, "output_tokens": 5,
            "cache_read_input_tokens": 300, "cache_creation_input_tokens": 1200}});
        let usage = decode_response(body.to_string().as_bytes()).unwrap().usage;
        assert_eq!(
            usage,
            Usage { input_tokens: 20, output_tokens: 5, cached_input_tokens: 300, cache_write_input_tokens: 1200 }
        );
    }

    #[test]
    fn tool_round_trip_encodes_alternating_roles() {
        let call = ToolCall { id: "toolu_1".into(), name: "lookup".into(), arguments: json!({"q": "x"}) };
        let request = ChatRequest::new(
            "claude-sonnet-4",
            vec![
                Message::user("find x"),
                Message::Assistant { content: String::new(), tool_calls: vec![call.clone()] },
                Message::tool_result(&call, "42"),
                Message::user("thanks"),
            ],
        )
        .with_system("be brief")
        .with_tool(ToolDefinition {
            name: "lookup".into(),
            description: "finds".into(),
            input_schema: json!({"type": "object"}),
        });
        let body: serde_json::Value = serde_json::from_slice(&encode_request(&request).unwrap()).unwrap();
        assert_eq!(body["system"], "be brief");
        assert_eq!(body["messages"].as_array().unwrap().len(), 3, "{body}");
        assert_eq!(
            body["messages"][1]["content"][0],
            json!({"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x"}})
        );
        assert_eq!(
            body["messages"][2]["content"][0],
            json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"})
        );
        assert_eq!(body["messages"][2]["content"][1], json!({"type": "text", "text": "thanks"}));
        assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
        assert!(body.get("stream").is_none());
    }
}
