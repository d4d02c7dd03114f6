//! The core error type.

use crate::auth::AuthError;
use crate::budget::PricingError;
use crate::ids::ProjectId;
use crate::model::{BudgetStatus, Money, Permission, ValidationError};
use crate::store::StoreError;

/// Everything that can go wrong in the engine. Each variant maps to one HTTP status in `http::problem`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The credential was missing or refused (401).
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// The principal lacks a permission (403).
    #[error("this requires the `{0}` permission")]
    MissingPermission(Permission),
    /// The principal may not do this for another reason (403), e.g. grant scopes it does not hold.
    #[error("{0}")]
    Forbidden(String),
    /// No such object in the caller's tenant (404). Objects of other tenants are reported the same way.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Input failed validation (422).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// A feature is switched off in this deployment (404 on its route), e.g. tenant creation without a master key.
    #[error("{0}")]
    Disabled(&'static str),
    /// The project's budget cannot cover the call's worst case (402).
    #[error(
        "the budget of project {project} cannot cover this call: {requested} USD needed, {} available \
         (budget {} USD, spent {} USD, reserved {} USD)",
        status.available().unwrap_or(Money::ZERO),
        status.budget.unwrap_or(Money::ZERO),
        status.spent,
        status.reserved
    )]
    BudgetExceeded {
        /// The project.
        project: ProjectId,
        /// Where its budget stood.
        status: BudgetStatus,
        /// What the call would have held.
        requested: Money,
    },
    /// The LLM provider failed (502).
    #[error("LLM provider failed: {0}")]
    Llm(#[from] crate::llm::LlmError),
    /// The agent was still calling tools after its iteration bound (422).
    #[error("the agent did not finish within {limit} model turns")]
    MaxIterations {
        /// The bound.
        limit: u32,
    },
    /// A model has no price and no fallback is configured (422).
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Invalid platform configuration (at build time).
    #[error("configuration error: {0}")]
    Config(String),
    /// A bug or an environment failure (500).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
