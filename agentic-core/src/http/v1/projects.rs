//! `GET|POST /v1/projects`, `GET|PATCH /v1/projects/{id}`.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{CreateProjectRequest, Problem, UpdateProjectRequest};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::ProjectId;
use crate::model::Project;
use crate::store::{Page, PageRequest};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(list_projects, create_project)).routes(routes!(get_project, update_project))
}

/// Lists projects.
#[utoipa::path(get, path = "/v1/projects", tag = "projects", security(("bearer" = [])), params(PageRequest),
    responses((status = 200, body = Page<Project>), (status = 401, body = Problem)))]
async fn list_projects(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<Project>>, Error> {
    Ok(Json(platform.list_projects(&principal, page).await?))
}

/// Creates a project (`departments:manage`).
#[utoipa::path(post, path = "/v1/projects", tag = "projects", security(("bearer" = [])),
    request_body = CreateProjectRequest,
    responses((status = 201, body = Project), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "The department is not one of the tenant's"),
        (status = 422, body = Problem)))]
async fn create_project(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateProjectRequest>,
) -> Result<(StatusCode, Json<Project>), Error> {
    Ok((StatusCode::CREATED, Json(platform.create_project(&principal, request).await?)))
}

/// A project.
#[utoipa::path(get, path = "/v1/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = ProjectId, Path, description = "Project id")),
    responses((status = 200, body = Project), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_project(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<Json<Project>, Error> {
    Ok(Json(platform.get_project(&principal, id).await?))
}

/// Changes a project's name, description or budget (`departments:manage`). Lowering the budget below what is
/// spent is allowed: further spending is refused until it is raised.
#[utoipa::path(patch, path = "/v1/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = ProjectId, Path, description = "Project id")), request_body = UpdateProjectRequest,
    responses((status = 200, body = Project), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_project(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(request): ApiJson<UpdateProjectRequest>,
) -> Result<Json<Project>, Error> {
    Ok(Json(platform.update_project(&principal, id, request).await?))
}
