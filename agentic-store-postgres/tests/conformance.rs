//! The shared conformance suite on PostgreSQL, one test per case, each on a fresh database
//! (`cargo test --test conformance -- <case>`). Without `DATABASE_URL` there are no tests (and under
//! `AGENTIC_REQUIRE_BACKENDS=1` that is a failure, from `database_url`).
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use agentic_core::store::Store;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::{TestDatabase, database_url};

fn main() -> std::process::ExitCode {
    let trials = match database_url() {
        Some(url) => agentic_core::testing::conformance_trials("postgres", move || {
            let url = url.clone();
            async move {
                let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
                (Arc::new(db.store.clone()) as Arc<dyn Store>, db)
            }
        }),
        None => Vec::new(),
    };
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
}
