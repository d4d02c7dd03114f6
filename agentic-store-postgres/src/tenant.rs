//! The tenant-scoped handle and its transactions.

use agentic_core::ids::TenantId;
use agentic_core::model::Tenant;
use agentic_core::store::{StoreResult, TenantStore};
use async_trait::async_trait;
use sqlx::{PgPool, Postgres, Transaction};

use crate::error::store_error;
use crate::rows::TenantRow;

/// Every method runs in a transaction that first binds `app.current_tenant` (see [`PgTenant::begin`]), and every
/// query also filters by `tenant_id` itself.
pub(crate) struct PgTenant {
    pub(crate) pool: PgPool,
    pub(crate) tenant: TenantId,
}

impl PgTenant {
    pub(crate) fn new(pool: PgPool, tenant: TenantId) -> Self {
        Self { pool, tenant }
    }

    /// Opens a transaction scoped to the tenant: row-level security then admits only its rows. The setting is
    /// transaction-local (`is_local = true`), so it ends with the transaction and never reaches the next user of
    /// the pooled connection.
    pub(crate) async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await.map_err(|e| store_error(e, "a transaction"))?;
        sqlx::query("SELECT set_config('app.current_tenant', $1, true)")
            .bind(self.tenant.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the tenant scope"))?;
        Ok(tx)
    }

    /// The tenant id as a UUID, for binding.
    pub(crate) fn uuid(&self) -> uuid::Uuid {
        self.tenant.as_uuid()
    }
}

pub(crate) async fn commit(tx: Transaction<'static, Postgres>) -> StoreResult<()> {
    tx.commit().await.map_err(|e| store_error(e, "the transaction"))
}

#[async_trait]
impl TenantStore for PgTenant {
    fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    async fn get_tenant(&self) -> StoreResult<Option<Tenant>> {
        // Read on every run submission (its approval policy): one round trip (see migration `single_statement_hot_path`).
        let row: Option<TenantRow> = sqlx::query_as("SELECT * FROM tenant_get_tenant($1)")
            .bind(self.uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "the tenant"))?;
        row.map(Tenant::try_from).transpose()
    }

    async fn update_tenant(
        &self,
        name: Option<&str>,
        plan: Option<agentic_core::model::Plan>,
        at: agentic_core::clock::Timestamp,
    ) -> StoreResult<Option<Tenant>> {
        let mut tx = self.begin().await?;
        let row: Option<TenantRow> = sqlx::query_as(
            "UPDATE tenants SET name = coalesce($2, name), plan = coalesce($3, plan), updated_at = $4 \
             WHERE id = $1 RETURNING *",
        )
        .bind(self.uuid())
        .bind(name)
        .bind(plan.map(agentic_core::model::Plan::as_str))
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the tenant"))?;
        commit(tx).await?;
        row.map(Tenant::try_from).transpose()
    }

    async fn merge_tenant_settings(
        &self,
        patch: &serde_json::Map<String, serde_json::Value>,
        at: agentic_core::clock::Timestamp,
    ) -> StoreResult<Option<Tenant>> {
        let mut tx = self.begin().await?;
        // `||` on two objects (settings is one by a CHECK) keeps the left's keys the right does not set: one
        // statement, so writers of other keys lose nothing.
        let row: Option<TenantRow> =
            sqlx::query_as("UPDATE tenants SET settings = settings || $2, updated_at = $3 WHERE id = $1 RETURNING *")
                .bind(self.uuid())
                .bind(sqlx::types::Json(patch))
                .bind(at)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the tenant"))?;
        commit(tx).await?;
        row.map(Tenant::try_from).transpose()
    }
}
