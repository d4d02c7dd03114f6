//! Request metrics by route template (bounded cardinality: never the raw path).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::Platform;
use crate::auth::AuthError;

/// Set on a response by the authentication layer: whose request it answered, for per-tenant metrics.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AuthenticatedTenant(pub(crate) crate::ids::TenantId);

/// Counts and times each request under its matched route template.
pub(crate) async fn record_metrics(State(platform): State<Platform>, request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &platform.metrics().http;
    metrics.observe_request(&method, &route, response.status(), started.elapsed().as_secs_f64());
    if let Some(refused) = response.extensions().get::<AuthError>() {
        metrics.auth_failed(refused);
    }
    if let Some(tenant) = response.extensions().get::<AuthenticatedTenant>() {
        metrics.tenant_request(tenant.0);
    }
    response
}
