//! The shared conformance suite on the memory store.
#![allow(missing_docs)]

use std::sync::Arc;

use agentic_core::store::Store;
use agentic_store_memory::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    agentic_core::testing::run_conformance(|| async { (Arc::new(MemoryStore::new()) as Arc<dyn Store>, ()) }).await;
}
