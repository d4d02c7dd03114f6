//! # agentic-sdk
//!
//! A typed Rust client for the agentic platform's HTTP API. The request and response bodies are the server's own
//! ([`api`], re-exported from `agentic-core` without its HTTP stack), so the two cannot drift; every error is a
//! typed [`Error`] read from the problem document's `type`, never from its text.
//!
//! ```no_run
//! # async fn example() -> Result<(), agentic_sdk::Error> {
//! use std::time::Duration;
//! use agentic_sdk::AgenticClient;
//! use agentic_sdk::api::CreateProjectRequest;
//!
//! let client = AgenticClient::builder("http://127.0.0.1:9000").api_key("agk_…").build()?;
//! let project = client
//!     .projects()
//!     .create(&CreateProjectRequest { name: "Site".into(), description: None, department_id: None, budget: None })
//!     .await?;
//! let mut run = client.agents().execute_task("qa_tester", "Review the login form", project.id).await?;
//! match run.wait_for_result(Duration::from_secs(3600)).await {
//!     Ok(done) => println!("{}", done.output.unwrap_or_default()),
//!     Err(agentic_sdk::Error::BudgetExceeded { spent, budget, .. }) => println!("over budget: {spent:?} of {budget:?}"),
//!     Err(other) => return Err(other),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! 429 and 503 answers are retried after their `Retry-After` ([`RetryPolicy`]) for calls that are safe to repeat.
//! [`webhooks`] verifies the signed deliveries a receiver gets (Standard Webhooks).

pub use agentic_core::api;
pub use agentic_core::events;
pub use agentic_core::ids;
/// What the outgoing guardrail does (`client.settings().set_guardrails(…)`).
pub use agentic_core::llm::GuardrailAction;
pub use agentic_core::model;

/// Pages and the queries of the list endpoints.
pub mod query {
    pub use agentic_core::store::{EventQuery, Page, PageRequest, RunQuery};
}

mod client;
mod error;
pub mod resources;
mod stream;
pub mod webhooks;

pub use client::{AgenticClient, ClientBuilder, RetryPolicy};
pub use error::{Error, Result};
pub use resources::RunHandle;
pub use stream::EventStream;

/// The README's Rust snippets, compiled with the doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
