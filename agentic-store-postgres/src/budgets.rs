//! Budgets and costs: one call of a locking PL/pgSQL function per decision (see migration 2).

use agentic_core::clock::Timestamp;
use agentic_core::events::Event;
use agentic_core::ids::{EventId, ProjectId, ReservationId};
use agentic_core::model::{
    BudgetStatus, BudgetThreshold, CostFilter, CostGroupBy, CostRecord, CostTotals, Money, Reservation, ReserveOutcome,
    Settlement,
};
use agentic_core::store::{BudgetStore, StoreError, StoreResult};
use async_trait::async_trait;

use crate::error::{corrupt, store_error};
use crate::events::EventColumns;
use crate::tenant::{PgTenant, commit};

fn non_negative(value: u64, what: &str) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| corrupt(format!("{what} does not fit a bigint")))
}

fn status(budget: Option<i64>, spent: i64, held: i64) -> BudgetStatus {
    BudgetStatus {
        budget: budget.map(Money::from_nanos),
        spent: Money::from_nanos(spent),
        reserved: Money::from_nanos(held),
    }
}

#[derive(sqlx::FromRow)]
struct TotalsRow {
    key: Option<String>,
    calls: i64,
    input_tokens: i64,
    output_tokens: i64,
    cached_input_tokens: i64,
    cost_nanos: i64,
}

impl From<TotalsRow> for CostTotals {
    fn from(row: TotalsRow) -> Self {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        CostTotals {
            key: row.key,
            calls: count(row.calls),
            input_tokens: count(row.input_tokens),
            output_tokens: count(row.output_tokens),
            cached_input_tokens: count(row.cached_input_tokens),
            cost: Money::from_nanos(row.cost_nanos),
        }
    }
}

/// A cost summary's query: the records still kept and the roll-ups of those past their retention (a roll-up
/// counting as of its day's start, `created_at`, against the filter), summed by `$key` and in all, in one scan
/// (`GROUPING SETS`). The total is the row whose key is NULL, first; no group's key is NULL.
macro_rules! summary {
    ($key:literal) => {
        concat!(
            "SELECT key, COALESCE(sum(calls), 0)::bigint AS calls, COALESCE(sum(input_tokens), 0)::bigint AS input_tokens, ",
            "COALESCE(sum(output_tokens), 0)::bigint AS output_tokens, ",
            "COALESCE(sum(cached_input_tokens), 0)::bigint AS cached_input_tokens, ",
            "COALESCE(sum(cost_nanos), 0)::bigint AS cost_nanos FROM (SELECT ",
            $key,
            " AS key, calls, input_tokens, output_tokens, cached_input_tokens, cost_nanos FROM (",
            "SELECT project_id, agent, model, provider, created_at, 1 AS calls, input_tokens, output_tokens, ",
            "cached_input_tokens, cost_nanos FROM cost_records WHERE tenant_id = $1 ",
            "AND ($2::uuid IS NULL OR project_id = $2) ",
            "AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4) ",
            "UNION ALL SELECT project_id, agent, model, provider, day::timestamp AT TIME ZONE 'UTC', calls, ",
            "input_tokens, output_tokens, cached_input_tokens, cost_nanos FROM cost_rollups WHERE tenant_id = $1 ",
            "AND ($2::uuid IS NULL OR project_id = $2) ",
            "AND ($3::timestamptz IS NULL OR day::timestamp AT TIME ZONE 'UTC' >= $3) ",
            "AND ($4::timestamptz IS NULL OR day::timestamp AT TIME ZONE 'UTC' < $4)",
            ") AS r) AS c GROUP BY GROUPING SETS ((key), ()) ORDER BY key NULLS FIRST"
        )
    };
}

#[async_trait]
impl BudgetStore for PgTenant {
    async fn reserve(&self, reservation: &Reservation, now: Timestamp) -> StoreResult<ReserveOutcome> {
        // One round trip (see migration `single_statement_hot_path`).
        let row: Option<(bool, Option<i64>, i64, i64)> =
            sqlx::query_as("SELECT reserved, budget, spent, held FROM tenant_budget_reserve($1, $2, $3, $4, $5, $6)")
                .bind(self.uuid())
                .bind(reservation.id.as_uuid())
                .bind(reservation.project_id.as_uuid())
                .bind(reservation.amount.nanos())
                .bind(reservation.expires_at)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| store_error(e, "a reservation with this id"))?;
        match row {
            None => Err(StoreError::MissingReference { what: "the project".into() }),
            Some((true, ..)) => {
                Ok(ReserveOutcome::Reserved(Reservation { tenant_id: self.tenant, ..reservation.clone() }))
            }
            Some((false, budget, spent, held)) => Ok(ReserveOutcome::Refused(status(budget, spent, held))),
        }
    }

    async fn settle(
        &self,
        reservation: ReservationId,
        record: &CostRecord,
        also: &[Event],
        now: Timestamp,
    ) -> StoreResult<Settlement> {
        // One round trip (see migration `single_statement_hot_path`); `also` and the events of the lines it may
        // cross are stored by the same call (migrations `outbox_run_ends`, `settle_events`), the lines' under ids
        // made here.
        let (warning_id, exceeded_id) = (EventId::new(), EventId::new());
        let also = EventColumns::of(also);
        let (budget, spent, held, warning, exceeded): (Option<i64>, i64, i64, bool, bool) = also.bind_as(sqlx::query_as(
            "SELECT budget, spent, held, crossed_warning, crossed_exceeded \
             FROM tenant_budget_settle($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24)",
        )
        .bind(self.uuid())
        .bind(reservation.as_uuid())
        .bind(record.id.as_uuid())
        .bind(record.project_id.as_uuid())
        .bind(record.run_id.map(|id| id.as_uuid()))
        .bind(&record.agent)
        .bind(&record.operation)
        .bind(&record.provider)
        .bind(&record.model)
        .bind(non_negative(record.input_tokens, "input tokens")?)
        .bind(non_negative(record.output_tokens, "output tokens")?)
        .bind(non_negative(record.cached_input_tokens, "cached input tokens")?)
        .bind(record.cost.nanos())
        .bind(non_negative(record.latency_ms, "latency")?)
        .bind(record.created_at)
        .bind(now)
        .bind(warning_id.as_uuid())
        .bind(exceeded_id.as_uuid()))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| store_error(e, "a cost record with this id"))?;
        let status = status(budget, spent, held);
        let mut crossed = Vec::new();
        let mut events = Vec::new();
        for (was_crossed, line, id) in
            [(warning, BudgetThreshold::Warning, warning_id), (exceeded, BudgetThreshold::Exceeded, exceeded_id)]
        {
            if was_crossed {
                crossed.push(line);
                // The function stored this event with its data built in SQL; the same data, built here.
                let event = Event::budget_line_crossed(self.tenant, record.project_id, line, &status, now);
                events.push(Event { id, ..event });
            }
        }
        Ok(Settlement { status, crossed, events })
    }

    async fn release(&self, reservation: ReservationId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM budget_reservations WHERE tenant_id = $1 AND id = $2")
            .bind(self.uuid())
            .bind(reservation.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the reservation"))?;
        commit(tx).await
    }

    async fn budget_status(&self, project: ProjectId, now: Timestamp) -> StoreResult<Option<BudgetStatus>> {
        let mut tx = self.begin().await?;
        let row: Option<(Option<i64>, i64, i64)> = sqlx::query_as(
            "SELECT p.budget_nanos, p.spent_nanos, COALESCE((SELECT sum(r.amount_nanos) FROM budget_reservations r \
             WHERE r.tenant_id = p.tenant_id AND r.project_id = p.id AND r.expires_at > $3), 0)::bigint \
             FROM projects p WHERE p.tenant_id = $1 AND p.id = $2",
        )
        .bind(self.uuid())
        .bind(project.as_uuid())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the project"))?;
        commit(tx).await?;
        Ok(row.map(|(budget, spent, held)| status(budget, spent, held)))
    }

    async fn run_costs(&self, run: agentic_core::ids::RunId) -> StoreResult<Vec<CostRecord>> {
        let mut tx = self.begin().await?;
        let rows: Vec<CostRecordRow> =
            sqlx::query_as("SELECT * FROM cost_records WHERE tenant_id = $1 AND run_id = $2 ORDER BY created_at, id")
                .bind(self.uuid())
                .bind(run.as_uuid())
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| store_error(e, "cost records"))?;
        crate::tenant::commit(tx).await?;
        Ok(rows.into_iter().map(CostRecord::from).collect())
    }

    async fn cost_summary(
        &self,
        filter: CostFilter,
        group_by: Option<CostGroupBy>,
    ) -> StoreResult<(CostTotals, Vec<CostTotals>)> {
        // Without a grouping every row has the one (NULL) key: the empty set and the key's set both give the total.
        let sql = match group_by {
            None => summary!("NULL::text"),
            Some(CostGroupBy::Project) => summary!("project_id::text"),
            Some(CostGroupBy::Agent) => summary!("COALESCE(agent, 'unassigned')"),
            Some(CostGroupBy::Model) => summary!("model"),
            Some(CostGroupBy::Provider) => summary!("provider"),
            Some(CostGroupBy::Day) => summary!("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
            Some(CostGroupBy::DayAgent) => {
                summary!("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' ' || COALESCE(agent, 'unassigned')")
            }
        };
        let mut tx = self.begin().await?;
        let rows: Vec<TotalsRow> = sqlx::query_as(sql)
            .bind(self.uuid())
            .bind(filter.project.map(|p| p.as_uuid()))
            .bind(filter.from)
            .bind(filter.to)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| store_error(e, "cost records"))?;
        commit(tx).await?;
        // The grand total is the first row without a key (with no grouping, a second one is the same sum).
        let (totals, groups): (Vec<CostTotals>, Vec<CostTotals>) =
            rows.into_iter().map(CostTotals::from).partition(|row| row.key.is_none());
        Ok((totals.into_iter().next().unwrap_or_default(), groups))
    }
}

/// A row of `cost_records`.
#[derive(sqlx::FromRow)]
struct CostRecordRow {
    tenant_id: uuid::Uuid,
    id: uuid::Uuid,
    project_id: uuid::Uuid,
    run_id: Option<uuid::Uuid>,
    agent: Option<String>,
    operation: String,
    provider: String,
    model: String,
    input_tokens: i64,
    output_tokens: i64,
    cached_input_tokens: i64,
    cost_nanos: i64,
    latency_ms: i64,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<CostRecordRow> for CostRecord {
    fn from(row: CostRecordRow) -> Self {
        // The table's CHECKs keep the counts non-negative.
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        CostRecord {
            id: agentic_core::ids::CostRecordId::from_uuid(row.id),
            tenant_id: agentic_core::ids::TenantId::from_uuid(row.tenant_id),
            project_id: ProjectId::from_uuid(row.project_id),
            run_id: row.run_id.map(agentic_core::ids::RunId::from_uuid),
            agent: row.agent,
            operation: row.operation,
            provider: row.provider,
            model: row.model,
            input_tokens: count(row.input_tokens),
            output_tokens: count(row.output_tokens),
            cached_input_tokens: count(row.cached_input_tokens),
            cost: Money::from_nanos(row.cost_nanos),
            latency_ms: count(row.latency_ms),
            created_at: row.created_at,
        }
    }
}
