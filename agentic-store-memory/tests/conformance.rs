//! The shared conformance suites on the memory store, one test per case (`cargo test --test conformance --
//! <case>`): the store's, and the context store's.
#![allow(missing_docs)]

use std::sync::Arc;

use agentic_core::store::{ContextStore, Store};
use agentic_store_memory::{MemoryContextStore, MemoryStore};

fn main() -> std::process::ExitCode {
    let mut trials = agentic_core::testing::conformance_trials("memory", || async {
        (Arc::new(MemoryStore::new()) as Arc<dyn Store>, ())
    });
    trials.extend(agentic_core::testing::context::context_trials("memory", || async {
        (Arc::new(MemoryContextStore::new()) as Arc<dyn ContextStore>, (), None)
    }));
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
}
