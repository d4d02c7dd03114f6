//! Schedules of one tenant and the claims on them (migration `schedules`): the record is the schedule's JSON, and
//! the columns beside it (`paused`, `wake_at`, `version`, the lease) are what claims filter and fence on.

use agentic_core::clock::Timestamp;
use agentic_core::ids::ScheduleId;
use agentic_core::model::Schedule;
use agentic_core::store::{Page, PageRequest, ScheduleAdvance, ScheduleClaim, ScheduleStore, StoreError, StoreResult};
use async_trait::async_trait;

use crate::error::{corrupt, store_error};
use crate::events::insert_events;
use crate::tenant::{PgTenant, commit};

/// A schedule as stored: its JSON and the version column (which the JSON's own copy may lag behind after a claim).
#[derive(sqlx::FromRow)]
pub(crate) struct ScheduleRow {
    record: serde_json::Value,
    version: i64,
}

impl TryFrom<ScheduleRow> for Schedule {
    type Error = StoreError;

    fn try_from(row: ScheduleRow) -> Result<Self, Self::Error> {
        let mut schedule: Schedule =
            serde_json::from_value(row.record).map_err(|e| corrupt(format!("a schedule record: {e}")))?;
        schedule.version = u64::try_from(row.version).map_err(|_| corrupt("a negative schedule version".into()))?;
        Ok(schedule)
    }
}

fn record(schedule: &Schedule) -> StoreResult<serde_json::Value> {
    serde_json::to_value(schedule).map_err(|e| corrupt(format!("a schedule record: {e}")))
}

fn version(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl PgTenant {
    /// Whether the tenant has schedule `id` (to tell "no such schedule" from a write that did not match).
    async fn exists(&self, tx: &mut sqlx::Transaction<'static, sqlx::Postgres>, id: ScheduleId) -> StoreResult<bool> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM schedules WHERE tenant_id = $1 AND id = $2)")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| store_error(e, "the schedule"))
    }
}

#[async_trait]
impl ScheduleStore for PgTenant {
    async fn insert_schedule(&self, schedule: &Schedule) -> StoreResult<()> {
        let schedule = Schedule { tenant_id: self.tenant, ..schedule.clone() };
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO schedules (tenant_id, id, project_id, record, paused, wake_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(self.uuid())
        .bind(schedule.id.as_uuid())
        .bind(schedule.project_id.as_uuid())
        .bind(record(&schedule)?)
        .bind(schedule.paused)
        .bind(schedule.wake_at)
        .bind(version(schedule.version))
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "a schedule with this id"))?;
        commit(tx).await
    }

    async fn get_schedule(&self, id: ScheduleId) -> StoreResult<Option<Schedule>> {
        let mut tx = self.begin().await?;
        let row: Option<ScheduleRow> =
            sqlx::query_as("SELECT record, version FROM schedules WHERE tenant_id = $1 AND id = $2")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the schedule"))?;
        commit(tx).await?;
        row.map(Schedule::try_from).transpose()
    }

    async fn list_schedules(&self, page: &PageRequest) -> StoreResult<Page<Schedule>> {
        let limit = page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<ScheduleRow> = sqlx::query_as(
            "SELECT record, version FROM schedules WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) \
             ORDER BY id LIMIT $3",
        )
        .bind(self.uuid())
        .bind(page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "schedules"))?;
        commit(tx).await?;
        let schedules = rows.into_iter().map(Schedule::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(schedules, limit, |s| s.id.as_uuid()))
    }

    async fn update_schedule(
        &self,
        schedule: &Schedule,
        events: &[agentic_core::events::Event],
        at: Timestamp,
    ) -> StoreResult<Option<Schedule>> {
        let after =
            Schedule { tenant_id: self.tenant, version: schedule.version + 1, updated_at: at, ..schedule.clone() };
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE schedules SET project_id = $4, record = $5, paused = $6, wake_at = $7, version = $3 + 1, \
             lease_owner = NULL, lease_until = NULL WHERE tenant_id = $1 AND id = $2 AND version = $3",
        )
        .bind(self.uuid())
        .bind(schedule.id.as_uuid())
        .bind(version(schedule.version))
        .bind(after.project_id.as_uuid())
        .bind(record(&after)?)
        .bind(after.paused)
        .bind(after.wake_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the schedule's project"))?
        .rows_affected();
        if updated == 0 {
            let exists = self.exists(&mut tx, schedule.id).await?;
            commit(tx).await?;
            return if exists { Err(StoreError::conflict("a newer version of the schedule")) } else { Ok(None) };
        }
        insert_events(&mut *tx, self.uuid(), events).await?;
        commit(tx).await?;
        Ok(Some(after))
    }

    async fn delete_schedule(&self, id: ScheduleId) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query("DELETE FROM schedules WHERE tenant_id = $1 AND id = $2")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the schedule"))?
            .rows_affected();
        commit(tx).await?;
        Ok(deleted > 0)
    }

    async fn claim_schedule(
        &self,
        id: ScheduleId,
        holder: &str,
        _now: Timestamp,
        lease: chrono::Duration,
    ) -> StoreResult<Option<ScheduleClaim>> {
        // The lease on the database's clock, as the schedulers' claim measures it.
        let mut tx = self.begin().await?;
        let row: Option<ScheduleRow> = sqlx::query_as(
            "UPDATE schedules SET version = version + 1, lease_owner = $3, lease_until = clock_timestamp() + $4 \
             WHERE tenant_id = $1 AND id = $2 AND (lease_until IS NULL OR lease_until <= clock_timestamp()) \
             RETURNING record, version",
        )
        .bind(self.uuid())
        .bind(id.as_uuid())
        .bind(holder)
        .bind(lease)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the schedule"))?;
        let claim = match row {
            Some(row) => Some(ScheduleClaim::Claimed(Box::new(Schedule::try_from(row)?))),
            None => self.exists(&mut tx, id).await?.then_some(ScheduleClaim::Held),
        };
        commit(tx).await?;
        Ok(claim)
    }

    async fn advance_schedule(&self, advance: &ScheduleAdvance<'_>) -> StoreResult<bool> {
        let schedule = advance.schedule;
        let after = Schedule { tenant_id: self.tenant, version: schedule.version + 1, ..schedule.clone() };
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE schedules SET record = $5, paused = $6, wake_at = $7, version = $3 + 1, lease_owner = NULL, \
             lease_until = NULL WHERE tenant_id = $1 AND id = $2 AND version = $3 AND lease_owner = $4",
        )
        .bind(self.uuid())
        .bind(schedule.id.as_uuid())
        .bind(version(schedule.version))
        .bind(advance.holder)
        .bind(record(&after)?)
        .bind(after.paused)
        .bind(after.wake_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the schedule"))?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        // The outbox: the fires' events with the state that records them.
        insert_events(&mut *tx, self.uuid(), advance.events).await?;
        commit(tx).await?;
        Ok(true)
    }
}

/// The schedulers' cross-tenant claim (`system_claim_schedules`).
pub(crate) async fn claim_due(
    pool: &sqlx::PgPool,
    holder: &str,
    now: Timestamp,
    lease: chrono::Duration,
    limit: u32,
) -> StoreResult<Vec<Schedule>> {
    let rows: Vec<ScheduleRow> = sqlx::query_as("SELECT * FROM system_claim_schedules($1, $2, $3, $4)")
        .bind(holder)
        .bind(now)
        .bind(lease)
        .bind(i32::try_from(limit).unwrap_or(i32::MAX))
        .fetch_all(pool)
        .await
        .map_err(|e| store_error(e, "schedules"))?;
    rows.into_iter().map(Schedule::try_from).collect()
}

/// The earliest wake of any schedule (`system_next_schedule_wake`).
pub(crate) async fn next_wake(pool: &sqlx::PgPool) -> StoreResult<Option<Timestamp>> {
    sqlx::query_scalar("SELECT system_next_schedule_wake()")
        .fetch_one(pool)
        .await
        .map_err(|e| store_error(e, "schedules"))
}
