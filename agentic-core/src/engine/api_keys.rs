//! API keys: creation (scopes within the creator's permissions), listing, revocation.

use secrecy::SecretString;

use crate::Platform;
use crate::api::CreateApiKeyRequest;
use crate::auth::{Principal, api_key};
use crate::error::{Error, Result};
use crate::ids::ApiKeyId;
use crate::model::{ApiKey, Permission, PermissionSet, StoredApiKey, ValidationError, validate_name};
use crate::store::{Page, PageRequest, StoreError};

impl Platform {
    /// Creates an API key acting as the caller. Every scope must be a permission the caller holds now; the key's
    /// text is returned once and only its hash is stored.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        request: CreateApiKeyRequest,
    ) -> Result<(ApiKey, SecretString)> {
        let name = validate_name("name", &request.name, 200)?;
        let scopes: PermissionSet = request.scopes.iter().copied().collect();
        let beyond = principal.permissions.missing_from(scopes);
        if !beyond.is_empty() {
            let names: Vec<&str> = beyond.iter().map(|p| p.as_str()).collect();
            return Err(Error::Forbidden(format!(
                "an API key cannot have scopes its creator lacks: {}",
                names.join(", ")
            )));
        }
        let now = self.inner.clock.now();
        if request.expires_at.is_some_and(|at| at <= now) {
            return Err(ValidationError::new("expires_at", "must be in the future").into());
        }
        let store = self.inner.store.tenant(principal.tenant_id);
        // A lookup-id collision (71 random bits) is astronomically unlikely; retrying once covers it anyway.
        for _ in 0..2 {
            let material = api_key::generate()?;
            let key = StoredApiKey {
                key: ApiKey {
                    id: ApiKeyId::new(),
                    tenant_id: principal.tenant_id,
                    owner_id: principal.user_id,
                    name: name.clone(),
                    prefix: api_key::display_prefix(&material.lookup),
                    scopes,
                    expires_at: request.expires_at,
                    last_used_at: None,
                    revoked_at: None,
                    created_at: now,
                },
                lookup: material.lookup,
                hash: material.hash,
            };
            match store.insert_api_key(&key).await {
                Ok(()) => return Ok((key.key, material.plaintext)),
                Err(StoreError::Conflict { .. }) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(Error::Internal("could not allocate a unique API key id".into()))
    }

    /// A page of API keys: all of the tenant's with `users:manage`, otherwise the caller's own.
    pub async fn list_api_keys(&self, principal: &Principal, page: PageRequest) -> Result<Page<ApiKey>> {
        let owner = (!principal.can(Permission::UsersManage)).then_some(principal.user_id);
        Ok(self.inner.store.tenant(principal.tenant_id).list_api_keys(owner, page).await?)
    }

    /// Revokes a key: one's own, or any of the tenant's with `users:manage`. Revoking twice is harmless.
    pub async fn revoke_api_key(&self, principal: &Principal, id: ApiKeyId) -> Result<ApiKey> {
        let store = self.inner.store.tenant(principal.tenant_id);
        let key = store.get_api_key(id).await?.ok_or(Error::NotFound("API key"))?;
        if key.owner_id != principal.user_id {
            principal.require(Permission::UsersManage)?;
        }
        let now = self.inner.clock.now();
        store.revoke_api_key(id, now).await?.ok_or(Error::NotFound("API key"))
    }
}
