//! agentic's web console: the pages managers and operators work in, server-rendered from a
//! [`Platform`](agentic_core::Platform) and served under `/console`.
//!
//! Every page is plain HTML that reads without JavaScript, is keyboard navigable and passes the platform's own
//! `accessibility_checker`; the little script there is (live updates) and the stylesheet are compiled into the
//! binary and served from `/console/assets/`, under a Content-Security-Policy that allows our own origin only.
//!
//! A session is the access token `POST /v1/auth/login` would issue, kept in an `HttpOnly; Secure;
//! SameSite=Strict` cookie scoped to `/console`; every write carries a CSRF token derived from it ([`session`]).
//! Each page acts as the signed-in user through the same engine calls as the HTTP API, so RBAC and tenant
//! isolation are the API's: another tenant's object is "not found", and a forged write is refused even when the
//! page would not have offered it.
//!
//! ```no_run
//! # async fn serve(platform: agentic_core::Platform) -> std::io::Result<()> {
//! // The API and the console side by side (`router` has a fallback; the console's routes do not).
//! let app = agentic_core::http::router(platform.clone()).merge(agentic_console::router(platform));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

mod approvals;
mod assets;
mod chart;
mod costs;
mod error;
mod live;
mod login;
mod page;
mod runs;
mod schedules;
pub mod session;
mod webhooks;

use agentic_core::Platform;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Redirect;
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::ConsoleError;

/// Where the console is mounted.
pub const BASE: &str = "/console";

/// The policy of every console response: everything from our own origin, nothing inline, no frames.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Forms are small: a comment is at most 2,000 characters.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The console's routes, all under [`BASE`], with their own layers (body limit, security headers) inside the
/// platform's ([`agentic_core::http::platform_layers`]: per-IP limits, metrics, traces); merge it into the host's
/// router.
pub fn router(platform: Platform) -> Router {
    let headers = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    let routes = Router::new()
        .route(BASE, get(|| async { Redirect::to("/console/approvals") }))
        .route("/console/", get(|| async { Redirect::to("/console/approvals") }))
        .route("/console/login", get(login::form).post(login::sign_in))
        .route("/console/logout", post(login::sign_out))
        .route("/console/approvals", get(approvals::list))
        .route("/console/approvals/{id}/{decision}", post(approvals::decide))
        .route("/console/runs", get(runs::list))
        .route("/console/runs/{id}", get(runs::show))
        .route("/console/runs/{id}/cancel", post(runs::cancel))
        .route("/console/costs", get(costs::show))
        .route("/console/webhooks", get(webhooks::list))
        .route("/console/webhooks/{id}/{action}", post(webhooks::pause_or_resume))
        .route("/console/schedules", get(schedules::list))
        .route("/console/schedules/{id}/{action}", post(schedules::pause_or_resume))
        .route("/console/events", get(live::follow))
        .route("/console/assets/{file}", get(assets::serve))
        // The console's own "not found" under its prefix, as a route: a fallback would clash with the host's.
        .route("/console/{*rest}", get(error::not_found).post(error::not_found))
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES));
    // The platform's own layers: per-IP rate limits (a sign-in is an attempt like the API's), request metrics,
    // traces, request ids, panic catching. What they answer as a problem document (a per-IP limit, say) reaches
    // the browser as a page; the security headers go on outside both, so those pages carry them too.
    let mut console = agentic_core::http::platform_layers(routes, platform)
        .layer(axum::middleware::map_response(error::problems_as_pages));
    for (name, value) in headers {
        console = console.layer(SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value)));
    }
    // Pages carry the user's data: no cache keeps them after sign-out (assets set their own).
    console = console.layer(SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("cache-control"),
        HeaderValue::from_static("no-store"),
    ));
    console
}

/// A whole list as the console reads it: the largest page the engine gives (projects, schedules, endpoints).
pub(crate) const WHOLE_LIST: agentic_core::store::PageRequest =
    agentic_core::store::PageRequest { limit: agentic_core::store::PageRequest::MAX_LIMIT, after: None };

/// The tenant's projects, read once per page to name them on every row rather than once per row.
pub(crate) async fn projects(
    platform: &Platform,
    principal: &agentic_core::auth::Principal,
) -> Result<Vec<agentic_core::model::Project>, ConsoleError> {
    Ok(platform.list_projects(principal, WHOLE_LIST).await?.data)
}

/// The name of project `id` among `projects`, or its id when it is not there.
pub(crate) fn project_name(projects: &[agentic_core::model::Project], id: agentic_core::ids::ProjectId) -> String {
    projects.iter().find(|p| p.id == id).map_or_else(|| id.to_string(), |p| p.name.clone())
}

/// What a `POST …/{id}/pause|resume` asks, once its form is read and its CSRF token checked: the object's id and
/// whether to resume. Any other last segment, or an id that does not parse, is "not found".
pub(crate) fn pause_or_resume<Id: std::str::FromStr>(
    session: &session::Session,
    (id, action): (String, String),
    form: Result<axum::Form<session::CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Result<(Id, bool), ConsoleError> {
    let axum::Form(form) = form?;
    session.check_csrf(form.csrf.as_deref())?;
    let resume = match action.as_str() {
        "resume" => true,
        "pause" => false,
        _ => return Err(ConsoleError::NotFound),
    };
    Ok((id.parse().map_err(|_| ConsoleError::NotFound)?, resume))
}
