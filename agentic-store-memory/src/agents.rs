//! The tenant's own agent definitions.

use agentic_core::store::{StoreError, StoreResult};
use async_trait::async_trait;

use crate::tenant::MemoryTenant;

#[async_trait]
impl agentic_core::store::AgentStore for MemoryTenant {
    async fn put_agent(&self, agent: &agentic_core::store::StoredAgent) -> StoreResult<()> {
        let stored = agentic_core::store::StoredAgent { tenant_id: self.tenant, ..agent.clone() };
        let mut state = self.state.write();
        if !state.users.contains_key(&(self.tenant, agent.updated_by)) {
            return Err(StoreError::MissingReference { what: "the user".into() });
        }
        state.agents.insert((self.tenant, agent.key.as_str().to_owned()), stored);
        Ok(())
    }

    async fn get_agent(
        &self,
        key: &agentic_core::agents::AgentKey,
    ) -> StoreResult<Option<agentic_core::store::StoredAgent>> {
        Ok(self.state.read().agents.get(&(self.tenant, key.as_str().to_owned())).cloned())
    }

    async fn delete_agent(&self, key: &agentic_core::agents::AgentKey) -> StoreResult<bool> {
        Ok(self.state.write().agents.remove(&(self.tenant, key.as_str().to_owned())).is_some())
    }

    async fn list_agents(&self) -> StoreResult<Vec<agentic_core::store::StoredAgent>> {
        let state = self.state.read();
        Ok(state
            .agents
            .range((self.tenant, String::new())..)
            .take_while(|((t, _), _)| *t == self.tenant)
            .map(|(_, a)| a.clone())
            .collect())
    }
}
