//! The dispatchers: every replica claims due deliveries (leased longer than an attempt may take, so none is in
//! flight twice), makes one signed attempt each, and records it fenced by the claim.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::Platform;
use crate::error::Result;
use crate::events::{Event, EventKind};
use crate::model::DeliveryAttempt;
use crate::store::{AttemptRecord, ClaimedDelivery, NextStep};
use crate::webhooks::sender::{AttemptOutcome, AttemptVerdict};
use crate::webhooks::signature::{SigningSecret, signature_header};

/// How often an idle dispatcher looks for due deliveries (retries coming due, other replicas' events); this
/// process's new deliveries wake it at once.
const DISPATCH_POLL: Duration = Duration::from_millis(500);
/// Tries to record an attempt before leaving the delivery to its lease (it is then attempted again).
const RECORD_TRIES: u32 = 3;

impl Platform {
    /// Claims up to the configured concurrency of due deliveries for `worker` and makes their attempts at once;
    /// returns how many. The loop ([`run_dispatcher`](Self::run_dispatcher)) keeps attempts flowing instead.
    pub async fn dispatch_once(&self, worker: &str) -> Result<usize> {
        let claimed = self.claim_deliveries(worker, self.inner.webhooks.concurrency).await?;
        let count = claimed.len();
        futures_util::future::join_all(claimed.into_iter().map(|c| self.attempt_delivery(worker, c))).await;
        Ok(count)
    }

    /// One replica's dispatcher, until `shutdown` completes: at most the configured concurrency of attempts in
    /// flight, new claims as attempts end. On shutdown it stops claiming and lets the attempts in flight end
    /// (each is bounded by the attempt timeout).
    pub async fn run_dispatcher(&self, worker: String, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let concurrency = self.inner.webhooks.concurrency.max(1);
        let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut in_flight = tokio::task::JoinSet::new();
        loop {
            while in_flight.try_join_next().is_some() {}
            let free = slots.available_permits();
            let mut full = false;
            if free > 0 {
                match self.claim_deliveries(&worker, free).await {
                    Ok(claimed) => {
                        full = claimed.len() == free;
                        for delivery in claimed {
                            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else { break };
                            let (platform, worker) = (self.clone(), worker.clone());
                            in_flight.spawn(async move {
                                platform.attempt_delivery(&worker, delivery).await;
                                drop(slot);
                            });
                        }
                    }
                    Err(error) => tracing::warn!(%error, "the webhook dispatcher could not claim deliveries"),
                }
            }
            if full && slots.available_permits() > 0 {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.inner.dispatch_wakeup.notified() => {}
                () = tokio::time::sleep(DISPATCH_POLL) => {}
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            }
        }
        while in_flight.join_next().await.is_some() {}
    }

    async fn claim_deliveries(&self, worker: &str, limit: usize) -> Result<Vec<ClaimedDelivery>> {
        let lease = self.inner.webhooks.delivery_lease();
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        Ok(self.inner.store.system().claim_deliveries(worker, self.inner.clock.now(), lease, limit).await?)
    }

    /// Samples the `webhook_deliveries_pending` gauge (the upkeep loop calls it).
    pub async fn sample_pending_deliveries(&self) {
        match self.inner.store.system().count_pending_deliveries().await {
            Ok(count) => {
                self.inner.metrics.events.webhook_deliveries_pending.set(i64::try_from(count).unwrap_or(i64::MAX))
            }
            Err(error) => tracing::warn!(%error, "could not count pending webhook deliveries"),
        }
    }

    /// Makes one attempt of a claimed delivery and records it.
    async fn attempt_delivery(&self, worker: &str, claimed: ClaimedDelivery) {
        let delivery = &claimed.delivery;
        let attempt_span = tracing::info_span!(
            "webhook_attempt",
            otel.name = format!("webhook {}", delivery.event_type).as_str(),
            otel.kind = "client",
            tenant_id = %delivery.tenant_id,
            webhook_id = %delivery.endpoint_id,
            delivery_id = %delivery.id,
            event_id = %delivery.event_id,
            attempt = delivery.attempts + 1,
            http.response.status_code = tracing::field::Empty,
        );
        let outcome = self.send_delivery(&claimed).instrument(attempt_span.clone()).await;
        if let Some(status) = outcome.status_code {
            attempt_span.record("http.response.status_code", status);
        }
        self.inner.metrics.events.webhook_attempt_duration_seconds.observe(outcome.duration.as_secs_f64());
        let settings = &self.inner.webhooks;
        let at = self.inner.clock.now();
        let next = match outcome.verdict {
            AttemptVerdict::Delivered => NextStep::Succeeded,
            AttemptVerdict::Gone => NextStep::Failed,
            AttemptVerdict::Failed => {
                let delay = settings.schedule.next_delay(claimed.round_attempts, outcome.retry_after, unit_random());
                delay.map_or(NextStep::Failed, |delay| {
                    NextStep::RetryAt(at + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1)))
                })
            }
        };
        let reason = match outcome.verdict {
            AttemptVerdict::Gone => Some("the receiver answered 410 Gone".to_owned()),
            AttemptVerdict::Failed
                if claimed.failing_since.is_some_and(|since| at - since >= settings.disable_after) =>
            {
                Some(format!("every attempt failed for {}", span(settings.disable_after)))
            }
            AttemptVerdict::Failed | AttemptVerdict::Delivered => None,
        };
        let disable = reason.map(|reason| {
            let data = serde_json::json!({"endpoint_id": claimed.delivery.endpoint_id, "url": claimed.url,
                "reason": reason});
            (reason, Event::new(claimed.delivery.tenant_id, EventKind::WebhookEndpointDisabled, data, at))
        });
        let record = AttemptRecord {
            delivery: claimed.delivery.id,
            worker,
            attempt: claimed.delivery.attempts,
            log: DeliveryAttempt {
                number: claimed.delivery.attempts,
                attempted_at: at,
                status_code: outcome.status_code,
                duration_ms: u32::try_from(outcome.duration.as_millis()).unwrap_or(u32::MAX),
                response_body: outcome.body.clone(),
                error: outcome.error.clone(),
            },
            next,
            disable,
        };
        let label = match next {
            NextStep::Succeeded => "succeeded",
            NextStep::RetryAt(_) => "retrying",
            NextStep::Failed => "failed",
        };
        self.inner.metrics.events.webhook_deliveries_total.with_label_values(&[label]).inc();
        let store = self.inner.store.tenant(claimed.delivery.tenant_id);
        for tried in 1..=RECORD_TRIES {
            match store.record_attempt(&record).await {
                Ok(true) => {
                    if record.disable.is_some() {
                        self.events_stored();
                    }
                    return;
                }
                Ok(false) => {
                    tracing::warn!(delivery_id = %record.delivery, worker, "lost a delivery's lease before recording its attempt");
                    return;
                }
                Err(error) if tried < RECORD_TRIES => {
                    tracing::warn!(%error, delivery_id = %record.delivery, "could not record a delivery attempt; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(tried))).await;
                }
                Err(error) => {
                    // The lease lapses and the delivery is attempted again: at least once.
                    tracing::error!(%error, delivery_id = %record.delivery, "could not record a delivery attempt");
                }
            }
        }
    }

    /// Signs the event with the endpoint's secret (and the one a rotation replaced, during its grace period) and
    /// POSTs it.
    async fn send_delivery(&self, claimed: &ClaimedDelivery) -> AttemptOutcome {
        let (tenant, endpoint) = (claimed.delivery.tenant_id, claimed.delivery.endpoint_id);
        let failed = |error: String| AttemptOutcome {
            verdict: AttemptVerdict::Failed,
            status_code: None,
            duration: Duration::ZERO,
            body: None,
            error: Some(error),
            retry_after: None,
        };
        let cipher = &self.inner.webhook_cipher;
        let secret = match cipher.open(tenant, endpoint, &claimed.secret) {
            Ok(secret) => secret,
            Err(error) => return failed(error.to_string()),
        };
        let previous = claimed.previous_secret.as_ref().and_then(|sealed| cipher.open(tenant, endpoint, sealed).ok());
        let secrets: Vec<&SigningSecret> = std::iter::once(&secret).chain(previous.as_ref()).collect();
        let body = match serde_json::to_vec(&claimed.event) {
            Ok(body) => body,
            Err(error) => return failed(format!("the event cannot be encoded: {error}")),
        };
        let id = claimed.event.id.to_string();
        let timestamp = self.inner.clock.now().timestamp();
        let signature = signature_header(&secrets, &id, timestamp, &body);
        self.inner.webhook_sender.send(&claimed.url, &id, timestamp, &signature, body).await
    }
}

/// A duration in the largest whole unit it has (`5 days`, `3 hours`, `300 ms`), for a reason a tenant reads.
fn span(duration: chrono::Duration) -> String {
    let units = [(duration.num_days(), "days"), (duration.num_hours(), "hours"), (duration.num_minutes(), "minutes")];
    match units.into_iter().find(|(n, _)| *n >= 1) {
        Some((n, unit)) => format!("{n} {unit}"),
        None if duration.num_seconds() >= 1 => format!("{} seconds", duration.num_seconds()),
        None => format!("{} ms", duration.num_milliseconds()),
    }
}

/// A uniform random number in [0, 1) (for jitter; 0.5, no jitter, if the generator fails).
fn unit_random() -> f64 {
    let mut bytes = [0_u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1_u64 << 53) as f64,
        Err(_) => 0.5,
    }
}
