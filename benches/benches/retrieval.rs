//! Retrieval quality on the labelled corpus `benches/corpus/knowledge` (30 documents, 50 questions): recall@5 and
//! MRR of each store's lexical search (BM25 in memory, `ts_rank_cd` on PostgreSQL when `DATABASE_URL` is set),
//! and hybrid search (lexical fused with dense) when `AGENTIC_EMBEDDINGS_URL` names an OpenAI-compatible
//! embeddings API (`AGENTIC_EMBEDDINGS_MODEL`, default `local`).
//!
//! `cargo bench -p agentic-benches --bench retrieval`; with the local model's embeddings:
//! `AGENTIC_LLM_EMBEDDING=1 AGENTIC_LLM_STATE=/tmp/emb scripts/llm-server start` gives the URL (add `/v1`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;

use agentic_core::knowledge::Embedder;
use agentic_core::testing::retrieval::{Corpus, Report, evaluate};
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::{TestDatabase, database_url};

const K: usize = 5;

fn print(store: &str, report: &Report) {
    println!(
        "{store:<16} questions {}  recall@{K} {:.3}  MRR {:.3}  missed {}",
        report.questions,
        report.recall,
        report.mrr,
        report.misses.len()
    );
    for miss in &report.misses {
        println!("           missed: {miss}");
    }
}

#[tokio::main]
async fn main() {
    let corpus = Corpus::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/knowledge")).unwrap();
    println!("corpus: {} documents, {} questions", corpus.documents.len(), corpus.questions.len());
    let embedder = std::env::var("AGENTIC_EMBEDDINGS_URL").ok().filter(|u| !u.is_empty()).map(|url| {
        let model = std::env::var("AGENTIC_EMBEDDINGS_MODEL").unwrap_or_else(|_| "local".into());
        agentic_llm::openai::Client::builder().base_url(url).build().unwrap().embeddings(model)
    });
    let mut modes: Vec<(&str, Option<&dyn Embedder>)> = vec![("", None)];
    if let Some(embedder) = &embedder {
        modes.push(("+dense", Some(embedder as &dyn Embedder)));
    }
    for (mode, embedder) in modes {
        let memory = agentic_store_memory::MemoryStore::new();
        print(&format!("memory{mode}"), &evaluate(&memory, &corpus, K, embedder).await);
        match database_url() {
            Some(url) => {
                let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
                print(&format!("postgres{mode}"), &evaluate(&db.store, &corpus, K, embedder).await);
            }
            None => println!("postgres   skipped: DATABASE_URL is unset"),
        }
    }
    if embedder.is_none() {
        println!("dense      skipped: AGENTIC_EMBEDDINGS_URL is unset");
    }
}
