//! `GET /v1/approvals?status=`, `POST /v1/approvals/{id}/approve`, `POST /v1/approvals/{id}/deny`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{ApprovalList, ApprovalQuery, DecisionRequest, Problem};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::ids::ApprovalId;
use crate::model::{Approval, ValidationError};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(list_approvals)).routes(routes!(approve)).routes(routes!(deny))
}

/// Approval requests (`approvals:approve`).
#[utoipa::path(get, path = "/v1/approvals", tag = "approvals", security(("bearer" = [])), params(ApprovalQuery),
    responses((status = 200, body = ApprovalList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_approvals(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ApprovalQuery>,
) -> Result<Json<ApprovalList>, Error> {
    Ok(Json(ApprovalList { data: platform.list_approvals(&principal, query.status).await? }))
}

/// The optional `{"comment": …}` body.
fn comment(body: &[u8]) -> Result<Option<String>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let request: DecisionRequest =
        serde_json::from_slice(body).map_err(|e| ValidationError::new("body", e.to_string()))?;
    Ok(crate::model::validate_optional_text("comment", request.comment, 2000)?)
}

/// Shared by approve and deny: parses the optional comment, then records the decision.
async fn decide(
    platform: &Platform,
    principal: &Principal,
    id: ApprovalId,
    body: &[u8],
    approved: bool,
) -> Result<Json<Approval>, Error> {
    let comment = comment(body)?;
    Ok(Json(platform.decide_approval(principal, id, approved, comment).await?))
}

/// Approves a request: the run proceeds. Not allowed to the run's requester.
#[utoipa::path(post, path = "/v1/approvals/{id}/approve", tag = "approvals", security(("bearer" = [])),
    params(("id" = ApprovalId, Path, description = "Approval id")), request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = Approval), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ApprovalId>,
    body: Bytes,
) -> Result<Json<Approval>, Error> {
    decide(&platform, &principal, id, &body, true).await
}

/// Denies a request: the run ends `denied`.
#[utoipa::path(post, path = "/v1/approvals/{id}/deny", tag = "approvals", security(("bearer" = [])),
    params(("id" = ApprovalId, Path, description = "Approval id")), request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = Approval), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn deny(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ApprovalId>,
    body: Bytes,
) -> Result<Json<Approval>, Error> {
    decide(&platform, &principal, id, &body, false).await
}
