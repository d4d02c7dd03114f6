//! Approval requests, decided in one transaction with their run.

use agentic_core::ids::{ApprovalId, RunId, TenantId, UserId};
use agentic_core::model::{Approval, ApprovalStatus, Run, Verdict};
use agentic_core::store::{ApprovalStore, Decision, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use agentic_core::events::Event;

use crate::error::{corrupt, store_error};
use crate::events::insert_events;
use crate::runs::insert_run;
use crate::tenant::{PgTenant, commit};

#[derive(sqlx::FromRow)]
pub(crate) struct ApprovalRow {
    tenant_id: Uuid,
    id: Uuid,
    run_id: Uuid,
    status: String,
    requested_by: Uuid,
    decided_by: Option<Uuid>,
    comment: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

fn status(text: &str) -> StoreResult<ApprovalStatus> {
    match text {
        "pending" => Ok(ApprovalStatus::Pending),
        "approved" => Ok(ApprovalStatus::Approved),
        "denied" => Ok(ApprovalStatus::Denied),
        "expired" => Ok(ApprovalStatus::Expired),
        "cancelled" => Ok(ApprovalStatus::Cancelled),
        other => Err(corrupt(format!("approval status `{other}`"))),
    }
}

impl TryFrom<ApprovalRow> for Approval {
    type Error = agentic_core::store::StoreError;

    fn try_from(row: ApprovalRow) -> Result<Self, Self::Error> {
        Ok(Approval {
            id: ApprovalId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            run_id: RunId::from_uuid(row.run_id),
            status: status(&row.status)?,
            requested_by: UserId::from_uuid(row.requested_by),
            decided_by: row.decided_by.map(UserId::from_uuid),
            comment: row.comment,
            created_at: row.created_at,
            expires_at: row.expires_at,
            decided_at: row.decided_at,
        })
    }
}

#[async_trait]
impl ApprovalStore for PgTenant {
    async fn insert_gated_run(&self, run: &Run, approval: &Approval) -> StoreResult<Event> {
        let mut tx = self.begin().await?;
        insert_run(&mut *tx, self.uuid(), run, &[]).await?;
        sqlx::query(
            "INSERT INTO approvals (tenant_id, id, run_id, status, requested_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(self.uuid())
        .bind(approval.id.as_uuid())
        .bind(run.id.as_uuid())
        .bind(approval.status.as_str())
        .bind(approval.requested_by.as_uuid())
        .bind(approval.created_at)
        .bind(approval.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "an approval with this id"))?;
        // The outbox: the event in the transaction of the change.
        let event = Event::approval_requested(&Run { tenant_id: self.tenant, ..run.clone() }, approval);
        insert_events(&mut *tx, self.uuid(), std::slice::from_ref(&event)).await?;
        commit(tx).await?;
        Ok(event)
    }

    async fn get_approval(&self, id: ApprovalId) -> StoreResult<Option<Approval>> {
        let mut tx = self.begin().await?;
        let row: Option<ApprovalRow> = sqlx::query_as("SELECT * FROM approvals WHERE tenant_id = $1 AND id = $2")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the approval"))?;
        commit(tx).await?;
        row.map(Approval::try_from).transpose()
    }

    async fn list_approvals(&self, filter: Option<ApprovalStatus>) -> StoreResult<Vec<Approval>> {
        let mut tx = self.begin().await?;
        let rows: Vec<ApprovalRow> = sqlx::query_as(
            "SELECT * FROM approvals WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY id LIMIT 200",
        )
        .bind(self.uuid())
        .bind(filter.map(ApprovalStatus::as_str))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "approvals"))?;
        commit(tx).await?;
        rows.into_iter().map(Approval::try_from).collect()
    }

    async fn decide_approval(&self, id: ApprovalId, verdict: &Verdict) -> StoreResult<Option<Decision>> {
        let at = verdict.at;
        let mut tx = self.begin().await?;
        let row: Option<ApprovalRow> =
            sqlx::query_as("SELECT * FROM approvals WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the approval"))?;
        let Some(row) = row else {
            commit(tx).await?;
            return Ok(None);
        };
        let current = Approval::try_from(row)?;
        if current.status != ApprovalStatus::Pending {
            commit(tx).await?;
            return Ok(Some(Decision { approval: current, changed: false, event: None }));
        }
        let decision = current.decided(verdict);
        let decided = decision.status;
        let (decided_by, comment) = (decision.decided_by.map(|u| u.as_uuid()), decision.comment);
        let row: ApprovalRow = sqlx::query_as(
            "UPDATE approvals SET status = $3, decided_by = $4, comment = $5, decided_at = $6 \
             WHERE tenant_id = $1 AND id = $2 RETURNING *",
        )
        .bind(self.uuid())
        .bind(id.as_uuid())
        .bind(decided.as_str())
        .bind(decided_by)
        .bind(comment)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the approval"))?;
        let (run_status, error) = decided.run_outcome();
        sqlx::query(
            "UPDATE runs SET status = $3, error = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2 AND status = 'awaiting_approval'",
        )
        .bind(self.uuid())
        .bind(current.run_id.as_uuid())
        .bind(run_status.as_str())
        .bind(error)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the run"))?;
        let decided = Approval::try_from(row)?;
        let event = Event::approval_decided(&decided);
        insert_events(&mut *tx, self.uuid(), std::slice::from_ref(&event)).await?;
        commit(tx).await?;
        Ok(Some(Decision { approval: decided, changed: true, event: Some(event) }))
    }
}
