//! Wire types of `/api/chat` and their conversion to and from the core types.

use std::time::Duration;

use agentic_core::llm::{ChatRequest, ChatResponse, LlmError, Message, StopReason, ToolCall, Usage};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    stream: bool,
    options: Options<'a>,
    /// A JSON Schema the answer is decoded under (Ollama's structured outputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'a serde_json::Value>,
}

#[derive(Serialize)]
struct Options<'a> {
    num_predict: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_name: Option<&'a str>,
}

#[derive(Serialize)]
struct WireToolCall<'a> {
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: &'a serde_json::Value,
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionDef<'a>,
}

#[derive(Serialize)]
struct FunctionDef<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a serde_json::Value,
}

/// Encodes a request as the `/api/chat` JSON body (non-streaming).
pub fn encode_request(request: &ChatRequest) -> Result<Vec<u8>, LlmError> {
    encode(request, false)
}

pub(super) fn encode(request: &ChatRequest, stream: bool) -> Result<Vec<u8>, LlmError> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.system {
        messages.push(WireMessage { role: "system", content: system, tool_calls: Vec::new(), tool_name: None });
    }
    for message in &request.messages {
        messages.push(match message {
            Message::User { content } => WireMessage { role: "user", content, tool_calls: Vec::new(), tool_name: None },
            Message::Assistant { content, tool_calls } => WireMessage {
                role: "assistant",
                content,
                tool_calls: tool_calls
                    .iter()
                    .map(|c| WireToolCall { function: FunctionOut { name: &c.name, arguments: &c.arguments } })
                    .collect(),
                tool_name: None,
            },
            Message::Tool { name, content, .. } => {
                WireMessage { role: "tool", content, tool_calls: Vec::new(), tool_name: Some(name) }
            }
        });
    }
    let wire = WireRequest {
        model: &request.model,
        messages,
        tools: request
            .tools
            .iter()
            .map(|t| WireTool {
                kind: "function",
                function: FunctionDef { name: &t.name, description: &t.description, parameters: &t.input_schema },
            })
            .collect(),
        stream,
        options: Options { num_predict: request.max_tokens, temperature: request.temperature, stop: &request.stop },
        format: request.output_schema.as_ref().map(|form| &form.schema),
    };
    serde_json::to_vec(&wire).map_err(|e| LlmError::InvalidRequest { status: 0, message: e.to_string() })
}

#[derive(Deserialize)]
pub(super) struct WireChunk {
    #[serde(default)]
    pub(super) model: String,
    #[serde(default)]
    pub(super) message: Option<ResponseMessage>,
    #[serde(default)]
    pub(super) done: bool,
    pub(super) done_reason: Option<String>,
    #[serde(default)]
    pub(super) prompt_eval_count: u64,
    #[serde(default)]
    pub(super) eval_count: u64,
    pub(super) error: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ResponseMessage {
    #[serde(default)]
    pub(super) content: String,
    #[serde(default)]
    pub(super) tool_calls: Vec<WireToolCallIn>,
}

#[derive(Deserialize)]
pub(super) struct WireToolCallIn {
    pub(super) function: FunctionIn,
}

#[derive(Deserialize)]
pub(super) struct FunctionIn {
    pub(super) name: String,
    #[serde(default)]
    pub(super) arguments: serde_json::Value,
}

pub(super) fn usage(chunk: &WireChunk) -> Usage {
    Usage {
        input_tokens: chunk.prompt_eval_count,
        output_tokens: chunk.eval_count,
        cached_input_tokens: 0,
        cache_write_input_tokens: 0,
    }
}

pub(super) fn stop_reason(reason: Option<&str>, has_tool_calls: bool) -> StopReason {
    match reason {
        _ if has_tool_calls => StopReason::ToolUse,
        Some("stop") | None => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        Some(other) => StopReason::Other(other.to_owned()),
    }
}

/// Ollama does not number tool calls; ids are made from their position.
pub(super) fn tool_call(index: usize, call: WireToolCallIn) -> ToolCall {
    let arguments = match call.function.arguments {
        serde_json::Value::Null => serde_json::json!({}),
        other => other,
    };
    ToolCall { id: format!("call_{index}"), name: call.function.name, arguments }
}

/// Decodes a non-streaming `/api/chat` response body. Latency is left at zero for the caller to fill.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, LlmError> {
    let bad = |message: String| LlmError::BadResponse {
        message,
        excerpt: agentic_core::llm::excerpt(&String::from_utf8_lossy(body)),
    };
    let wire: WireChunk = serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    if let Some(error) = wire.error {
        return Err(bad(format!("provider error: {error}")));
    }
    let usage = usage(&wire);
    let message = wire.message.ok_or_else(|| bad("no message in the response".into()))?;
    let tool_calls: Vec<ToolCall> = message.tool_calls.into_iter().enumerate().map(|(i, c)| tool_call(i, c)).collect();
    Ok(ChatResponse {
        stop_reason: stop_reason(wire.done_reason.as_deref(), !tool_calls.is_empty()),
        text: message.content,
        tool_calls,
        model: wire.model,
        usage,
        latency: Duration::ZERO,
        provider: None,
    })
}
