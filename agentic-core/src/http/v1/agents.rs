//! `GET /v1/agents`, `GET|PUT /v1/agents/{name}` (PUT takes the YAML as the body), `POST /v1/agents/{name}/execute`.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{AgentList, AgentView, ExecuteRequest, Problem};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, ApiYaml};
use crate::model::Run;

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new()
        .routes(routes!(list_agents))
        .routes(routes!(get_agent, put_agent, delete_agent))
        .routes(routes!(execute))
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
    ApiYaml(body): ApiYaml,
) -> Result<(StatusCode, Json<AgentView>), Error> {
    let (view, created) = platform.put_agent(&principal, &name, &body).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view)))
}

/// Deletes the tenant's agent, or its override of a built-in (the built-in applies again). Needs
/// `departments:manage`; a built-in that is not overridden cannot be deleted (409).
#[utoipa::path(delete, path = "/v1/agents/{name}", tag = "agents", security(("bearer" = [])),
    params(("name" = String, Path, description = "Agent name")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_agent(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, Error> {
    platform.delete_agent(&principal, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs an agent on a task (`agents:execute`). Answers 202 with the queued run, or, with `wait`, the finished run
/// (200) or the run still in progress (202). With an `Idempotency-Key`, repeating the request within 24 hours
/// answers with the run the first one started.
#[utoipa::path(post, path = "/v1/agents/{name}/execute", tag = "runs", security(("bearer" = [])),
    params(("name" = String, Path, description = "Agent name"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; the same key \
            and request within 24 hours return the same run")),
    request_body = ExecuteRequest,
    responses((status = 200, body = Run), (status = 202, body = Run), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn execute(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
    headers: axum::http::HeaderMap,
    ApiJson(request): ApiJson<ExecuteRequest>,
) -> Result<(StatusCode, Json<Run>), Error> {
    let key = super::runs::idempotency_key(&headers)?;
    let run = platform.execute_agent_keyed(&principal, &name, request, key).await?;
    Ok((super::runs::status_of(&run), Json(run)))
}
