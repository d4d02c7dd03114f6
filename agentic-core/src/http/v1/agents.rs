//! `GET /v1/agents`, `GET|PUT /v1/agents/{name}` (PUT takes the YAML as the body), `POST /v1/agents/{name}/execute`.

use axum::Json;
use axum::extract::State;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{AgentList, AgentView, ExecuteRequest, Problem};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::problem::{ProblemResponse, problem};
use crate::model::Run;

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(list_agents)).routes(routes!(get_agent, put_agent)).routes(routes!(execute))
}

/// Every agent the tenant can run: the built-ins, plus or overridden by its own.
#[utoipa::path(get, path = "/v1/agents", tag = "agents", security(("bearer" = [])),
    responses((status = 200, body = AgentList), (status = 401, body = Problem)))]
async fn list_agents(State(platform): State<Platform>, principal: Principal) -> Result<Json<AgentList>, Error> {
    Ok(Json(AgentList { data: platform.list_agents(&principal).await? }))
}

/// One agent, with its YAML.
#[utoipa::path(get, path = "/v1/agents/{name}", tag = "agents", security(("bearer" = [])),
    params(("name" = String, Path, description = "Agent name, e.g. qa_tester")),
    responses((status = 200, body = AgentView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_agent(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<AgentView>, Error> {
    Ok(Json(platform.get_agent(&principal, &name).await?))
}

/// Adds an agent, or overrides one, from YAML (`Content-Type: application/yaml`). Needs `departments:manage`.
/// Errors name the line, column and field.
#[utoipa::path(put, path = "/v1/agents/{name}", tag = "agents", security(("bearer" = [])),
    params(("name" = String, Path, description = "Agent name, e.g. qa_tester")),
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 200, body = AgentView, description = "replaced"), (status = 201, body = AgentView, description = "created"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn put_agent(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Result<(StatusCode, Json<AgentView>), Result<ProblemResponse, Error>> {
    let yaml_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|t| {
            matches!(t.as_str(), "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" | "text/plain")
        });
    if !yaml_type {
        return Err(Ok(ProblemResponse(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Expected YAML",
            "send the agent's YAML with Content-Type: application/yaml",
        ))));
    }
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let slug = if status == StatusCode::PAYLOAD_TOO_LARGE { "payload-too-large" } else { "malformed-body" };
        Ok(ProblemResponse(problem(status, slug, "Unreadable body", rejection.body_text())))
    })?;
    let (view, created) = platform.put_agent(&principal, &name, &body).await.map_err(Err)?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view)))
}

/// Runs an agent on a task (`agents:execute`). Answers 202 with the queued run, or, with `wait`, the finished run
/// (200) or the run still in progress (202).
#[utoipa::path(post, path = "/v1/agents/{name}/execute", tag = "runs", security(("bearer" = [])),
    params(("name" = String, Path, description = "Agent name")), request_body = ExecuteRequest,
    responses((status = 200, body = Run), (status = 202, body = Run), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn execute(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<ExecuteRequest>,
) -> Result<(StatusCode, Json<Run>), Error> {
    let run = platform.execute_agent(&principal, &name, request).await?;
    Ok((super::runs::status_of(&run), Json(run)))
}
