//! API keys: long-lived credentials for services, scoped to a subset of their creator's permissions.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::PermissionSet;
use crate::ids::{ApiKeyId, TenantId, UserId};
use chrono::{DateTime, Utc};

/// An API key's metadata, as the API shows it. The secret is shown once, at creation, and never stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    /// Id.
    pub id: ApiKeyId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// The user the key acts as; it never has more permissions than this user has now.
    pub owner_id: UserId,
    /// Human label.
    pub name: String,
    /// The non-secret lookup part (`agk_` + 12 characters), to recognise a key in lists and logs.
    pub prefix: String,
    /// Granted permissions; a subset of the owner's when created.
    #[schema(value_type = Vec<crate::model::Permission>)]
    pub scopes: PermissionSet,
    /// After this instant the key is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last successful authentication (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Set when revoked; a revoked key is refused at once.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl ApiKey {
    /// Whether the key may be used at `now`.
    pub fn is_usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// An API key as stores keep it: metadata plus the SHA-256 of the full key text.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredApiKey {
    /// Metadata.
    pub key: ApiKey,
    /// The lookup id (the 12 characters after `agk_`), unique across tenants.
    pub lookup: String,
    /// SHA-256 of the whole key text.
    pub hash: [u8; 32],
}

impl Eq for ApiKey {}

impl std::fmt::Debug for StoredApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredApiKey").field("key", &self.key).field("lookup", &self.lookup).finish_non_exhaustive()
    }
}
