//! The shared conformance suites on PostgreSQL, one test per case, each on a fresh database
//! (`cargo test --test conformance -- <case>`): the store's, and the context store's (whose scopes are projects
//! of two tenants, as its foreign key requires). Without `DATABASE_URL` there are no tests (and under
//! `AGENTIC_REQUIRE_BACKENDS=1` that is a failure, from `database_url`).
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use agentic_core::store::{ContextScope, ContextStore, Store};
use agentic_core::testing::fixtures::{project, tenant_with_admin};
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::{TestDatabase, database_url};

/// A project of a new tenant `slug`, as a context scope.
async fn scope(store: &dyn Store, slug: &str) -> ContextScope {
    let (tenant, admin) = tenant_with_admin(store, slug).await;
    let p = project(tenant.id, None, admin.user.id);
    store.tenant(tenant.id).insert_project(&p).await.unwrap();
    ContextScope { tenant: tenant.id, project: p.id }
}

fn main() -> std::process::ExitCode {
    let trials = match database_url() {
        Some(url) => {
            let for_context = url.clone();
            let mut trials = agentic_core::testing::conformance_trials("postgres", move || {
                let url = url.clone();
                async move {
                    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
                    (Arc::new(db.store.clone()) as Arc<dyn Store>, db)
                }
            });
            trials.extend(agentic_core::testing::context::context_trials("postgres", move || {
                let url = for_context.clone();
                async move {
                    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
                    let (a, b) = (scope(&db.store, "ctx-a").await, scope(&db.store, "ctx-b").await);
                    (Arc::new(db.store.clone()) as Arc<dyn ContextStore>, db, Some((a, b)))
                }
            }));
            trials
        }
        None => Vec::new(),
    };
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
}
