//! Dense retrieval: an [`Embedder`] turns text into vectors (an OpenAI-compatible `/v1/embeddings`, which
//! llama.cpp serves with `--embedding`: `agentic_llm::openai::Embeddings`), chunks are stored with the vectors of
//! their text, and a search fuses the nearest chunks with the lexical ranking by reciprocal rank fusion
//! ([`hybrid_search`]). Vectors are stored at unit length, so cosine similarity is a dot product; a base's vectors
//! are compared only with the query's vector of the same model.

use async_trait::async_trait;

use super::{Chunk, reciprocal_rank_fusion};
use crate::ids::KnowledgeBaseId;
use crate::llm::LlmError;
use crate::model::ScoredChunk;
use crate::store::{KnowledgeStore, StoreError};

/// The most texts sent in one embedding request.
pub const EMBED_BATCH: usize = 32;

/// Turns texts into vectors.
#[async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// The model, stored with the vectors it makes.
    fn model(&self) -> &str;

    /// One vector per input, in order, all of the same length.
    async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, LlmError>;
}

/// The vectors of a document's chunks, in position order, and the model that made them.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkVectors {
    /// The model.
    pub model: String,
    /// One unit-length vector per chunk.
    pub vectors: Vec<Vec<f32>>,
}

/// `vector` scaled to unit length (a zero vector stays zero).
pub fn normalized(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut vector {
            *x /= norm;
        }
    }
    vector
}

/// The dot product (the cosine of unit vectors); 0 for vectors of different lengths.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// What a chunk is embedded as: its document's title, its headings and its text.
fn embedded_text(title: &str, chunk: &Chunk) -> String {
    let mut text = title.to_owned();
    for heading in &chunk.headings {
        if heading != title {
            text.push_str(" / ");
            text.push_str(heading);
        }
    }
    text.push_str("\n\n");
    text.push_str(&chunk.text);
    text
}

/// The vectors of a document's chunks, requested [`EMBED_BATCH`] at a time; an answer of the wrong shape is an
/// [`LlmError::BadResponse`].
pub async fn embed_chunks(embedder: &dyn Embedder, title: &str, chunks: &[Chunk]) -> Result<ChunkVectors, LlmError> {
    let mut vectors = Vec::with_capacity(chunks.len());
    for batch in chunks.chunks(EMBED_BATCH) {
        let texts: Vec<String> = batch.iter().map(|c| embedded_text(title, c)).collect();
        let answer = embedder.embed(&texts).await?;
        if answer.len() != texts.len() {
            return Err(LlmError::bad_response(format!("{} vectors for {} texts", answer.len(), texts.len())));
        }
        vectors.extend(answer.into_iter().map(normalized));
    }
    if let Some(first) = vectors.first()
        && (first.is_empty() || vectors.iter().any(|v| v.len() != first.len()))
    {
        return Err(LlmError::bad_response("the embedding model answered vectors of different lengths"));
    }
    Ok(ChunkVectors { model: embedder.model().to_owned(), vectors })
}

/// Why a hybrid search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The embedding model failed.
    #[error(transparent)]
    Embed(#[from] LlmError),
}

/// The `k` chunks of `base` for `query`: the lexical ranking alone without an embedder, else fused by reciprocal
/// rank fusion with the chunks nearest the query's vector (each ranking asked for `2k`). A fused chunk's score is
/// its fusion score.
pub async fn hybrid_search(
    store: &dyn KnowledgeStore,
    embedder: Option<&dyn Embedder>,
    base: KnowledgeBaseId,
    query: &str,
    k: usize,
) -> Result<Vec<ScoredChunk>, SearchError> {
    let Some(embedder) = embedder else { return Ok(store.search_knowledge(base, query, k).await?) };
    let depth = k.saturating_mul(2);
    let lexical = store.search_knowledge(base, query, depth).await?;
    let vector = embedder.embed(&[query.to_owned()]).await?.into_iter().next().map(normalized);
    let vector = vector.ok_or_else(|| LlmError::bad_response("no vector for the query"))?;
    let dense = store.search_knowledge_by_vector(base, embedder.model(), &vector, depth).await?;
    let fused = reciprocal_rank_fusion(vec![lexical, dense], |hit| (hit.document_id, hit.position), k);
    Ok(fused.into_iter().map(|(hit, score)| ScoredChunk { score, ..hit }).collect())
}
