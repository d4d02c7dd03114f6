//! `GET|POST /v1/users`, `GET|PATCH /v1/users/{id}` — `users:manage`.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{CreateUserRequest, Problem, UpdateUserRequest};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::UserId;
use crate::model::User;
use crate::store::{Page, PageRequest};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(list_users, create_user)).routes(routes!(get_user, update_user))
}

/// Lists the tenant's users.
#[utoipa::path(get, path = "/v1/users", tag = "users", security(("bearer" = [])), params(PageRequest),
    responses((status = 200, body = Page<User>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_users(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<User>>, Error> {
    Ok(Json(platform.list_users(&principal, page).await?))
}

/// Creates a user.
#[utoipa::path(post, path = "/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = User), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<User>), Error> {
    Ok((StatusCode::CREATED, Json(platform.create_user(&principal, request).await?)))
}

/// A user (oneself, or anyone with `users:manage`).
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = UserId, Path, description = "User id")),
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn get_user(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<User>, Error> {
    Ok(Json(platform.get_user(&principal, id).await?))
}

/// Changes a user's roles, active flag or password.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = UserId, Path, description = "User id")), request_body = UpdateUserRequest,
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_user(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(request): ApiJson<UpdateUserRequest>,
) -> Result<Json<User>, Error> {
    Ok(Json(platform.update_user(&principal, id, request).await?))
}
