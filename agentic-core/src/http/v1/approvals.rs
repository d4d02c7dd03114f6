//! `GET /v1/approvals?status=`, `POST /v1/approvals/{id}/approve`, `POST /v1/approvals/{id}/deny`.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{ApprovalList, ApprovalQuery, DecisionRequest, Problem};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiOptionalJson, ApiPath, ApiQuery};
use crate::ids::ApprovalId;
use crate::model::Approval;

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

/// Shared by approve and deny: checks the optional comment, then records the decision.
async fn decide(
    platform: &Platform,
    principal: &Principal,
    id: ApprovalId,
    body: Option<DecisionRequest>,
    approved: bool,
) -> Result<Json<Approval>, Error> {
    let comment = crate::model::validate_optional_text("comment", body.and_then(|b| b.comment), 2000)?;
    Ok(Json(platform.decide_approval(principal, id, approved, comment).await?))
}

/// Approves a request: the run proceeds. Not allowed to the run's requester.
#[utoipa::path(post, path = "/v1/approvals/{id}/approve", tag = "approvals", security(("bearer" = [])),
    params(("id" = ApprovalId, Path, description = "Approval id")), request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = Approval), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem)))]
async fn approve(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ApprovalId>,
    ApiOptionalJson(body): ApiOptionalJson<DecisionRequest>,
) -> Result<Json<Approval>, Error> {
    decide(&platform, &principal, id, body, true).await
}

/// Denies a request: the run ends `denied`.
#[utoipa::path(post, path = "/v1/approvals/{id}/deny", tag = "approvals", security(("bearer" = [])),
    params(("id" = ApprovalId, Path, description = "Approval id")), request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = Approval), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem)))]
async fn deny(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ApprovalId>,
    ApiOptionalJson(body): ApiOptionalJson<DecisionRequest>,
) -> Result<Json<Approval>, Error> {
    decide(&platform, &principal, id, body, false).await
}
