//! Errors as RFC 9457 `application/problem+json` responses.
//!
//! Every error the API returns is a [`Problem`] of one [`ProblemType`] from the catalogue in [`crate::api`], which
//! fixes its status and title; this module adds the `detail` and renders it. Client mistakes are 4xx with a
//! `detail` that says what to fix; server-side failures are 5xx with a generic `detail` (the cause goes to the log,
//! not to the client).

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

use crate::api::{Problem, ProblemType};
use crate::auth::AuthError;
use crate::error::Error;
use crate::store::StoreError;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The problem document for an engine error; its type is the error's [`problem_type`](Error::problem_type).
pub fn problem_for(error: &Error) -> Problem {
    let kind = error.problem_type();
    match error {
        Error::Step { step, source } => {
            let mut problem = problem_for(source);
            problem.detail = format!("{step} failed: {}", problem.detail);
            problem
        }
        Error::Unauthenticated(auth) => Problem::new(kind, auth.to_string()),
        Error::MissingPermission(permission) => {
            Problem { permission: Some(*permission), ..Problem::new(kind, error.to_string()) }
        }
        Error::Forbidden(detail) | Error::Conflict(detail) => Problem::new(kind, detail.clone()),
        Error::Validation(v) => Problem { errors: vec![v.clone()], ..Problem::new(kind, v.to_string()) },
        Error::BudgetExceeded { project, status, requested } => {
            let mut p = Problem::new(kind, error.to_string());
            let money = |m: crate::model::Money| serde_json::Value::String(m.to_string());
            p.extensions.insert("project_id".into(), serde_json::Value::String(project.to_string()));
            p.extensions.insert("budget".into(), status.budget.map_or(serde_json::Value::Null, money));
            p.extensions.insert("spent".into(), money(status.spent));
            p.extensions.insert("reserved".into(), money(status.reserved));
            p.extensions.insert("requested".into(), money(*requested));
            p
        }
        Error::GuardrailBlocked { provider, kinds } => {
            let mut p = Problem::new(kind, error.to_string());
            p.extensions.insert("provider".into(), serde_json::Value::String(provider.clone()));
            p.extensions.insert("kinds".into(), serde_json::json!(kinds));
            p
        }
        Error::Llm(e) => Problem::new(kind, e.public_detail()),
        Error::Disabled(detail) => Problem::new(kind, *detail),
        Error::Store(StoreError::Conflict { what }) => Problem::new(kind, format!("{what} already exists")),
        Error::Store(StoreError::MissingReference { what }) => Problem::new(kind, format!("{what} does not exist")),
        _ if kind == ProblemType::Internal => Problem::new(kind, "an internal error occurred"),
        _ => Problem::new(kind, error.public_detail()),
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
    if let Error::Unauthenticated(refused) = error.cause() {
        // For `auth_failures_total`, counted where every response passes (the metrics middleware).
        response.extensions_mut().insert(refused.clone());
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
