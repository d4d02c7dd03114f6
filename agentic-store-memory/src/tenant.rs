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
    pub(crate) knowledge: Arc<crate::knowledge::KnowledgeBases>,
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

    async fn update_tenant(
        &self,
        name: Option<&str>,
        plan: Option<agentic_core::model::Plan>,
        at: agentic_core::clock::Timestamp,
    ) -> StoreResult<Option<Tenant>> {
        let mut state = self.state.write();
        let Some(tenant) = state.tenants.get_mut(&self.tenant) else { return Ok(None) };
        if let Some(name) = name {
            name.clone_into(&mut tenant.name);
        }
        if let Some(plan) = plan {
            tenant.plan = plan;
        }
        tenant.updated_at = at;
        Ok(Some(tenant.clone()))
    }

    async fn merge_tenant_settings(
        &self,
        patch: &serde_json::Map<String, serde_json::Value>,
        at: agentic_core::clock::Timestamp,
    ) -> StoreResult<Option<Tenant>> {
        let mut state = self.state.write();
        let Some(tenant) = state.tenants.get_mut(&self.tenant) else { return Ok(None) };
        if !tenant.settings.is_object() {
            tenant.settings = serde_json::Value::Object(serde_json::Map::new());
        }
        if let Some(settings) = tenant.settings.as_object_mut() {
            settings.extend(patch.clone());
        }
        tenant.updated_at = at;
        Ok(Some(tenant.clone()))
    }
}
