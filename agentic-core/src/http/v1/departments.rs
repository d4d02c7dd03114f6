//! `GET|POST /v1/departments`, `GET|PATCH|DELETE /v1/departments/{id}`.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{CreateDepartmentRequest, Problem, UpdateDepartmentRequest};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::DepartmentId;
use crate::model::Department;
use crate::store::{Page, PageRequest};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(list_departments, create_department)).routes(routes!(
        get_department,
        update_department,
        delete_department
    ))
}

/// Lists departments.
#[utoipa::path(get, path = "/v1/departments", tag = "departments", security(("bearer" = [])), params(PageRequest),
    responses((status = 200, body = Page<Department>), (status = 401, body = Problem)))]
async fn list_departments(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<Department>>, Error> {
    Ok(Json(platform.list_departments(&principal, page).await?))
}

/// Creates a department (`departments:manage`).
#[utoipa::path(post, path = "/v1/departments", tag = "departments", security(("bearer" = [])),
    request_body = CreateDepartmentRequest,
    responses((status = 201, body = Department), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_department(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateDepartmentRequest>,
) -> Result<(StatusCode, Json<Department>), Error> {
    Ok((StatusCode::CREATED, Json(platform.create_department(&principal, request).await?)))
}

/// A department.
#[utoipa::path(get, path = "/v1/departments/{id}", tag = "departments", security(("bearer" = [])),
    params(("id" = DepartmentId, Path, description = "Department id")),
    responses((status = 200, body = Department), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_department(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<DepartmentId>,
) -> Result<Json<Department>, Error> {
    Ok(Json(platform.get_department(&principal, id).await?))
}

/// Renames a department or changes its description (`departments:manage`).
#[utoipa::path(patch, path = "/v1/departments/{id}", tag = "departments", security(("bearer" = [])),
    params(("id" = DepartmentId, Path, description = "Department id")), request_body = UpdateDepartmentRequest,
    responses((status = 200, body = Department), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_department(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<DepartmentId>,
    ApiJson(request): ApiJson<UpdateDepartmentRequest>,
) -> Result<Json<Department>, Error> {
    Ok(Json(platform.update_department(&principal, id, request).await?))
}

/// Deletes a department no project belongs to (`departments:manage`; 409 while one does).
#[utoipa::path(delete, path = "/v1/departments/{id}", tag = "departments", security(("bearer" = [])),
    params(("id" = DepartmentId, Path, description = "Department id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_department(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<DepartmentId>,
) -> Result<StatusCode, Error> {
    platform.delete_department(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
