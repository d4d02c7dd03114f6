//! A tenant's own agents.

use agentic_core::agents::{AgentKey, AgentSpec};
use agentic_core::ids::{TenantId, UserId};
use agentic_core::store::{AgentStore, StoreResult, StoredAgent};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{corrupt, store_error};
use crate::tenant::{PgTenant, commit};

#[derive(sqlx::FromRow)]
struct AgentRow {
    tenant_id: Uuid,
    key: String,
    yaml: String,
    spec: serde_json::Value,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
}

impl TryFrom<AgentRow> for StoredAgent {
    type Error = agentic_core::store::StoreError;

    fn try_from(row: AgentRow) -> Result<Self, Self::Error> {
        Ok(StoredAgent {
            tenant_id: TenantId::from_uuid(row.tenant_id),
            key: AgentKey::parse(&row.key).map_err(|e| corrupt(format!("agent key: {e}")))?,
            yaml: row.yaml,
            spec: serde_json::from_value::<AgentSpec>(row.spec).map_err(|e| corrupt(format!("agent spec: {e}")))?,
            updated_by: UserId::from_uuid(row.updated_by),
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl AgentStore for PgTenant {
    async fn put_agent(&self, agent: &StoredAgent) -> StoreResult<()> {
        let spec = serde_json::to_value(&agent.spec).map_err(|e| corrupt(format!("agent spec: {e}")))?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO tenant_agents (tenant_id, key, yaml, spec, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, key) DO UPDATE SET yaml = EXCLUDED.yaml, spec = EXCLUDED.spec, \
             updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
        )
        .bind(self.uuid())
        .bind(agent.key.as_str())
        .bind(&agent.yaml)
        .bind(spec)
        .bind(agent.updated_by.as_uuid())
        .bind(agent.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the agent"))?;
        commit(tx).await
    }

    async fn get_agent(&self, key: &AgentKey) -> StoreResult<Option<StoredAgent>> {
        // Read on every run (twice): one round trip (see migration `single_statement_hot_path`).
        let row: Option<AgentRow> = sqlx::query_as("SELECT * FROM tenant_get_agent($1, $2)")
            .bind(self.uuid())
            .bind(key.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "the agent"))?;
        row.map(StoredAgent::try_from).transpose()
    }

    async fn list_agents(&self) -> StoreResult<Vec<StoredAgent>> {
        let mut tx = self.begin().await?;
        let rows: Vec<AgentRow> = sqlx::query_as(
            "SELECT tenant_id, key, yaml, spec, updated_by, updated_at FROM tenant_agents WHERE tenant_id = $1 ORDER BY key",
        )
        .bind(self.uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "agents"))?;
        commit(tx).await?;
        rows.into_iter().map(StoredAgent::try_from).collect()
    }

    async fn delete_agent(&self, key: &AgentKey) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query("DELETE FROM tenant_agents WHERE tenant_id = $1 AND key = $2")
            .bind(self.uuid())
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the agent"))?
            .rows_affected();
        commit(tx).await?;
        Ok(deleted > 0)
    }
}
