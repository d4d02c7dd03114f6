//! Events of one tenant.

use agentic_core::events::{Event, EventKind};
use agentic_core::ids::{EventId, ProjectId, RunId, TenantId};
use agentic_core::store::{EventQuery, EventStore, Page, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{corrupt, store_error};
use crate::tenant::{PgTenant, commit};

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    tenant_id: Uuid,
    id: Uuid,
    #[sqlx(rename = "type")]
    kind: String,
    project_id: Option<Uuid>,
    run_id: Option<Uuid>,
    data: serde_json::Value,
    occurred_at: DateTime<Utc>,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let kind = EventKind::parse(&row.kind).ok_or_else(|| corrupt(format!("unknown event type `{}`", row.kind)))?;
        Ok(Event {
            id: EventId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            kind,
            project_id: row.project_id.map(ProjectId::from_uuid),
            run_id: row.run_id.map(RunId::from_uuid),
            data: row.data,
            occurred_at: row.occurred_at,
        })
    }
}

/// The filters of a listing, before its cursor condition.
macro_rules! event_filter {
    () => {
        "SELECT * FROM events WHERE tenant_id = $1 AND ($2::text IS NULL OR type = $2) \
         AND ($3::uuid IS NULL OR project_id = $3) AND ($4::uuid IS NULL OR run_id = $4) AND "
    };
}

#[async_trait]
impl EventStore for PgTenant {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        if events.iter().any(|e| e.tenant_id != self.tenant) {
            return Err(StoreError::conflict("an event of another tenant"));
        }
        if events.is_empty() {
            return Ok(());
        }
        // One round trip (migration `append_events_one_round_trip`).
        insert_events_with(&self.pool, self.uuid(), events, Insert::BindingTenant).await
    }

    async fn list_events(&self, query: &EventQuery) -> StoreResult<Page<Event>> {
        let limit = query.effective_limit();
        let (cursor, sql) = match query.after {
            Some(after) => (Some(after.as_uuid()), concat!(event_filter!(), "id > $5 ORDER BY id LIMIT $6")),
            None => (
                query.before.map(|b| b.as_uuid()),
                concat!(event_filter!(), "($5::uuid IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"),
            ),
        };
        let mut tx = self.begin().await?;
        let rows: Vec<EventRow> = sqlx::query_as(sql)
            .bind(self.uuid())
            .bind(query.kind.map(EventKind::as_str))
            .bind(query.project_id.map(|p| p.as_uuid()))
            .bind(query.run_id.map(|r| r.as_uuid()))
            .bind(cursor)
            .bind(limit as i64 + 1)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| store_error(e, "events"))?;
        commit(tx).await?;
        let events = rows.into_iter().map(Event::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(events, limit, |e| e.id.as_uuid()))
    }
}

/// How [`insert_events_with`] reaches the table.
enum Insert {
    /// Inside a transaction that has bound the tenant already (the outbox).
    InTransaction,
    /// On its own, through `tenant_append_events`, which binds the tenant itself.
    BindingTenant,
}

/// Inserts `events` of `tenant` inside the caller's transaction, which has bound the tenant: the outbox writes an
/// event in the transaction of the change that causes it.
pub(crate) async fn insert_events<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    tenant: Uuid,
    events: &[Event],
) -> StoreResult<()> {
    insert_events_with(executor, tenant, events, Insert::InTransaction).await
}

/// A batch of events as one array per column, the shape every function that stores events takes (its rows are
/// `unnest`ed in one statement).
pub(crate) struct EventColumns<'a> {
    ids: Vec<Uuid>,
    kinds: Vec<&'static str>,
    projects: Vec<Option<Uuid>>,
    runs: Vec<Option<Uuid>>,
    data: Vec<&'a serde_json::Value>,
    times: Vec<DateTime<Utc>>,
}

impl<'a> EventColumns<'a> {
    /// The columns of `events`.
    pub(crate) fn of(events: &'a [Event]) -> Self {
        Self {
            ids: events.iter().map(|e| e.id.as_uuid()).collect(),
            kinds: events.iter().map(|e| e.kind.as_str()).collect(),
            projects: events.iter().map(|e| e.project_id.map(|p| p.as_uuid())).collect(),
            runs: events.iter().map(|e| e.run_id.map(|r| r.as_uuid())).collect(),
            data: events.iter().map(|e| &e.data).collect(),
            times: events.iter().map(|e| e.occurred_at).collect(),
        }
    }

    /// Binds the six arrays (id, type, project, run, data, time), in that order, as the next parameters.
    pub(crate) fn bind<'q, O>(
        &'q self,
        query: sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        query.bind(&self.ids).bind(&self.kinds).bind(&self.projects).bind(&self.runs).bind(&self.data).bind(&self.times)
    }

    /// [`bind`](Self::bind), for a query whose rows are read as a tuple or a struct.
    pub(crate) fn bind_as<'q, O>(
        &'q self,
        query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        query.bind(&self.ids).bind(&self.kinds).bind(&self.projects).bind(&self.runs).bind(&self.data).bind(&self.times)
    }
}

/// One statement for the batch: arrays of each column, unnested.
async fn insert_events_with<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    tenant: Uuid,
    events: &[Event],
    how: Insert,
) -> StoreResult<()> {
    let sql = match how {
        Insert::InTransaction => {
            "INSERT INTO events (tenant_id, id, type, project_id, run_id, data, occurred_at) \
             SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::jsonb[], $7::timestamptz[]) \
             RETURNING true"
        }
        Insert::BindingTenant => "SELECT true FROM tenant_append_events($1, $2, $3, $4, $5, $6, $7)",
    };
    let columns = EventColumns::of(events);
    columns
        .bind(sqlx::query_scalar::<_, bool>(sql).bind(tenant))
        .fetch_all(executor)
        .await
        .map_err(|e| store_error(e, "an event with this id"))?;
    Ok(())
}
