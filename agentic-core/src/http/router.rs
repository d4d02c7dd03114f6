//! Assembles the HTTP API.

use std::any::Any;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use super::extract::BearerCredential;
use super::problem::{ProblemResponse, problem_response};
use super::v1;
use crate::Platform;
use crate::api::{Problem, ProblemType};
use crate::http::layer::auth::AuthLayer;
use crate::http::layer::rate_limit::{RateLimitLayer, Stage};
use crate::limit::PlanCache;

#[derive(OpenApi)]
#[openapi(
    info(title = "agentic platform API", version = "1", description = "Multi-tenant agent platform. Errors are RFC 9457 problem documents."),
    modifiers(&BearerAuth, &ProblemCatalogue),
    tags(
        (name = "system", description = "Health, readiness"),
        (name = "auth", description = "Sign-in and the current principal"),
        (name = "tenants", description = "Tenants (creation needs the platform master key)"),
        (name = "users", description = "Users of the tenant (users:manage)"),
        (name = "api-keys", description = "API keys (shown once; scopes within the creator's permissions)"),
        (name = "departments", description = "Departments (departments:manage to write)"),
        (name = "projects", description = "Projects (departments:manage to write)"),
        (name = "runs", description = "Agent runs (agents:execute to start)"),
        (name = "approvals", description = "Approval gates for risky runs (approvals:approve)"),
        (name = "events", description = "What happened in the tenant: the event catalogue and the stored events"),
        (name = "webhooks", description = "Webhook endpoints, their deliveries and replays (webhooks:manage)"),
        (name = "context", description = "A project's shared context: versioned JSON values with a time to live, \
            compare-and-set by ETag, appends that lose nothing"),
        (name = "knowledge", description = "Knowledge bases: documents read, chunked and searched (BM25 on the \
            memory store, full text on PostgreSQL) for agents to cite (knowledge:manage to write)"),
        (name = "schedules", description = "Schedules that start runs at cron, interval or one-time fire times, \
            exactly once across replicas (writing needs workflows:create)"),
        (name = "agents", description = "Agents: the built-in catalog and the tenant's own (departments:manage to write)"),
        (name = "settings", description = "The tenant's settings: the outgoing guardrail on prompts to third-party \
            providers (users:manage to write)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A JWT access token from /v1/auth/login, or an API key (agk_...)"))
                    .build(),
            ),
        );
    }
}

/// Documents the problem types: the `ProblemType` schema, and the catalogue as a table in the description.
struct ProblemCatalogue;

impl utoipa::Modify for ProblemCatalogue {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::PartialSchema;
        let components = openapi.components.get_or_insert_with(Default::default);
        components.schemas.insert("ProblemType".to_owned(), ProblemType::schema());
        let intro = openapi.info.description.take().unwrap_or_default();
        openapi.info.description = Some(format!(
            "{intro}\n\nEvery problem's `type` is `{}` followed by one of these slugs (clients branch on it):\n\n{}",
            crate::api::PROBLEM_TYPE_BASE,
            ProblemType::markdown_table()
        ));
    }
}

/// The `/v1` routes (public and behind authentication), and with `system` also `/health` and `/ready`.
fn api_routes(platform: &Platform, system: bool) -> OpenApiRouter<Platform> {
    let mut public = OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(v1::public_routes());
    if system {
        public = public.merge(v1::system_routes());
    }
    let mut protected = v1::protected_routes();
    // Route layers run after routing, so the rate limiter sees the matched route template; the later layer is
    // the outer one: authentication first, then the principal's limits.
    if let Some(layer) = rate_limit_layer(platform, Stage::Principal) {
        protected = protected.route_layer(layer);
    }
    public.merge(protected.route_layer(AuthLayer::new(platform.authenticator())))
}

fn rate_limit_layer(platform: &Platform, stage: Stage) -> Option<RateLimitLayer> {
    let (limiter, policy) = platform.rate_limits()?;
    let plans = PlanCache::new(Arc::clone(platform.store()), std::time::Duration::from_secs(60));
    Some(RateLimitLayer::new(stage, Arc::clone(limiter), policy.clone(), plans, platform.metrics().clone()))
}

/// The OpenAPI 3.1 document of the API that [`router`] serves.
pub fn openapi(platform: &Platform) -> utoipa::openapi::OpenApi {
    let mut openapi = api_routes(platform, true).into_openapi();
    super::document::complete(&mut openapi);
    openapi
}

/// The OpenAPI 3.1 document of [`api_router`] mounted under `prefix` (e.g. `/agentic`; empty: at the root):
/// its `servers` entry is the prefix, so generated clients and the docs UI call the right URLs.
pub fn api_openapi(platform: &Platform, prefix: &str) -> utoipa::openapi::OpenApi {
    let mut openapi = api_routes(platform, false).into_openapi();
    super::document::complete(&mut openapi);
    let url = if prefix.is_empty() { "/".to_owned() } else { prefix.trim_end_matches('/').to_owned() };
    openapi.servers = Some(vec![utoipa::openapi::Server::new(url)]);
    openapi
}

/// The complete HTTP API of `platform`, ready to serve: `/v1`, `/health`, `/ready`, `/openapi.json`, the docs UI
/// at `/docs`, `/metrics` for the metrics token, and a problem-document fallback for unknown routes.
pub fn router(platform: Platform) -> Router {
    let (api, mut openapi) = api_routes(&platform, true).split_for_parts();
    super::document::complete(&mut openapi);
    let openapi_json = serde_json::to_string(&openapi).unwrap_or_else(|_| "{}".to_owned());
    let app = api
        .route(
            "/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .merge(super::docs::docs_routes("/openapi.json"))
        .merge(if platform.metrics_on_api() {
            Router::new().route("/metrics", get(guarded_metrics))
        } else {
            Router::new()
        })
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    platform_layers(app, platform)
}

/// Only the `/v1` API, for a host app to merge into its own router (or nest under a prefix, with
/// [`api_openapi`] describing it there): no root routes, so the host's own `/health`, `/docs` or fallback do
/// not collide with ours, and no fallback, so the host's applies. It carries the same layers as [`router`]
/// (body limit, per-IP limits, request ids, tracing, metrics, panic catching), scoped to its routes.
///
/// Merge it (`host.merge(platform.api_router())`) before setting the host's fallback; per-IP limits need the
/// peer address: serve with [`serve`](crate::http::serve) or `into_make_service_with_connect_info`.
pub fn api_router(platform: Platform) -> Router {
    let api = Router::from(api_routes(&platform, false)).method_not_allowed_fallback(method_not_allowed);
    platform_layers(api, platform)
}

/// The layers every request to the platform's routes passes, outermost last: the body limit, per-IP rate limits
/// (the client's address read through the trusted proxies), request metrics, a trace span, sensitive headers kept
/// out of logs, request ids and panic catching; then `platform` as the state.
///
/// [`router`] and [`api_router`] apply them; a host's own routes that act for the platform (the web console's
/// sign-in and pages) take them too, so they are limited per IP, counted and traced like the API.
pub fn platform_layers(app: Router<Platform>, platform: Platform) -> Router {
    let ip_limits = rate_limit_layer(&platform, Stage::ClientIp);
    let request_id = HeaderName::from_static("x-request-id");
    app.layer(DefaultBodyLimit::max(platform.http_limits().max_body_bytes))
        .layer(tower::util::option_layer(ip_limits))
        .layer(axum::middleware::from_fn_with_state(platform.clone(), super::observe::record_metrics))
        .layer(
            TraceLayer::new_for_http().make_span_with(super::trace::RequestSpan).on_response(super::trace::RequestSpan),
        )
        // Outside the span and the limits, which both read the client's address.
        .layer(crate::http::layer::client_ip::layer(platform.trusted_proxies().to_vec()))
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(platform)
}

/// `/metrics` alone, unauthenticated, for a listener only Prometheus reaches (by default the reference server
/// binds it to loopback). The API router serves `/metrics` only to bearers of the metrics token
/// ([`PlatformBuilder::metrics_token`](crate::PlatformBuilder::metrics_token)): the figures span every tenant.
pub fn metrics_router(platform: Platform) -> Router {
    Router::new().route("/metrics", get(metrics)).fallback(not_found).with_state(platform)
}

async fn guarded_metrics(State(platform): State<Platform>, BearerCredential(token): BearerCredential) -> Response {
    if !platform.check_metrics_token(token.as_deref()) {
        return crate::Error::from(crate::auth::AuthError::InvalidMetricsToken).into_response();
    }
    metrics(State(platform)).await
}

async fn metrics(State(platform): State<Platform>) -> Response {
    match platform.metrics().render() {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn not_found() -> ProblemResponse {
    ProblemResponse(Problem::new(ProblemType::NotFound, "no such route"))
}

async fn method_not_allowed() -> ProblemResponse {
    ProblemResponse(Problem::new(ProblemType::MethodNotAllowed, "this route does not accept this method"))
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    problem_response(&Problem::new(ProblemType::Internal, "an internal error occurred"))
}
