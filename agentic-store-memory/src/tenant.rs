//! The tenant-scoped handle: every operation reads and writes only keys that start with its tenant id.

use std::sync::Arc;

use agentic_core::ids::TenantId;
use agentic_core::model::Tenant;
use agentic_core::store::{StoreResult, TenantStore};
use async_trait::async_trait;
use parking_lot::RwLock;

use crate::state::State;

pub(crate) struct MemoryTenant {
    pub(crate) state: Arc<RwLock<State>>,
    pub(crate) tenant: TenantId,
}

#[async_trait]
impl TenantStore for MemoryTenant {
    fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    async fn get_tenant(&self) -> StoreResult<Option<Tenant>> {
        Ok(self.state.read().tenants.get(&self.tenant).cloned())
    }
}
