//! `GET /v1/projects/{id}/context`, `GET|PUT|DELETE /v1/projects/{id}/context/{key}`,
//! `POST /v1/projects/{id}/context/{key}/append`. Any member reads; writing needs `agents:execute`. Each value
//! carries its version as an `ETag`; `If-Match` makes a write compare-and-set (412 when stale), and
//! `If-None-Match: *` makes it create-only.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{AppendContextRequest, ContextKeyList, Problem, PutContextRequest};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath};
use crate::ids::ProjectId;
use crate::model::{ContextEntry, Expect, ValidationError};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new()
        .routes(routes!(list_context))
        .routes(routes!(get_context, put_context, delete_context))
        .routes(routes!(append_context))
}

/// The entry with its version as the `ETag`.
fn tagged(entry: ContextEntry) -> impl IntoResponse {
    let etag = HeaderValue::from_str(&format!("\"{}\"", entry.version)).ok();
    let mut response = Json(entry).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// What the request's `If-Match` / `If-None-Match` expect; a malformed one is refused naming the header.
fn expectation(headers: &HeaderMap) -> Result<Expect, Error> {
    let text = |name: &'static str| -> Result<Option<&str>, Error> {
        match headers.get(name) {
            None => Ok(None),
            Some(value) => {
                value.to_str().map(|v| Some(v.trim())).map_err(|_| ValidationError::new(name, "must be text").into())
            }
        }
    };
    match (text("if-match")?, text("if-none-match")?) {
        (Some(_), Some(_)) => Err(ValidationError::new("If-Match", "cannot be sent with If-None-Match").into()),
        (Some("*"), None) => Ok(Expect::Present),
        (Some(tag), None) => {
            let version = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
            version.parse().map(Expect::Version).map_err(|_| {
                ValidationError::new("If-Match", "must be an ETag this API sent (a quoted version) or *").into()
            })
        }
        (None, Some("*")) => Ok(Expect::Absent),
        (None, Some(_)) => Err(ValidationError::new("If-None-Match", "only * is supported on writes").into()),
        (None, None) => Ok(Expect::Any),
    }
}

/// The project's live keys, sorted (values are read one by one).
#[utoipa::path(get, path = "/v1/projects/{id}/context", tag = "context", security(("bearer" = [])),
    params(("id" = ProjectId, Path, description = "Project id")),
    responses((status = 200, body = ContextKeyList), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn list_context(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(project): ApiPath<ProjectId>,
) -> Result<Json<ContextKeyList>, Error> {
    Ok(Json(ContextKeyList { data: platform.list_context(&principal, project).await? }))
}

/// One key's value, with its version as the `ETag`.
#[utoipa::path(get, path = "/v1/projects/{id}/context/{key}", tag = "context", security(("bearer" = [])),
    params(("id" = ProjectId, Path, description = "Project id"), ("key" = String, Path, description = "Key")),
    responses((status = 200, body = ContextEntry, headers(("ETag" = String, description = "The version"))),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_context(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath((project, key)): ApiPath<(ProjectId, String)>,
) -> Result<impl IntoResponse, Error> {
    Ok(tagged(platform.get_context(&principal, project, &key).await?))
}

/// Writes a key. With `If-Match: "<version>"` only if it is still at that version (412 otherwise); with
/// `If-None-Match: *` only if it has no live value.
#[utoipa::path(put, path = "/v1/projects/{id}/context/{key}", tag = "context", security(("bearer" = [])),
    params(("id" = ProjectId, Path, description = "Project id"), ("key" = String, Path, description = "Key"),
        ("If-Match" = Option<String>, Header, description = "The ETag read, or *"),
        ("If-None-Match" = Option<String>, Header, description = "*: only if absent")),
    request_body = PutContextRequest,
    responses((status = 200, body = ContextEntry, headers(("ETag" = String, description = "The new version"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn put_context(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath((project, key)): ApiPath<(ProjectId, String)>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<PutContextRequest>,
) -> Result<impl IntoResponse, Error> {
    let expect = expectation(&headers)?;
    Ok(tagged(platform.put_context(&principal, project, &key, request, expect).await?))
}

/// Deletes a key (with `If-Match`, only at that version).
#[utoipa::path(delete, path = "/v1/projects/{id}/context/{key}", tag = "context", security(("bearer" = [])),
    params(("id" = ProjectId, Path, description = "Project id"), ("key" = String, Path, description = "Key"),
        ("If-Match" = Option<String>, Header, description = "The ETag read, or *")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn delete_context(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath((project, key)): ApiPath<(ProjectId, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let expect = expectation(&headers)?;
    platform.delete_context(&principal, project, &key, expect).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Appends an item to the list under a key (creating it), atomically: concurrent appends lose nothing.
#[utoipa::path(post, path = "/v1/projects/{id}/context/{key}/append", tag = "context", security(("bearer" = [])),
    params(("id" = ProjectId, Path, description = "Project id"), ("key" = String, Path, description = "Key")),
    request_body = AppendContextRequest,
    responses((status = 200, body = ContextEntry, headers(("ETag" = String, description = "The new version"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn append_context(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath((project, key)): ApiPath<(ProjectId, String)>,
    ApiJson(request): ApiJson<AppendContextRequest>,
) -> Result<impl IntoResponse, Error> {
    Ok(tagged(platform.append_context(&principal, project, &key, request).await?))
}
