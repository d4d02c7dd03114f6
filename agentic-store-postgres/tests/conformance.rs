//! The shared conformance suite on PostgreSQL, each case on a fresh database.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use agentic_core::store::Store;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::{TestDatabase, database_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_conforms() {
    let Some(url) = database_url() else { return };
    agentic_core::testing::run_conformance(|| async {
        let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
        (Arc::new(db.store.clone()) as Arc<dyn Store>, db)
    })
    .await;
}
