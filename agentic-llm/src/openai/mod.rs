//! OpenAI-compatible chat completions (`POST {base}/chat/completions`), plain and streaming, with tool calls.
//!
//! The base URL is configurable, so the same adapter talks to OpenAI, vLLM, llama.cpp's server or LM Studio.
//! Streaming asks for `stream_options.include_usage`, so the final event carries the token counts.
//! [`Embeddings`] (`Client::embeddings`) is the same endpoint's `/embeddings`, for dense retrieval.
//!
//! ```no_run
//! use agentic_core::llm::{ChatRequest, LlmProvider, Message};
//! use agentic_llm::openai;
//!
//! # async fn run() -> Result<(), agentic_core::llm::LlmError> {
//! let local = openai::Client::builder().base_url("http://127.0.0.1:8080/v1").build()?;
//! let answer = local.chat(ChatRequest::new("any", vec![Message::user("Hi")])).await?;
//! # Ok(()) }
//! ```

mod client;
mod completion;
mod embeddings;
mod streaming;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use completion::{decode_response, encode_request};
pub use embeddings::Embeddings;
