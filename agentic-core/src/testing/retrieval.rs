//! Retrieval quality on a labelled corpus: every document of a directory uploaded to a knowledge base, every
//! question of its `questions.toml` searched, and recall@k and the mean reciprocal rank of the documents the
//! questions name. The reference corpus is `benches/corpus/knowledge` (the bench `retrieval` reports both stores;
//! the stores' tests hold the memory store to its target).
//!
//! ```no_run
//! # async fn eval() {
//! use agentic_core::testing::retrieval::{Corpus, evaluate};
//!
//! let corpus = Corpus::load(std::path::Path::new("benches/corpus/knowledge")).unwrap();
//! let store = agentic_store_memory::MemoryStore::new();
//! let report = evaluate(&store, &corpus, 5, None).await;
//! println!("recall@5 {:.3}, MRR {:.3}", report.recall, report.mrr);
//! # }
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::fixtures::{now, tenant_with_admin};
use crate::ids::{DocumentId, KnowledgeBaseId};
use crate::knowledge::{ChunkSizes, Embedder, chunk, content_hash, embed_chunks, hybrid_search};
use crate::model::{KnowledgeBase, KnowledgeDocument, TextLanguage};
use crate::store::Store;

/// A labelled corpus: documents by file name, and questions naming the files that answer them.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// `(file name, Markdown)`, sorted by name.
    pub documents: Vec<(String, String)>,
    /// The questions.
    pub questions: Vec<Question>,
}

/// A question and the documents that answer it.
#[derive(Clone, Debug, Deserialize)]
pub struct Question {
    /// The query, as a user would type it.
    pub query: String,
    /// File names of the documents that answer it.
    pub relevant: Vec<String>,
}

#[derive(Deserialize)]
struct Questions {
    question: Vec<Question>,
}

impl Corpus {
    /// Reads every `*.md` of `dir` but its `README.md`, and `dir/questions.toml`; every question's documents
    /// must be in the corpus.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut documents = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.ends_with(".md") && name != "README.md" {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                documents.push((name, text));
            }
        }
        documents.sort();
        let questions = std::fs::read_to_string(dir.join("questions.toml")).map_err(|e| e.to_string())?;
        let questions: Questions = toml::from_str(&questions).map_err(|e| format!("questions.toml: {e}"))?;
        for question in &questions.question {
            if let Some(missing) = question.relevant.iter().find(|r| !documents.iter().any(|(name, _)| name == *r)) {
                return Err(format!("`{}` names `{missing}`, which is not in the corpus", question.query));
            }
        }
        Ok(Self { documents, questions: questions.question })
    }
}

/// How well a store's search finds the questions' documents.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Questions asked.
    pub questions: usize,
    /// The share of the questions' relevant documents found in the top `k` chunks, averaged over questions.
    pub recall: f64,
    /// The mean over questions of 1 / the rank of the first chunk of a relevant document (0 when none is in the
    /// top `k`).
    pub mrr: f64,
    /// The questions with no relevant document in the top `k`, for reading.
    pub misses: Vec<String>,
}

/// Uploads `corpus` to a new knowledge base (English) of a new tenant of `store` and asks every question for its
/// top `k` chunks: lexical search, or hybrid with `embedder` (as the platform searches with one).
pub async fn evaluate(store: &dyn Store, corpus: &Corpus, k: usize, embedder: Option<&dyn Embedder>) -> Report {
    let slug = format!("eval-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let (tenant, admin) = tenant_with_admin(store, &slug).await;
    let handle = store.tenant(tenant.id);
    let base = KnowledgeBase {
        id: KnowledgeBaseId::new(),
        tenant_id: tenant.id,
        project_id: None,
        name: "Evaluation".into(),
        description: String::new(),
        language: TextLanguage::English,
        created_by: admin.user.id,
        created_at: now(),
        documents: 0,
        chunks: 0,
    };
    handle.insert_knowledge_base(&base).await.expect("the evaluation base is stored");
    let mut names: HashMap<DocumentId, &str> = HashMap::new();
    for (name, text) in &corpus.documents {
        let chunks = chunk(text, ChunkSizes::default());
        let title = text.lines().find_map(|l| l.strip_prefix("# ")).unwrap_or(name).trim().to_owned();
        let document = KnowledgeDocument {
            id: DocumentId::new(),
            knowledge_base_id: base.id,
            title,
            media_type: "text/markdown".into(),
            content_hash: content_hash(text),
            size_bytes: text.len() as u64,
            chunk_count: chunks.len() as u32,
            created_by: admin.user.id,
            created_at: now(),
        };
        let vectors = match embedder {
            Some(embedder) => {
                Some(embed_chunks(embedder, &document.title, &chunks).await.expect("the corpus is embedded"))
            }
            None => None,
        };
        handle
            .insert_document(&document, &chunks, vectors.as_ref())
            .await
            .expect("the evaluation documents are stored");
        names.insert(document.id, name);
    }
    let (mut recall, mut reciprocal, mut misses) = (0.0, 0.0, Vec::new());
    for question in &corpus.questions {
        let hits =
            hybrid_search(handle.as_ref(), embedder, base.id, &question.query, k).await.expect("the search answers");
        let ranked: Vec<&str> = hits.iter().map(|h| names.get(&h.document_id).copied().unwrap_or("")).collect();
        let found = question.relevant.iter().filter(|r| ranked.contains(&r.as_str())).count();
        recall += found as f64 / question.relevant.len() as f64;
        match ranked.iter().position(|name| question.relevant.iter().any(|r| r == name)) {
            Some(rank) => reciprocal += 1.0 / (rank as f64 + 1.0),
            None => misses.push(question.query.clone()),
        }
    }
    let asked = corpus.questions.len().max(1) as f64;
    Report { questions: corpus.questions.len(), recall: recall / asked, mrr: reciprocal / asked, misses }
}

/// A deterministic stand-in for an embedding model: each word (lower-cased) counts in one of `dimensions`
/// buckets by its hash, so texts sharing words are near. For tests of dense retrieval without a model; it can
/// be told to fail.
#[derive(Debug)]
pub struct HashingEmbedder {
    /// The number of buckets.
    pub dimensions: usize,
    /// When set, every call fails as an unavailable provider.
    pub failing: bool,
}

impl HashingEmbedder {
    /// 64 buckets, answering.
    pub fn new() -> Self {
        Self { dimensions: 64, failing: false }
    }
}

impl Default for HashingEmbedder {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl Embedder for HashingEmbedder {
    fn model(&self) -> &str {
        "hashing"
    }

    async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, crate::llm::LlmError> {
        if self.failing {
            return Err(crate::llm::LlmError::Unavailable { status: 503, excerpt: String::new(), retry_after: None });
        }
        Ok(inputs
            .iter()
            .map(|text| {
                let dimensions = self.dimensions.max(1);
                let mut vector = vec![0.0; dimensions];
                for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
                    // FNV-1a: stable across runs and platforms.
                    let hash = word
                        .to_lowercase()
                        .bytes()
                        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
                    vector[(hash % dimensions as u64) as usize] += 1.0;
                }
                vector
            })
            .collect())
    }
}
