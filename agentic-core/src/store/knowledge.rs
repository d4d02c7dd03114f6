//! Knowledge bases of one tenant: their documents, the chunks those were split into, and lexical search over
//! them in the base's language ([`TextLanguage`](crate::model::TextLanguage)). The memory store ranks with BM25
//! (tantivy), PostgreSQL with `ts_rank_cd` over a GIN-indexed `tsvector`; both match any of the query's words.
//! Chunks may carry vectors of an embedding model, searched by cosine similarity (exhaustively: bases are small).

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::ids::{DocumentId, KnowledgeBaseId};
use crate::knowledge::{Chunk, ChunkVectors};
use crate::model::{KnowledgeBase, KnowledgeDocument, ScoredChunk};

/// What [`KnowledgeStore::insert_document`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentInsert {
    /// The document is new, stored with its chunks.
    Inserted(KnowledgeDocument),
    /// The base already holds a document of the same content hash: this one, unchanged.
    Existing(KnowledgeDocument),
}

/// Knowledge bases of the handle's tenant.
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Stores a new, empty knowledge base. [`StoreError::Conflict`](super::StoreError::Conflict) if the tenant
    /// has one of the same name, [`StoreError::MissingReference`](super::StoreError::MissingReference) if its
    /// project does not exist.
    async fn insert_knowledge_base(&self, base: &KnowledgeBase) -> StoreResult<()>;

    /// A knowledge base by id, with its counts.
    async fn get_knowledge_base(&self, id: KnowledgeBaseId) -> StoreResult<Option<KnowledgeBase>>;

    /// Knowledge bases, oldest first, with their counts.
    async fn list_knowledge_bases(&self, page: &PageRequest) -> StoreResult<Page<KnowledgeBase>>;

    /// Deletes a knowledge base with its documents and chunks; `false` if there was none.
    async fn delete_knowledge_base(&self, id: KnowledgeBaseId) -> StoreResult<bool>;

    /// Stores a document, its chunks and their vectors when given (one per chunk, in order), all searchable
    /// once this returns, unless the base already holds one of the same `content_hash`, which is returned
    /// instead: a re-upload changes nothing. [`StoreError::MissingReference`](super::StoreError::MissingReference)
    /// if the base does not exist.
    async fn insert_document(
        &self,
        document: &KnowledgeDocument,
        chunks: &[Chunk],
        vectors: Option<&ChunkVectors>,
    ) -> StoreResult<DocumentInsert>;

    /// A document of base `base`.
    async fn get_document(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<Option<KnowledgeDocument>>;

    /// A document's chunks, in position order (empty if there is no such document in `base`).
    async fn document_chunks(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<Vec<Chunk>>;

    /// The documents of base `base`, oldest first.
    async fn list_documents(&self, base: KnowledgeBaseId, page: &PageRequest) -> StoreResult<Page<KnowledgeDocument>>;

    /// Deletes a document and its chunks from base `base`; `false` if there was none.
    async fn delete_document(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<bool>;

    /// The `k` chunks of base `base` that best match `query` (any of its words, stemmed in the base's language;
    /// a chunk's title and headings count with its text), best first; ties in score go to the earlier document
    /// and position. Empty when nothing matches or there is no such base.
    async fn search_knowledge(&self, base: KnowledgeBaseId, query: &str, k: usize) -> StoreResult<Vec<ScoredChunk>>;

    /// The `k` chunks of base `base` whose vectors of `model` are nearest `vector` (a unit vector: the score is
    /// the cosine similarity), best first; ties as for [`search_knowledge`](Self::search_knowledge). Chunks
    /// without vectors of that model are not searched.
    async fn search_knowledge_by_vector(
        &self,
        base: KnowledgeBaseId,
        model: &str,
        vector: &[f32],
        k: usize,
    ) -> StoreResult<Vec<ScoredChunk>>;
}
