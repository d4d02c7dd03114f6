//! `GET|PUT /v1/settings/guardrails`: the tenant's outgoing guardrail (reading needs membership, changing it
//! `users:manage`).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{GuardrailSettings, Problem, UpdateGuardrailSettings};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::ApiJson;

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(get_guardrails, put_guardrails))
}

/// The tenant's outgoing guardrail: what happens to a call to a third-party LLM provider whose prompt holds a
/// credential or personal data, and whether it is the tenant's choice or the platform's default.
#[utoipa::path(get, path = "/v1/settings/guardrails", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = GuardrailSettings), (status = 401, body = Problem)))]
async fn get_guardrails(
    State(platform): State<Platform>,
    principal: Principal,
) -> Result<Json<GuardrailSettings>, Error> {
    Ok(Json(platform.guardrail_settings(&principal).await?))
}

/// Sets the tenant's outgoing guardrail: `block` (the call fails with a `guardrail-blocked` problem), `redact`
/// (findings replaced by `[REDACTED:<kind>]`) or `off`.
#[utoipa::path(put, path = "/v1/settings/guardrails", tag = "settings", request_body = UpdateGuardrailSettings,
    security(("bearer" = [])),
    responses((status = 200, body = GuardrailSettings), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn put_guardrails(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<UpdateGuardrailSettings>,
) -> Result<Json<GuardrailSettings>, Error> {
    Ok(Json(platform.set_guardrail_settings(&principal, request).await?))
}
