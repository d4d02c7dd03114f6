//! The relay: the far side of the outbox. It claims stored events no relay has finished with, feeds them to the
//! host's [`EventSink`](crate::events::EventSink) and turns them into deliveries for the endpoints that
//! subscribe to them; at least once, on every replica (claims are leased, so two relays never work on the same
//! event at once, and a relay that dies leaves its events to be claimed again).

use std::time::Duration;

use crate::Platform;
use crate::error::Result;
use crate::store::NewDelivery;

/// Events one claim takes.
const RELAY_BATCH: u32 = 500;
/// How long a relay holds the events it claimed (feeding a slow sink included).
const RELAY_LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// How often an idle relay looks for events stored by other replicas (this process's wake it at once).
const RELAY_POLL: Duration = Duration::from_secs(1);

impl Platform {
    /// Relays one batch of stored events: each is handed to the event sink, then its deliveries are stored and
    /// it is marked relayed, together. Returns how many events it relayed (0: none were waiting).
    pub async fn relay_events_once(&self) -> Result<usize> {
        let now = self.inner.clock.now();
        let batch = self.inner.store.system().claim_relay(now, RELAY_LEASE, RELAY_BATCH).await?;
        if batch.events.is_empty() {
            return Ok(0);
        }
        let due_at = now + chrono::Duration::from_std(self.inner.webhooks.schedule.first_delay()).unwrap_or_default();
        let mut deliveries = Vec::new();
        for event in &batch.events {
            // The sink before the acknowledgement: a crash in between feeds it again (at least once).
            self.inner.events.publish(event.clone()).await;
            self.inner.metrics.events.stored_total.with_label_values(&[event.kind.as_str()]).inc();
            deliveries.extend(batch.subscriptions.iter().filter(|s| s.wants(event)).map(|s| NewDelivery {
                id: crate::ids::DeliveryId::new(),
                tenant_id: event.tenant_id,
                endpoint_id: s.endpoint_id,
                event_id: event.id,
                event_type: event.kind,
                due_at,
            }));
        }
        let relayed: Vec<_> = batch.events.iter().map(|e| (e.tenant_id, e.id)).collect();
        self.inner.store.system().complete_relay(&relayed, &deliveries).await?;
        if !deliveries.is_empty() {
            self.inner.dispatch_wakeup.notify_one();
        }
        Ok(relayed.len())
    }

    /// Relays until no stored event is waiting; returns how many it relayed. Tests call it to see the sink fed
    /// without a background relay.
    pub async fn relay_events(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let relayed = self.relay_events_once().await?;
            total += relayed;
            if relayed < RELAY_BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// The relay loop of one replica, until `shutdown` completes: relays what is waiting, then waits for this
    /// process to store an event (or the poll interval, for other replicas').
    pub async fn run_relay(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(error) = self.relay_events().await {
                tracing::warn!(%error, "the event relay could not relay stored events; retrying");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.inner.relay_wakeup.notified() => {}
                () = tokio::time::sleep(RELAY_POLL) => {}
            }
        }
    }
}
