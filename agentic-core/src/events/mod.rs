//! Platform events (`project.budget_warning`, `agent.completed`, …) and where they go.
//!
//! [`EventKind`] is the catalogue: every type, its meaning and the JSON schema of its data. The engine stores each
//! event (`store::EventStore`, listed by `GET /v1/events`) and then hands it to the [`EventSink`] the
//! [`Platform`](crate::Platform) owns. Host apps plug their own sink (a queue); [`LogEventSink`] is the default and
//! [`MemoryEventSink`] records for tests.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{EventId, ProjectId, RunId, TenantId};

mod kind;
pub use kind::EventKind;

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
    /// The project it concerns, if any (also in `data`).
    pub project_id: Option<ProjectId>,
    /// The run it concerns, if any (also in `data`).
    pub run_id: Option<RunId>,
    /// Details, as the type's schema describes ([`EventKind::data_schema`]).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

impl Event {
    /// A new event; its `project_id` and `run_id` are read from `data`'s fields of those names.
    pub fn new(tenant_id: TenantId, kind: EventKind, data: serde_json::Value, occurred_at: DateTime<Utc>) -> Self {
        let id_in = |field: &str| data.get(field).and_then(|v| v.as_str()).and_then(|v| v.parse::<uuid::Uuid>().ok());
        let project_id = id_in("project_id").map(ProjectId::from_uuid);
        let run_id = id_in("run_id").map(RunId::from_uuid);
        Self { id: EventId::new(), tenant_id, kind, project_id, run_id, data, occurred_at }
    }
}

/// The events of the state changes a store records together with them (the transactional outbox): one
/// definition of each one's data, which every store applies.
impl Event {
    /// `approval.requested`: `run` waits for a human's decision on `approval`.
    pub fn approval_requested(run: &crate::model::Run, approval: &crate::model::Approval) -> Event {
        let data = serde_json::json!({"approval_id": approval.id, "run_id": run.id, "risk_level": run.risk_level,
            "agent": run.agent, "kind": run.kind});
        Event::new(run.tenant_id, EventKind::ApprovalRequested, data, run.created_at)
    }

    /// The event of a request that was just decided: `approval.approved` or `approval.denied` (with `by`), or
    /// `approval.expired` when it was past its expiry.
    pub fn approval_decided(approval: &crate::model::Approval) -> Event {
        use crate::model::ApprovalStatus;
        let kind = match approval.status {
            ApprovalStatus::Approved => EventKind::ApprovalApproved,
            ApprovalStatus::Expired => EventKind::ApprovalExpired,
            // A cancelled or pending request is no decision; the run's own end event says what happened.
            ApprovalStatus::Denied | ApprovalStatus::Pending | ApprovalStatus::Cancelled => EventKind::ApprovalDenied,
        };
        let mut data = serde_json::json!({"approval_id": approval.id, "run_id": approval.run_id});
        if let Some(by) = approval.decided_by {
            data["by"] = serde_json::json!(by);
        }
        Event::new(approval.tenant_id, kind, data, approval.decided_at.unwrap_or(approval.created_at))
    }

    /// `agent.cancelled` or `workflow.cancelled`: `run` ended cancelled at `at`, having spent `cost`. Built before
    /// the store cancels a queued run (its kind, agent and project never change), and by the worker that stops.
    pub fn run_cancelled(run: &crate::model::Run, cost: crate::model::Money, at: crate::clock::Timestamp) -> Event {
        let (kind, data) = match run.kind {
            crate::model::RunKind::Agent => (
                EventKind::AgentCancelled,
                serde_json::json!({"agent": run.agent, "run_id": run.id, "project_id": run.project_id, "cost": cost}),
            ),
            crate::model::RunKind::Workflow => (
                EventKind::WorkflowCancelled,
                serde_json::json!({"run_id": run.id, "workflow": run.agent, "project_id": run.project_id,
                    "cost": cost}),
            ),
        };
        Event::new(run.tenant_id, kind, data, at)
    }

    /// `schedule.fired`: `fire` of `schedule` started `run` at `at`, `lag` after its planned start.
    pub fn schedule_fired(
        schedule: &crate::model::Schedule,
        fire: &crate::model::Fire,
        run: RunId,
        lag: chrono::Duration,
        at: DateTime<Utc>,
    ) -> Event {
        let data = serde_json::json!({"schedule_id": schedule.id, "project_id": schedule.project_id, "run_id": run,
            "fire_time": fire.at, "origin": fire.origin, "lag_ms": lag.num_milliseconds().max(0)});
        Event::new(schedule.tenant_id, EventKind::ScheduleFired, data, at)
    }

    /// `schedule.skipped`: `count` fires of `schedule`, the first `fire`, started no run, for `reason`.
    pub fn schedule_skipped(
        schedule: &crate::model::Schedule,
        fire: &crate::model::Fire,
        reason: crate::model::SkipReason,
        detail: Option<&str>,
        count: u64,
        at: DateTime<Utc>,
    ) -> Event {
        let data = serde_json::json!({"schedule_id": schedule.id, "project_id": schedule.project_id,
            "fire_time": fire.at, "origin": fire.origin, "reason": reason.as_str(), "detail": detail,
            "count": count});
        Event::new(schedule.tenant_id, EventKind::ScheduleSkipped, data, at)
    }

    /// `project.budget_warning` or `project.budget_exceeded`: a settlement at `at` took `project`'s spending over
    /// `line`, leaving `status`. Stores that build the event's data themselves (in SQL) must match this one; the
    /// conformance suite compares them.
    pub fn budget_line_crossed(
        tenant: TenantId,
        project: ProjectId,
        line: crate::model::BudgetThreshold,
        status: &crate::model::BudgetStatus,
        at: DateTime<Utc>,
    ) -> Event {
        let data = serde_json::json!({"project_id": project, "budget": status.budget, "spent": status.spent});
        Event::new(tenant, line.event_kind(), data, at)
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
