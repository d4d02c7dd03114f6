//! Store traits: where the platform's state lives.
//!
//! Tenant-owned data is reachable only through a [`TenantStore`] handle bound to one tenant
//! ([`Store::tenant`]); every method of the handle is implicitly filtered by that tenant, so a query without a
//! tenant cannot be written. The few operations that must cross tenants (creating a tenant, finding a tenant by
//! slug at login, finding an API key by its lookup id) are on the narrow [`SystemStore`].
//!
//! Backends (`agentic-store-memory`, `agentic-store-postgres`) implement these traits; the conformance suite in
//! `agentic_core::testing` (feature `testing`) proves they behave alike.

mod agents;
mod api_keys;
mod approvals;
mod budgets;
mod context;
mod departments;
mod error;
mod events;
mod knowledge;
mod page;
mod projects;
mod runs;
mod schedules;
mod system;
mod tenant_cache;
mod users;
mod webhooks;

pub use agents::{AgentStore, StoredAgent};
pub use api_keys::ApiKeyStore;
pub use approvals::{ApprovalStore, Decision};
pub use budgets::BudgetStore;
pub use context::{ContextScope, ContextStore};
pub use departments::DepartmentStore;
pub use error::{StoreError, StoreResult};
pub use events::{EventQuery, EventStore};
pub use knowledge::{DocumentInsert, KnowledgeStore};
pub use page::{Page, PageRequest};
pub use projects::ProjectStore;
pub use runs::{Cancellation, RunQuery, RunStore};
pub use schedules::{ScheduleAdvance, ScheduleClaim, ScheduleStore};
pub use system::{PlatformUsage, ProjectSpending, SystemStore};
pub use tenant_cache::TenantCache;
pub use users::UserStore;
pub use webhooks::{
    AttemptRecord, ClaimedDelivery, DeliveryQuery, NewDelivery, NextStep, RelayBatch, Subscription, WebhookStore,
};

use async_trait::async_trait;

use crate::ids::TenantId;
use crate::model::Tenant;

/// A backend: the system interface plus tenant-scoped handles.
pub trait Store: Send + Sync + 'static {
    /// The cross-tenant operations.
    fn system(&self) -> &dyn SystemStore;

    /// A handle to one tenant's data. Cheap; does not check that the tenant exists.
    fn tenant(&self, tenant: TenantId) -> Box<dyn TenantStore>;

    /// Where projects' shared context lives by default (a platform may be given another, such as Redis).
    fn context_store(&self) -> std::sync::Arc<dyn ContextStore>;
}

/// Everything one tenant owns. Every method is scoped to [`TenantStore::tenant_id`].
#[async_trait]
pub trait TenantStore:
    UserStore
    + ApiKeyStore
    + DepartmentStore
    + ProjectStore
    + BudgetStore
    + AgentStore
    + RunStore
    + ApprovalStore
    + EventStore
    + WebhookStore
    + ScheduleStore
    + KnowledgeStore
    + Send
    + Sync
{
    /// The tenant this handle is bound to.
    fn tenant_id(&self) -> TenantId;

    /// The tenant's own record, or `None` if it does not exist.
    async fn get_tenant(&self) -> StoreResult<Option<Tenant>>;

    /// Renames the tenant and/or changes its plan (`None`: unchanged), at `at`; the record after, or `None` if the
    /// tenant does not exist.
    async fn update_tenant(
        &self,
        name: Option<&str>,
        plan: Option<crate::model::Plan>,
        at: crate::clock::Timestamp,
    ) -> StoreResult<Option<Tenant>>;

    /// Sets the top-level keys of `patch` in the tenant's settings, leaving the other keys as they are, in one
    /// statement (two writers of different keys lose nothing); the record after, or `None` if the tenant does not
    /// exist.
    async fn merge_tenant_settings(
        &self,
        patch: &serde_json::Map<String, serde_json::Value>,
        at: crate::clock::Timestamp,
    ) -> StoreResult<Option<Tenant>>;
}
