//! # agentic-sdk
//!
//! A typed Rust client for the agentic platform's HTTP API. This crate is a skeleton until the client lands; it
//! already re-exports the request and response bodies of API v1 (shared with the server, so the two cannot
//! drift), including the RFC 9457 [`api::Problem`] every error response carries and the catalogue of its types,
//! [`api::ProblemType`]. [`webhooks`] verifies the signed deliveries a receiver gets (Standard Webhooks).
//!
//! ```
//! use agentic_sdk::api::{Problem, ProblemType};
//!
//! let body = r#"{"type":"https://agentic.dev/problems/forbidden","title":"Permission denied",
//!                "status":403,"detail":"this requires the `users:manage` permission","permission":"users:manage"}"#;
//! let problem: Problem = serde_json::from_str(body).unwrap();
//! assert_eq!(problem.problem_type(), Some(ProblemType::Forbidden));
//! assert_eq!(problem.status, ProblemType::Forbidden.status());
//! ```

pub use agentic_core::api;

pub mod webhooks;
