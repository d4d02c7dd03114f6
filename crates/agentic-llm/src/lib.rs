//! # agentic-llm
//!
//! LLM provider adapters for the agentic platform. This crate is a skeleton until the provider layer lands: it
//! will hold one module per provider (Anthropic Messages, OpenAI-compatible chat completions, Ollama) behind
//! `agentic-core`'s `LlmProvider` trait, retry/timeout/failover decorators, and `mock`, a scripted provider for
//! host apps' tests. It depends on `agentic-core` and on no store.
//!
//! ```
//! // Nothing to call yet; the crate links against the core it will extend.
//! use agentic_core::model::Money;
//! assert_eq!(Money::ZERO.to_string(), "0.00");
//! ```
