//! Events stored and webhook deliveries.

use prometheus::{Histogram, IntCounter, IntCounterVec, IntGauge};

use super::{FAST_BUCKETS, Registrar};
use crate::error::Error;

/// Events and their delivery to webhook endpoints.
#[derive(Clone, Debug)]
pub struct EventMetrics {
    /// `events_stored_total{type}`: events stored (listable and deliverable), by type.
    pub stored_total: IntCounterVec,
    /// `event_store_failures_total`: events the store refused (they reached the sink only).
    pub store_failures_total: IntCounter,
    /// `webhook_deliveries_total{status}`: delivery attempts by what they led to: `succeeded`, `retrying` (failed,
    /// tried again later) or `failed` (failed, given up: the schedule is over or the endpoint is gone). The failure
    /// ratio is `(retrying + failed) / all`.
    pub webhook_deliveries_total: IntCounterVec,
    /// `webhook_attempt_duration_seconds`: how long delivery attempts took.
    pub webhook_attempt_duration_seconds: Histogram,
    /// `webhook_deliveries_pending`: deliveries not yet made, across tenants (sampled by the dispatchers).
    pub webhook_deliveries_pending: IntGauge,
}

impl EventMetrics {
    pub(super) fn register(r: &Registrar<'_>) -> Result<Self, Error> {
        let webhook_deliveries_total = r.int_counter_vec(
            "webhook_deliveries_total",
            "Webhook delivery attempts, by outcome (succeeded, retrying, failed)",
            &["status"],
        )?;
        for status in ["succeeded", "retrying", "failed"] {
            webhook_deliveries_total.with_label_values(&[status]);
        }
        Ok(Self {
            stored_total: r.int_counter_vec(
                "events_stored_total",
                "Events stored and relayed (to the sink and to webhooks), by type",
                &["type"],
            )?,
            store_failures_total: r
                .int_counter("event_store_failures_total", "Events the store refused (they reached the sink only)")?,
            webhook_deliveries_total,
            webhook_attempt_duration_seconds: r.histogram(
                "webhook_attempt_duration_seconds",
                "Webhook delivery attempt latency",
                FAST_BUCKETS,
            )?,
            webhook_deliveries_pending: r
                .int_gauge("webhook_deliveries_pending", "Webhook deliveries not yet made, all tenants")?,
        })
    }
}
