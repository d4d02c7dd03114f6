//! Signing in and out: `GET/POST /console/login`, `POST /console/logout`.

use agentic_core::Platform;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use secrecy::SecretString;
use serde::Deserialize;

use crate::ConsoleError;
use crate::page;
use crate::session::{self, Session};

/// Where the sign-in page sends the user afterwards, and why they are there.
#[derive(Deserialize, Default)]
pub(crate) struct SignInQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub(crate) struct SignInForm {
    tenant: String,
    email: String,
    password: String,
    next: Option<String>,
}

/// The sign-out form's one field.
#[derive(Deserialize)]
pub(crate) struct SignOutForm {
    csrf: Option<String>,
}

/// A console page to return to after signing in: a path under `/console` on this origin, never elsewhere (an
/// open redirect would let a link to our sign-in page send a user anywhere).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with("/console/")
                && !next.starts_with("/console/login")
                && !next.contains("//")
                && !next.contains('\\')
                && next.chars().all(|c| c.is_ascii_graphic()) =>
        {
            next
        }
        _ => "/console/approvals",
    }
}

fn sign_in_page(tenant: &str, email: &str, next: &str, notice: Option<&str>, alert: Option<&str>) -> Markup {
    let body = html! {
        @if let Some(notice) = notice { p class="notice" role="status" { (notice) } }
        @if let Some(alert) = alert { p class="alert" role="alert" { (alert) } }
        form class="card signin" method="post" action="/console/login" {
            input type="hidden" name="next" value=(next);
            label for="tenant" { "Tenant" }
            input id="tenant" name="tenant" type="text" required autocomplete="organization" value=(tenant);
            label for="email" { "E-mail" }
            input id="email" name="email" type="email" required autocomplete="username" value=(email);
            label for="password" { "Password" }
            input id="password" name="password" type="password" required autocomplete="current-password";
            button type="submit" { "Sign in" }
        }
    };
    page::bare("Sign in", body)
}

/// `GET /console/login`.
pub(crate) async fn form(query: Result<Query<SignInQuery>, axum::extract::rejection::QueryRejection>) -> Markup {
    // A query that cannot be read is ignored: the form works without it.
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let notice = query.expired.is_some().then_some("Your session ended. Sign in again to go on.");
    sign_in_page("", "", safe_next(query.next.as_deref()), notice, None)
}

/// `POST /console/login`: a session cookie and back to the page asked for, or the form again with why not.
pub(crate) async fn sign_in(
    State(platform): State<Platform>,
    form: Result<axum::Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ConsoleError> {
    let axum::Form(form) = form?;
    let next = safe_next(form.next.as_deref()).to_owned();
    match platform.login(&form.tenant, &form.email, SecretString::from(form.password)).await {
        Ok(issued) => {
            let cookie =
                session::session_cookie(secrecy::ExposeSecret::expose_secret(&issued.token), issued.expires_in);
            let mut headers = HeaderMap::new();
            headers.insert(LOCATION, HeaderValue::from_str(&next).map_err(ConsoleError::header)?);
            headers.insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(ConsoleError::header)?);
            Ok((StatusCode::SEE_OTHER, headers).into_response())
        }
        Err(error) => {
            let status = StatusCode::from_u16(error.problem_type().status()).unwrap_or(StatusCode::UNAUTHORIZED);
            if status.is_server_error() {
                tracing::error!(%error, "console sign-in failed");
            }
            let page = sign_in_page(&form.tenant, &form.email, &next, None, Some(&error.public_detail()));
            let mut response = (status, page).into_response();
            if let Some(wait) = error.retry_after()
                && let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string())
            {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}

/// `POST /console/logout`: the cookie cleared, back to the sign-in form. Checked like every write, so another
/// site cannot sign a user out.
pub(crate) async fn sign_out(
    session: Session,
    form: Result<axum::Form<SignOutForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ConsoleError> {
    let axum::Form(form) = form?;
    session.check_csrf(form.csrf.as_deref())?;
    let mut headers = HeaderMap::new();
    headers.insert(LOCATION, HeaderValue::from_static("/console/login"));
    headers.insert(SET_COOKIE, HeaderValue::from_str(&session::cleared_cookie()).map_err(ConsoleError::header)?);
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_pages_are_returned_to() {
        assert_eq!(safe_next(Some("/console/runs?status=failed")), "/console/runs?status=failed");
        for elsewhere in
            ["https://evil.example/", "//evil.example", "/console//evil", "/v1/me", "/console/login", "/console/\\x"]
        {
            assert_eq!(safe_next(Some(elsewhere)), "/console/approvals", "{elsewhere}");
        }
        assert_eq!(safe_next(None), "/console/approvals");
    }
}
