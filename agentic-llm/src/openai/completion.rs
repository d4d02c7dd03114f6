//! Wire types of chat completions and their conversion to and from the core types.

use std::time::Duration;

use agentic_core::llm::{ChatRequest, ChatResponse, LlmError, Message, StopReason, ToolCall, Usage};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat<'a>>,
}

/// `{"type": "json_schema", "json_schema": {...}}`: OpenAI's structured outputs, which llama.cpp's server and
/// vLLM honour with grammar-constrained decoding.
#[derive(Serialize)]
struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    json_schema: JsonSchemaFormat<'a>,
}

#[derive(Serialize)]
struct JsonSchemaFormat<'a> {
    name: &'a str,
    schema: &'a serde_json::Value,
    strict: bool,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
enum WireMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<WireToolCallOut<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: &'a str,
    },
}

#[derive(Serialize)]
struct WireToolCallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: String,
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

/// Encodes a request as the chat completions JSON body.
pub fn encode_request(request: &ChatRequest) -> Result<Vec<u8>, LlmError> {
    encode(request, false)
}

pub(super) fn encode(request: &ChatRequest, stream: bool) -> Result<Vec<u8>, LlmError> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.system {
        messages.push(WireMessage::System { content: system });
    }
    for message in &request.messages {
        messages.push(match message {
            Message::User { content } => WireMessage::User { content },
            Message::Assistant { content, tool_calls } => WireMessage::Assistant {
                content: (!content.is_empty() || tool_calls.is_empty()).then_some(content.as_str()),
                tool_calls: tool_calls
                    .iter()
                    .map(|c| WireToolCallOut {
                        id: &c.id,
                        kind: "function",
                        function: FunctionOut { name: &c.name, arguments: c.arguments.to_string() },
                    })
                    .collect(),
            },
            Message::Tool { tool_call_id, content, .. } => WireMessage::Tool { tool_call_id, content },
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
        max_tokens: request.max_tokens,
        temperature: request.temperature,
        stop: &request.stop,
        stream,
        stream_options: stream.then_some(StreamOptions { include_usage: true }),
        response_format: request.output_schema.as_ref().map(|form| ResponseFormat {
            kind: "json_schema",
            json_schema: JsonSchemaFormat { name: &form.name, schema: &form.schema, strict: true },
        }),
    };
    serde_json::to_vec(&wire).map_err(|e| LlmError::InvalidRequest { status: 0, message: e.to_string() })
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    model: String,
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ResponseMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ResponseMessage {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireToolCallIn>,
}

#[derive(Deserialize)]
struct WireToolCallIn {
    id: String,
    function: FunctionIn,
}

#[derive(Deserialize)]
struct FunctionIn {
    name: String,
    #[serde(default)]
    arguments: String,
}

#[derive(Deserialize, Default, Clone, Copy)]
pub(super) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u64,
}

impl WireUsage {
    /// `prompt_tokens` includes cached ones; ours splits them.
    pub(super) fn to_usage(self) -> Usage {
        let cached = self.prompt_tokens_details.map_or(0, |d| d.cached_tokens).min(self.prompt_tokens);
        Usage {
            input_tokens: self.prompt_tokens - cached,
            output_tokens: self.completion_tokens,
            cached_input_tokens: cached,
            cache_write_input_tokens: 0,
        }
    }
}

pub(super) fn stop_reason(reason: Option<&str>, has_tool_calls: bool) -> StopReason {
    match reason {
        Some("stop") => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        Some("tool_calls" | "function_call") => StopReason::ToolUse,
        Some("content_filter") => StopReason::ContentFilter,
        Some(other) => StopReason::Other(other.to_owned()),
        None if has_tool_calls => StopReason::ToolUse,
        None => StopReason::EndTurn,
    }
}

pub(super) fn parse_arguments(name: &str, arguments: &str) -> Result<serde_json::Value, LlmError> {
    if arguments.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_str(arguments).map_err(|e| LlmError::BadResponse {
        message: format!("tool call `{name}` has invalid JSON arguments: {e}"),
        excerpt: agentic_core::llm::excerpt(arguments),
    })
}

/// Decodes a chat completions response body. Latency is left at zero for the caller to fill.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, LlmError> {
    let bad = |message: String| LlmError::BadResponse {
        message,
        excerpt: agentic_core::llm::excerpt(&String::from_utf8_lossy(body)),
    };
    let wire: WireResponse = serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let choice = wire.choices.into_iter().next().ok_or_else(|| bad("no choices in the response".into()))?;
    let tool_calls = choice
        .message
        .tool_calls
        .into_iter()
        .map(|c| {
            Ok(ToolCall {
                arguments: parse_arguments(&c.function.name, &c.function.arguments)?,
                id: c.id,
                name: c.function.name,
            })
        })
        .collect::<Result<Vec<_>, LlmError>>()?;
    Ok(ChatResponse {
        stop_reason: stop_reason(choice.finish_reason.as_deref(), !tool_calls.is_empty()),
        text: choice.message.content.unwrap_or_default(),
        tool_calls,
        model: wire.model,
        usage: wire.usage.unwrap_or_default().to_usage(),
        latency: Duration::ZERO,
        provider: None,
    })
}
