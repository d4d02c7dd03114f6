//! Errors as RFC 9457 `application/problem+json` responses.
//!
//! Every error the API returns goes through [`problem_for`], so one table decides the status of each failure; its
//! stable `type` is the error's [`code`](Error::code). Client mistakes are 4xx with a `detail` that says what to fix; server-side failures are 5xx
//! with a generic `detail` (the cause goes to the log, not to the client).

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

use crate::api::{PROBLEM_TYPE_BASE, Problem};
use crate::auth::AuthError;
use crate::error::Error;
use crate::store::StoreError;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Builds a problem document.
pub fn problem(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Problem {
    Problem {
        kind: format!("{PROBLEM_TYPE_BASE}{slug}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail: detail.into(),
        errors: Vec::new(),
        permission: None,
        extensions: serde_json::Map::new(),
    }
}

/// The problem document for an engine error.
pub fn problem_for(error: &Error) -> Problem {
    use StatusCode as S;
    match error {
        Error::Step { step, source } => {
            let mut problem = problem_for(source);
            problem.detail = format!("{step} failed: {}", problem.detail);
            problem
        }
        Error::Unauthenticated(auth) => {
            problem(S::UNAUTHORIZED, error.code(), "Authentication required", auth.to_string())
        }
        Error::MissingPermission(permission) => Problem {
            permission: Some(*permission),
            ..problem(S::FORBIDDEN, error.code(), "Permission denied", error.to_string())
        },
        Error::Forbidden(detail) => problem(S::FORBIDDEN, error.code(), "Permission denied", detail.clone()),
        Error::NotFound(_) => problem(S::NOT_FOUND, error.code(), "Not found", error.to_string()),
        Error::Validation(v) => Problem {
            errors: vec![v.clone()],
            ..problem(S::UNPROCESSABLE_ENTITY, error.code(), "Invalid input", v.to_string())
        },
        Error::Conflict(detail) => problem(S::CONFLICT, error.code(), "Conflict", detail.clone()),
        Error::BudgetExceeded { project, status, requested } => {
            let mut p = problem(S::PAYMENT_REQUIRED, error.code(), "Budget exceeded", error.to_string());
            let money = |m: crate::model::Money| serde_json::Value::String(m.to_string());
            p.extensions.insert("project_id".into(), serde_json::Value::String(project.to_string()));
            p.extensions.insert("budget".into(), status.budget.map_or(serde_json::Value::Null, money));
            p.extensions.insert("spent".into(), money(status.spent));
            p.extensions.insert("reserved".into(), money(status.reserved));
            p.extensions.insert("requested".into(), money(*requested));
            p
        }
        Error::Llm(e) => problem(S::BAD_GATEWAY, error.code(), "LLM provider failed", e.public_detail()),
        Error::MaxIterations { .. } => {
            problem(S::UNPROCESSABLE_ENTITY, error.code(), "Agent did not finish", error.to_string())
        }
        Error::Pricing(e) => problem(S::UNPROCESSABLE_ENTITY, error.code(), "Model has no price", e.to_string()),
        Error::TooManyAttempts { .. } => {
            problem(S::TOO_MANY_REQUESTS, error.code(), "Too many attempts", error.to_string())
        }
        Error::Overloaded { .. } => problem(S::SERVICE_UNAVAILABLE, error.code(), "Server busy", error.to_string()),
        Error::Disabled(detail) => problem(S::NOT_FOUND, error.code(), "Feature disabled", *detail),
        Error::Store(StoreError::Conflict { what }) => {
            problem(S::CONFLICT, error.code(), "Conflict", format!("{what} already exists"))
        }
        Error::Store(StoreError::MissingReference { what }) => {
            problem(S::UNPROCESSABLE_ENTITY, error.code(), "Invalid input", format!("{what} does not exist"))
        }
        Error::Store(StoreError::Unavailable(_)) => problem(
            S::SERVICE_UNAVAILABLE,
            error.code(),
            "Service unavailable",
            "a backing service is unavailable; retry later",
        ),
        _ => problem(S::INTERNAL_SERVER_ERROR, error.code(), "Internal error", "an internal error occurred"),
    }
}

/// Serialises a problem into an HTTP response with any body type that can hold bytes.
pub fn problem_response<B: From<Bytes>>(problem: &Problem) -> http::Response<B> {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = http::Response::new(B::from(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// Logs server-side failures (their cause is not shown to the client) and renders the problem.
pub fn error_response<B: From<Bytes>>(error: &Error) -> http::Response<B> {
    let problem = problem_for(error);
    if problem.status >= 500 && !matches!(error, Error::Overloaded { .. }) {
        tracing::error!(%error, "request failed");
    }
    let mut response = problem_response(&problem);
    if let Some(wait) = error.retry_after() {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        error_response(&self)
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        Error::from(self).into_response()
    }
}

/// A problem document as an axum response (for rejections and fallbacks).
#[derive(Debug)]
pub struct ProblemResponse(pub Problem);

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        problem_response(&self.0)
    }
}
