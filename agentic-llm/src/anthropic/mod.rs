//! Anthropic Messages API (`POST /v1/messages`), plain and streaming (SSE), with tool use, and answers in a
//! given form through a forced tool call.
//!
//! ```no_run
//! use agentic_core::llm::{ChatRequest, LlmProvider, Message};
//! use agentic_llm::anthropic;
//!
//! # async fn run() -> Result<(), agentic_core::llm::LlmError> {
//! let claude = anthropic::Client::builder().api_key("sk-ant-…").build()?;
//! let answer = claude.chat(ChatRequest::new("claude-sonnet-4-20250514", vec![Message::user("Hi")])).await?;
//! println!("{} ({} output tokens)", answer.text, answer.usage.output_tokens);
//! # Ok(()) }
//! ```

mod client;
mod completion;
mod form;
mod streaming;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use completion::{decode_response, encode_request};
