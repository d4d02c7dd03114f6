//! Webhook endpoints of one tenant, their deliveries, and what the relay and the dispatchers exchange with the
//! store.
//!
//! The path of an event: stored with its change (the outbox) → claimed by a relay ([`SystemStore::claim_relay`],
//! under a lease) → fed to the host's sink and matched against its tenant's [`Subscription`]s in core →
//! [`SystemStore::complete_relay`] stores a delivery per matching endpoint and marks the events relayed, together →
//! a dispatcher claims due deliveries ([`SystemStore::claim_deliveries`], a lease longer than an attempt) → the
//! attempt is recorded, fenced by the claim ([`WebhookStore::record_attempt`]).
//!
//! [`SystemStore::claim_relay`]: super::SystemStore::claim_relay
//! [`SystemStore::complete_relay`]: super::SystemStore::complete_relay
//! [`SystemStore::claim_deliveries`]: super::SystemStore::claim_deliveries

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::clock::Timestamp;
use crate::events::{Event, EventKind};
use crate::ids::{DeliveryId, EventId, TenantId, WebhookId};
use crate::model::{Delivery, DeliveryAttempt, DeliveryStatus, EndpointChange, EventPattern, WebhookEndpoint};
use crate::webhooks::cipher::SealedSecret;

/// Events claimed for relaying, with the enabled endpoints of their tenants.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RelayBatch {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// Every enabled endpoint of the events' tenants.
    pub subscriptions: Vec<Subscription>,
}

/// What an enabled endpoint subscribes to (the relay matches events against it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The endpoint's tenant.
    pub tenant_id: TenantId,
    /// The endpoint.
    pub endpoint_id: WebhookId,
    /// Its patterns.
    pub events: Vec<EventPattern>,
}

impl Subscription {
    /// Whether the endpoint wants `event` (its tenant's, of a type a pattern matches).
    pub fn wants(&self, event: &Event) -> bool {
        self.tenant_id == event.tenant_id && self.events.iter().any(|pattern| pattern.matches(event.kind))
    }
}

/// A delivery to create (or, replayed, to start again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// Its id (kept by a delivery that already exists).
    pub id: DeliveryId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The endpoint.
    pub endpoint_id: WebhookId,
    /// The event.
    pub event_id: EventId,
    /// The event's type.
    pub event_type: EventKind,
    /// When its first attempt is due.
    pub due_at: Timestamp,
}

/// A delivery a dispatcher claimed, with everything its attempt needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedDelivery {
    /// The delivery after the claim: `attempts` counts this attempt and is the claim's fencing token.
    pub delivery: Delivery,
    /// Attempts of the current round, this one included (the schedule's position).
    pub round_attempts: u32,
    /// The event to send.
    pub event: Event,
    /// The endpoint's URL.
    pub url: String,
    /// Its secret.
    pub secret: SealedSecret,
    /// The secret a rotation replaced, while its grace period lasts.
    pub previous_secret: Option<SealedSecret>,
    /// Since when the endpoint has been failing, if it has.
    pub failing_since: Option<Timestamp>,
}

/// What comes after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered.
    Succeeded,
    /// Try again at this time.
    RetryAt(Timestamp),
    /// Give up (the schedule is over, or the endpoint is gone).
    Failed,
}

impl NextStep {
    /// The delivery's status after this step.
    pub fn status(self) -> DeliveryStatus {
        match self {
            NextStep::Succeeded => DeliveryStatus::Succeeded,
            NextStep::RetryAt(_) => DeliveryStatus::Pending,
            NextStep::Failed => DeliveryStatus::Failed,
        }
    }
}

/// One attempt to record, and what it changes.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord<'a> {
    /// The delivery.
    pub delivery: DeliveryId,
    /// The dispatcher that claimed it.
    pub worker: &'a str,
    /// The delivery's `attempts` at the claim: the fencing token (a stale holder's record is refused).
    pub attempt: u32,
    /// The attempt's log (its `number` is `attempt`).
    pub log: DeliveryAttempt,
    /// What comes next.
    pub next: NextStep,
    /// Disable the endpoint, with this reason and its `webhook.endpoint_disabled` event (stored only if this
    /// record is the one that disables it).
    pub disable: Option<(String, Event)>,
}

/// Which deliveries of an endpoint to list (newest first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// Only this status.
    pub status: Option<DeliveryStatus>,
    /// The page: deliveries older than `after` (the previous page's `next_cursor`).
    pub page: PageRequest,
}

/// Webhook endpoints and deliveries of the handle's tenant.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new endpoint.
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<()>;

    /// An endpoint by id.
    async fn get_endpoint(&self, id: WebhookId) -> StoreResult<Option<WebhookEndpoint>>;

    /// Endpoints, oldest first.
    async fn list_endpoints(&self, page: &PageRequest) -> StoreResult<Page<WebhookEndpoint>>;

    /// Applies a change; enabling also clears `disabled_reason` and `failing_since`. Returns the endpoint
    /// after it, or `None` if there is no such endpoint.
    async fn update_endpoint(
        &self,
        id: WebhookId,
        change: &EndpointChange,
        at: Timestamp,
    ) -> StoreResult<Option<WebhookEndpoint>>;

    /// Deletes an endpoint with its deliveries; `false` if there was none.
    async fn delete_endpoint(&self, id: WebhookId) -> StoreResult<bool>;

    /// A page of an endpoint's deliveries, newest first.
    async fn list_deliveries(&self, endpoint: WebhookId, query: &DeliveryQuery) -> StoreResult<Page<Delivery>>;

    /// A delivery with its attempts, oldest first.
    async fn get_delivery(&self, id: DeliveryId) -> StoreResult<Option<(Delivery, Vec<DeliveryAttempt>)>>;

    /// Creates the deliveries that do not exist (for an endpoint of this tenant), and starts a new round of the
    /// schedule for those that do (pending, due at their `due_at`): a manual retry, a replay. Returns how many.
    async fn requeue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<u64>;

    /// Records an attempt if `worker` still holds the delivery at `attempt`: the log, the delivery's new
    /// status, the endpoint's failing state (cleared by a success, started by a failure) and, when asked, the
    /// endpoint disabled with its event. All together; `false` (nothing written) for a stale holder.
    async fn record_attempt(&self, record: &AttemptRecord<'_>) -> StoreResult<bool>;
}
