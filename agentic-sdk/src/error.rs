//! The SDK's errors: one variant per kind of problem a caller handles differently, read from the problem
//! document's `type` (the catalogue in [`agentic_core::api::ProblemType`]), never from its text.

use std::time::Duration;

use agentic_core::api::{Problem, ProblemType};
use agentic_core::model::{Money, Permission, Run, ValidationError};

/// What can go wrong calling the platform.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The project's budget cannot cover the call (HTTP 402).
    #[error("budget exceeded: {}", problem.detail)]
    BudgetExceeded {
        /// The project's budget, if it has one.
        budget: Option<Money>,
        /// Spent so far.
        spent: Option<Money>,
        /// What the refused call needed.
        requested: Option<Money>,
        /// The whole problem document.
        problem: Box<Problem>,
    },
    /// A rate limit refused the call (HTTP 429), after the retries the policy allows.
    #[error("rate limited: {}", problem.detail)]
    RateLimited {
        /// When the server says to try again.
        retry_after: Option<Duration>,
        /// The whole problem document.
        problem: Box<Problem>,
    },
    /// No valid credential (HTTP 401).
    #[error("unauthorized: {}", .0.detail)]
    Unauthorized(Box<Problem>),
    /// The credential lacks a permission (HTTP 403).
    #[error("forbidden: {}", problem.detail)]
    Forbidden {
        /// The missing permission, when the server names it.
        permission: Option<Permission>,
        /// The whole problem document.
        problem: Box<Problem>,
    },
    /// No such object in the caller's tenant (HTTP 404).
    #[error("not found: {}", .0.detail)]
    NotFound(Box<Problem>),
    /// The call conflicts with the current state (HTTP 409).
    #[error("conflict: {}", .0.detail)]
    Conflict(Box<Problem>),
    /// A precondition did not hold (HTTP 412): the value changed since the version the call named; read it
    /// again.
    #[error("precondition failed: {}", .0.detail)]
    PreconditionFailed(Box<Problem>),
    /// A field is invalid (HTTP 422 `validation`); `errors` names each.
    #[error("invalid input: {}", problem.detail)]
    Validation {
        /// Each failing field and why.
        errors: Vec<ValidationError>,
        /// The whole problem document.
        problem: Box<Problem>,
    },
    /// Another problem the API reports (an unfinished agent, an unpriced model, a failed provider, …).
    #[error("{}: {}", problem.title, problem.detail)]
    Api {
        /// Its type, when it is one of the catalogue's.
        kind: Option<ProblemType>,
        /// The whole problem document.
        problem: Box<Problem>,
    },
    /// The server failed or is unavailable (HTTP 5xx), after the retries the policy allows.
    #[error("server error {status}: {detail}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// What it said.
        detail: String,
        /// Its problem document, if it sent one.
        problem: Option<Box<Problem>>,
    },
    /// The run waits for a human's approval and did not get it in time.
    #[error("run {} waits for approval", run.id)]
    ApprovalRequired {
        /// The run, as it stands.
        run: Box<Run>,
    },
    /// A human (or the expiry) denied the run.
    #[error("run {} was denied", run.id)]
    ApprovalDenied {
        /// The run.
        run: Box<Run>,
    },
    /// The run ended `failed`.
    #[error("run {} failed: {}", run.id, run.error.as_deref().unwrap_or("no reason given"))]
    RunFailed {
        /// The run, with its `error`.
        run: Box<Run>,
    },
    /// The run was cancelled.
    #[error("run {} was cancelled", run.id)]
    RunCancelled {
        /// The run.
        run: Box<Run>,
    },
    /// The run did not end within the time asked.
    #[error("run {} did not finish in time (it is {})", run.id, run.status.as_str())]
    Timeout {
        /// The run, as it stands.
        run: Box<Run>,
    },
    /// The request did not get an answer (connection, TLS, timeout).
    #[error("transport: {0}")]
    Transport(#[source] reqwest::Error),
    /// The answer was not what the API documents.
    #[error("unexpected response: {0}")]
    Decode(String),
    /// The client was configured wrongly (a base URL that is not one).
    #[error("configuration: {0}")]
    Config(String),
}

/// A result with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The error a failed response stands for: its problem document's type decides, then its status (a body that
    /// is not a problem document is a [`Server`](Error::Server) error from 500 up, else a [`Decode`](Error::Decode)
    /// error). The client calls it for every unsuccessful answer; a transport of a host's own may too.
    pub fn from_response(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Error {
        let Ok(problem) = serde_json::from_slice::<Problem>(body) else {
            let detail = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
            return if status >= 500 {
                Error::Server { status, detail, problem: None }
            } else {
                Error::Decode(format!("HTTP {status} without a problem document: {detail}"))
            };
        };
        let money = |field: &str| problem.extensions.get(field).and_then(|v| serde_json::from_value(v.clone()).ok());
        let kind = problem.problem_type();
        match kind {
            Some(ProblemType::BudgetExceeded) => Error::BudgetExceeded {
                budget: money("budget"),
                spent: money("spent"),
                requested: money("requested"),
                problem: Box::new(problem),
            },
            Some(ProblemType::RateLimited) => Error::RateLimited { retry_after, problem: Box::new(problem) },
            Some(ProblemType::Unauthenticated) => Error::Unauthorized(Box::new(problem)),
            Some(ProblemType::Forbidden) => {
                Error::Forbidden { permission: problem.permission, problem: Box::new(problem) }
            }
            Some(ProblemType::NotFound) => Error::NotFound(Box::new(problem)),
            Some(ProblemType::Conflict) => Error::Conflict(Box::new(problem)),
            Some(ProblemType::PreconditionFailed) => Error::PreconditionFailed(Box::new(problem)),
            Some(ProblemType::Validation) => {
                Error::Validation { errors: problem.errors.clone(), problem: Box::new(problem) }
            }
            _ if status >= 500 => {
                Error::Server { status, detail: problem.detail.clone(), problem: Some(Box::new(problem)) }
            }
            _ => Error::Api { kind, problem: Box::new(problem) },
        }
    }

    /// The problem document the server sent, if this error came from one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::BudgetExceeded { problem, .. }
            | Error::RateLimited { problem, .. }
            | Error::Forbidden { problem, .. }
            | Error::Validation { problem, .. }
            | Error::Api { problem, .. }
            | Error::Unauthorized(problem)
            | Error::NotFound(problem)
            | Error::Conflict(problem)
            | Error::PreconditionFailed(problem) => Some(problem),
            Error::Server { problem, .. } => problem.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(kind: ProblemType, extra: serde_json::Value) -> Vec<u8> {
        let mut document = serde_json::to_value(Problem::new(kind, "detail")).unwrap();
        document.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::to_vec(&document).unwrap()
    }

    #[test]
    fn each_problem_type_is_its_own_error_with_its_fields() {
        let money = serde_json::json!({"budget": "10.00", "spent": "9.50", "requested": "1.00"});
        match Error::from_response(402, None, &problem(ProblemType::BudgetExceeded, money)) {
            Error::BudgetExceeded { budget, spent, requested, problem } => {
                let text = |m: Option<Money>| m.map(|m| m.to_string());
                assert_eq!(
                    (text(budget), text(spent), text(requested)),
                    (Some("10.00".into()), Some("9.50".into()), Some("1.00".into()))
                );
                assert_eq!(problem.status, 402);
            }
            other => panic!("{other:?}"),
        }
        let wait = Some(Duration::from_secs(7));
        let limited = Error::from_response(429, wait, &problem(ProblemType::RateLimited, serde_json::json!({})));
        assert!(matches!(limited, Error::RateLimited { retry_after, .. } if retry_after == wait));
        let cases = [
            (401, ProblemType::Unauthenticated),
            (403, ProblemType::Forbidden),
            (404, ProblemType::NotFound),
            (409, ProblemType::Conflict),
            (422, ProblemType::Validation),
            (502, ProblemType::LlmFailed),
            (503, ProblemType::Unavailable),
            (422, ProblemType::AgentUnfinished),
        ];
        for (status, kind) in cases {
            let error = Error::from_response(status, None, &problem(kind, serde_json::json!({})));
            assert_eq!(error.problem().and_then(Problem::problem_type), Some(kind), "{error}");
            let expected = match kind {
                ProblemType::Unauthenticated => matches!(error, Error::Unauthorized(_)),
                ProblemType::Forbidden => matches!(error, Error::Forbidden { .. }),
                ProblemType::NotFound => matches!(error, Error::NotFound(_)),
                ProblemType::Conflict => matches!(error, Error::Conflict(_)),
                ProblemType::Validation => matches!(error, Error::Validation { .. }),
                ProblemType::LlmFailed | ProblemType::Unavailable => matches!(error, Error::Server { .. }),
                _ => matches!(error, Error::Api { kind: Some(ProblemType::AgentUnfinished), .. }),
            };
            assert!(expected, "{status} {kind}: {error:?}");
        }
    }

    #[test]
    fn answers_without_a_problem_document_are_still_typed() {
        let proxy = Error::from_response(502, None, b"<html>Bad Gateway</html>");
        assert!(
            matches!(&proxy, Error::Server { status: 502, problem: None, detail } if detail.contains("Bad Gateway"))
        );
        assert!(proxy.problem().is_none());
        assert!(matches!(Error::from_response(400, None, b"nope"), Error::Decode(_)));
        let long = vec![b'x'; 4096];
        match Error::from_response(500, None, &long) {
            Error::Server { detail, .. } => assert_eq!(detail.len(), 512, "the excerpt is bounded"),
            other => panic!("{other:?}"),
        }
    }
}
