//! `GET|POST /v1/knowledge`, `GET|DELETE /v1/knowledge/{id}`, `GET|POST /v1/knowledge/{id}/documents`,
//! `GET|DELETE /v1/knowledge/{id}/documents/{doc}`, `POST /v1/knowledge/{id}/search`. Any member reads and
//! searches; making, uploading and deleting need `knowledge:manage`.
//!
//! An upload is JSON (text inline), `multipart/form-data` (a `file` part and an optional `title` part), or the
//! document itself as the body with its own `Content-Type` (and `?title=`). Its body may be as large as
//! [`KnowledgeLimits::max_document_bytes`](crate::engine::KnowledgeLimits), not the API's usual limit.

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{
    CreateKnowledgeBaseRequest, DocumentWithChunks, Problem, ProblemType, SearchKnowledgeRequest, SearchResults,
    UploadDocumentRequest, UploadedDocument,
};
use crate::auth::Principal;
use crate::engine::DocumentUpload;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::problem::ProblemResponse;
use crate::ids::{DocumentId, KnowledgeBaseId};
use crate::model::{KnowledgeBase, KnowledgeDocument};
use crate::store::{Page, PageRequest};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new()
        .routes(routes!(list_knowledge_bases, create_knowledge_base))
        .routes(routes!(get_knowledge_base, delete_knowledge_base))
        .routes(routes!(list_documents, upload_document))
        .routes(routes!(get_document, delete_document))
        .routes(routes!(search_knowledge))
}

/// Lists knowledge bases.
#[utoipa::path(get, path = "/v1/knowledge", tag = "knowledge", security(("bearer" = [])), params(PageRequest),
    responses((status = 200, body = Page<KnowledgeBase>), (status = 401, body = Problem)))]
async fn list_knowledge_bases(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<KnowledgeBase>>, Error> {
    Ok(Json(platform.list_knowledge_bases(&principal, page).await?))
}

/// Creates a knowledge base (`knowledge:manage`).
#[utoipa::path(post, path = "/v1/knowledge", tag = "knowledge", security(("bearer" = [])),
    request_body = CreateKnowledgeBaseRequest,
    responses((status = 201, body = KnowledgeBase), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_knowledge_base(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateKnowledgeBaseRequest>,
) -> Result<(StatusCode, Json<KnowledgeBase>), Error> {
    Ok((StatusCode::CREATED, Json(platform.create_knowledge_base(&principal, request).await?)))
}

/// A knowledge base, with how many documents and chunks it holds.
#[utoipa::path(get, path = "/v1/knowledge/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    responses((status = 200, body = KnowledgeBase), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_knowledge_base(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<KnowledgeBaseId>,
) -> Result<Json<KnowledgeBase>, Error> {
    Ok(Json(platform.get_knowledge_base(&principal, id).await?))
}

/// Deletes a knowledge base and its documents (`knowledge:manage`).
#[utoipa::path(delete, path = "/v1/knowledge/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_knowledge_base(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<KnowledgeBaseId>,
) -> Result<StatusCode, Error> {
    platform.delete_knowledge_base(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists a knowledge base's documents, oldest first.
#[utoipa::path(get, path = "/v1/knowledge/{id}/documents", tag = "knowledge", security(("bearer" = [])),
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id"), PageRequest),
    responses((status = 200, body = Page<KnowledgeDocument>), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn list_documents(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<KnowledgeBaseId>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<KnowledgeDocument>>, Error> {
    Ok(Json(platform.list_documents(&principal, id, page).await?))
}

/// The title of a document uploaded as the raw body.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct UploadParams {
    /// The document's title (default: the one it names, or `Untitled document`).
    title: Option<String>,
}

/// The parts of a `multipart/form-data` upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Read by hand (`read_upload`); the type documents the form.
struct UploadDocumentForm {
    /// The document, with its file name and its `Content-Type` (or `application/octet-stream` and a file name
    /// ending in `.md`, `.txt`, `.html` or `.pdf`).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Its title.
    title: Option<String>,
}

/// Uploads a document (`knowledge:manage`): 201 with the new document, or 200 with the one already holding the
/// same text. Markdown, plain text, and what the server's readers add (the reference server: HTML, PDF).
#[utoipa::path(post, path = "/v1/knowledge/{id}/documents", tag = "knowledge", security(("bearer" = [])),
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id"), UploadParams),
    request_body(content(
        (UploadDocumentRequest = "application/json"),
        (UploadDocumentForm = "multipart/form-data"),
        (Vec<u8> = "application/pdf"), (String = "text/markdown"), (String = "text/plain"), (String = "text/html"))),
    responses((status = 201, body = UploadedDocument), (status = 200, body = UploadedDocument),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem)))]
async fn upload_document(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<KnowledgeBaseId>,
    ApiQuery(params): ApiQuery<UploadParams>,
    request: Request,
) -> Response {
    let mut upload = match read_upload(&platform, request).await {
        Ok(upload) => upload,
        Err(refused) => return refused.into_response(),
    };
    if upload.title.is_none() {
        upload.title = params.title;
    }
    match platform.upload_document(&principal, id, upload).await {
        Ok(uploaded) => {
            let status = if uploaded.created { StatusCode::CREATED } else { StatusCode::OK };
            (status, Json(uploaded)).into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn problem(kind: ProblemType, detail: impl Into<String>) -> ProblemResponse {
    ProblemResponse(Problem::new(kind, detail))
}

/// The upload in whichever of the three forms it came.
async fn read_upload(platform: &Platform, request: Request) -> Result<DocumentUpload, ProblemResponse> {
    let limit = platform.knowledge_limits().max_document_bytes;
    let content_type =
        request.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let media = crate::knowledge::media_type(&content_type);
    // Slack for the multipart framing around the file.
    let bytes = axum::body::to_bytes(request.into_body(), limit.saturating_add(64 * 1024)).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            problem(ProblemType::PayloadTooLarge, format!("the most a document may be is {limit} bytes"))
        } else {
            problem(ProblemType::MalformedBody, format!("the body could not be read: {e}"))
        }
    })?;
    if media == "application/json" {
        let body: UploadDocumentRequest = serde_json::from_slice(&bytes).map_err(|e| {
            problem(if e.is_data() { ProblemType::Validation } else { ProblemType::MalformedBody }, e.to_string())
        })?;
        return Ok(DocumentUpload {
            content_type: body.media_type.unwrap_or_else(|| "text/markdown".into()),
            bytes: body.content.into(),
            title: body.title,
            file_name: None,
        });
    }
    if media != "multipart/form-data" {
        return Ok(DocumentUpload { content_type, bytes, title: None, file_name: None });
    }
    let boundary = multer::parse_boundary(&content_type)
        .map_err(|e| problem(ProblemType::MalformedBody, format!("the multipart body has no boundary: {e}")))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    let malformed = |e: multer::Error| problem(ProblemType::MalformedBody, format!("the multipart body: {e}"));
    let (mut file, mut title) = (None, None);
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("file") if file.is_none() => {
                let file_name = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(ToString::to_string).unwrap_or_default();
                let bytes = field.bytes().await.map_err(malformed)?;
                file = Some(DocumentUpload { content_type, bytes, title: None, file_name });
            }
            Some("title") if title.is_none() => {
                title = Some(field.text().await.map_err(malformed)?);
            }
            Some(other) => {
                return Err(problem(
                    ProblemType::Validation,
                    format!("unexpected part `{other}`: send one `file` part and at most one `title` part"),
                ));
            }
            None => return Err(problem(ProblemType::Validation, "every part needs a name (`file` or `title`)")),
        }
    }
    let mut file = file.ok_or_else(|| problem(ProblemType::Validation, "the form has no `file` part"))?;
    file.title = title;
    Ok(file)
}

/// A document, with its chunks.
#[utoipa::path(get, path = "/v1/knowledge/{id}/documents/{doc}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id"),
        ("doc" = DocumentId, Path, description = "Document id")),
    responses((status = 200, body = DocumentWithChunks), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn get_document(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath((id, doc)): ApiPath<(KnowledgeBaseId, DocumentId)>,
) -> Result<Json<DocumentWithChunks>, Error> {
    Ok(Json(platform.get_document(&principal, id, doc).await?))
}

/// Deletes a document and its chunks (`knowledge:manage`).
#[utoipa::path(delete, path = "/v1/knowledge/{id}/documents/{doc}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id"),
        ("doc" = DocumentId, Path, description = "Document id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_document(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath((id, doc)): ApiPath<(KnowledgeBaseId, DocumentId)>,
) -> Result<StatusCode, Error> {
    platform.delete_document(&principal, id, doc).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The chunks that best match a query (any of its words, stemmed in the base's language), best first.
#[utoipa::path(post, path = "/v1/knowledge/{id}/search", tag = "knowledge", security(("bearer" = [])),
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    request_body = SearchKnowledgeRequest,
    responses((status = 200, body = SearchResults), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn search_knowledge(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<KnowledgeBaseId>,
    ApiJson(request): ApiJson<SearchKnowledgeRequest>,
) -> Result<Json<SearchResults>, Error> {
    Ok(Json(SearchResults { data: platform.search_knowledge(&principal, id, request).await? }))
}
