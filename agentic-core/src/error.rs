//! The core error type.

use crate::api::ProblemType;
use crate::auth::AuthError;
use crate::ids::ProjectId;
use crate::model::{BudgetStatus, Money, Permission, ValidationError};
use crate::pricing::PricingError;
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
    /// A precondition of the request (`If-Match`, `If-None-Match`) does not hold (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// A value is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// The body is of a media type the route cannot read (415); the message names the ones it can.
    #[error("{0}")]
    UnsupportedMediaType(String),
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
    /// The run's token cap (`budget_tokens`) cannot cover the next model call (402, like a money budget).
    #[error(
        "the run's token budget cannot cover the next model call: {needed} tokens needed, {} left (budget {limit}, \
         used {used})",
        limit.saturating_sub(*used)
    )]
    TokenBudgetExceeded {
        /// The run's cap.
        limit: u64,
        /// Tokens used so far.
        used: u64,
        /// The least the next call needs (its estimated input and one token of answer).
        needed: u64,
    },
    /// The outgoing guardrail found sensitive text in a call to a third-party provider, and the tenant's setting
    /// blocks such calls (422). Names the kinds found, never the text.
    #[error(
        "the call to provider `{provider}` was blocked by the outgoing guardrail: the prompt holds {} (redact or \
         remove it, or ask an admin to set the guardrail to `redact`)",
        kinds.join(", ")
    )]
    GuardrailBlocked {
        /// The provider the call was for.
        provider: String,
        /// The kinds found (`aws_access_key_id`, `email`, …), sorted.
        kinds: Vec<String>,
    },
    /// The run was cancelled by a caller (409 if it surfaces in a reply; a worker ends the run `cancelled`).
    #[error("the run was cancelled")]
    Cancelled,
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
    /// Too many attempts of this kind (429 with `Retry-After`), e.g. failed sign-ins to one account.
    #[error("{reason}; retry in {} s", retry_after.as_secs().max(1))]
    TooManyAttempts {
        /// What was refused, for a human.
        reason: String,
        /// When to try again.
        retry_after: std::time::Duration,
    },
    /// The platform is at capacity for this work (503 with `Retry-After`), e.g. password hashing.
    #[error("the server is busy; retry in {} s", retry_after.as_secs().max(1))]
    Overloaded {
        /// When to try again.
        retry_after: std::time::Duration,
    },
    /// A step of a workflow failed; the status and code are the cause's (a budget refusal inside a step is 402).
    #[error("{step} failed: {source}")]
    Step {
        /// Which step, for a human (`task 2 (developer)`, `planning`).
        step: String,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },
    /// A sum of money overflowed (500): never dropped silently.
    #[error(transparent)]
    Overflow(#[from] crate::model::MoneyOverflow),
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

impl From<crate::knowledge::SearchError> for Error {
    fn from(error: crate::knowledge::SearchError) -> Self {
        match error {
            crate::knowledge::SearchError::Store(e) => Error::Store(e),
            crate::knowledge::SearchError::Embed(e) => Error::Llm(e),
        }
    }
}

impl Error {
    /// `source` as the failure of a workflow's `step`.
    pub fn step(step: impl Into<String>, source: Error) -> Self {
        Error::Step { step: step.into(), source: Box::new(source) }
    }

    /// The failure itself, beneath any workflow steps it failed.
    pub fn cause(&self) -> &Error {
        match self {
            Error::Step { source, .. } => source.cause(),
            other => other,
        }
    }

    /// How long the caller should wait before retrying, for errors that say so.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self.cause() {
            Error::TooManyAttempts { retry_after, .. } | Error::Overloaded { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the cause is the platform's own (a store, the configuration, a bug) rather than something the
    /// caller can act on: its text may name internal hosts or SQL, so it belongs in the log, not in a reply.
    pub fn is_internal(&self) -> bool {
        matches!(
            self.cause(),
            Error::Store(StoreError::Unavailable(_) | StoreError::Backend(_))
                | Error::Internal(_)
                | Error::Config(_)
                | Error::Overflow(_)
        )
    }

    /// The kind of failure, as the API reports it (the `type` of its problem document).
    pub fn problem_type(&self) -> ProblemType {
        use ProblemType as P;
        match self.cause() {
            Error::Unauthenticated(_) => P::Unauthenticated,
            Error::MissingPermission(_) | Error::Forbidden(_) => P::Forbidden,
            Error::NotFound(_) => P::NotFound,
            Error::Validation(_) | Error::Store(StoreError::MissingReference { .. }) => P::Validation,
            Error::Conflict(_) | Error::Store(StoreError::Conflict { .. }) => P::Conflict,
            Error::PreconditionFailed(_) => P::PreconditionFailed,
            Error::TooLarge(_) => P::PayloadTooLarge,
            Error::UnsupportedMediaType(_) => P::UnsupportedMediaType,
            Error::Disabled(_) => P::Disabled,
            Error::BudgetExceeded { .. } | Error::TokenBudgetExceeded { .. } => P::BudgetExceeded,
            Error::Cancelled => P::Conflict,
            Error::GuardrailBlocked { .. } => P::GuardrailBlocked,
            Error::Llm(_) => P::LlmFailed,
            Error::MaxIterations { .. } => P::AgentUnfinished,
            Error::Pricing(_) => P::UnpricedModel,
            Error::TooManyAttempts { .. } => P::RateLimited,
            Error::Overloaded { .. } => P::Overloaded,
            Error::Store(StoreError::Unavailable(_)) => P::Unavailable,
            Error::Store(_) | Error::Config(_) | Error::Internal(_) | Error::Overflow(_) | Error::Step { .. } => {
                P::Internal
            }
        }
    }

    /// A stable, machine-readable name of the kind of failure (the slug of its [`problem_type`](Self::problem_type)).
    pub fn code(&self) -> &'static str {
        self.problem_type().slug()
    }

    /// What a tenant may be told: the message itself for failures they can act on, a generic sentence for
    /// internal ones ([`is_internal`](Self::is_internal)), and for provider failures their kind without
    /// transport details or response bodies ([`LlmError::public_detail`](crate::llm::LlmError::public_detail)).
    pub fn public_detail(&self) -> String {
        match self {
            Error::Step { step, source } => format!("{step} failed: {}", source.public_detail()),
            Error::Llm(e) => format!("LLM provider failed: {}", e.public_detail()),
            Error::Store(StoreError::Unavailable(_)) => "a backing service is unavailable; retry later".into(),
            internal if internal.is_internal() => "an internal error occurred".into(),
            other => other.to_string(),
        }
    }
}

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
