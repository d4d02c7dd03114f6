//! The memory store's BM25 on the labelled corpus (`benches/corpus/knowledge`) holds the target of #17: recall@5
//! of at least 0.8 (the bench `retrieval` reports the figures of both stores).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use agentic_core::testing::retrieval::{Corpus, evaluate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bm25_finds_the_answering_document_in_the_top_five_for_four_questions_in_five() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/corpus/knowledge");
    let corpus = Corpus::load(&dir).unwrap();
    assert!(corpus.documents.len() >= 30 && corpus.questions.len() >= 50, "the corpus is whole");
    let report = evaluate(&agentic_store_memory::MemoryStore::new(), &corpus, 5, None).await;
    assert!(report.recall >= 0.8, "recall@5 {:.3} < 0.8; missed: {:#?}", report.recall, report.misses);
    assert!(report.mrr >= 0.6, "MRR {:.3}", report.mrr);
}
