//! Store errors, folded into a few kinds the engine can act on.

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was broken (duplicate slug, e-mail, name).
    #[error("{what} already exists")]
    Conflict {
        /// What collided, for a human (`a user with this email`).
        what: String,
    },
    /// A referenced row does not exist in this tenant (for example a project's department).
    #[error("{what} does not exist")]
    MissingReference {
        /// What is missing.
        what: String,
    },
    /// The backend cannot be reached or is overloaded; the operation may succeed later.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other backend failure.
    #[error("store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// A conflict on `what`.
    pub fn conflict(what: impl Into<String>) -> Self {
        StoreError::Conflict { what: what.into() }
    }
}
