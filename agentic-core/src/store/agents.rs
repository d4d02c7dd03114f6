//! A tenant's own agents (additions to and overrides of the built-in catalog).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreResult;
use crate::agents::{AgentKey, AgentSpec};
use crate::ids::{TenantId, UserId};

/// An agent a tenant defined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredAgent {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Key.
    pub key: AgentKey,
    /// The YAML as written (kept verbatim, comments included).
    pub yaml: String,
    /// The parsed, validated specification.
    pub spec: AgentSpec,
    /// Who wrote it last.
    pub updated_by: UserId,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// Agents of the handle's tenant.
#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Creates or replaces the agent with this key.
    async fn put_agent(&self, agent: &StoredAgent) -> StoreResult<()>;

    /// The agent with this key.
    async fn get_agent(&self, key: &AgentKey) -> StoreResult<Option<StoredAgent>>;

    /// Every agent of the tenant, by key.
    async fn list_agents(&self) -> StoreResult<Vec<StoredAgent>>;

    /// Deletes the tenant's agent `key` (its own, or its override of a built-in); `false` if it had none.
    async fn delete_agent(&self, key: &AgentKey) -> StoreResult<bool>;
}
