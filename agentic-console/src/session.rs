//! Console sessions: the access token a sign-in issues, kept in a cookie the page's scripts cannot read, and the
//! CSRF token every write must carry.
//!
//! The cookie is `HttpOnly; Secure; SameSite=Strict; Path=/console` and lives as long as the token. Browsers keep
//! `Secure` cookies on `http://localhost` and `http://127.0.0.1`, so a local server works; anywhere else the
//! console is meant to be served over HTTPS. The CSRF token is a hash of the session's token under a label of its
//! own: a page of the session can embed it, another site cannot compute it (it never sees the cookie), any replica
//! can check it without shared state, and it changes with every sign-in.

use agentic_core::Error;
use agentic_core::Platform;
use agentic_core::auth::{Credential, Principal};
use agentic_core::model::User;
use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ConsoleError;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "agentic_console";

/// The name of the form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A write whose only field is the CSRF token (cancel, pause, resume).
#[derive(serde::Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: Option<String>,
}

/// A signed-in user: who they are, what they may do, and their session's CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    /// The principal the engine checks every call against.
    pub principal: Principal,
    /// The user, as the header shows them.
    pub user: User,
    csrf: String,
}

impl Session {
    /// The CSRF token the session's forms carry.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Checks a write's CSRF token (in constant time): anything but this session's token is
    /// [`ConsoleError::Forged`].
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), ConsoleError> {
        match given {
            Some(given) if bool::from(given.as_bytes().ct_eq(self.csrf.as_bytes())) => Ok(()),
            _ => Err(ConsoleError::Forged),
        }
    }
}

/// The CSRF token of the session whose access token is `token`.
pub fn csrf_token(token: &str) -> String {
    let digest = Sha256::new().chain_update(b"agentic-console csrf v1\0").chain_update(token.as_bytes()).finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

/// The `Set-Cookie` value that starts a session holding `token` for `max_age_secs`.
pub(crate) fn session_cookie(token: &str, max_age_secs: u64) -> String {
    let max_age = cookie::time::Duration::seconds(i64::try_from(max_age_secs).unwrap_or(i64::MAX));
    base_cookie(token.to_owned()).max_age(max_age).build().to_string()
}

/// The `Set-Cookie` value that ends the session.
pub(crate) fn cleared_cookie() -> String {
    base_cookie(String::new()).max_age(cookie::time::Duration::ZERO).build().to_string()
}

fn base_cookie(value: String) -> cookie::CookieBuilder<'static> {
    Cookie::build((COOKIE_NAME, value)).path(crate::BASE).http_only(true).secure(true).same_site(SameSite::Strict)
}

/// The session token the request's cookies carry, if any.
fn token_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE_NAME && !cookie.value().is_empty())
        .map(|cookie| cookie.value().to_owned())
}

/// Where a request without a valid session goes: the sign-in page, which sends the user back here afterwards.
/// `expired` says a session was there and no longer holds (it is cleared).
fn to_sign_in(parts: &Parts, expired: bool) -> Response {
    let back = parts.uri.path_and_query().map_or(crate::BASE, |p| p.as_str());
    // Only a page is worth coming back to; after a write the user starts again from its page.
    let next = if parts.method == axum::http::Method::GET { back } else { "/console/approvals" };
    let mut query = vec![("next", next)];
    if expired {
        query.push(("expired", "1"));
    }
    let location = format!("/console/login?{}", serde_urlencoded::to_string(query).unwrap_or_default());
    let mut response = Redirect::to(&location).into_response();
    if expired && let Ok(cleared) = HeaderValue::from_str(&cleared_cookie()) {
        response.headers_mut().append(SET_COOKIE, cleared);
    }
    response
}

impl FromRequestParts<Platform> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, platform: &Platform) -> Result<Self, Self::Rejection> {
        let Some(token) = token_of(&parts.headers) else { return Err(to_sign_in(parts, false)) };
        let principal = match platform.authenticator().authenticate(&token).await {
            // An API key is a credential for programs: it does not make a console session.
            Ok(principal) if principal.credential == Credential::AccessToken => principal,
            Ok(_) | Err(Error::Unauthenticated(_)) => return Err(to_sign_in(parts, true)),
            Err(other) => return Err(ConsoleError::from(other).into_response()),
        };
        let user = match platform.me(&principal).await {
            Ok(user) => user,
            Err(error) => return Err(ConsoleError::from(error).into_response()),
        };
        Ok(Session { principal, user, csrf: csrf_token(&token) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_the_sessions_own() {
        let one = csrf_token("token-one");
        assert_eq!(one, csrf_token("token-one"));
        assert_ne!(one, csrf_token("token-two"));
        assert_eq!(one.len(), 43);
    }

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_scoped_to_the_console() {
        let set = session_cookie("abc", 900);
        for part in ["agentic_console=abc", "HttpOnly", "Secure", "SameSite=Strict", "Path=/console", "Max-Age=900"] {
            assert!(set.contains(part), "{set} lacks {part}");
        }
        assert!(cleared_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn the_session_token_is_read_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("theme=dark; agentic_console=tok.en; other=1"));
        assert_eq!(token_of(&headers).as_deref(), Some("tok.en"));
        headers.clear();
        headers.append(COOKIE, HeaderValue::from_static("agentic_console="));
        assert_eq!(token_of(&headers), None);
    }
}
