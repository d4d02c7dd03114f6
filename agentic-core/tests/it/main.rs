//! HTTP-level tests of the platform: RBAC, tenant isolation, credentials, validation, logging hygiene.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs, unreachable_pub)]

mod agents;
mod api_keys;
mod approvals;
mod budgets;
mod context;
mod events;
mod guardrails;
mod handoffs;
mod inline_runs;
mod isolation;
mod jwt;
mod knowledge;
mod limits;
mod metrics;
mod rbac;
mod retention;
mod run_control;
mod runs;
mod runtime;
mod schedules;
mod support;
mod validation;
mod webhooks;
mod workflows;
