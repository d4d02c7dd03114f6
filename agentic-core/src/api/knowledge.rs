//! Bodies of `/v1/knowledge`: knowledge bases, their documents and searches.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::ProjectId;
use crate::knowledge::Chunk;
use crate::model::{KnowledgeDocument, ScoredChunk, TextLanguage};

/// `POST /v1/knowledge`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKnowledgeBaseRequest {
    /// Name, unique within the tenant.
    #[schema(min_length = 1)]
    pub name: String,
    /// What it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The language of its documents, for stemming and stop words (default `english`; `simple` for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<TextLanguage>,
    /// The project it belongs to (absent: the whole tenant's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
}

/// `POST /v1/knowledge/{id}/documents` as JSON: a text document (Markdown, plain text or HTML) inline. Binary
/// documents (PDF) are uploaded as `multipart/form-data` (a `file` part, an optional `title` part) or as the raw
/// body with its own `Content-Type` and an optional `?title=`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadDocumentRequest {
    /// The document's text.
    pub content: String,
    /// Its media type (default `text/markdown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Its title (default: the one the document names, such as its first heading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The reply to an upload: the document, and whether this upload made it (`false`: the base already held the
/// same text, and nothing changed).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadedDocument {
    /// The document.
    #[serde(flatten)]
    pub document: KnowledgeDocument,
    /// `true` if this upload stored it, `false` if it was already there.
    pub created: bool,
}

/// `GET /v1/knowledge/{id}/documents/{doc}`: a document with its chunks.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentWithChunks {
    /// The document.
    #[serde(flatten)]
    pub document: KnowledgeDocument,
    /// Its chunks, in order.
    pub chunks: Vec<Chunk>,
}

/// `POST /v1/knowledge/{id}/search`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchKnowledgeRequest {
    /// What to look for, in words (any of them may match; there is no query syntax).
    #[schema(min_length = 1)]
    pub query: String,
    /// How many chunks to return, 1–50 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
}

/// The chunks a search found, best first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// The chunks, best first.
    pub data: Vec<ScoredChunk>,
}
