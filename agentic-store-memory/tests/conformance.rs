//! The shared conformance suite on the memory store, one test per case (`cargo test --test conformance -- <case>`).
#![allow(missing_docs)]

use std::sync::Arc;

use agentic_core::store::Store;
use agentic_store_memory::MemoryStore;

fn main() -> std::process::ExitCode {
    let trials = agentic_core::testing::conformance_trials("memory", || async {
        (Arc::new(MemoryStore::new()) as Arc<dyn Store>, ())
    });
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
}
