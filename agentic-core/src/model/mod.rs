//! Domain types: tenants, users, roles, API keys, departments, projects, money, runs, schedules.
//!
//! Constructors that take user input validate it and return [`ValidationError`], so a value of these types is
//! well-formed by construction (an [`Email`] always has one `@`, a [`Slug`] is always URL-safe, …).

mod api_key;
mod context;
mod cost;
mod department;
mod knowledge;
mod money;
mod project;
mod risk;
mod role;
mod run;
mod schedule;
mod tenant;
mod user;
mod webhook;

pub use api_key::{ApiKey, StoredApiKey};
pub use context::{
    ContextEntry, ContextKey, ContextLimits, ContextRefusal, ContextWrite, DEFAULT_CONTEXT_TTL, Expect,
    MAX_CONTEXT_KEY_LEN, MAX_CONTEXT_TTL, Provenance, append_item, check_value_size, next_version,
    validate_context_key, value_size,
};
pub use cost::{
    BudgetStatus, BudgetThreshold, CostFilter, CostGroupBy, CostRecord, CostRollupKey, CostTotals, Reservation,
    ReserveOutcome, Settlement,
};
pub use department::{Department, DepartmentPatch};
pub use knowledge::{KnowledgeBase, KnowledgeDocument, ScoredChunk, TextLanguage};
pub use money::{Money, MoneyOverflow, MoneyParseError};
pub use project::{Project, ProjectPatch};
pub use risk::RiskLevel;
pub use role::{Permission, PermissionSet, Role, UnknownName};
pub use run::{
    Approval, ApprovalStatus, CANCELLED, IDEMPOTENCY_WINDOW, MAX_IDEMPOTENCY_KEY_LEN, Run, RunFinish, RunKind,
    RunLease, RunProgress, RunStatus, Verdict,
};
pub(crate) use schedule::duration;
pub use schedule::{
    BUFFER_RECHECK, DueFires, Fire, FireAction, FireOrigin, MAX_CATCHUP_FIRES, MAX_CATCHUP_SCAN, MAX_INTERVAL,
    MIN_INTERVAL, OverlapPolicy, Schedule, ScheduleSpec, ScheduleTarget, SkipReason, Timing,
};
pub use tenant::{Plan, Slug, Tenant};
pub(crate) use user::normalize_roles;
pub use user::{Email, PasswordHash, User, UserPatch, UserRecord};
pub use webhook::{
    Delivery, DeliveryAttempt, DeliveryStatus, EndpointChange, EventPattern, PatternError, PreviousSecret,
    WebhookEndpoint,
};

use serde::Serialize;
use utoipa::ToSchema;

/// One input field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The field, in the request's naming (`email`, `roles[1]`, …).
    pub field: String,
    /// What is wrong with it, for a human.
    pub message: String,
}

impl ValidationError {
    /// A validation error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Checks prose (a task, a goal, a comment, a description): trimmed, not empty, at most `max` characters, and no
/// control characters but line breaks and tabs, so a task may carry a pasted file.
pub fn validate_text(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ValidationError::new(field, "must not contain control characters other than line breaks and tabs"));
    }
    Ok(trimmed.to_owned())
}

/// Longest description of a department or project, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// Checks optional prose as [`validate_text`]; blank counts as absent.
pub fn validate_optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match value {
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => validate_text(field, &text, max).map(Some),
        None => Ok(None),
    }
}

/// Checks a name: as [`validate_text`], but on one line (no control characters at all).
pub fn validate_name(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let name = validate_text(field, value, max)?;
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(name)
}
