//! Retrieval quality on the labelled corpus `benches/corpus/knowledge` (30 documents, 50 questions): recall@5 and
//! MRR of each store's lexical search (BM25 in memory, `ts_rank_cd` on PostgreSQL when `DATABASE_URL` is set).
//!
//! `cargo bench -p agentic-benches --bench retrieval`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;

use agentic_core::testing::retrieval::{Corpus, Report, evaluate};
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::{TestDatabase, database_url};

const K: usize = 5;

fn print(store: &str, report: &Report) {
    println!(
        "{store:<10} questions {}  recall@{K} {:.3}  MRR {:.3}  missed {}",
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
    let memory = agentic_store_memory::MemoryStore::new();
    print("memory", &evaluate(&memory, &corpus, K).await);
    match database_url() {
        Some(url) => {
            let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
            print("postgres", &evaluate(&db.store, &corpus, K).await);
        }
        None => println!("postgres   skipped: DATABASE_URL is unset"),
    }
}
