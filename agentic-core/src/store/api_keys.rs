//! API keys of one tenant.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::clock::Timestamp;
use crate::ids::{ApiKeyId, UserId};
use crate::model::{ApiKey, StoredApiKey};

/// API keys of the handle's tenant.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Inserts a key. [`StoreError::Conflict`](super::StoreError::Conflict) if its lookup id is taken.
    async fn insert_api_key(&self, key: &StoredApiKey) -> StoreResult<()>;

    /// A key by id.
    async fn get_api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>>;

    /// A page of keys, oldest first; only `owner`'s when given.
    async fn list_api_keys(&self, owner: Option<UserId>, page: PageRequest) -> StoreResult<Page<ApiKey>>;

    /// Marks a key revoked at `at` (keeping the first revocation time if already revoked) and returns it, or
    /// `None` if there is no such key.
    async fn revoke_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<Option<ApiKey>>;

    /// Records a successful use at `at`.
    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()>;
}
