//! The LLM provider abstraction: one small object-safe trait, provider-neutral request/response types, and a
//! typed error.
//!
//! Adapters for real providers live in the `agentic-llm` crate (one module per provider, like rig); the engine
//! only ever sees `Arc<dyn LlmProvider>`. Credentials are given to an adapter when it is built at run time, never
//! compiled in.
//!
//! ```
//! use agentic_core::llm::{ChatRequest, Message};
//!
//! let request = ChatRequest::new("claude-sonnet-4", vec![Message::user("What is the capital of France?")])
//!     .with_system("You are a helpful assistant.")
//!     .with_max_tokens(64)
//!     .with_temperature(0.0);
//! assert_eq!(request.messages.len(), 1);
//! ```

mod error;
mod guardrail;
mod provider;
mod stream;
mod structured;
mod types;

pub use error::{LlmError, excerpt};
pub use guardrail::{Detection, GuardrailAction, Guardrails, PromptScanner, screen};
pub use provider::{Capabilities, ChatStream, LlmProvider, ProviderResolver, SingleProvider};
pub use stream::{StreamAssembler, collect_stream};
pub use structured::{FormError, OutputSchema};
pub use types::{
    ChatRequest, ChatResponse, Message, StopReason, StreamEvent, ToolCall, ToolCallDelta, ToolDefinition, Usage,
};
