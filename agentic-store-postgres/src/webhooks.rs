//! Webhook endpoints, deliveries and attempts of one tenant, and the relay's and dispatchers' claims (the
//! `system_*` functions of migration `webhooks`).

use agentic_core::clock::Timestamp;
use agentic_core::events::{Event, EventKind};
use agentic_core::ids::{DeliveryId, EventId, ProjectId, RunId, TenantId, UserId, WebhookId};
use agentic_core::model::{
    Delivery, DeliveryAttempt, DeliveryStatus, EndpointChange, EventPattern, PreviousSecret, WebhookEndpoint,
};
use agentic_core::store::{
    AttemptRecord, ClaimedDelivery, DeliveryQuery, NewDelivery, NextStep, Page, PageRequest, RelayBatch, StoreError,
    StoreResult, Subscription, WebhookStore,
};
use agentic_core::webhooks::cipher::SealedSecret;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{corrupt, store_error};
use crate::events::EventRow;
use crate::tenant::{PgTenant, commit};

#[derive(sqlx::FromRow)]
struct EndpointRow {
    tenant_id: Uuid,
    id: Uuid,
    url: String,
    description: String,
    events: Vec<String>,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<DateTime<Utc>>,
    secret: Vec<u8>,
    previous_secret: Option<Vec<u8>>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn patterns(stored: Vec<String>) -> StoreResult<Vec<EventPattern>> {
    stored.iter().map(|p| EventPattern::parse(p).map_err(|e| corrupt(e.to_string()))).collect()
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = StoreError;

    fn try_from(row: EndpointRow) -> Result<Self, Self::Error> {
        let previous_secret = match (row.previous_secret, row.previous_secret_expires_at) {
            (Some(secret), Some(expires_at)) => Some(PreviousSecret { secret: SealedSecret(secret), expires_at }),
            _ => None,
        };
        Ok(WebhookEndpoint {
            id: WebhookId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            url: row.url,
            description: row.description,
            events: patterns(row.events)?,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            failing_since: row.failing_since,
            secret: SealedSecret(row.secret),
            previous_secret,
            created_by: UserId::from_uuid(row.created_by),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    tenant_id: Uuid,
    id: Uuid,
    endpoint_id: Uuid,
    event_id: Uuid,
    event_type: String,
    status: String,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn event_kind(name: &str) -> StoreResult<EventKind> {
    EventKind::parse(name).ok_or_else(|| corrupt(format!("unknown event type `{name}`")))
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self, Self::Error> {
        Ok(Delivery {
            id: DeliveryId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            endpoint_id: WebhookId::from_uuid(row.endpoint_id),
            event_id: EventId::from_uuid(row.event_id),
            event_type: event_kind(&row.event_type)?,
            status: DeliveryStatus::parse(&row.status)
                .ok_or_else(|| corrupt(format!("unknown delivery status `{}`", row.status)))?,
            attempts: u32::try_from(row.attempts).map_err(|_| corrupt("negative attempts".into()))?,
            next_attempt_at: row.next_attempt_at,
            last_status_code: row.last_status_code.and_then(|c| u16::try_from(c).ok()),
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    number: i32,
    attempted_at: DateTime<Utc>,
    status_code: Option<i32>,
    duration_ms: i32,
    response_body: Option<String>,
    error: Option<String>,
}

impl From<AttemptRow> for DeliveryAttempt {
    fn from(row: AttemptRow) -> Self {
        DeliveryAttempt {
            number: u32::try_from(row.number).unwrap_or(0),
            attempted_at: row.attempted_at,
            status_code: row.status_code.and_then(|c| u16::try_from(c).ok()),
            duration_ms: u32::try_from(row.duration_ms).unwrap_or(0),
            response_body: row.response_body,
            error: row.error,
        }
    }
}

/// A delivery's columns as arrays, the shape `system_complete_relay` and the requeue take.
struct DeliveryColumns {
    ids: Vec<Uuid>,
    tenants: Vec<Uuid>,
    endpoints: Vec<Uuid>,
    events: Vec<Uuid>,
    types: Vec<&'static str>,
    due: Vec<DateTime<Utc>>,
}

impl DeliveryColumns {
    fn of(deliveries: &[NewDelivery]) -> Self {
        Self {
            ids: deliveries.iter().map(|d| d.id.as_uuid()).collect(),
            tenants: deliveries.iter().map(|d| d.tenant_id.as_uuid()).collect(),
            endpoints: deliveries.iter().map(|d| d.endpoint_id.as_uuid()).collect(),
            events: deliveries.iter().map(|d| d.event_id.as_uuid()).collect(),
            types: deliveries.iter().map(|d| d.event_type.as_str()).collect(),
            due: deliveries.iter().map(|d| d.due_at).collect(),
        }
    }
}

#[async_trait]
impl WebhookStore for PgTenant {
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let (previous, expires) = previous_columns(endpoint.previous_secret.as_ref());
        sqlx::query(
            "INSERT INTO webhook_endpoints (tenant_id, id, url, description, events, enabled, disabled_reason, \
             failing_since, secret, previous_secret, previous_secret_expires_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(self.uuid())
        .bind(endpoint.id.as_uuid())
        .bind(&endpoint.url)
        .bind(&endpoint.description)
        .bind(endpoint.events.iter().map(EventPattern::as_str).collect::<Vec<_>>())
        .bind(endpoint.enabled)
        .bind(&endpoint.disabled_reason)
        .bind(endpoint.failing_since)
        .bind(&endpoint.secret.0)
        .bind(previous)
        .bind(expires)
        .bind(endpoint.created_by.as_uuid())
        .bind(endpoint.created_at)
        .bind(endpoint.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "a webhook endpoint"))?;
        commit(tx).await
    }

    async fn get_endpoint(&self, id: WebhookId) -> StoreResult<Option<WebhookEndpoint>> {
        let mut tx = self.begin().await?;
        let row: Option<EndpointRow> =
            sqlx::query_as("SELECT * FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store_error(e, "a webhook endpoint"))?;
        commit(tx).await?;
        row.map(WebhookEndpoint::try_from).transpose()
    }

    async fn list_endpoints(&self, page: &PageRequest) -> StoreResult<Page<WebhookEndpoint>> {
        let limit = page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<EndpointRow> = sqlx::query_as(
            "SELECT * FROM webhook_endpoints WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) \
             ORDER BY id LIMIT $3",
        )
        .bind(self.uuid())
        .bind(page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "webhook endpoints"))?;
        commit(tx).await?;
        let items = rows.into_iter().map(WebhookEndpoint::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |e| e.id.as_uuid()))
    }

    async fn update_endpoint(
        &self,
        id: WebhookId,
        change: &EndpointChange,
        at: Timestamp,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        let (set_secret, secret, previous, expires) = match &change.secret {
            Some((secret, previous)) => {
                let (previous, expires) = previous_columns(previous.as_ref());
                (true, Some(&secret.0), previous, expires)
            }
            None => (false, None, None, None),
        };
        let mut tx = self.begin().await?;
        let row: Option<EndpointRow> = sqlx::query_as(
            "UPDATE webhook_endpoints SET url = coalesce($3, url), description = coalesce($4, description), \
             events = coalesce($5, events), enabled = coalesce($6, enabled), \
             disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END, \
             secret = CASE WHEN $7 THEN $8 ELSE secret END, \
             previous_secret = CASE WHEN $7 THEN $9 ELSE previous_secret END, \
             previous_secret_expires_at = CASE WHEN $7 THEN $10 ELSE previous_secret_expires_at END, \
             updated_at = $11 \
             WHERE tenant_id = $1 AND id = $2 RETURNING *",
        )
        .bind(self.uuid())
        .bind(id.as_uuid())
        .bind(&change.url)
        .bind(&change.description)
        .bind(change.events.as_ref().map(|e| e.iter().map(EventPattern::as_str).collect::<Vec<_>>()))
        .bind(change.enabled)
        .bind(set_secret)
        .bind(secret)
        .bind(previous)
        .bind(expires)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "a webhook endpoint"))?;
        commit(tx).await?;
        row.map(WebhookEndpoint::try_from).transpose()
    }

    async fn delete_endpoint(&self, id: WebhookId) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "a webhook endpoint"))?
            .rows_affected();
        commit(tx).await?;
        Ok(deleted > 0)
    }

    async fn list_deliveries(&self, endpoint: WebhookId, query: &DeliveryQuery) -> StoreResult<Page<Delivery>> {
        let limit = query.page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<DeliveryRow> = sqlx::query_as(
            "SELECT * FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 \
             AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(self.uuid())
        .bind(endpoint.as_uuid())
        .bind(query.status.map(DeliveryStatus::as_str))
        .bind(query.page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "deliveries"))?;
        commit(tx).await?;
        let items = rows.into_iter().map(Delivery::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |d| d.id.as_uuid()))
    }

    async fn get_delivery(&self, id: DeliveryId) -> StoreResult<Option<(Delivery, Vec<DeliveryAttempt>)>> {
        let mut tx = self.begin().await?;
        let row: Option<DeliveryRow> =
            sqlx::query_as("SELECT * FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store_error(e, "a delivery"))?;
        let Some(row) = row else {
            commit(tx).await?;
            return Ok(None);
        };
        let attempts: Vec<AttemptRow> =
            sqlx::query_as("SELECT * FROM webhook_attempts WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY number")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| store_error(e, "delivery attempts"))?;
        commit(tx).await?;
        Ok(Some((Delivery::try_from(row)?, attempts.into_iter().map(DeliveryAttempt::from).collect())))
    }

    async fn requeue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<u64> {
        let mine: Vec<NewDelivery> = deliveries.iter().filter(|d| d.tenant_id == self.tenant).cloned().collect();
        if mine.is_empty() {
            return Ok(0);
        }
        let columns = DeliveryColumns::of(&mine);
        let mut tx = self.begin().await?;
        // Deliveries of events that are gone (retention) or of another endpoint than the tenant's are skipped by
        // the joins.
        let count = sqlx::query(
            "INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_type, status, \
             next_attempt_at, created_at, updated_at) \
             SELECT $1, d.id, d.endpoint_id, d.event_id, d.event_type, 'pending', d.due, d.due, d.due \
             FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[]) \
                  AS d (id, endpoint_id, event_id, event_type, due) \
             JOIN webhook_endpoints w ON w.tenant_id = $1 AND w.id = d.endpoint_id \
             JOIN events e ON e.tenant_id = $1 AND e.id = d.event_id \
             ON CONFLICT (tenant_id, endpoint_id, event_id) DO UPDATE SET status = 'pending', \
             next_attempt_at = excluded.next_attempt_at, round_attempts = 0, updated_at = excluded.updated_at",
        )
        .bind(self.uuid())
        .bind(&columns.ids)
        .bind(&columns.endpoints)
        .bind(&columns.events)
        .bind(&columns.types)
        .bind(&columns.due)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "deliveries"))?
        .rows_affected();
        commit(tx).await?;
        Ok(count)
    }

    async fn record_attempt(&self, record: &AttemptRecord<'_>) -> StoreResult<bool> {
        let next_at = match record.next {
            NextStep::RetryAt(at) => Some(at),
            NextStep::Succeeded | NextStep::Failed => None,
        };
        let (reason, event) = match &record.disable {
            Some((reason, event)) => {
                if event.tenant_id != self.tenant || event.kind != EventKind::WebhookEndpointDisabled {
                    return Err(StoreError::conflict("an event of another tenant or type"));
                }
                (Some(reason.as_str()), Some(event))
            }
            None => (None, None),
        };
        // One round trip (the function binds the tenant itself).
        sqlx::query_scalar(
            "SELECT tenant_record_delivery_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(self.uuid())
        .bind(record.delivery.as_uuid())
        .bind(record.worker)
        .bind(i32::try_from(record.attempt).unwrap_or(i32::MAX))
        .bind(record.next.status().as_str())
        .bind(next_at)
        .bind(record.log.attempted_at)
        .bind(record.log.status_code.map(i32::from))
        .bind(i32::try_from(record.log.duration_ms).unwrap_or(i32::MAX))
        .bind(&record.log.response_body)
        .bind(&record.log.error)
        .bind(reason)
        .bind(event.map(|e| e.id.as_uuid()))
        .bind(event.map(|e| &e.data))
        .bind(event.map(|e| e.occurred_at))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| store_error(e, "a delivery attempt"))
    }
}

fn previous_columns(previous: Option<&PreviousSecret>) -> (Option<&Vec<u8>>, Option<DateTime<Utc>>) {
    match previous {
        Some(previous) => (Some(&previous.secret.0), Some(previous.expires_at)),
        None => (None, None),
    }
}

/// [`SystemStore::claim_relay`](agentic_core::store::SystemStore::claim_relay).
pub(crate) async fn claim_relay(pool: &PgPool, lease: chrono::Duration, limit: u32) -> StoreResult<RelayBatch> {
    let rows: Vec<EventRow> = sqlx::query_as("SELECT * FROM system_claim_relay($1, $2)")
        .bind(lease)
        .bind(i32::try_from(limit).unwrap_or(i32::MAX))
        .fetch_all(pool)
        .await
        .map_err(|e| store_error(e, "events to relay"))?;
    let mut events = rows.into_iter().map(Event::try_from).collect::<StoreResult<Vec<_>>>()?;
    events.sort_by_key(|e| e.id);
    let mut tenants: Vec<Uuid> = events.iter().map(|e| e.tenant_id.as_uuid()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    if tenants.is_empty() {
        return Ok(RelayBatch::default());
    }
    let subscriptions: Vec<(Uuid, Uuid, Vec<String>)> = sqlx::query_as("SELECT * FROM system_relay_subscriptions($1)")
        .bind(&tenants)
        .fetch_all(pool)
        .await
        .map_err(|e| store_error(e, "webhook subscriptions"))?;
    let subscriptions = subscriptions
        .into_iter()
        .map(|(tenant, id, events)| {
            Ok(Subscription {
                tenant_id: TenantId::from_uuid(tenant),
                endpoint_id: WebhookId::from_uuid(id),
                events: patterns(events)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(RelayBatch { events, subscriptions })
}

/// [`SystemStore::complete_relay`](agentic_core::store::SystemStore::complete_relay).
pub(crate) async fn complete_relay(
    pool: &PgPool,
    events: &[(TenantId, EventId)],
    deliveries: &[NewDelivery],
) -> StoreResult<()> {
    let columns = DeliveryColumns::of(deliveries);
    sqlx::query("SELECT system_complete_relay($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(events.iter().map(|(t, _)| t.as_uuid()).collect::<Vec<_>>())
        .bind(events.iter().map(|(_, e)| e.as_uuid()).collect::<Vec<_>>())
        .bind(&columns.ids)
        .bind(&columns.tenants)
        .bind(&columns.endpoints)
        .bind(&columns.events)
        .bind(&columns.types)
        .bind(&columns.due)
        .execute(pool)
        .await
        .map_err(|e| store_error(e, "relayed events"))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    delivery: DeliveryRow,
    round_attempts: i32,
    event_project: Option<Uuid>,
    event_run: Option<Uuid>,
    event_data: serde_json::Value,
    event_occurred_at: DateTime<Utc>,
    url: String,
    secret: Vec<u8>,
    previous_secret: Option<Vec<u8>>,
    failing_since: Option<DateTime<Utc>>,
}

/// [`SystemStore::claim_deliveries`](agentic_core::store::SystemStore::claim_deliveries).
pub(crate) async fn claim_deliveries(
    pool: &PgPool,
    worker: &str,
    lease: chrono::Duration,
    limit: u32,
) -> StoreResult<Vec<ClaimedDelivery>> {
    let rows: Vec<ClaimedRow> = sqlx::query_as("SELECT * FROM system_claim_deliveries($1, $2, $3)")
        .bind(worker)
        .bind(lease)
        .bind(i32::try_from(limit).unwrap_or(i32::MAX))
        .fetch_all(pool)
        .await
        .map_err(|e| store_error(e, "deliveries"))?;
    rows.into_iter()
        .map(|row| {
            let delivery = Delivery::try_from(row.delivery)?;
            let event = Event {
                id: delivery.event_id,
                tenant_id: delivery.tenant_id,
                kind: delivery.event_type,
                project_id: row.event_project.map(ProjectId::from_uuid),
                run_id: row.event_run.map(RunId::from_uuid),
                data: row.event_data,
                occurred_at: row.event_occurred_at,
            };
            Ok(ClaimedDelivery {
                delivery,
                round_attempts: u32::try_from(row.round_attempts).unwrap_or(0),
                event,
                url: row.url,
                secret: SealedSecret(row.secret),
                previous_secret: row.previous_secret.map(SealedSecret),
                failing_since: row.failing_since,
            })
        })
        .collect()
}

/// [`SystemStore::count_pending_deliveries`](agentic_core::store::SystemStore::count_pending_deliveries).
pub(crate) async fn count_pending(pool: &PgPool) -> StoreResult<u64> {
    let count: i64 = sqlx::query_scalar("SELECT system_count_pending_deliveries()")
        .fetch_one(pool)
        .await
        .map_err(|e| store_error(e, "deliveries"))?;
    Ok(u64::try_from(count).unwrap_or(0))
}
