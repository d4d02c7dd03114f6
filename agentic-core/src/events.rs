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

/// Every type of event the platform publishes: the one list webhooks subscribe to and the docs describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum EventKind {
    /// An agent started working on a task. Data: `agent`, `run_id`, `project_id`.
    #[serde(rename = "agent.started")]
    AgentStarted,
    /// An agent finished a task. Data: `agent`, `run_id`, `project_id`, `cost`, `duration_ms`.
    #[serde(rename = "agent.completed")]
    AgentCompleted,
    /// An agent's task failed (or was abandoned). Data: `agent`, `run_id`, `project_id`, `reason`.
    #[serde(rename = "agent.failed")]
    AgentFailed,
    /// A workflow run started. Data: `run_id`, `workflow`, `project_id`.
    #[serde(rename = "workflow.started")]
    WorkflowStarted,
    /// A workflow run completed. Data: `run_id`, `workflow`, `project_id`, `cost`, `steps`.
    #[serde(rename = "workflow.completed")]
    WorkflowCompleted,
    /// A workflow run failed. Data: `run_id`, `workflow`, `project_id`, `cost`, `reason`.
    #[serde(rename = "workflow.failed")]
    WorkflowFailed,
    /// A risky run waits for a human. Data: `approval_id`, `run_id`, `risk_level`, `agent`, `kind`.
    #[serde(rename = "approval.requested")]
    ApprovalRequested,
    /// A run was approved and queued. Data: `approval_id`, `run_id`, `by`.
    #[serde(rename = "approval.approved")]
    ApprovalApproved,
    /// A run was denied. Data: `approval_id`, `run_id`, `by`.
    #[serde(rename = "approval.denied")]
    ApprovalDenied,
    /// Nobody decided in time; the run ended `denied`. Data: `approval_id`, `run_id`.
    #[serde(rename = "approval.expired")]
    ApprovalExpired,
    /// A project's spending reached 90% of its budget. Data: `project_id`, `budget`, `spent`.
    #[serde(rename = "project.budget_warning")]
    ProjectBudgetWarning,
    /// A project's spending reached its budget. Data: `project_id`, `budget`, `spent`.
    #[serde(rename = "project.budget_exceeded")]
    ProjectBudgetExceeded,
}

impl EventKind {
    /// Every kind, in the order above.
    pub const ALL: [EventKind; 12] = [
        EventKind::AgentStarted,
        EventKind::AgentCompleted,
        EventKind::AgentFailed,
        EventKind::WorkflowStarted,
        EventKind::WorkflowCompleted,
        EventKind::WorkflowFailed,
        EventKind::ApprovalRequested,
        EventKind::ApprovalApproved,
        EventKind::ApprovalDenied,
        EventKind::ApprovalExpired,
        EventKind::ProjectBudgetWarning,
        EventKind::ProjectBudgetExceeded,
    ];

    /// The dotted wire name, e.g. `project.budget_warning`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::AgentStarted => "agent.started",
            EventKind::AgentCompleted => "agent.completed",
            EventKind::AgentFailed => "agent.failed",
            EventKind::WorkflowStarted => "workflow.started",
            EventKind::WorkflowCompleted => "workflow.completed",
            EventKind::WorkflowFailed => "workflow.failed",
            EventKind::ApprovalRequested => "approval.requested",
            EventKind::ApprovalApproved => "approval.approved",
            EventKind::ApprovalDenied => "approval.denied",
            EventKind::ApprovalExpired => "approval.expired",
            EventKind::ProjectBudgetWarning => "project.budget_warning",
            EventKind::ProjectBudgetExceeded => "project.budget_exceeded",
        }
    }

    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened in a tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Id (time-ordered).
    pub id: EventId,
    /// Tenant it happened in.
    pub tenant_id: TenantId,
    /// Its type, e.g. `project.budget_warning`.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Details.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

impl Event {
    /// A new event.
    pub fn new(tenant_id: TenantId, kind: EventKind, data: serde_json::Value, occurred_at: DateTime<Utc>) -> Self {
        Self { id: EventId::new(), tenant_id, kind, data, occurred_at }
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
        self.events.lock().iter().filter(|e| e.kind.as_str() == kind).cloned().collect()
    }
}

#[async_trait]
impl EventSink for MemoryEventSink {
    async fn publish(&self, event: Event) {
        self.events.lock().push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_wire_name_that_round_trips() {
        let names: std::collections::BTreeSet<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EventKind::ALL.len(), "names are unique");
        for kind in EventKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("agent.exploded"), None);
    }
}
