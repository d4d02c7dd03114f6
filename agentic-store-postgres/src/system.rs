//! The cross-tenant operations, each one call of a `SECURITY DEFINER` function (see the migrations).

use agentic_core::events::Event;
use agentic_core::model::{Slug, StoredApiKey, Tenant, User, UserRecord};
use agentic_core::store::{PlatformUsage, StoreResult, SystemStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PgStore;
use crate::error::store_error;
use crate::rows::{ApiKeyRow, TenantRow, role_names, user};
use crate::tenant::commit;

#[derive(sqlx::FromRow)]
struct KeyWithOwner {
    #[sqlx(flatten)]
    key: ApiKeyRow,
    owner_email: String,
    owner_active: bool,
    owner_roles: Vec<String>,
    owner_created_at: DateTime<Utc>,
    owner_updated_at: DateTime<Utc>,
}

#[async_trait]
impl SystemStore for PgStore {
    async fn create_tenant(&self, tenant: &Tenant, admin: &UserRecord) -> StoreResult<()> {
        insert_tenant(self.pool(), tenant, admin).await
    }

    async fn bootstrap_tenant(&self, tenant: &Tenant, admin: &UserRecord, key: &StoredApiKey) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await.map_err(|e| store_error(e, "a transaction"))?;
        // Replicas starting together on an empty database queue here; the first one creates, the others find a
        // tenant and leave. The lock ends with the transaction.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BOOTSTRAP_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the bootstrap lock"))?;
        let exists: bool = sqlx::query_scalar("SELECT system_has_tenants()")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| store_error(e, "tenants"))?;
        if exists {
            return Ok(false);
        }
        insert_tenant(&mut *tx, tenant, admin).await?;
        sqlx::query("SELECT set_config('app.current_tenant', $1, true)")
            .bind(tenant.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the tenant scope"))?;
        crate::api_keys::insert_api_key(&mut *tx, tenant.id.as_uuid(), key).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn tenant_by_slug(&self, slug: &Slug) -> StoreResult<Option<Tenant>> {
        let row: Option<TenantRow> = sqlx::query_as("SELECT * FROM system_tenant_by_slug($1)")
            .bind(slug.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(|e| store_error(e, "the tenant"))?;
        row.map(Tenant::try_from).transpose()
    }

    async fn has_tenants(&self) -> StoreResult<bool> {
        sqlx::query_scalar("SELECT system_has_tenants()")
            .fetch_one(self.pool())
            .await
            .map_err(|e| store_error(e, "tenants"))
    }

    async fn claim_runs(
        &self,
        worker: &str,
        now: agentic_core::clock::Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<agentic_core::model::Run>> {
        // The lease is measured on the database's clock (migration `lease_fencing`).
        let rows: Vec<crate::runs::RunRow> = sqlx::query_as("SELECT * FROM system_claim_runs($1, $2, $3, $4)")
            .bind(worker)
            .bind(now)
            .bind(lease)
            .bind(i32::try_from(limit).unwrap_or(i32::MAX))
            .fetch_all(self.pool())
            .await
            .map_err(|e| store_error(e, "runs"))?;
        let mut runs = rows.into_iter().map(agentic_core::model::Run::try_from).collect::<StoreResult<Vec<_>>>()?;
        runs.sort_by_key(|r| r.id);
        Ok(runs)
    }

    async fn expire_approvals(
        &self,
        now: agentic_core::clock::Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<agentic_core::store::Decision>> {
        // The expiry and its events in one transaction (the outbox): the events are built here, in Rust, and stored
        // by `system_append_events` before the commit.
        let mut tx = self.pool().begin().await.map_err(|e| store_error(e, "a transaction"))?;
        let rows: Vec<crate::approvals::ApprovalRow> = sqlx::query_as("SELECT * FROM system_expire_approvals($1, $2)")
            .bind(now)
            .bind(i32::try_from(limit).unwrap_or(i32::MAX))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| store_error(e, "approvals"))?;
        let approvals =
            rows.into_iter().map(agentic_core::model::Approval::try_from).collect::<StoreResult<Vec<_>>>()?;
        if approvals.is_empty() {
            return Ok(Vec::new());
        }
        let events: Vec<Event> = approvals.iter().map(Event::approval_decided).collect();
        let tenants: Vec<Uuid> = events.iter().map(|e| e.tenant_id.as_uuid()).collect();
        let columns = crate::events::EventColumns::of(&events);
        columns
            .bind(
                sqlx::query_scalar::<_, bool>("SELECT true FROM system_append_events($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&tenants),
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| store_error(e, "an event with this id"))?;
        commit(tx).await?;
        Ok(approvals
            .into_iter()
            .zip(events)
            .map(|(approval, event)| agentic_core::store::Decision { approval, changed: true, event: Some(event) })
            .collect())
    }

    async fn delete_events_before(&self, cutoff: agentic_core::ids::EventId, limit: u32) -> StoreResult<u64> {
        let deleted: i64 = sqlx::query_scalar("SELECT system_delete_events_before($1, $2)")
            .bind(cutoff.as_uuid())
            .bind(i32::try_from(limit).unwrap_or(i32::MAX))
            .fetch_one(self.pool())
            .await
            .map_err(|e| store_error(e, "events"))?;
        Ok(u64::try_from(deleted).unwrap_or(0))
    }

    async fn delete_runs_ended_before(&self, cutoff: agentic_core::clock::Timestamp, limit: u32) -> StoreResult<u64> {
        self.sweep("SELECT system_delete_runs_ended_before($1, $2)", cutoff, limit, "runs").await
    }

    async fn roll_up_cost_records_before(
        &self,
        cutoff: agentic_core::clock::Timestamp,
        limit: u32,
    ) -> StoreResult<u64> {
        self.sweep("SELECT system_roll_up_cost_records_before($1, $2)", cutoff, limit, "cost records").await
    }

    async fn claim_relay(
        &self,
        _now: agentic_core::clock::Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<agentic_core::store::RelayBatch> {
        // Leases are measured on the database's clock.
        crate::webhooks::claim_relay(self.pool(), lease, limit).await
    }

    async fn complete_relay(
        &self,
        events: &[(agentic_core::ids::TenantId, agentic_core::ids::EventId)],
        deliveries: &[agentic_core::store::NewDelivery],
    ) -> StoreResult<()> {
        crate::webhooks::complete_relay(self.pool(), events, deliveries).await
    }

    async fn claim_deliveries(
        &self,
        worker: &str,
        _now: agentic_core::clock::Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<agentic_core::store::ClaimedDelivery>> {
        crate::webhooks::claim_deliveries(self.pool(), worker, lease, limit).await
    }

    async fn count_pending_deliveries(&self) -> StoreResult<u64> {
        crate::webhooks::count_pending(self.pool()).await
    }

    async fn claim_due_schedules(
        &self,
        holder: &str,
        now: agentic_core::clock::Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<agentic_core::model::Schedule>> {
        crate::schedules::claim_due(self.pool(), holder, now, lease, limit).await
    }

    async fn next_schedule_wake(&self) -> StoreResult<Option<agentic_core::clock::Timestamp>> {
        crate::schedules::next_wake(self.pool()).await
    }

    async fn usage(&self, active_since: agentic_core::clock::Timestamp) -> StoreResult<PlatformUsage> {
        let snapshot: serde_json::Value = sqlx::query_scalar("SELECT system_usage($1)")
            .bind(active_since)
            .fetch_one(self.pool())
            .await
            .map_err(|e| store_error(e, "usage"))?;
        Ok(usage_of(&snapshot))
    }

    async fn api_key_by_lookup(&self, lookup: &str) -> StoreResult<Option<(StoredApiKey, User)>> {
        let row: Option<KeyWithOwner> = sqlx::query_as("SELECT * FROM system_api_key_by_lookup($1)")
            .bind(lookup)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| store_error(e, "the API key"))?;
        let Some(row) = row else { return Ok(None) };
        let owner_id: Uuid = row.key.owner_id;
        let tenant_id: Uuid = row.key.tenant_id;
        let owner = user(
            tenant_id,
            owner_id,
            &row.owner_email,
            row.owner_active,
            &row.owner_roles,
            row.owner_created_at,
            row.owner_updated_at,
        )?;
        Ok(Some((StoredApiKey::try_from(row.key)?, owner)))
    }
}

/// The advisory lock that serialises bootstrapping (an arbitrary constant: "agentic" in ASCII).
const BOOTSTRAP_LOCK: i64 = 0x0061_6765_6e74_6963;

/// Inserts a tenant and its admin through the system function, on the pool or in the caller's transaction.
async fn insert_tenant<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    tenant: &Tenant,
    admin: &UserRecord,
) -> StoreResult<()> {
    sqlx::query("SELECT system_create_tenant($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
        .bind(tenant.id.as_uuid())
        .bind(&tenant.name)
        .bind(tenant.slug.as_str())
        .bind(tenant.plan.as_str())
        .bind(&tenant.settings)
        .bind(tenant.created_at)
        .bind(tenant.updated_at)
        .bind(admin.user.id.as_uuid())
        .bind(admin.user.email.as_str())
        .bind(admin.password_hash.as_phc())
        .bind(role_names(&admin.user.roles))
        .bind(admin.user.created_at)
        .bind(admin.user.updated_at)
        .execute(executor)
        .await
        .map_err(|e| store_error(e, &format!("a tenant with slug `{}`", tenant.slug)))?;
    Ok(())
}

/// Reads `system_usage`'s snapshot; what it cannot read (a status this build does not know) it leaves out.
fn usage_of(snapshot: &serde_json::Value) -> PlatformUsage {
    let count = |key: &str| snapshot[key].as_u64().unwrap_or(0);
    let entries = |key: &str| snapshot[key].as_object().into_iter().flatten();
    PlatformUsage {
        runs_by_status: snapshot["runs_by_status"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| {
                let kind = serde_json::from_value(row["kind"].clone()).ok()?;
                let status = serde_json::from_value(row["status"].clone()).ok()?;
                Some((kind, status, row["n"].as_u64()?))
            })
            .collect(),
        oldest_queued_at: snapshot["oldest_queued_at"].as_str().and_then(|at| at.parse().ok()),
        tenants: count("tenants"),
        projects: snapshot["projects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| {
                Some(agentic_core::store::ProjectSpending {
                    project_id: row["id"].as_str()?.parse().ok()?,
                    spent: agentic_core::model::Money::from_nanos(row["spent"].as_i64()?),
                    budget: row["budget"].as_i64().map(agentic_core::model::Money::from_nanos),
                })
            })
            .collect(),
        active_tenants: count("active_tenants"),
        active_users: count("active_users"),
        storage_bytes: entries("storage_bytes")
            .filter_map(|(tenant, bytes)| Some((tenant.parse().ok()?, bytes.as_u64()?)))
            .collect(),
    }
}

impl PgStore {
    /// Calls a retention sweep (`sql`, taking the cutoff and the batch limit) and returns how many rows it took.
    async fn sweep(
        &self,
        sql: &'static str,
        cutoff: agentic_core::clock::Timestamp,
        limit: u32,
        what: &str,
    ) -> StoreResult<u64> {
        let swept: i64 = sqlx::query_scalar(sql)
            .bind(cutoff)
            .bind(i32::try_from(limit).unwrap_or(i32::MAX))
            .fetch_one(self.pool())
            .await
            .map_err(|e| store_error(e, what))?;
        Ok(u64::try_from(swept).unwrap_or(0))
    }
}
