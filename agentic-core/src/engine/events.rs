//! Publishing events (stored, then relayed: `engine/relay.rs`) and reading the tenant's events.

use std::time::Duration;

use futures_core::Stream;

use crate::Platform;
use crate::auth::Principal;
use crate::error::Result;
use crate::events::{Event, EventKind};
use crate::ids::{EventId, TenantId};
use crate::store::{EventQuery, Page};

/// Attempts to store an event published on its own (not in an outbox) while the store is unavailable.
const APPEND_ATTEMPTS: u32 = 3;
/// The wait before the second attempt; each further wait is four times longer.
const APPEND_RETRY: Duration = Duration::from_millis(25);
/// How often a stream looks for events stored by other replicas (this process's wake it at once).
const STREAM_POLL: Duration = Duration::from_secs(1);

impl Platform {
    /// Publishes an event of `kind` that happened now ([`publish_event`](Self::publish_event)).
    pub(crate) async fn publish(&self, tenant: TenantId, kind: EventKind, data: serde_json::Value) {
        self.publish_event(Event::new(tenant, kind, data, self.inner.clock.now())).await;
    }

    /// Stores `event` in its tenant's events (listed by `GET /v1/events`), from where the relay feeds it to the
    /// event sink and to webhooks. A store that refuses it is logged and counted, and the sink still gets it
    /// (directly): the state change that caused it has already happened.
    pub(crate) async fn publish_event(&self, event: Event) {
        self.store_event(event, false).await;
    }

    /// [`publish_event`](Self::publish_event) for an event an earlier call may have stored already (a
    /// settlement that stores it and whose answer was lost): finding it there is success on any attempt.
    pub(crate) async fn publish_event_unless_stored(&self, event: Event) {
        self.store_event(event, true).await;
    }

    async fn store_event(&self, event: Event, may_be_stored: bool) {
        let store = self.inner.store.tenant(event.tenant_id);
        let mut wait = APPEND_RETRY;
        for attempt in 1..=APPEND_ATTEMPTS {
            match store.append_events(std::slice::from_ref(&event)).await {
                Ok(()) => return self.events_stored(),
                // Found already there: an attempt whose answer was lost did store it.
                Err(crate::store::StoreError::Conflict { .. }) if attempt > 1 || may_be_stored => {
                    return self.events_stored();
                }
                // A store that is briefly unreachable gets another chance before the event leaves only by the sink.
                Err(crate::store::StoreError::Unavailable(_)) if attempt < APPEND_ATTEMPTS => {
                    tokio::time::sleep(wait).await;
                    wait *= 4;
                }
                Err(error) => {
                    tracing::error!(%error, event_id = %event.id, event_type = %event.kind, "could not store an event");
                    self.inner.metrics.events.store_failures_total.inc();
                    self.inner.events.publish(event).await;
                    return;
                }
            }
        }
    }

    /// Says that events were stored (with the change that caused them, or on their own): wakes this process's
    /// event streams and its relay.
    pub(crate) fn events_stored(&self) {
        self.inner.event_wakeup.notify_waiters();
        self.inner.relay_wakeup.notify_one();
    }

    /// A page of the caller's tenant's events (any member may read them: they describe runs, approvals and
    /// budgets the member can already see).
    pub async fn list_events(&self, principal: &Principal, query: EventQuery) -> Result<Page<Event>> {
        Ok(self.inner.store.tenant(principal.tenant_id).list_events(&query).await?)
    }

    /// The caller's tenant's events as they are stored, oldest first, filtered like [`list_events`]: after
    /// `resume` (a client's `Last-Event-ID`) or `query.after` when given, else from now on. The stream does not end;
    /// a store that fails is retried at the poll interval.
    ///
    /// [`list_events`]: Self::list_events
    pub async fn follow_events(
        &self,
        principal: &Principal,
        query: EventQuery,
        resume: Option<EventId>,
    ) -> Result<impl Stream<Item = Event> + Send + 'static> {
        let tenant = principal.tenant_id;
        let start = match resume.or(query.after) {
            Some(cursor) => cursor,
            None => {
                let newest = EventQuery { limit: 1, ..EventQuery::default() };
                let page = self.inner.store.tenant(tenant).list_events(&newest).await?;
                page.data.first().map_or(EventId::from_uuid(uuid::Uuid::nil()), |e| e.id)
            }
        };
        let filter = EventQuery { after: None, before: None, limit: 200, ..query };
        Ok(Follower { platform: self.clone(), tenant, filter, cursor: start, run: None, done: false }.into_stream())
    }

    /// Run `id`'s events, oldest first, from its first (or after `resume`, a client's `Last-Event-ID`) until its
    /// end event ([`EventKind::ends_run`]), which is the stream's last item. A run of another tenant is not found.
    pub async fn follow_run(
        &self,
        principal: &Principal,
        id: crate::ids::RunId,
        resume: Option<EventId>,
    ) -> Result<impl Stream<Item = Event> + Send + 'static> {
        let run = self.get_run(principal, id).await?;
        let filter = EventQuery { run_id: Some(id), limit: 200, ..EventQuery::default() };
        let cursor = resume.unwrap_or(EventId::from_uuid(uuid::Uuid::nil()));
        let follower = Follower {
            platform: self.clone(),
            tenant: principal.tenant_id,
            filter,
            cursor,
            run: Some(run),
            done: false,
        };
        Ok(follower.into_stream())
    }
}

/// The state of one event stream: where it is, what it lets through, and for a run's stream, the run it ends with.
struct Follower {
    platform: Platform,
    tenant: TenantId,
    filter: EventQuery,
    cursor: EventId,
    /// The run whose end closes the stream; `None`: the stream does not end.
    run: Option<crate::model::Run>,
    done: bool,
}

impl Follower {
    fn into_stream(self) -> impl Stream<Item = Event> + Send + 'static {
        let pages = futures_util::stream::unfold(self, |mut follower| async move {
            let page = follower.next_page().await?;
            Some((futures_util::stream::iter(page), follower))
        });
        futures_util::StreamExt::flatten(pages)
    }

    /// The next events after the cursor, waiting until there are some; `None` once a run's stream has sent the
    /// run's end (or the run has ended and nothing of it is left to send: its end event may be past retention).
    async fn next_page(&mut self) -> Option<Vec<Event>> {
        if self.done {
            return None;
        }
        let store = self.platform.inner.store.tenant(self.tenant);
        let mut ended = false;
        loop {
            // Registered before reading, so an event stored meanwhile still wakes this wait.
            let woken = self.platform.inner.event_wakeup.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let query = EventQuery { after: Some(self.cursor), ..self.filter };
            match store.list_events(&query).await {
                Ok(page) if !page.data.is_empty() => {
                    let mut events = page.data;
                    if let Some(run) = &self.run
                        && let Some(end) = events.iter().position(|e| e.kind.ends_run(run.kind))
                        // An end-kind event ends the stream only once the run has ended: an attempt abandoned by
                        // a worker that stopped publishes `agent.failed` too, and the run goes on in another.
                        && store.get_run(run.id).await.ok().flatten().is_none_or(|run| run.status.is_final())
                    {
                        events.truncate(end + 1);
                        self.done = true;
                    }
                    self.cursor = events.last().map_or(self.cursor, |e| e.id);
                    return Some(events);
                }
                // The run had ended before that read: its end event (stored with the end) was there to read.
                Ok(_) if ended => return None,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, tenant_id = %self.tenant, "an event stream cannot read events");
                    let _ = tokio::time::timeout(STREAM_POLL, woken).await;
                    continue;
                }
            }
            if let Some(run) = &self.run {
                match store.get_run(run.id).await {
                    // Read once more: an end committed between the two reads is then seen.
                    Ok(Some(now)) if now.status.is_final() => {
                        ended = true;
                        continue;
                    }
                    Ok(None) => return None,
                    Ok(Some(_)) | Err(_) => {}
                }
            }
            let _ = tokio::time::timeout(STREAM_POLL, woken).await;
        }
    }
}
