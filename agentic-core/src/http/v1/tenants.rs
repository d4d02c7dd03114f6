//! `POST /v1/tenants` and `PATCH /v1/tenants/{id}` (master key), `GET /v1/tenants/{id}` (own tenant only).

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{CreateTenantRequest, CreateTenantResponse, Problem, UpdateTenantRequest};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, BearerCredential};
use crate::ids::TenantId;
use crate::model::Tenant;

pub(super) fn public_routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(create_tenant)).routes(routes!(update_tenant))
}

pub(super) fn protected_routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(get_tenant))
}

/// Creates a tenant and its first admin. Send the platform master key as the bearer credential.
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = CreateTenantRequest,
    security(("bearer" = [])),
    responses((status = 201, body = CreateTenantResponse), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "tenant administration is disabled"),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_tenant(
    State(platform): State<Platform>,
    BearerCredential(master_key): BearerCredential,
    ApiJson(request): ApiJson<CreateTenantRequest>,
) -> Result<(StatusCode, Json<CreateTenantResponse>), Error> {
    let (tenant, admin) = platform.create_tenant(master_key.as_deref(), request).await?;
    Ok((StatusCode::CREATED, Json(CreateTenantResponse { tenant, admin })))
}

/// Renames a tenant or changes its plan tier. Send the platform master key as the bearer credential.
#[utoipa::path(patch, path = "/v1/tenants/{id}", tag = "tenants", request_body = UpdateTenantRequest,
    params(("id" = TenantId, Path, description = "Tenant id")), security(("bearer" = [])),
    responses((status = 200, body = Tenant), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "no such tenant, or tenant administration is disabled"),
        (status = 422, body = Problem)))]
async fn update_tenant(
    State(platform): State<Platform>,
    BearerCredential(master_key): BearerCredential,
    ApiPath(id): ApiPath<TenantId>,
    ApiJson(request): ApiJson<UpdateTenantRequest>,
) -> Result<Json<Tenant>, Error> {
    Ok(Json(platform.update_tenant(master_key.as_deref(), id, request).await?))
}

/// The caller's own tenant. Any other id answers 404.
#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, body = Tenant), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_tenant(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<TenantId>,
) -> Result<Json<Tenant>, Error> {
    Ok(Json(platform.get_tenant(&principal, id).await?))
}
