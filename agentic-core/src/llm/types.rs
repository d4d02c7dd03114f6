//! Provider-neutral chat types.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::structured::OutputSchema;

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Name the model uses to call it.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its input (an object schema).
    pub input_schema: serde_json::Value,
}

/// A call the model asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned id, echoed back in the tool result.
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments, as JSON.
    pub arguments: serde_json::Value,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    /// Something the user (or the platform on their behalf) says.
    User {
        /// Text.
        content: String,
    },
    /// A previous model turn: text and/or tool calls.
    Assistant {
        /// Text (may be empty when the turn only calls tools).
        content: String,
        /// Tool calls made in this turn.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of a tool call.
    Tool {
        /// The call this answers.
        tool_call_id: String,
        /// The tool's name.
        name: String,
        /// The result, usually JSON text.
        content: String,
        /// Whether the tool failed.
        #[serde(default)]
        is_error: bool,
    },
}

impl Message {
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message::User { content: content.into() }
    }

    /// An assistant message with text only.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::Assistant { content: content.into(), tool_calls: Vec::new() }
    }

    /// A successful tool result.
    pub fn tool_result(call: &ToolCall, content: impl Into<String>) -> Self {
        Message::Tool {
            tool_call_id: call.id.clone(),
            name: call.name.clone(),
            content: content.into(),
            is_error: false,
        }
    }
}

/// A chat request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Model name as the provider knows it.
    pub model: String,
    /// System prompt.
    pub system: Option<String>,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    #[serde(default)]
    pub tools: Vec<ToolDefinition>,
    /// Upper bound on output tokens (also the basis of budget reservations).
    pub max_tokens: u32,
    /// Sampling temperature; `None` uses the provider's default.
    pub temperature: Option<f32>,
    /// Sequences that end generation.
    #[serde(default)]
    pub stop: Vec<String>,
    /// The form the answer must take, when it is JSON of a known shape (see [`OutputSchema`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<OutputSchema>,
}

impl ChatRequest {
    /// The default `max_tokens` when a request does not set one.
    pub const DEFAULT_MAX_TOKENS: u32 = 1024;

    /// A request for `model` with `messages`, no tools, default limits.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        Self {
            model: model.into(),
            system: None,
            messages,
            tools: Vec::new(),
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            temperature: None,
            stop: Vec::new(),
            output_schema: None,
        }
    }

    /// Sets the system prompt.
    pub fn with_system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Sets `max_tokens`.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Sets the temperature.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Adds a tool.
    pub fn with_tool(mut self, tool: ToolDefinition) -> Self {
        self.tools.push(tool);
        self
    }

    /// Asks for an answer in the form `schema` describes.
    pub fn with_output_schema(mut self, schema: OutputSchema) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Adds a stop sequence.
    pub fn with_stop(mut self, stop: impl Into<String>) -> Self {
        self.stop.push(stop.into());
        self
    }
}

/// Why generation stopped. Unknown provider reasons are kept verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its turn.
    EndTurn,
    /// `max_tokens` was reached.
    MaxTokens,
    /// A stop sequence was produced.
    StopSequence,
    /// The model wants tool results.
    ToolUse,
    /// The provider filtered the output.
    ContentFilter,
    /// Anything else, as the provider named it.
    Other(String),
}

/// Token counts of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Usage {
    /// Input tokens billed at the full input price (excluding cached ones).
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens served from the provider's prompt cache (billed at the cached price).
    pub cached_input_tokens: u64,
    /// Input tokens written to the provider's prompt cache (Anthropic's `cache_creation_input_tokens`, billed at
    /// the cache-write price).
    #[serde(default)]
    pub cache_write_input_tokens: u64,
}

impl Usage {
    /// Sum of two usages (for multi-call runs).
    pub fn plus(self, other: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens.saturating_add(other.input_tokens),
            output_tokens: self.output_tokens.saturating_add(other.output_tokens),
            cached_input_tokens: self.cached_input_tokens.saturating_add(other.cached_input_tokens),
            cache_write_input_tokens: self.cache_write_input_tokens.saturating_add(other.cache_write_input_tokens),
        }
    }
}

/// A complete model answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Text output (concatenated text blocks).
    pub text: String,
    /// Tool calls requested.
    pub tool_calls: Vec<ToolCall>,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// The model that answered, as reported by the provider.
    pub model: String,
    /// Token counts.
    pub usage: Usage,
    /// Wall time of the call.
    pub latency: Duration,
    /// The provider that answered, when it is not the one asked: a failover chain names the member that answered,
    /// and the call is priced and recorded as that provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// A piece of a tool call arriving in a stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Position of the call in this turn (deltas with the same index belong together).
    pub index: usize,
    /// The call id, on the first delta of a call.
    pub id: Option<String>,
    /// The tool name, on the first delta of a call.
    pub name: Option<String>,
    /// A fragment of the JSON arguments text.
    pub arguments: String,
}

/// One event of a streamed answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StreamEvent {
    /// More output text.
    TextDelta(String),
    /// More of a tool call.
    ToolCallDelta(ToolCallDelta),
    /// The end: why it stopped, the model, and the usage of the whole call.
    Done {
        /// Why it stopped.
        stop_reason: StopReason,
        /// The model that answered.
        model: String,
        /// Token counts.
        usage: Usage,
    },
}
