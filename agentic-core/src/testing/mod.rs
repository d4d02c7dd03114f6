//! The backend conformance suite (feature `testing`): one set of behavioural tests, written once against the
//! store traits, that every backend runs from its own tests, each case as a test of its own on a fresh store
//! ([`conformance_trials`], run by `libtest-mimic` from a `harness = false` test binary).
//!
//! ```
//! use std::sync::Arc;
//! use agentic_core::store::Store;
//!
//! // A backend's trials: a fresh store (and anything that must live as long, like a test database) per case.
//! let trials = agentic_core::testing::conformance_trials("memory", || async {
//!     (Arc::new(agentic_store_memory::MemoryStore::new()) as Arc<dyn Store>, ())
//! });
//! assert!(trials.len() > 20);
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod agents;
mod budgets;
pub mod context;
mod events;
pub mod faults;
pub mod fixtures;
mod identity;
mod isolation;
mod knowledge;
mod logs;
mod org;
#[cfg(feature = "http")]
pub mod receiver;
mod retention;
pub mod retrieval;
mod runs;
mod schedules;
mod webhooks;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use logs::LogCapture;

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
    all.extend(events::cases());
    all.extend(retention::cases());
    all.extend(webhooks::cases());
    all.extend(schedules::cases());
    all.extend(knowledge::cases());
    all
}

/// Every case as a test of its own, named `<backend>::<case>` (so a failing case is named and cases can be
/// filtered), each on a fresh store from `make` (which may also return a guard kept alive for the case) in a
/// runtime of its own. For a backend's test binary with `harness = false`:
///
/// ```no_run
/// use std::sync::Arc;
/// use agentic_core::store::Store;
///
/// fn main() -> std::process::ExitCode {
///     let trials = agentic_core::testing::conformance_trials("memory", || async {
///         (Arc::new(agentic_store_memory::MemoryStore::new()) as Arc<dyn Store>, ())
///     });
///     libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
/// }
/// ```
pub fn conformance_trials<G, F, Fut>(backend: &str, make: F) -> Vec<libtest_mimic::Trial>
where
    G: Send + 'static,
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = (Arc<dyn Store>, G)> + Send + 'static,
{
    cases()
        .into_iter()
        .map(|(name, case)| {
            let make = make.clone();
            libtest_mimic::Trial::test(format!("{backend}::{name}"), move || {
                run_case(async move {
                    let (store, guard) = make().await;
                    case(store).await;
                    drop(guard);
                })
            })
        })
        .collect()
}

/// Runs one case on a runtime of its own, in a spawned task, so that a panic is reported as the case's failure
/// (with its message) rather than ending the whole binary.
pub(crate) fn run_case<F>(case: F) -> Result<(), libtest_mimic::Failed>
where
    F: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime: {e}"))?;
    runtime.block_on(
        async move { tokio::spawn(case).await.map_err(|error| libtest_mimic::Failed::from(error.to_string())) },
    )
}

macro_rules! case {
    ($name:ident) => {
        (stringify!($name), (|store| Box::pin($name(store))) as crate::testing::Case)
    };
}
pub(crate) use case;
