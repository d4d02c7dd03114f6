//! Runs.

use agentic_core::clock::Timestamp;
use agentic_core::events::Event;
use agentic_core::ids::{ProjectId, RunId, ScheduleId, TenantId, UserId};
use agentic_core::model::RiskLevel;
use agentic_core::model::{Money, Run, RunFinish, RunKind, RunLease, RunProgress, RunStatus};
use agentic_core::store::{Cancellation, RunStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{corrupt, store_error};
use crate::tenant::PgTenant;

#[derive(sqlx::FromRow)]
pub(crate) struct RunRow {
    tenant_id: Uuid,
    id: Uuid,
    project_id: Uuid,
    kind: String,
    agent: String,
    input: serde_json::Value,
    status: String,
    risk_level: String,
    requested_by: Uuid,
    output: Option<serde_json::Value>,
    error: Option<String>,
    error_code: Option<String>,
    cost_nanos: i64,
    attempts: i32,
    lease_owner: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
    cancel_requested_at: Option<DateTime<Utc>>,
    idempotency_key: Option<String>,
    schedule_id: Option<Uuid>,
    parent_run_id: Option<Uuid>,
    traceparent: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn status(text: &str) -> StoreResult<RunStatus> {
    match text {
        "queued" => Ok(RunStatus::Queued),
        "running" => Ok(RunStatus::Running),
        "completed" => Ok(RunStatus::Completed),
        "failed" => Ok(RunStatus::Failed),
        "awaiting_approval" => Ok(RunStatus::AwaitingApproval),
        "denied" => Ok(RunStatus::Denied),
        "cancelled" => Ok(RunStatus::Cancelled),
        other => Err(corrupt(format!("run status `{other}`"))),
    }
}

impl TryFrom<RunRow> for Run {
    type Error = agentic_core::store::StoreError;

    fn try_from(row: RunRow) -> Result<Self, Self::Error> {
        let risk_level = match row.risk_level.as_str() {
            "low" => RiskLevel::Low,
            "medium" => RiskLevel::Medium,
            "high" => RiskLevel::High,
            other => return Err(corrupt(format!("run risk `{other}`"))),
        };
        Ok(Run {
            id: RunId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            project_id: ProjectId::from_uuid(row.project_id),
            kind: match row.kind.as_str() {
                "agent" => RunKind::Agent,
                "workflow" => RunKind::Workflow,
                other => return Err(corrupt(format!("run kind `{other}`"))),
            },
            agent: row.agent,
            input: row.input,
            status: status(&row.status)?,
            risk_level,
            requested_by: UserId::from_uuid(row.requested_by),
            output: row.output,
            error: row.error,
            error_code: row.error_code,
            cost: Money::from_nanos(row.cost_nanos),
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            lease_owner: row.lease_owner,
            lease_expires_at: row.lease_expires_at,
            cancel_requested_at: row.cancel_requested_at,
            idempotency_key: row.idempotency_key,
            schedule_id: row.schedule_id.map(ScheduleId::from_uuid),
            parent_run_id: row.parent_run_id.map(RunId::from_uuid),
            traceparent: row.traceparent,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl RunStore for PgTenant {
    async fn insert_run(&self, run: &Run, events: &[agentic_core::events::Event]) -> StoreResult<()> {
        // One round trip (see migrations `single_statement_hot_path`, `run_start_events`).
        insert_run(&self.pool, self.uuid(), run, events).await
    }

    async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>> {
        // Waiters read runs often: one round trip (see migration `single_statement_hot_path`).
        let row: Option<RunRow> = sqlx::query_as("SELECT * FROM tenant_get_run($1, $2)")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "the run"))?;
        row.map(Run::try_from).transpose()
    }

    async fn run_by_idempotency_key(&self, key: &str) -> StoreResult<Option<Run>> {
        let mut tx = self.begin().await?;
        let row: Option<RunRow> = sqlx::query_as("SELECT * FROM runs WHERE tenant_id = $1 AND idempotency_key = $2")
            .bind(self.uuid())
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the run"))?;
        crate::tenant::commit(tx).await?;
        row.map(Run::try_from).transpose()
    }

    async fn list_runs(&self, query: &agentic_core::store::RunQuery) -> StoreResult<agentic_core::store::Page<Run>> {
        let limit = query.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<RunRow> = sqlx::query_as(
            "SELECT * FROM runs WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) \
             AND ($3::text IS NULL OR agent = $3) AND ($4::uuid IS NULL OR project_id = $4) \
             AND ($5::text IS NULL OR kind = $5) AND ($6::uuid IS NULL OR id < $6) \
             AND ($8::uuid IS NULL OR schedule_id = $8) AND ($9::uuid IS NULL OR parent_run_id = $9) \
             ORDER BY id DESC LIMIT $7",
        )
        .bind(self.uuid())
        .bind(query.status.map(|s| s.as_str()))
        .bind(query.agent.as_deref())
        .bind(query.project_id.map(|p| p.as_uuid()))
        .bind(query.kind.map(|k| k.as_str()))
        .bind(query.after.map(|a| a.as_uuid()))
        .bind(limit as i64 + 1)
        .bind(query.schedule_id.map(|s| s.as_uuid()))
        .bind(query.parent_run_id.map(|p| p.as_uuid()))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "runs"))?;
        crate::tenant::commit(tx).await?;
        let runs = rows.into_iter().map(Run::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(agentic_core::store::Page::from_overfetch(runs, limit, |r| r.id.as_uuid()))
    }

    async fn renew_run(
        &self,
        lease: &RunLease<'_>,
        progress: Option<&RunProgress>,
        at: Timestamp,
    ) -> StoreResult<bool> {
        // One round trip, the lease on the database's clock (migration `lease_fencing`).
        sqlx::query_scalar("SELECT tenant_renew_run($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(self.uuid())
            .bind(lease.run.as_uuid())
            .bind(lease.worker)
            .bind(attempt(lease))
            .bind(lease.duration)
            .bind(progress.is_some())
            .bind(progress.map(|p| &p.output))
            .bind(progress.map(|p| p.cost.nanos()))
            .bind(at)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "the run"))
    }

    async fn finish_run(&self, lease: &RunLease<'_>, finish: &RunFinish, at: Timestamp) -> StoreResult<bool> {
        // One round trip (see migration `single_statement_hot_path`).
        // The end's events go in the same call (the outbox, migration `outbox_run_ends`).
        if finish.events.iter().any(|e| e.tenant_id != self.tenant) {
            return Err(StoreError::conflict("an event of another tenant"));
        }
        let events = crate::events::EventColumns::of(&finish.events);
        let query = sqlx::query_scalar(
            "SELECT tenant_finish_run($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(self.uuid())
        .bind(lease.run.as_uuid())
        .bind(lease.worker)
        .bind(attempt(lease))
        .bind(finish.status.as_str())
        .bind(&finish.output)
        .bind(&finish.error)
        .bind(finish.cost.nanos())
        .bind(at);
        let query = events.bind(query).bind(&finish.error_code);
        query.fetch_one(&self.pool).await.map_err(|e| store_error(e, "the run"))
    }

    async fn cancel_run(&self, id: RunId, event: &Event, at: Timestamp) -> StoreResult<Option<Cancellation>> {
        if event.tenant_id != self.tenant {
            return Err(StoreError::conflict("an event of another tenant"));
        }
        let mut tx = self.begin().await?;
        // Locks in the order a decision takes them (its request, then the run), so a cancel racing an approval
        // waits for it instead of deadlocking with it.
        sqlx::query("SELECT 1 FROM approvals WHERE tenant_id = $1 AND run_id = $2 AND status = 'pending' FOR UPDATE")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the approval request"))?;
        let row: Option<RunRow> = sqlx::query_as("SELECT * FROM runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the run"))?;
        let Some(run) = row.map(Run::try_from).transpose()? else { return Ok(None) };
        let sql = match run.status {
            RunStatus::Running => {
                "UPDATE runs SET cancel_requested_at = coalesce(cancel_requested_at, $3), updated_at = $3 \
                 WHERE tenant_id = $1 AND id = $2 RETURNING *"
            }
            RunStatus::Queued | RunStatus::AwaitingApproval => {
                "UPDATE runs SET status = 'cancelled', error = $4, updated_at = $3 \
                 WHERE tenant_id = $1 AND id = $2 RETURNING *"
            }
            _ => return Ok(Some(Cancellation::AlreadyEnded(run))),
        };
        let mut query = sqlx::query_as::<_, RunRow>(sql).bind(self.uuid()).bind(id.as_uuid()).bind(at);
        if run.status != RunStatus::Running {
            query = query.bind(agentic_core::model::CANCELLED);
        }
        let row = query.fetch_one(&mut *tx).await.map_err(|e| store_error(e, "the run"))?;
        let after = Run::try_from(row)?;
        if after.status == RunStatus::Cancelled {
            sqlx::query(
                "UPDATE approvals SET status = 'cancelled', decided_at = $3 \
                 WHERE tenant_id = $1 AND run_id = $2 AND status = 'pending'",
            )
            .bind(self.uuid())
            .bind(id.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the approval request"))?;
            crate::events::insert_events(&mut *tx, self.uuid(), std::slice::from_ref(event)).await?;
        }
        crate::tenant::commit(tx).await?;
        Ok(Some(match after.status {
            RunStatus::Cancelled => Cancellation::Cancelled(after),
            _ => Cancellation::Requested(after),
        }))
    }

    async fn release_run(&self, lease: &RunLease<'_>, at: Timestamp) -> StoreResult<bool> {
        sqlx::query_scalar("SELECT tenant_release_run($1, $2, $3, $4, $5)")
            .bind(self.uuid())
            .bind(lease.run.as_uuid())
            .bind(lease.worker)
            .bind(attempt(lease))
            .bind(at)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "the run"))
    }
}

/// The attempt of a lease as the column stores it (an attempt past `i32::MAX` matches no row).
fn attempt(lease: &RunLease<'_>) -> i32 {
    i32::try_from(lease.attempt).unwrap_or(-1)
}

/// Inserts a run: on the pool as its own statement, or inside the caller's tenant transaction (a gated run goes
/// with its approval request).
pub(crate) async fn insert_run<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    tenant: Uuid,
    run: &Run,
    events: &[agentic_core::events::Event],
) -> StoreResult<()> {
    let key_window = agentic_core::model::IDEMPOTENCY_WINDOW;
    let events = crate::events::EventColumns::of(events);
    events.bind(sqlx::query_scalar::<_, bool>(
        "SELECT true FROM tenant_insert_run($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)",
    )
        .bind(tenant)
        .bind(run.id.as_uuid())
        .bind(run.project_id.as_uuid())
        .bind(&run.agent)
        .bind(&run.input)
        .bind(run.status.as_str())
        .bind(run.risk_level.as_str())
        .bind(run.requested_by.as_uuid())
        .bind(&run.output)
        .bind(&run.error)
        .bind(run.cost.nanos())
        .bind(i32::try_from(run.attempts).unwrap_or(i32::MAX))
        .bind(&run.lease_owner)
        .bind(run.lease_expires_at)
        .bind(run.created_at)
        .bind(run.updated_at)
        .bind(run.kind.as_str())
        .bind(&run.idempotency_key)
        .bind(key_window)
        .bind(run.schedule_id.map(|s| s.as_uuid()))
        .bind(run.parent_run_id.map(|p| p.as_uuid()))
        .bind(&run.error_code)
        .bind(&run.traceparent))
        .fetch_one(executor)
        .await
        .map_err(|e| store_error(e, "a run with this id or idempotency key"))?;
    Ok(())
}
