//! `GET /v1/projects/{id}/costs` and `GET /v1/costs`: spending reports.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{CostQuery, CostReport, Problem};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::ids::ProjectId;
use crate::model::CostFilter;

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(project_costs)).routes(routes!(tenant_costs))
}

/// A project's LLM spending over a window, optionally grouped, with its budget.
#[utoipa::path(get, path = "/v1/projects/{id}/costs", tag = "projects", security(("bearer" = [])),
    params(("id" = ProjectId, Path, description = "Project id"), CostQuery),
    responses((status = 200, body = CostReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn project_costs(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<CostQuery>,
) -> Result<Json<CostReport>, Error> {
    let filter = CostFilter { project: Some(id), from: query.from, to: query.to };
    let (total, groups) = platform.cost_summary(&principal, filter, query.group_by).await?;
    let budget = platform.budget_status(&principal, id).await?;
    Ok(Json(CostReport {
        project_id: Some(id),
        group_by: query.group_by,
        from: query.from,
        to: query.to,
        total,
        groups,
        budget: Some(budget),
    }))
}

/// The tenant's LLM spending over a window, optionally grouped (by project among others).
#[utoipa::path(get, path = "/v1/costs", tag = "projects", security(("bearer" = [])), params(CostQuery),
    responses((status = 200, body = CostReport), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn tenant_costs(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(query): ApiQuery<CostQuery>,
) -> Result<Json<CostReport>, Error> {
    let filter = CostFilter { project: None, from: query.from, to: query.to };
    let (total, groups) = platform.cost_summary(&principal, filter, query.group_by).await?;
    Ok(Json(CostReport {
        project_id: None,
        group_by: query.group_by,
        from: query.from,
        to: query.to,
        total,
        groups,
        budget: None,
    }))
}
