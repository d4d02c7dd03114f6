//! What can go wrong, and the exit code each kind gives (see [`EXIT_CODES`](crate::cli::EXIT_CODES)).

use std::process::ExitCode;

use agentic_sdk::Error as ApiError;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line is wrong (an id that is not one, JSON that does not parse, no such project).
    #[error("{0}")]
    Usage(String),
    /// The configuration is missing or unreadable.
    #[error("{0}")]
    Config(String),
    /// The platform refused or failed, or a waited-for run did not succeed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Part of the work failed (what did and did not was printed).
    #[error("{0}")]
    Failed(String),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The process's exit code for this failure.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Usage(_) | CliError::Config(_) => 2,
            CliError::Api(ApiError::BudgetExceeded { .. }) => 3,
            CliError::Api(
                ApiError::RunFailed { .. }
                | ApiError::ApprovalDenied { .. }
                | ApiError::RunCancelled { .. }
                | ApiError::ApprovalRequired { .. },
            ) => 4,
            CliError::Api(ApiError::Timeout { .. }) => 5,
            CliError::Api(_) | CliError::Failed(_) | CliError::Output(_) => 1,
        })
    }
}

/// Parses an id given on the command line, naming what it should be.
pub(crate) fn parse_id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, CliError> {
    text.trim().parse().map_err(|_| CliError::Usage(format!("`{text}` is not a {what} id")))
}
