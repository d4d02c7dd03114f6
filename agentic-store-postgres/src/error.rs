//! Errors: connecting and migrating ([`PgStoreError`]), and folding sqlx errors into `StoreError` kinds.

use agentic_core::store::StoreError;

/// Why the store could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgStoreError {
    /// The database could not be reached or refused the login.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database's schema is not the one this build knows.
    #[error("{0}")]
    Schema(String),
    /// An option is invalid.
    #[error("invalid store option: {0}")]
    Config(String),
    /// Any other database error during set-up.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

const UNIQUE_VIOLATION: &str = "23505";
const FOREIGN_KEY_VIOLATION: &str = "23503";

/// Folds an sqlx error into a store error kind; `what` names the object for conflict messages.
pub(crate) fn store_error(error: sqlx::Error, what: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(UNIQUE_VIOLATION) => StoreError::conflict(what),
        sqlx::Error::Database(db) if db.code().as_deref() == Some(FOREIGN_KEY_VIOLATION) => {
            StoreError::MissingReference { what: referenced(db.constraint()) }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            StoreError::Unavailable(Box::new(error))
        }
        sqlx::Error::Database(db) if is_connection_failure(db.code().as_deref()) => {
            StoreError::Unavailable(Box::new(error))
        }
        _ => StoreError::Backend(Box::new(error)),
    }
}

/// Class 08 (connection exception), 57P0x (admin shutdown, crash shutdown, cannot connect now).
fn is_connection_failure(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.starts_with("08") || c.starts_with("57P0"))
}

fn referenced(constraint: Option<&str>) -> String {
    match constraint {
        Some(c) if c.contains("knowledge_base") => "the knowledge base".into(),
        Some(c) if c.contains("department") => "the department".into(),
        Some(c) if c.contains("project") => "the project".into(),
        Some(c) if c.contains("owner") || c.contains("created_by") || c.contains("user") => "the user".into(),
        Some(c) if c.contains("tenant") => "the tenant".into(),
        Some(c) => format!("the row referenced by {c}"),
        None => "a referenced row".into(),
    }
}

/// Shorthand for a `StoreError::Backend` about data that does not fit the model.
pub(crate) fn corrupt(message: String) -> StoreError {
    StoreError::Backend(message.into())
}
