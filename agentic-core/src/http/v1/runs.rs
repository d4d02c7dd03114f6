//! Runs: `POST /v1/workflows` (a workflow is a run), `GET /v1/runs`, `GET /v1/runs/{id}`, `GET /v1/runs/{id}/result?wait=`. Agent
//! runs start at `POST /v1/agents/{name}/execute`, with the agents routes.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{Problem, WaitQuery, WorkflowRequest};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::RunId;
use crate::model::{Run, ValidationError};
use crate::store::{Page, RunQuery};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new()
        .routes(routes!(start_workflow))
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
        .routes(routes!(run_result))
}

/// 200 for a finished run, 202 for one still queued, awaiting approval or running.
pub(super) fn status_of(run: &Run) -> StatusCode {
    if run.status.is_final() { StatusCode::OK } else { StatusCode::ACCEPTED }
}

/// Starts a named workflow (`workflows:create`): `ProjectPipelineWorkflow` with `args.goal`. Answers like
/// `execute`; the run's output holds the plan, each finished step and the QA review.
#[utoipa::path(post, path = "/v1/workflows", tag = "runs", security(("bearer" = [])),
    request_body = WorkflowRequest,
    responses((status = 200, body = Run), (status = 202, body = Run), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn start_workflow(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<WorkflowRequest>,
) -> Result<(StatusCode, Json<Run>), Error> {
    let run = platform.start_workflow(&principal, request).await?;
    Ok((status_of(&run), Json(run)))
}

/// Lists the tenant's runs, newest first, by status, agent (or workflow), project and kind.
#[utoipa::path(get, path = "/v1/runs", tag = "runs", security(("bearer" = [])), params(RunQuery),
    responses((status = 200, body = Page<Run>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_runs(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(query): ApiQuery<RunQuery>,
) -> Result<Json<Page<Run>>, Error> {
    Ok(Json(platform.list_runs(&principal, query).await?))
}

/// A run: status, output (answer, steps, usage), cost, error.
#[utoipa::path(get, path = "/v1/runs/{id}", tag = "runs", security(("bearer" = [])),
    params(("id" = RunId, Path, description = "Run id")),
    responses((status = 200, body = Run), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_run(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<RunId>,
) -> Result<Json<Run>, Error> {
    Ok(Json(platform.get_run(&principal, id).await?))
}

/// Long-polls a run: waits up to `wait` seconds (at most 60) for it to finish; 200 when final, 202 otherwise.
#[utoipa::path(get, path = "/v1/runs/{id}/result", tag = "runs", security(("bearer" = [])),
    params(("id" = RunId, Path, description = "Run id"), WaitQuery),
    responses((status = 200, body = Run), (status = 202, body = Run), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn run_result(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<RunId>,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> Result<(StatusCode, Json<Run>), Error> {
    let wait = query.wait.unwrap_or(0);
    if wait > crate::engine::MAX_WAIT.as_secs() {
        return Err(ValidationError::new("wait", "must be at most 60 seconds").into());
    }
    let run = platform.wait_for_run(&principal, id, Duration::from_secs(wait)).await?;
    Ok((status_of(&run), Json(run)))
}
