//! Knowledge bases: documents and their chunks, searched with PostgreSQL full text (a GIN-indexed `tsvector` in the
//! base's text search configuration, ranked by `ts_rank_cd`). The query matches any of its words: its
//! `plainto_tsquery`, with the `&` between lexemes made `|`.

use agentic_core::ids::{DocumentId, KnowledgeBaseId};
use agentic_core::knowledge::{Chunk, ChunkVectors};
use agentic_core::model::{KnowledgeBase, KnowledgeDocument, ScoredChunk, TextLanguage};
use agentic_core::store::{DocumentInsert, KnowledgeStore, Page, PageRequest, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{corrupt, store_error};
use crate::tenant::{PgTenant, commit};

macro_rules! base_columns {
    () => {
        "b.tenant_id, b.id, b.project_id, b.name, b.description, b.language::text AS language, b.created_by, \
         b.created_at, (SELECT count(*) FROM knowledge_documents d WHERE d.tenant_id = b.tenant_id \
         AND d.knowledge_base_id = b.id) AS documents, (SELECT coalesce(sum(d.chunk_count), 0)::bigint \
         FROM knowledge_documents d WHERE d.tenant_id = b.tenant_id AND d.knowledge_base_id = b.id) AS chunks"
    };
}

macro_rules! document_columns {
    () => {
        "id, knowledge_base_id, title, media_type, content_hash, size_bytes, chunk_count, created_by, created_at"
    };
}

#[derive(sqlx::FromRow)]
struct BaseRow {
    tenant_id: Uuid,
    id: Uuid,
    project_id: Option<Uuid>,
    name: String,
    description: String,
    language: String,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    documents: i64,
    chunks: i64,
}

impl TryFrom<BaseRow> for KnowledgeBase {
    type Error = StoreError;

    fn try_from(row: BaseRow) -> StoreResult<Self> {
        let language = TextLanguage::parse(&row.language)
            .ok_or_else(|| corrupt(format!("knowledge base {} has an unknown language `{}`", row.id, row.language)))?;
        Ok(KnowledgeBase {
            id: row.id.into(),
            tenant_id: row.tenant_id.into(),
            project_id: row.project_id.map(Into::into),
            name: row.name,
            description: row.description,
            language,
            created_by: row.created_by.into(),
            created_at: row.created_at,
            documents: u64::try_from(row.documents).unwrap_or(0),
            chunks: u64::try_from(row.chunks).unwrap_or(0),
        })
    }
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: Uuid,
    knowledge_base_id: Uuid,
    title: String,
    media_type: String,
    content_hash: String,
    size_bytes: i64,
    chunk_count: i32,
    created_by: Uuid,
    created_at: DateTime<Utc>,
}

impl From<DocumentRow> for KnowledgeDocument {
    fn from(row: DocumentRow) -> Self {
        KnowledgeDocument {
            id: row.id.into(),
            knowledge_base_id: row.knowledge_base_id.into(),
            title: row.title,
            media_type: row.media_type,
            content_hash: row.content_hash,
            size_bytes: u64::try_from(row.size_bytes).unwrap_or(0),
            chunk_count: u32::try_from(row.chunk_count).unwrap_or(0),
            created_by: row.created_by.into(),
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ChunkRow {
    chunk_id: String,
    position: i32,
    headings: sqlx::types::Json<Vec<String>>,
    body: String,
}

impl From<ChunkRow> for Chunk {
    fn from(row: ChunkRow) -> Self {
        Chunk {
            id: row.chunk_id,
            position: u32::try_from(row.position).unwrap_or(0),
            headings: row.headings.0,
            text: row.body,
        }
    }
}

#[derive(sqlx::FromRow)]
struct HitRow {
    document_id: Uuid,
    title: String,
    #[sqlx(flatten)]
    chunk: ChunkRow,
    score: f64,
}

fn to_i64(value: u64, what: &str) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| corrupt(format!("{what} is out of range")))
}

#[async_trait]
impl KnowledgeStore for PgTenant {
    async fn insert_knowledge_base(&self, base: &KnowledgeBase) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO knowledge_bases (tenant_id, id, project_id, name, description, language, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6::regconfig, $7, $8)",
        )
        .bind(self.uuid())
        .bind(base.id.as_uuid())
        .bind(base.project_id.map(|p| p.as_uuid()))
        .bind(&base.name)
        .bind(&base.description)
        .bind(base.language.as_str())
        .bind(base.created_by.as_uuid())
        .bind(base.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "a knowledge base with this name"))?;
        commit(tx).await
    }

    async fn get_knowledge_base(&self, id: KnowledgeBaseId) -> StoreResult<Option<KnowledgeBase>> {
        let mut tx = self.begin().await?;
        let row: Option<BaseRow> = sqlx::query_as(concat!(
            "SELECT ",
            base_columns!(),
            " FROM knowledge_bases b WHERE b.tenant_id = $1 AND b.id = $2"
        ))
        .bind(self.uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the knowledge base"))?;
        commit(tx).await?;
        row.map(KnowledgeBase::try_from).transpose()
    }

    async fn list_knowledge_bases(&self, page: &PageRequest) -> StoreResult<Page<KnowledgeBase>> {
        let limit = page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<BaseRow> = sqlx::query_as(concat!(
            "SELECT ",
            base_columns!(),
            " FROM knowledge_bases b WHERE b.tenant_id = $1 AND ($2::uuid IS NULL OR b.id > $2) ORDER BY b.id LIMIT $3"
        ))
        .bind(self.uuid())
        .bind(page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "knowledge bases"))?;
        commit(tx).await?;
        let bases = rows.into_iter().map(KnowledgeBase::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(bases, limit, |b| b.id.as_uuid()))
    }

    async fn delete_knowledge_base(&self, id: KnowledgeBaseId) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query("DELETE FROM knowledge_bases WHERE tenant_id = $1 AND id = $2")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the knowledge base"))?
            .rows_affected();
        commit(tx).await?;
        Ok(deleted > 0)
    }

    async fn insert_document(
        &self,
        document: &KnowledgeDocument,
        chunks: &[Chunk],
        vectors: Option<&ChunkVectors>,
    ) -> StoreResult<DocumentInsert> {
        let mut tx = self.begin().await?;
        let inserted: Option<DocumentRow> = sqlx::query_as(concat!(
            "INSERT INTO knowledge_documents (tenant_id, ",
            document_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (tenant_id, knowledge_base_id, content_hash) DO NOTHING RETURNING ",
            document_columns!()
        ))
        .bind(self.uuid())
        .bind(document.id.as_uuid())
        .bind(document.knowledge_base_id.as_uuid())
        .bind(&document.title)
        .bind(&document.media_type)
        .bind(&document.content_hash)
        .bind(to_i64(document.size_bytes, "the document's size")?)
        .bind(i32::try_from(document.chunk_count).map_err(|_| corrupt("too many chunks".into()))?)
        .bind(document.created_by.as_uuid())
        .bind(document.created_at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the document"))?;
        let Some(inserted) = inserted else {
            // The same content is there already (or was inserted by a concurrent upload that has committed).
            let existing: DocumentRow = sqlx::query_as(concat!(
                "SELECT ",
                document_columns!(),
                " FROM knowledge_documents WHERE tenant_id = $1 AND knowledge_base_id = $2 AND content_hash = $3"
            ))
            .bind(self.uuid())
            .bind(document.knowledge_base_id.as_uuid())
            .bind(&document.content_hash)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the document"))?;
            commit(tx).await?;
            return Ok(DocumentInsert::Existing(existing.into()));
        };
        let context_of = |chunk: &Chunk| {
            let mut context = document.title.clone();
            for heading in &chunk.headings {
                context.push('\n');
                context.push_str(heading);
            }
            context
        };
        let positions: Vec<i32> = chunks.iter().map(|c| i32::try_from(c.position).unwrap_or(i32::MAX)).collect();
        let ids: Vec<&str> = chunks.iter().map(|c| c.id.as_str()).collect();
        let headings: Vec<serde_json::Value> = chunks.iter().map(|c| serde_json::json!(c.headings)).collect();
        let bodies: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        let contexts: Vec<String> = chunks.iter().map(context_of).collect();
        sqlx::query(
            "INSERT INTO knowledge_chunks (tenant_id, document_id, knowledge_base_id, language, position, chunk_id, \
             headings, body, context) \
             SELECT $1, $2, $3, b.language, c.position, c.chunk_id, c.headings, c.body, c.context \
             FROM knowledge_bases b, unnest($4::int[], $5::text[], $6::jsonb[], $7::text[], $8::text[]) \
                 AS c (position, chunk_id, headings, body, context) \
             WHERE b.tenant_id = $1 AND b.id = $3",
        )
        .bind(self.uuid())
        .bind(document.id.as_uuid())
        .bind(document.knowledge_base_id.as_uuid())
        .bind(&positions)
        .bind(&ids)
        .bind(&headings)
        .bind(&bodies)
        .bind(&contexts)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the document's chunks"))?;
        if let Some(vectors) = vectors {
            if vectors.vectors.len() != chunks.len() {
                return Err(corrupt(format!("{} vectors for {} chunks", vectors.vectors.len(), chunks.len())));
            }
            let as_json: Vec<serde_json::Value> = vectors.vectors.iter().map(|v| serde_json::json!(v)).collect();
            sqlx::query(
                "INSERT INTO knowledge_vectors (tenant_id, document_id, position, knowledge_base_id, model, vector) \
                 SELECT $1, $2, t.position, $3, $4, ARRAY(SELECT e::real \
                 FROM jsonb_array_elements_text(t.vector) WITH ORDINALITY AS x (e, i) ORDER BY i) \
                 FROM unnest($5::int[], $6::jsonb[]) AS t (position, vector)",
            )
            .bind(self.uuid())
            .bind(document.id.as_uuid())
            .bind(document.knowledge_base_id.as_uuid())
            .bind(&vectors.model)
            .bind(&positions)
            .bind(&as_json)
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the chunks' vectors"))?;
        }
        commit(tx).await?;
        Ok(DocumentInsert::Inserted(inserted.into()))
    }

    async fn get_document(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<Option<KnowledgeDocument>> {
        let mut tx = self.begin().await?;
        let row: Option<DocumentRow> = sqlx::query_as(concat!(
            "SELECT ",
            document_columns!(),
            " FROM knowledge_documents WHERE tenant_id = $1 AND knowledge_base_id = $2 AND id = $3"
        ))
        .bind(self.uuid())
        .bind(base.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the document"))?;
        commit(tx).await?;
        Ok(row.map(Into::into))
    }

    async fn document_chunks(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<Vec<Chunk>> {
        let mut tx = self.begin().await?;
        let rows: Vec<ChunkRow> = sqlx::query_as(
            "SELECT chunk_id, position, headings, body FROM knowledge_chunks \
             WHERE tenant_id = $1 AND knowledge_base_id = $2 AND document_id = $3 ORDER BY position",
        )
        .bind(self.uuid())
        .bind(base.as_uuid())
        .bind(id.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the document's chunks"))?;
        commit(tx).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn list_documents(&self, base: KnowledgeBaseId, page: &PageRequest) -> StoreResult<Page<KnowledgeDocument>> {
        let limit = page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<DocumentRow> = sqlx::query_as(concat!(
            "SELECT ",
            document_columns!(),
            " FROM knowledge_documents WHERE tenant_id = $1 AND knowledge_base_id = $2 \
             AND ($3::uuid IS NULL OR id > $3) ORDER BY id LIMIT $4"
        ))
        .bind(self.uuid())
        .bind(base.as_uuid())
        .bind(page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "documents"))?;
        commit(tx).await?;
        Ok(Page::from_overfetch(rows.into_iter().map(Into::into).collect(), limit, |d: &KnowledgeDocument| {
            d.id.as_uuid()
        }))
    }

    async fn delete_document(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted =
            sqlx::query("DELETE FROM knowledge_documents WHERE tenant_id = $1 AND knowledge_base_id = $2 AND id = $3")
                .bind(self.uuid())
                .bind(base.as_uuid())
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the document"))?
                .rows_affected();
        commit(tx).await?;
        Ok(deleted > 0)
    }

    async fn search_knowledge(&self, base: KnowledgeBaseId, query: &str, k: usize) -> StoreResult<Vec<ScoredChunk>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let rows: Vec<HitRow> = sqlx::query_as(
            "WITH q AS (SELECT replace(plainto_tsquery(b.language, $3)::text, ' & ', ' | ')::tsquery AS query \
                 FROM knowledge_bases b WHERE b.tenant_id = $1 AND b.id = $2) \
             SELECT c.document_id, d.title, c.chunk_id, c.position, c.headings, c.body, \
                 ts_rank_cd(c.search, q.query)::float8 AS score \
             FROM q, knowledge_chunks c \
             JOIN knowledge_documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id \
             WHERE c.tenant_id = $1 AND c.knowledge_base_id = $2 AND c.search @@ q.query \
             ORDER BY score DESC, c.document_id, c.position LIMIT $4",
        )
        .bind(self.uuid())
        .bind(base.as_uuid())
        .bind(query)
        .bind(i64::try_from(k).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the search"))?;
        commit(tx).await?;
        Ok(hits(rows))
    }

    async fn search_knowledge_by_vector(
        &self,
        base: KnowledgeBaseId,
        model: &str,
        vector: &[f32],
        k: usize,
    ) -> StoreResult<Vec<ScoredChunk>> {
        if k == 0 || vector.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let rows: Vec<HitRow> = sqlx::query_as(
            "SELECT c.document_id, d.title, c.chunk_id, c.position, c.headings, c.body, \
                 (SELECT coalesce(sum(a * b), 0) FROM unnest(v.vector, $4::real[]) AS t (a, b))::float8 AS score \
             FROM knowledge_vectors v \
             JOIN knowledge_chunks c ON c.tenant_id = v.tenant_id AND c.document_id = v.document_id \
                 AND c.position = v.position \
             JOIN knowledge_documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id \
             WHERE v.tenant_id = $1 AND v.knowledge_base_id = $2 AND v.model = $3 \
                 AND cardinality(v.vector) = cardinality($4::real[]) \
             ORDER BY score DESC, c.document_id, c.position LIMIT $5",
        )
        .bind(self.uuid())
        .bind(base.as_uuid())
        .bind(model)
        .bind(vector)
        .bind(i64::try_from(k).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the vector search"))?;
        commit(tx).await?;
        Ok(hits(rows))
    }
}

/// Search rows as the store trait returns them.
fn hits(rows: Vec<HitRow>) -> Vec<ScoredChunk> {
    rows.into_iter()
        .map(|row| {
            let chunk = Chunk::from(row.chunk);
            ScoredChunk {
                document_id: row.document_id.into(),
                chunk_id: chunk.id,
                title: row.title,
                position: chunk.position,
                headings: chunk.headings,
                text: chunk.text,
                score: row.score,
            }
        })
        .collect()
}
