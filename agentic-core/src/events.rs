//! Platform events (`project.budget_warning`, `agent.completed`, …) and where they go.
//!
//! The engine publishes through the [`EventSink`] the [`Platform`](crate::Platform) owns. Host apps plug their
//! own (a queue, webhooks); [`LogEventSink`] is the default and [`MemoryEventSink`] records for tests.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{EventId, TenantId};

/// Something that happened in a tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Id (time-ordered).
    pub id: EventId,
    /// Tenant it happened in.
    pub tenant_id: TenantId,
    /// Dotted type, e.g. `project.budget_warning`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Details.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

impl Event {
    /// A new event.
    pub fn new(
        tenant_id: TenantId,
        kind: impl Into<String>,
        data: serde_json::Value,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self { id: EventId::new(), tenant_id, kind: kind.into(), data, occurred_at }
    }
}

/// Where events go.
#[async_trait]
pub trait EventSink: Send + Sync + std::fmt::Debug {
    /// Publishes one event. Sinks handle their own failures (log, retry, dead-letter): the state change that
    /// caused the event has already happened.
    async fn publish(&self, event: Event);
}

/// Logs each event at `info`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogEventSink;

#[async_trait]
impl EventSink for LogEventSink {
    async fn publish(&self, event: Event) {
        tracing::info!(event_type = %event.kind, tenant_id = %event.tenant_id, data = %event.data, "event");
    }
}

/// Keeps every event in memory, for tests and examples.
#[derive(Clone, Debug, Default)]
pub struct MemoryEventSink {
    events: Arc<Mutex<Vec<Event>>>,
}

impl MemoryEventSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything published so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().clone()
    }

    /// The events of one type.
    pub fn of_kind(&self, kind: &str) -> Vec<Event> {
        self.events.lock().iter().filter(|e| e.kind == kind).cloned().collect()
    }
}

#[async_trait]
impl EventSink for MemoryEventSink {
    async fn publish(&self, event: Event) {
        self.events.lock().push(event);
    }
}
