//! Runs: `POST /v1/workflows` (a workflow is a run), `GET /v1/runs`, `GET /v1/runs/{id}`, `GET /v1/runs/{id}/result?wait=`. Agent
//! runs start at `POST /v1/agents/{name}/execute`, with the agents routes.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{EventFrame, Problem, WaitQuery, WorkflowRequest};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::RunId;
use crate::model::{CostRecord, Run, ValidationError};
use crate::store::{Page, RunQuery};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new()
        .routes(routes!(start_workflow))
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
        .routes(routes!(run_result))
        .routes(routes!(cancel_run))
        .routes(routes!(run_events))
        .routes(routes!(run_costs))
        .routes(routes!(run_handoffs))
}

/// The handoffs a run's agent made, oldest first: each the child run that did the work (from, to, instructions,
/// depth, the hash of the context handed over, how it ended, what it cost).
#[utoipa::path(get, path = "/v1/runs/{id}/handoffs", tag = "runs", security(("bearer" = [])),
    params(("id" = RunId, Path, description = "Run id")),
    responses((status = 200, body = crate::api::HandoffList), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn run_handoffs(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<RunId>,
) -> Result<Json<crate::api::HandoffList>, Error> {
    Ok(Json(crate::api::HandoffList { data: platform.run_handoffs(&principal, id).await? }))
}

/// A run's cost records: one per model call (its workflow steps' included), oldest first.
#[utoipa::path(get, path = "/v1/runs/{id}/costs", tag = "runs", security(("bearer" = [])),
    params(("id" = RunId, Path, description = "Run id")),
    responses((status = 200, body = Vec<CostRecord>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn run_costs(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<RunId>,
) -> Result<Json<Vec<CostRecord>>, Error> {
    Ok(Json(platform.run_costs(&principal, id).await?))
}

/// The `Idempotency-Key` header, if sent; one that is not text is refused as the engine refuses a bad key (which
/// checks its length and characters).
pub(super) fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<&str>, Error> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    value.to_str().map(Some).map_err(|_| crate::engine::invalid_idempotency_key())
}

/// 200 for a finished run, 202 for one still queued, awaiting approval or running.
pub(super) fn status_of(run: &Run) -> StatusCode {
    if run.status.is_final() { StatusCode::OK } else { StatusCode::ACCEPTED }
}

/// Starts a named workflow (`workflows:create`): `ProjectPipelineWorkflow` with `args.goal`. Answers like
/// `execute`; the run's output holds the plan, each finished step and the QA review.
#[utoipa::path(post, path = "/v1/workflows", tag = "runs", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; the same \
        key and request within 24 hours return the same run")),
    request_body = WorkflowRequest,
    responses((status = 200, body = Run), (status = 202, body = Run), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn start_workflow(
    State(platform): State<Platform>,
    principal: Principal,
    headers: axum::http::HeaderMap,
    ApiJson(request): ApiJson<WorkflowRequest>,
) -> Result<(StatusCode, Json<Run>), Error> {
    let key = idempotency_key(&headers)?;
    let run = platform.start_workflow_keyed(&principal, request, key).await?;
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

/// Cancels a run: a queued run, or one waiting for approval, ends `cancelled` at once (200); a running one is
/// asked to stop at its next step (202, `cancel_requested_at` set; it ends `cancelled`). Needs the permission that
/// starts such a run; somebody else's run also needs `approvals:approve`. An ended run is 409.
#[utoipa::path(post, path = "/v1/runs/{id}/cancel", tag = "runs", security(("bearer" = [])),
    params(("id" = RunId, Path, description = "Run id")),
    responses((status = 200, body = Run), (status = 202, body = Run), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel_run(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<RunId>,
) -> Result<(StatusCode, Json<Run>), Error> {
    let run = platform.cancel_run(&principal, id).await?;
    Ok((status_of(&run), Json(run)))
}

/// A run's progress as Server-Sent Events, from its first event: `agent.started`, each `run.llm_call` (tokens,
/// cost) and `run.tool_call` (tool, outcome), approval decisions, and its end (`agent.completed`, `.failed`,
/// `.cancelled`, or the `workflow.*` ones), after which the stream closes. Resumes after `Last-Event-ID`.
#[utoipa::path(get, path = "/v1/runs/{id}/events", tag = "runs", security(("bearer" = [])),
    params(("id" = RunId, Path, description = "Run id"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", body = EventFrame,
        description = "The run's events (`id:` event id, `event:` type, `data:` the event as JSON), ending with its end"),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn run_events(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<RunId>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, Error> {
    let resume = super::events::last_event_id(&headers)?;
    let events = platform.follow_run(&principal, id, resume).await?;
    Ok(super::events::sse(events))
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
