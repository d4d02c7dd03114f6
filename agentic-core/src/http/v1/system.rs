//! `GET /health` (the process is up) and `GET /ready` (its store answers).

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::HealthResponse;

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(ready))
}

/// Liveness: answers while the process serves requests.
#[utoipa::path(get, path = "/health", tag = "system", responses((status = 200, body = HealthResponse)))]
async fn health() -> Json<HealthResponse> {
    Json(HealthResponse { status: "ok".into() })
}

/// Readiness: answers 200 when the store responds, 503 otherwise.
#[utoipa::path(get, path = "/ready", tag = "system",
    responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
async fn ready(State(platform): State<Platform>) -> (StatusCode, Json<HealthResponse>) {
    match platform.store().system().has_tenants().await {
        Ok(_) => (StatusCode::OK, Json(HealthResponse { status: "ok".into() })),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(HealthResponse { status: "unavailable".into() }))
        }
    }
}
