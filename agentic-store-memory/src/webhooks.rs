//! Webhook endpoints, deliveries and attempts of one tenant, and the relay's and dispatchers' claims.

use std::collections::HashSet;

use agentic_core::clock::Timestamp;
use agentic_core::ids::{DeliveryId, EventId, TenantId, WebhookId};
use agentic_core::model::{Delivery, DeliveryAttempt, DeliveryStatus, EndpointChange, WebhookEndpoint};
use agentic_core::store::{
    AttemptRecord, ClaimedDelivery, DeliveryQuery, NewDelivery, NextStep, Page, PageRequest, RelayBatch, StoreError,
    StoreResult, Subscription, WebhookStore,
};
use async_trait::async_trait;

use crate::state::{State, StoredDelivery, page};
use crate::tenant::MemoryTenant;

#[async_trait]
impl WebhookStore for MemoryTenant {
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<()> {
        let mut state = self.state.write();
        let key = (self.tenant, endpoint.id);
        if state.endpoints.contains_key(&key) {
            return Err(StoreError::conflict("a webhook endpoint with this id"));
        }
        state.endpoints.insert(key, WebhookEndpoint { tenant_id: self.tenant, ..endpoint.clone() });
        Ok(())
    }

    async fn get_endpoint(&self, id: WebhookId) -> StoreResult<Option<WebhookEndpoint>> {
        Ok(self.state.read().endpoints.get(&(self.tenant, id)).cloned())
    }

    async fn list_endpoints(&self, request: &PageRequest) -> StoreResult<Page<WebhookEndpoint>> {
        let state = self.state.read();
        Ok(page(&state.endpoints, self.tenant, *request, |_| true, Clone::clone, |e| e.id.as_uuid()))
    }

    async fn update_endpoint(
        &self,
        id: WebhookId,
        change: &EndpointChange,
        at: Timestamp,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        let mut state = self.state.write();
        let Some(endpoint) = state.endpoints.get_mut(&(self.tenant, id)) else { return Ok(None) };
        if let Some(url) = &change.url {
            endpoint.url.clone_from(url);
        }
        if let Some(description) = &change.description {
            endpoint.description.clone_from(description);
        }
        if let Some(events) = &change.events {
            endpoint.events.clone_from(events);
        }
        if let Some(enabled) = change.enabled {
            endpoint.enabled = enabled;
            if enabled {
                endpoint.disabled_reason = None;
                endpoint.failing_since = None;
            }
        }
        if let Some((secret, previous)) = &change.secret {
            endpoint.secret = secret.clone();
            endpoint.previous_secret.clone_from(previous);
        }
        endpoint.updated_at = at;
        Ok(Some(endpoint.clone()))
    }

    async fn delete_endpoint(&self, id: WebhookId) -> StoreResult<bool> {
        let mut state = self.state.write();
        if state.endpoints.remove(&(self.tenant, id)).is_none() {
            return Ok(false);
        }
        let tenant = self.tenant;
        let deliveries: Vec<_> = state
            .deliveries
            .range(
                (tenant, DeliveryId::from_uuid(uuid::Uuid::nil()))..=(tenant, DeliveryId::from_uuid(uuid::Uuid::max())),
            )
            .filter(|(_, d)| d.delivery.endpoint_id == id)
            .map(|(key, _)| key.1)
            .collect();
        for delivery in deliveries {
            state.remove_delivery(tenant, delivery);
        }
        Ok(true)
    }

    async fn list_deliveries(&self, endpoint: WebhookId, query: &DeliveryQuery) -> StoreResult<Page<Delivery>> {
        let state = self.state.read();
        let limit = query.page.effective_limit();
        let floor = (self.tenant, DeliveryId::from_uuid(uuid::Uuid::nil()));
        let ceiling = match query.page.after {
            Some(after) => std::ops::Bound::Excluded((self.tenant, DeliveryId::from_uuid(after))),
            None => std::ops::Bound::Included((self.tenant, DeliveryId::from_uuid(uuid::Uuid::max()))),
        };
        let items: Vec<Delivery> = state
            .deliveries
            .range((std::ops::Bound::Included(floor), ceiling))
            .rev()
            .map(|(_, d)| &d.delivery)
            .filter(|d| d.endpoint_id == endpoint && query.status.is_none_or(|s| d.status == s))
            .take(limit + 1)
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, limit, |d| d.id.as_uuid()))
    }

    async fn get_delivery(&self, id: DeliveryId) -> StoreResult<Option<(Delivery, Vec<DeliveryAttempt>)>> {
        let state = self.state.read();
        let Some(stored) = state.deliveries.get(&(self.tenant, id)) else { return Ok(None) };
        let attempts =
            state.attempts.range((self.tenant, id, 0)..=(self.tenant, id, u32::MAX)).map(|(_, a)| a.clone()).collect();
        Ok(Some((stored.delivery.clone(), attempts)))
    }

    async fn requeue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<u64> {
        let mut state = self.state.write();
        let mut count = 0;
        for new in deliveries.iter().filter(|d| d.tenant_id == self.tenant) {
            if !state.endpoints.contains_key(&(self.tenant, new.endpoint_id))
                || !state.events.contains_key(&(self.tenant, new.event_id))
            {
                continue;
            }
            let existing = state.delivery_keys.get(&(self.tenant, new.endpoint_id, new.event_id)).copied();
            let stored = match existing.and_then(|id| state.deliveries.get(&(self.tenant, id))) {
                Some(stored) => {
                    let mut stored = stored.clone();
                    stored.delivery.status = DeliveryStatus::Pending;
                    stored.delivery.next_attempt_at = Some(new.due_at);
                    stored.delivery.updated_at = new.due_at;
                    stored.round_attempts = 0;
                    stored
                }
                None => fresh(new),
            };
            state.put_delivery(stored);
            count += 1;
        }
        Ok(count)
    }

    async fn record_attempt(&self, record: &AttemptRecord<'_>) -> StoreResult<bool> {
        let mut state = self.state.write();
        if let Some((_, event)) = &record.disable {
            State::check_events(self.tenant, std::slice::from_ref(event))?;
        }
        let key = (self.tenant, record.delivery);
        let held = |d: &&StoredDelivery| {
            d.lease.as_ref().is_some_and(|(owner, _)| owner == record.worker) && d.delivery.attempts == record.attempt
        };
        let Some(mut stored) = state.deliveries.get(&key).filter(held).cloned() else { return Ok(false) };
        let at = record.log.attempted_at;
        stored.lease = None;
        stored.delivery.status = record.next.status();
        stored.delivery.next_attempt_at = match record.next {
            NextStep::RetryAt(when) => Some(when),
            NextStep::Succeeded | NextStep::Failed => None,
        };
        stored.delivery.last_status_code = record.log.status_code;
        stored.delivery.last_error.clone_from(&record.log.error);
        stored.delivery.updated_at = at;
        let endpoint_id = stored.delivery.endpoint_id;
        state.put_delivery(stored);
        state.attempts.insert((self.tenant, record.delivery, record.attempt), record.log.clone());
        if let Some(endpoint) = state.endpoints.get_mut(&(self.tenant, endpoint_id)) {
            endpoint.failing_since = match record.next {
                NextStep::Succeeded => None,
                NextStep::RetryAt(_) | NextStep::Failed => Some(endpoint.failing_since.unwrap_or(at)),
            };
        }
        let disables = state.endpoints.get(&(self.tenant, endpoint_id)).is_some_and(|e| e.enabled);
        if let (Some((reason, event)), true) = (&record.disable, disables) {
            if let Some(endpoint) = state.endpoints.get_mut(&(self.tenant, endpoint_id)) {
                endpoint.enabled = false;
                endpoint.disabled_reason = Some(reason.clone());
                endpoint.updated_at = at;
            }
            state.store_events(self.tenant, std::slice::from_ref(event));
        }
        Ok(true)
    }
}

/// A new pending delivery.
fn fresh(new: &NewDelivery) -> StoredDelivery {
    StoredDelivery {
        delivery: Delivery {
            id: new.id,
            tenant_id: new.tenant_id,
            endpoint_id: new.endpoint_id,
            event_id: new.event_id,
            event_type: new.event_type,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(new.due_at),
            last_status_code: None,
            last_error: None,
            created_at: new.due_at,
            updated_at: new.due_at,
        },
        round_attempts: 0,
        lease: None,
    }
}

/// [`SystemStore::claim_relay`](agentic_core::store::SystemStore::claim_relay).
pub(crate) fn claim_relay(state: &mut State, now: Timestamp, lease: chrono::Duration, limit: u32) -> RelayBatch {
    let due: Vec<(EventId, TenantId)> = state
        .unrelayed
        .iter()
        .filter(|(_, leased)| leased.is_none_or(|until| until <= now))
        .take(limit as usize)
        .map(|(key, _)| *key)
        .collect();
    let mut batch = RelayBatch::default();
    let mut tenants = HashSet::new();
    for key in due {
        state.unrelayed.insert(key, Some(now + lease));
        if let Some(event) = state.events.get(&(key.1, key.0)) {
            batch.events.push(event.clone());
            tenants.insert(key.1);
        }
    }
    for tenant in tenants {
        let range =
            (tenant, WebhookId::from_uuid(uuid::Uuid::nil()))..=(tenant, WebhookId::from_uuid(uuid::Uuid::max()));
        batch.subscriptions.extend(
            state.endpoints.range(range).filter(|(_, e)| e.enabled).map(|(_, e)| Subscription {
                tenant_id: tenant,
                endpoint_id: e.id,
                events: e.events.clone(),
            }),
        );
    }
    batch
}

/// [`SystemStore::complete_relay`](agentic_core::store::SystemStore::complete_relay).
pub(crate) fn complete_relay(state: &mut State, events: &[(TenantId, EventId)], deliveries: &[NewDelivery]) {
    for new in deliveries {
        let exists = state.delivery_keys.contains_key(&(new.tenant_id, new.endpoint_id, new.event_id));
        let endpoint = state.endpoints.contains_key(&(new.tenant_id, new.endpoint_id));
        if !exists && endpoint && state.events.contains_key(&(new.tenant_id, new.event_id)) {
            state.put_delivery(fresh(new));
        }
    }
    for (tenant, event) in events {
        state.unrelayed.remove(&(*event, *tenant));
    }
}

/// [`SystemStore::claim_deliveries`](agentic_core::store::SystemStore::claim_deliveries).
pub(crate) fn claim_deliveries(
    state: &mut State,
    worker: &str,
    now: Timestamp,
    lease: chrono::Duration,
    limit: u32,
) -> Vec<ClaimedDelivery> {
    let due: Vec<_> = state
        .due_deliveries
        .iter()
        .take_while(|(at, _, _)| *at <= now)
        .filter(|(_, tenant, id)| {
            let endpoint = state.deliveries.get(&(*tenant, *id)).map(|d| d.delivery.endpoint_id);
            endpoint.and_then(|e| state.endpoints.get(&(*tenant, e))).is_some_and(|e| e.enabled)
        })
        .take(limit as usize)
        .map(|(_, tenant, id)| (*tenant, *id))
        .collect();
    let mut claimed = Vec::with_capacity(due.len());
    for key in due {
        let Some(mut stored) = state.deliveries.get(&key).cloned() else { continue };
        let endpoint = state.endpoints.get(&(key.0, stored.delivery.endpoint_id)).cloned();
        let event = state.events.get(&(key.0, stored.delivery.event_id)).cloned();
        let (Some(endpoint), Some(event)) = (endpoint, event) else { continue };
        stored.delivery.attempts += 1;
        stored.round_attempts += 1;
        stored.lease = Some((worker.to_owned(), now + lease));
        claimed.push(ClaimedDelivery {
            delivery: stored.delivery.clone(),
            round_attempts: stored.round_attempts,
            event,
            url: endpoint.url.clone(),
            secret: endpoint.secret.clone(),
            previous_secret: endpoint.previous_secret.filter(|p| p.expires_at > now).map(|p| p.secret),
            failing_since: endpoint.failing_since,
        });
        state.put_delivery(stored);
    }
    claimed
}

/// [`SystemStore::count_pending_deliveries`](agentic_core::store::SystemStore::count_pending_deliveries).
pub(crate) fn count_pending(state: &State) -> u64 {
    // Every pending delivery, and only those, is in the claimable index.
    state.due_deliveries.len() as u64
}
