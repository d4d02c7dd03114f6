//! `GET|POST /v1/api-keys`, `DELETE /v1/api-keys/{id}`.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use secrecy::ExposeSecret;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{CreateApiKeyRequest, CreateApiKeyResponse, Problem};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::ApiKeyId;
use crate::model::ApiKey;
use crate::store::{Page, PageRequest};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(list_api_keys, create_api_key)).routes(routes!(revoke_api_key))
}

/// Lists API keys: all of the tenant's with `users:manage`, otherwise the caller's own. Never their text.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])), params(PageRequest),
    responses((status = 200, body = Page<ApiKey>), (status = 401, body = Problem)))]
async fn list_api_keys(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<ApiKey>>, Error> {
    Ok(Json(platform.list_api_keys(&principal, page).await?))
}

/// Creates an API key acting as the caller. The response carries the key's text: the only time it is shown.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreateApiKeyResponse), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "a scope the caller does not hold"), (status = 422, body = Problem)))]
async fn create_api_key(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateApiKeyRequest>,
) -> Result<(StatusCode, Json<CreateApiKeyResponse>), Error> {
    let (api_key, text) = platform.create_api_key(&principal, request).await?;
    Ok((StatusCode::CREATED, Json(CreateApiKeyResponse { key: text.expose_secret().to_owned(), api_key })))
}

/// Revokes an API key (one's own, or any with `users:manage`); it is refused from the next request on.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    params(("id" = ApiKeyId, Path, description = "API key id")),
    responses((status = 200, body = ApiKey), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn revoke_api_key(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<Json<ApiKey>, Error> {
    Ok(Json(platform.revoke_api_key(&principal, id).await?))
}
