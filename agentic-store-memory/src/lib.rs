//! # agentic-store-memory
//!
//! Every `agentic-core` store trait, in memory: the embedded default of the reference server and a fast test
//! double for host apps. State sits behind one `parking_lot::RwLock`, so each operation is atomic with respect to
//! every other (uniqueness checks and inserts happen under one write lock; there are no check-then-act races).
//! Knowledge bases are the exception: each is a tantivy index in RAM (BM25) with its own locks. Nothing survives
//! the process.
//!
//! ```
//! use std::sync::Arc;
//! use agentic_core::{Platform, store::Store};
//! use agentic_store_memory::MemoryStore;
//!
//! let store = Arc::new(MemoryStore::new());
//! let platform = Platform::builder().store(store.clone()).build().unwrap();
//! # let _ = platform;
//! ```

mod agents;
mod api_keys;
mod approvals;
mod budgets;
mod context;
mod departments;
mod events;
mod knowledge;
mod limiter;
mod projects;
mod retention;
mod runs;
mod schedules;
mod state;
mod system;
mod tenant;
mod users;
mod webhooks;

use std::sync::Arc;

use agentic_core::ids::TenantId;
use agentic_core::store::{Store, SystemStore, TenantStore};
use parking_lot::RwLock;

pub use context::MemoryContextStore;
pub use limiter::MemoryRateLimiter;
use state::State;

/// The in-memory store. Clones share the same state.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
    context: MemoryContextStore,
    knowledge: Arc<knowledge::KnowledgeBases>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for MemoryStore {
    /// Prints the whole state (credentials appear only as redacted hashes), which tests use to prove that no
    /// plaintext secret is kept.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("state", &*self.state.read()).finish()
    }
}

impl Store for MemoryStore {
    fn system(&self) -> &dyn SystemStore {
        self
    }

    fn tenant(&self, tenant: TenantId) -> Box<dyn TenantStore> {
        Box::new(tenant::MemoryTenant {
            state: Arc::clone(&self.state),
            knowledge: Arc::clone(&self.knowledge),
            tenant,
        })
    }

    fn context_store(&self) -> Arc<dyn agentic_core::store::ContextStore> {
        Arc::new(self.context.clone())
    }
}
