//! The backend conformance suite (feature `testing`): one set of behavioural tests, written once against the
//! store traits, that every backend runs from its own tests, each case on a fresh store.
//!
//! ```
//! use std::sync::Arc;
//! use agentic_core::store::Store;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)] async fn main() {
//! // A backend's test: a fresh store (and anything that must live as long, like a test database) per case.
//! agentic_core::testing::run_conformance(|| async {
//!     (Arc::new(agentic_store_memory::MemoryStore::new()) as Arc<dyn Store>, ())
//! })
//! .await;
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod agents;
mod budgets;
pub mod faults;
mod fixtures;
mod identity;
mod isolation;
mod org;
mod runs;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::store::Store;

/// One conformance case.
pub type Case = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every case, by name.
pub fn cases() -> Vec<(&'static str, Case)> {
    let mut all = Vec::new();
    all.extend(identity::cases());
    all.extend(org::cases());
    all.extend(isolation::cases());
    all.extend(budgets::cases());
    all.extend(agents::cases());
    all.extend(runs::cases());
    all
}

/// Runs every case on a fresh store from `make` (which may also return a guard kept alive for the case), and
/// panics listing the cases that failed.
pub async fn run_conformance<G, F, Fut>(mut make: F)
where
    G: Send + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = (Arc<dyn Store>, G)>,
{
    let mut failures = Vec::new();
    for (name, case) in cases() {
        let (store, guard) = make().await;
        // A spawned task turns a panic into a JoinError, so one failing case does not hide the others.
        if let Err(error) = tokio::spawn(case(store)).await {
            failures.push(format!("{name}: {error}"));
        }
        drop(guard);
    }
    assert!(failures.is_empty(), "conformance failures:\n{}", failures.join("\n"));
}

macro_rules! case {
    ($name:ident) => {
        (stringify!($name), (|store| Box::pin($name(store))) as crate::testing::Case)
    };
}
pub(crate) use case;
