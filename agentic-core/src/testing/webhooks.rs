//! Webhooks in the store: the relay's leased claims, deliveries made once per (endpoint, event), dispatchers'
//! leased and fenced claims, the endpoint's failing state and disabling with its event, requeues, and
//! deliveries going with their events.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use super::fixtures::{now, tenant_with_admin};
use super::{Case, case};
use crate::events::{Event, EventKind};
use crate::ids::{DeliveryId, EventId, TenantId, UserId, WebhookId};
use crate::model::{DeliveryAttempt, DeliveryStatus, EndpointChange, EventPattern, WebhookEndpoint};
use crate::store::{AttemptRecord, DeliveryQuery, EventQuery, NewDelivery, NextStep, Store};
use crate::webhooks::cipher::SealedSecret;

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(events_are_relayed_under_a_lease_into_one_delivery_per_subscribed_endpoint),
        case!(deliveries_are_claimed_once_fenced_and_recorded_with_the_endpoint_state),
    ]
}

/// The lease the cases claim with: short, so a lapse is a real wait on every store's clock.
const LEASE: Duration = Duration::milliseconds(1500);

async fn lapse() {
    tokio::time::sleep((LEASE + Duration::milliseconds(300)).to_std().unwrap_or_default()).await;
}

fn endpoint(tenant: TenantId, patterns: &[&str], enabled: bool) -> WebhookEndpoint {
    WebhookEndpoint {
        id: WebhookId::new(),
        tenant_id: tenant,
        url: "https://93.184.215.14/hook".into(),
        description: String::new(),
        events: patterns.iter().map(|p| EventPattern::parse(p).unwrap()).collect(),
        enabled,
        disabled_reason: None,
        failing_since: None,
        secret: SealedSecret(vec![1, 2, 3]),
        previous_secret: None,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
    }
}

fn event(tenant: TenantId, kind: EventKind) -> Event {
    Event::new(tenant, kind, json!({"run_id": null, "project_id": null}), now())
}

fn delivery_of(endpoint: &WebhookEndpoint, event: &Event) -> NewDelivery {
    NewDelivery {
        id: DeliveryId::new(),
        tenant_id: event.tenant_id,
        endpoint_id: endpoint.id,
        event_id: event.id,
        event_type: event.kind,
        due_at: now() - Duration::seconds(1),
    }
}

async fn events_are_relayed_under_a_lease_into_one_delivery_per_subscribed_endpoint(store: Arc<dyn Store>) {
    let (a, _) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let (agents, workflows_off, everything) =
        (endpoint(a.id, &["agent.*"], true), endpoint(a.id, &["workflow.*"], false), endpoint(b.id, &["*"], true));
    store.tenant(a.id).insert_endpoint(&agents).await.unwrap();
    store.tenant(a.id).insert_endpoint(&workflows_off).await.unwrap();
    store.tenant(b.id).insert_endpoint(&everything).await.unwrap();
    let events = [event(a.id, EventKind::AgentStarted), event(a.id, EventKind::WorkflowStarted)];
    store.tenant(a.id).append_events(&events).await.unwrap();
    let theirs = event(b.id, EventKind::AgentFailed);
    store.tenant(b.id).append_events(std::slice::from_ref(&theirs)).await.unwrap();

    // One relay gets them, oldest first, with the enabled endpoints of their tenants; another gets none meanwhile.
    let batch = store.system().claim_relay(now(), LEASE, 10).await.unwrap();
    let ids: Vec<EventId> = batch.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, [events[0].id, events[1].id, theirs.id]);
    assert_eq!(batch.events[0], events[0], "the event as stored");
    let mut subscribed: Vec<WebhookId> = batch.subscriptions.iter().map(|s| s.endpoint_id).collect();
    subscribed.sort();
    let mut expected = vec![agents.id, everything.id];
    expected.sort();
    assert_eq!(subscribed, expected, "only enabled endpoints");
    assert!(store.system().claim_relay(now(), LEASE, 10).await.unwrap().events.is_empty(), "leased");

    // A relay that dies leaves them to be claimed again once its lease lapses.
    lapse().await;
    let again = store.system().claim_relay(now(), LEASE, 10).await.unwrap();
    assert_eq!(again.events.len(), 3, "claimed again after the lapse");

    // Completing stores the deliveries (not for an endpoint that is gone) and marks the events relayed.
    let gone = endpoint(a.id, &["*"], true);
    let deliveries =
        [delivery_of(&agents, &events[0]), delivery_of(&everything, &theirs), delivery_of(&gone, &events[1])];
    let relayed: Vec<_> = again.events.iter().map(|e| (e.tenant_id, e.id)).collect();
    store.system().complete_relay(&relayed, &deliveries).await.unwrap();
    // A second completion (a relay whose lease lapsed finishing late) makes no second delivery.
    let late = [NewDelivery { id: DeliveryId::new(), ..deliveries[0].clone() }];
    store.system().complete_relay(&relayed, &late).await.unwrap();
    lapse().await;
    assert!(store.system().claim_relay(now(), LEASE, 10).await.unwrap().events.is_empty(), "relayed");
    let listed = store.tenant(a.id).list_deliveries(agents.id, &DeliveryQuery::default()).await.unwrap();
    assert_eq!(listed.data.iter().map(|d| d.id).collect::<Vec<_>>(), [deliveries[0].id]);
    let first = &listed.data[0];
    assert_eq!((first.status, first.attempts, first.event_type), (DeliveryStatus::Pending, 0, EventKind::AgentStarted));
    assert!(
        store.tenant(a.id).list_deliveries(everything.id, &DeliveryQuery::default()).await.unwrap().data.is_empty()
    );
    assert!(store.tenant(b.id).get_delivery(deliveries[0].id).await.unwrap().is_none(), "another tenant's");
    assert_eq!(store.system().count_pending_deliveries().await.unwrap(), 2);
}

async fn deliveries_are_claimed_once_fenced_and_recorded_with_the_endpoint_state(store: Arc<dyn Store>) {
    let (a, _) = tenant_with_admin(&*store, "alpha").await;
    let handle = store.tenant(a.id);
    let hook = endpoint(a.id, &["*"], true);
    handle.insert_endpoint(&hook).await.unwrap();
    let stored = event(a.id, EventKind::AgentStarted);
    handle.append_events(std::slice::from_ref(&stored)).await.unwrap();
    let new = delivery_of(&hook, &stored);
    assert_eq!(handle.requeue_deliveries(std::slice::from_ref(&new)).await.unwrap(), 1);

    let claimed = store.system().claim_deliveries("w1", now(), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!((first.delivery.attempts, first.round_attempts, &first.event), (1, 1, &stored));
    assert_eq!((first.url.as_str(), &first.secret, &first.previous_secret), (hook.url.as_str(), &hook.secret, &None));
    assert!(store.system().claim_deliveries("w2", now(), LEASE, 10).await.unwrap().is_empty(), "in flight once");

    let log = |number: u32, status: u16| DeliveryAttempt {
        number,
        attempted_at: now(),
        status_code: Some(status),
        duration_ms: 12,
        response_body: Some("busy".into()),
        error: (status >= 300).then(|| format!("the receiver answered {status}")),
    };
    let retry = NextStep::RetryAt(now() - Duration::seconds(1));
    let record = |worker: &'static str, attempt: u32, status: u16, next: NextStep| AttemptRecord {
        delivery: new.id,
        worker,
        attempt,
        log: log(attempt, status),
        next,
        disable: None,
    };
    assert!(!handle.record_attempt(&record("w2", 1, 500, retry)).await.unwrap(), "not the holder");
    assert!(handle.record_attempt(&record("w1", 1, 500, retry)).await.unwrap());
    let (delivery, attempts) = handle.get_delivery(new.id).await.unwrap().unwrap();
    assert_eq!((delivery.status, delivery.last_status_code, attempts.len()), (DeliveryStatus::Pending, Some(500), 1));
    assert_eq!(attempts[0], log(1, 500).clone_at(attempts[0].attempted_at));
    let failing = handle.get_endpoint(hook.id).await.unwrap().unwrap().failing_since;
    assert!(failing.is_some(), "a failure starts the endpoint's failing time");

    // The retry is claimed by another dispatcher; the first one's record is stale from then on.
    let claimed = store.system().claim_deliveries("w2", now(), LEASE, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|c| (c.delivery.attempts, c.round_attempts)).collect::<Vec<_>>(), [(2, 2)]);
    assert_eq!(claimed[0].failing_since, failing);
    assert!(!handle.record_attempt(&record("w1", 1, 200, NextStep::Succeeded)).await.unwrap(), "fenced");
    let data = json!({"endpoint_id": hook.id, "url": hook.url, "reason": "the receiver answered 410 Gone"});
    let disabled_event = Event::new(a.id, EventKind::WebhookEndpointDisabled, data, now());
    let gone = AttemptRecord {
        disable: Some(("the receiver answered 410 Gone".into(), disabled_event.clone())),
        ..record("w2", 2, 410, NextStep::Failed)
    };
    assert!(handle.record_attempt(&gone).await.unwrap());
    let off = handle.get_endpoint(hook.id).await.unwrap().unwrap();
    assert_eq!((off.enabled, off.disabled_reason.as_deref()), (false, Some("the receiver answered 410 Gone")));
    let announced = EventQuery { kind: Some(EventKind::WebhookEndpointDisabled), ..EventQuery::default() };
    assert_eq!(handle.list_events(&announced).await.unwrap().data, [disabled_event]);
    assert_eq!(handle.get_delivery(new.id).await.unwrap().unwrap().0.status, DeliveryStatus::Failed);

    // Requeued (a manual retry), it waits while the endpoint is disabled, and goes out as a new round once enabled.
    assert_eq!(handle.requeue_deliveries(std::slice::from_ref(&new)).await.unwrap(), 1);
    assert!(store.system().claim_deliveries("w3", now(), LEASE, 10).await.unwrap().is_empty(), "disabled");
    let enable = EndpointChange { enabled: Some(true), ..EndpointChange::default() };
    let on = handle.update_endpoint(hook.id, &enable, now()).await.unwrap().unwrap();
    assert_eq!((on.enabled, on.disabled_reason, on.failing_since), (true, None, None));
    let claimed = store.system().claim_deliveries("w3", now(), LEASE, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|c| (c.delivery.attempts, c.round_attempts)).collect::<Vec<_>>(), [(3, 1)]);
    assert!(handle.record_attempt(&record("w3", 3, 200, NextStep::Succeeded)).await.unwrap());
    assert_eq!(handle.get_endpoint(hook.id).await.unwrap().unwrap().failing_since, None);
    assert_eq!(handle.get_delivery(new.id).await.unwrap().unwrap().1.len(), 3, "every attempt is logged");
    assert_eq!(store.system().count_pending_deliveries().await.unwrap(), 0);

    // Deliveries go with their events (retention), and with their endpoint.
    store.system().delete_events_before(EventId::new(), 100).await.unwrap();
    assert!(handle.get_delivery(new.id).await.unwrap().is_none());
    assert!(handle.delete_endpoint(hook.id).await.unwrap());
    assert!(!handle.delete_endpoint(hook.id).await.unwrap());
}

trait AttemptedAt {
    fn clone_at(self, at: crate::clock::Timestamp) -> Self;
}

impl AttemptedAt for DeliveryAttempt {
    /// The same log at another time (stores may round timestamps).
    fn clone_at(self, at: crate::clock::Timestamp) -> Self {
        Self { attempted_at: at, ..self }
    }
}
