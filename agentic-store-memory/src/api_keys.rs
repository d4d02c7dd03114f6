//! API keys of one tenant, found by their lookup id.

use agentic_core::clock::Timestamp;
use agentic_core::ids::{ApiKeyId, UserId};
use agentic_core::model::{ApiKey, StoredApiKey};
use agentic_core::store::{ApiKeyStore, Page, PageRequest, StoreError, StoreResult};
use async_trait::async_trait;

use crate::state::page;
use crate::tenant::MemoryTenant;

#[async_trait]
impl ApiKeyStore for MemoryTenant {
    async fn insert_api_key(&self, key: &StoredApiKey) -> StoreResult<()> {
        let mut state = self.state.write();
        if !state.users.contains_key(&(self.tenant, key.key.owner_id)) {
            return Err(StoreError::MissingReference { what: "the key's owner".into() });
        }
        if state.lookups.contains_key(&key.lookup) {
            return Err(StoreError::conflict("an API key with this lookup id"));
        }
        state.lookups.insert(key.lookup.clone(), (self.tenant, key.key.id));
        let mut stored = key.clone();
        stored.key.tenant_id = self.tenant;
        state.api_keys.insert((self.tenant, key.key.id), stored);
        Ok(())
    }

    async fn get_api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        Ok(self.state.read().api_keys.get(&(self.tenant, id)).map(|k| k.key.clone()))
    }

    async fn list_api_keys(&self, owner: Option<UserId>, request: PageRequest) -> StoreResult<Page<ApiKey>> {
        let state = self.state.read();
        let keep = |k: &StoredApiKey| owner.is_none_or(|o| k.key.owner_id == o);
        Ok(page(&state.api_keys, self.tenant, request, keep, |k| k.key.clone(), |k| k.id.as_uuid()))
    }

    async fn revoke_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<Option<ApiKey>> {
        let mut state = self.state.write();
        Ok(state.api_keys.get_mut(&(self.tenant, id)).map(|k| {
            k.key.revoked_at.get_or_insert(at);
            k.key.clone()
        }))
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()> {
        let mut state = self.state.write();
        if let Some(k) = state.api_keys.get_mut(&(self.tenant, id)) {
            k.key.last_used_at = Some(k.key.last_used_at.map_or(at, |prev| prev.max(at)));
        }
        Ok(())
    }
}
