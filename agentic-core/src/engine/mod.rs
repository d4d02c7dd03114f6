//! The engine: the platform's operations, as methods on [`Platform`](crate::Platform).
//!
//! Each takes the calling [`Principal`](crate::auth::Principal) (except login and tenant creation, which happen
//! before there is one), checks its permission, validates input, and goes through the principal's tenant handle
//! — so tenant scope and RBAC hold the same whether the caller is the HTTP API or a host app.

mod accounts;
mod agent_loop;
mod agents;
mod api_keys;
mod approvals;
mod background;
mod budgets;
mod context;
mod departments;
mod dispatch;
mod events;
mod grounding;
mod guardrails;
mod handoffs;
mod inline_runs;
mod knowledge;
mod llm_call;
mod on_abandon;
mod projects;
mod relay;
mod retention;
mod run_control;
mod runs;
mod scheduler;
mod schedules;
mod signals;
mod tenants;
mod tool_model;
mod webhooks;
mod workflows;

pub use agent_loop::{AgentOutcome, AgentRunOutput, AgentTask, FORM_MAX_TOKENS, RunStep, system_prompt};
pub use approvals::approval_threshold;
pub use background::{Background, BackgroundOptions, DEFAULT_INLINE_RUNS};
pub use budgets::{LlmCall, estimate_input_tokens};
pub use handoffs::{HANDOFF_TOOL, MAX_HANDOFF_DEPTH, refuse_handoff};
pub(crate) use inline_runs::InlineRuns;
pub use knowledge::{DEFAULT_SEARCH_RESULTS, DocumentUpload, KnowledgeLimits, MAX_QUERY_CHARS, MAX_SEARCH_RESULTS};
pub(crate) use llm_call::{CallSite, PendingCharge};
pub use retention::{Retention, RetentionSweep};
pub use run_control::{MAX_BUDGET_TOKENS, RunControl};
#[cfg(feature = "http")]
pub(crate) use runs::invalid_idempotency_key;
pub use runs::{ACTIVE_WINDOW, APPROVAL_SWEEP, LEASE, MAX_ATTEMPTS, MAX_WAIT, USAGE_SAMPLE, may_cancel};
pub use scheduler::SCHEDULE_LEASE;
pub use schedules::{DEFAULT_CATCHUP_WINDOW, MAX_BACKFILL_FIRES, MAX_CATCHUP_WINDOW, MAX_JITTER, MAX_UPCOMING};
pub(crate) use signals::RunSignals;
pub use tenants::{Bootstrap, BootstrapReport};
pub use webhooks::MAX_REPLAY;
pub use workflows::{
    MAX_PLAN_TASKS, PROJECT_PIPELINE, PipelineOutput, PlannedTask, ReviewFinding, ReviewVerdict, StepPhase,
    WorkflowStep, parse_plan, plan_schema,
};
