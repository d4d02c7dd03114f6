//! The core error type.

use crate::auth::AuthError;
use crate::model::{Permission, ValidationError};
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
