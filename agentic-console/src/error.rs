//! What a console request that cannot be served answers: an HTML page with the right status and a sentence that
//! says what to do, never a stack trace or an internal detail.

use agentic_core::Error;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::page;

/// A console request that failed.
#[derive(Debug)]
pub enum ConsoleError {
    /// The engine refused or failed: its status and public detail are shown.
    Engine(Error),
    /// A form that could not be read (its fields, or their size).
    BadForm(String),
    /// A write whose CSRF token is missing or not this session's.
    Forged,
    /// No such page or object.
    NotFound,
}

impl From<Error> for ConsoleError {
    fn from(error: Error) -> Self {
        Self::Engine(error)
    }
}

/// A form that could not be read: its fields, their types or its size.
impl From<axum::extract::rejection::FormRejection> for ConsoleError {
    fn from(rejection: axum::extract::rejection::FormRejection) -> Self {
        Self::BadForm(rejection.body_text())
    }
}

/// A query string that could not be read (a page's filters, a topic).
impl From<axum::extract::rejection::QueryRejection> for ConsoleError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::BadForm(rejection.body_text())
    }
}

impl ConsoleError {
    /// A header value we built could not be sent (it would hold a control character): an internal error.
    pub(crate) fn header(error: axum::http::header::InvalidHeaderValue) -> Self {
        Self::Engine(Error::Internal(format!("a console header could not be built: {error}")))
    }

    fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            Self::Engine(error) => {
                let status =
                    StatusCode::from_u16(error.problem_type().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, error.public_detail())
            }
            Self::BadForm(why) => (StatusCode::BAD_REQUEST, format!("The form could not be read: {why}.")),
            Self::Forged => (
                StatusCode::FORBIDDEN,
                "This request did not come from a console page of your session, so it was refused. Reload the \
                 page and try again."
                    .to_owned(),
            ),
            Self::NotFound => (StatusCode::NOT_FOUND, "There is no such page here.".to_owned()),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, message) = self.status_and_message();
        if status.is_server_error() {
            tracing::error!(?self, "console request failed");
        }
        error_page(status, &message)
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = html! {
        p role="alert" { (message) }
        p { a href="/console/approvals" { "Back to the console" } }
    };
    (status, page::bare(title, body)).into_response()
}

/// The largest problem document read back into a page; ours are a few hundred bytes.
const MAX_PROBLEM_BYTES: usize = 16 * 1024;

/// A problem document that the platform's layers answered for a console route (a per-IP limit, a body too large,
/// a method the route lacks, a caught panic) becomes the console's error page with the same status and headers
/// (`Retry-After` stays): a browser shows a page, not JSON.
pub(crate) async fn problems_as_pages(response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let detail = match axum::body::to_bytes(body, MAX_PROBLEM_BYTES).await {
        Ok(bytes) => serde_json::from_slice::<agentic_core::api::Problem>(&bytes).ok().map(|problem| problem.detail),
        Err(_) => None,
    };
    let message = detail.unwrap_or_else(|| "The request could not be served.".to_owned());
    let page = error_page(parts.status, &message);
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let (page_parts, page_body) = page.into_parts();
    parts.headers.extend(page_parts.headers);
    Response::from_parts(parts, page_body)
}

/// A method a console route does not take.
pub(crate) async fn method_not_allowed() -> Response {
    error_page(StatusCode::METHOD_NOT_ALLOWED, "This page does not take that kind of request.")
}

/// The fallback under `/console`.
pub(crate) async fn not_found() -> ConsoleError {
    ConsoleError::NotFound
}
