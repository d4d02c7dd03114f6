//! Ollama's native chat API (`POST {host}/api/chat`), plain and streaming (newline-delimited JSON), with tools.
//!
//! Self-hosted: no API key, and its tokens cost nothing (the pricing table says so explicitly).
//!
//! ```no_run
//! use agentic_core::llm::{ChatRequest, LlmProvider, Message};
//! use agentic_llm::ollama;
//!
//! # async fn run() -> Result<(), agentic_core::llm::LlmError> {
//! let local = ollama::Client::builder().host("http://127.0.0.1:11434").build()?;
//! let answer = local.chat(ChatRequest::new("llama3.2", vec![Message::user("Hi")])).await?;
//! # Ok(()) }
//! ```

mod client;
mod completion;
mod streaming;

pub use client::{Client, ClientBuilder, DEFAULT_HOST};
pub use completion::{decode_response, encode_request};
