//! Knowledge bases: made and deleted with `knowledge:manage`, read and searched by any member. An upload is read
//! by the platform's [`DocumentReader`]s, split into chunks and stored with the hash of its text, so uploading the
//! same text again changes nothing.

use std::sync::Arc;

use crate::Platform;
use crate::api::{CreateKnowledgeBaseRequest, DocumentWithChunks, SearchKnowledgeRequest, UploadedDocument};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::{DocumentId, KnowledgeBaseId};
use crate::knowledge::{
    ChunkSizes, DocumentReader, ReadError, chunk, content_hash, embed_chunks, hybrid_search, media_type,
    media_type_of_file,
};
use crate::model::{
    KnowledgeBase, KnowledgeDocument, MAX_DESCRIPTION_CHARS, Permission, ScoredChunk, ValidationError, validate_name,
    validate_optional_text, validate_text,
};
use crate::store::{DocumentInsert, Page, PageRequest, StoreError};

/// The longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 2_000;
/// The most chunks a search returns.
pub const MAX_SEARCH_RESULTS: u32 = 50;
/// How many chunks a search returns when the caller does not say.
pub const DEFAULT_SEARCH_RESULTS: u32 = 5;

/// Bounds on what knowledge bases take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnowledgeLimits {
    /// The largest upload, in bytes (default 10 MiB).
    pub max_document_bytes: usize,
    /// The most chunks one document may make (default 5,000: about 6 MB of text).
    pub max_chunks_per_document: usize,
    /// How documents are cut into chunks.
    pub chunk_sizes: ChunkSizes,
}

impl Default for KnowledgeLimits {
    fn default() -> Self {
        Self {
            max_document_bytes: 10 * 1024 * 1024,
            max_chunks_per_document: 5_000,
            chunk_sizes: ChunkSizes::default(),
        }
    }
}

/// A document as uploaded, before it is read.
#[derive(Clone, Debug)]
pub struct DocumentUpload {
    /// Its `Content-Type` (parameters are ignored; `application/octet-stream` is guessed from the file name).
    pub content_type: String,
    /// Its bytes.
    pub bytes: bytes::Bytes,
    /// The title the uploader gave, if any.
    pub title: Option<String>,
    /// The uploaded file's name, if any (the title when neither the uploader nor the document gives one).
    pub file_name: Option<String>,
}

impl Platform {
    /// The first reader (the host's, then the platform's own) that reads `media`.
    fn reader_for(&self, media: &str) -> Option<Arc<dyn DocumentReader>> {
        self.inner.document_readers.iter().find(|r| r.content_types().contains(&media)).cloned()
    }

    /// The knowledge base `id` of the caller's tenant.
    async fn knowledge_base(&self, principal: &Principal, id: KnowledgeBaseId) -> Result<KnowledgeBase> {
        let store = self.inner.store.tenant(principal.tenant_id);
        store.get_knowledge_base(id).await?.ok_or(Error::NotFound("knowledge base"))
    }

    /// Creates a knowledge base. Needs `knowledge:manage`.
    pub async fn create_knowledge_base(
        &self,
        principal: &Principal,
        request: CreateKnowledgeBaseRequest,
    ) -> Result<KnowledgeBase> {
        principal.require(Permission::KnowledgeManage)?;
        let base = KnowledgeBase {
            id: KnowledgeBaseId::new(),
            tenant_id: principal.tenant_id,
            project_id: request.project_id,
            name: validate_name("name", &request.name, 200)?,
            description: validate_optional_text("description", request.description, MAX_DESCRIPTION_CHARS)?
                .unwrap_or_default(),
            language: request.language.unwrap_or_default(),
            created_by: principal.user_id,
            created_at: self.inner.clock.now(),
            documents: 0,
            chunks: 0,
        };
        let store = self.inner.store.tenant(principal.tenant_id);
        store.insert_knowledge_base(&base).await.map_err(|e| match e {
            StoreError::Conflict { .. } => Error::Conflict(format!("a knowledge base named `{}` exists", base.name)),
            StoreError::MissingReference { .. } => Error::NotFound("project"),
            other => other.into(),
        })?;
        Ok(base)
    }

    /// A page of knowledge bases. Any member may read.
    pub async fn list_knowledge_bases(&self, principal: &Principal, page: PageRequest) -> Result<Page<KnowledgeBase>> {
        Ok(self.inner.store.tenant(principal.tenant_id).list_knowledge_bases(&page).await?)
    }

    /// A knowledge base, with its counts. Any member may read.
    pub async fn get_knowledge_base(&self, principal: &Principal, id: KnowledgeBaseId) -> Result<KnowledgeBase> {
        self.knowledge_base(principal, id).await
    }

    /// Deletes a knowledge base with its documents. Needs `knowledge:manage`.
    pub async fn delete_knowledge_base(&self, principal: &Principal, id: KnowledgeBaseId) -> Result<()> {
        principal.require(Permission::KnowledgeManage)?;
        match self.inner.store.tenant(principal.tenant_id).delete_knowledge_base(id).await? {
            true => Ok(()),
            false => Err(Error::NotFound("knowledge base")),
        }
    }

    /// Reads, chunks and stores a document; if the base holds the same text already, that document is returned
    /// with `created: false` and nothing changes. Needs `knowledge:manage`.
    pub async fn upload_document(
        &self,
        principal: &Principal,
        base: KnowledgeBaseId,
        upload: DocumentUpload,
    ) -> Result<UploadedDocument> {
        principal.require(Permission::KnowledgeManage)?;
        let limits = self.inner.knowledge_limits;
        self.knowledge_base(principal, base).await?;
        if upload.bytes.len() > limits.max_document_bytes {
            return Err(Error::TooLarge(format!(
                "the document is {} bytes; the most a document may be is {} bytes",
                upload.bytes.len(),
                limits.max_document_bytes
            )));
        }
        let mut media = media_type(&upload.content_type);
        if media.is_empty() || media == "application/octet-stream" {
            match upload.file_name.as_deref().and_then(media_type_of_file) {
                Some(guessed) => guessed.clone_into(&mut media),
                None => {
                    return Err(Error::UnsupportedMediaType(format!(
                        "say what the document is: a Content-Type of {}, or a file name ending in .md, .txt, \
                         .html or .pdf",
                        self.readable_types()
                    )));
                }
            }
        }
        let reader = self.reader_for(&media).ok_or_else(|| {
            Error::UnsupportedMediaType(format!(
                "documents of type `{media}` cannot be read; this server reads {}",
                self.readable_types()
            ))
        })?;
        let bytes = upload.bytes.clone();
        let read_media = media.clone();
        // A PDF may take a while to read: off the async workers.
        let read = tokio::task::spawn_blocking(move || reader.read(&read_media, &bytes))
            .await
            .map_err(|e| Error::Internal(format!("the document reader failed: {e}")))?;
        let read = read.map_err(|e| match e {
            ReadError::Unsupported(_) => Error::UnsupportedMediaType(e.to_string()),
            ReadError::Invalid(_) => ValidationError::new("content", e.to_string()).into(),
        })?;
        if read.text.trim().is_empty() {
            return Err(ValidationError::new("content", "the document holds no text").into());
        }
        let chunks = chunk(&read.text, limits.chunk_sizes);
        if chunks.len() > limits.max_chunks_per_document {
            return Err(Error::TooLarge(format!(
                "the document makes {} chunks; the most a document may make is {}",
                chunks.len(),
                limits.max_chunks_per_document
            )));
        }
        let title = match upload.title {
            Some(title) => validate_name("title", &title, 300)?,
            None => read
                .title
                .or(upload.file_name)
                .map(|t| t.trim().chars().filter(|c| !c.is_control()).take(300).collect::<String>())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "Untitled document".to_owned()),
        };
        let document = KnowledgeDocument {
            id: DocumentId::new(),
            knowledge_base_id: base,
            title,
            media_type: media,
            content_hash: content_hash(&read.text),
            size_bytes: upload.bytes.len() as u64,
            chunk_count: u32::try_from(chunks.len()).unwrap_or(u32::MAX),
            created_by: principal.user_id,
            created_at: self.inner.clock.now(),
        };
        let vectors = match &self.inner.embedder {
            Some(embedder) => Some(embed_chunks(&**embedder, &document.title, &chunks).await.map_err(Error::Llm)?),
            None => None,
        };
        let store = self.inner.store.tenant(principal.tenant_id);
        match store.insert_document(&document, &chunks, vectors.as_ref()).await {
            Ok(DocumentInsert::Inserted(document)) => Ok(UploadedDocument { document, created: true }),
            Ok(DocumentInsert::Existing(document)) => Ok(UploadedDocument { document, created: false }),
            Err(StoreError::MissingReference { .. }) => Err(Error::NotFound("knowledge base")),
            Err(other) => Err(other.into()),
        }
    }

    /// The media types uploads may be, for messages.
    fn readable_types(&self) -> String {
        let mut types: Vec<&str> =
            self.inner.document_readers.iter().flat_map(|r| r.content_types().iter().copied()).collect();
        types.dedup();
        types.join(", ")
    }

    /// A page of a knowledge base's documents. Any member may read.
    pub async fn list_documents(
        &self,
        principal: &Principal,
        base: KnowledgeBaseId,
        page: PageRequest,
    ) -> Result<Page<KnowledgeDocument>> {
        self.knowledge_base(principal, base).await?;
        Ok(self.inner.store.tenant(principal.tenant_id).list_documents(base, &page).await?)
    }

    /// A document with its chunks. Any member may read.
    pub async fn get_document(
        &self,
        principal: &Principal,
        base: KnowledgeBaseId,
        id: DocumentId,
    ) -> Result<DocumentWithChunks> {
        let store = self.inner.store.tenant(principal.tenant_id);
        let document = store.get_document(base, id).await?.ok_or(Error::NotFound("document"))?;
        let chunks = store.document_chunks(base, id).await?;
        Ok(DocumentWithChunks { document, chunks })
    }

    /// Deletes a document and its chunks. Needs `knowledge:manage`.
    pub async fn delete_document(&self, principal: &Principal, base: KnowledgeBaseId, id: DocumentId) -> Result<()> {
        principal.require(Permission::KnowledgeManage)?;
        match self.inner.store.tenant(principal.tenant_id).delete_document(base, id).await? {
            true => Ok(()),
            false => Err(Error::NotFound("document")),
        }
    }

    /// The chunks of a knowledge base that best match the query, best first. Any member may search.
    pub async fn search_knowledge(
        &self,
        principal: &Principal,
        base: KnowledgeBaseId,
        request: SearchKnowledgeRequest,
    ) -> Result<Vec<ScoredChunk>> {
        // Prose rules: not blank, bounded, and no control characters (PostgreSQL refuses a NUL in text).
        let query = validate_text("query", &request.query, MAX_QUERY_CHARS)?;
        let k = request.k.unwrap_or(DEFAULT_SEARCH_RESULTS);
        if !(1..=MAX_SEARCH_RESULTS).contains(&k) {
            return Err(ValidationError::new("k", format!("must be 1 to {MAX_SEARCH_RESULTS}")).into());
        }
        self.knowledge_base(principal, base).await?;
        let store = self.inner.store.tenant(principal.tenant_id);
        Ok(hybrid_search(store.as_ref(), self.inner.embedder.as_deref(), base, &query, k as usize).await?)
    }
}
