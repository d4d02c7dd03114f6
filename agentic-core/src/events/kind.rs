//! The event catalogue: every type the platform publishes, what it means, and the JSON schema of its data.

use serde::{Deserialize, Serialize};

/// A data field of an event: its name and JSON type (`?` after the type: may also be `null`).
type Field = (&'static str, &'static str);

macro_rules! event_kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal { $($field:literal: $ty:literal),* $(,)? }, )*) => {
        /// Every type of event the platform publishes: the one list webhooks subscribe to, `GET /v1/events/types`
        /// serves and the docs describe. The engine never spells an event type as a string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum EventKind {
            $( $(#[doc = $doc])* #[serde(rename = $name)] $variant, )*
        }

        impl EventKind {
            /// Every kind, in catalogue order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant),*];

            /// The dotted wire name, e.g. `project.budget_warning`.
            pub const fn as_str(self) -> &'static str {
                match self { $(EventKind::$variant => $name,)* }
            }

            /// What the event means, for the catalogue.
            pub fn description(self) -> &'static str {
                match self { $(EventKind::$variant => concat!($($doc),*).trim_start(),)* }
            }

            /// The fields of its data (every one is always present).
            fn fields(self) -> &'static [Field] {
                match self { $(EventKind::$variant => &[$(($field, $ty)),*],)* }
            }
        }
    };
}

event_kinds! {
    /// An agent started working on a task.
    AgentStarted = "agent.started" { "agent": "string", "run_id": "string?", "project_id": "string" },
    /// An agent finished a task; `cost` is what its model calls cost, in USD.
    AgentCompleted = "agent.completed" {
        "agent": "string", "run_id": "string?", "project_id": "string", "cost": "string",
    },
    /// An agent's task failed (or was abandoned midway); `reason` is what a tenant may read.
    AgentFailed = "agent.failed" { "agent": "string", "run_id": "string?", "project_id": "string", "reason": "string" },
    /// An agent's run was cancelled by a caller: before it started, or at its next step; `cost` is what it had
    /// spent by then.
    AgentCancelled = "agent.cancelled" { "agent": "string", "run_id": "string", "project_id": "string", "cost": "string" },
    /// An agent handed work to another (the `handoff` tool): `child_run_id` is the run that does it, `depth` how
    /// deep in the chain, `context_hash` the SHA-256 of the context handed over.
    AgentHandoff = "agent.handoff" {
        "run_id": "string?", "child_run_id": "string", "project_id": "string", "from": "string", "to": "string",
        "depth": "integer", "context_hash": "string",
    },
    /// A workflow run started.
    WorkflowStarted = "workflow.started" { "run_id": "string", "workflow": "string", "project_id": "string" },
    /// A workflow run completed after `steps` steps.
    WorkflowCompleted = "workflow.completed" {
        "run_id": "string", "workflow": "string", "project_id": "string", "cost": "string", "steps": "integer",
    },
    /// A workflow run failed.
    WorkflowFailed = "workflow.failed" {
        "run_id": "string", "workflow": "string", "project_id": "string", "cost": "string", "reason": "string",
    },
    /// A workflow run was cancelled by a caller: before it started, or before its next step.
    WorkflowCancelled = "workflow.cancelled" {
        "run_id": "string", "workflow": "string", "project_id": "string", "cost": "string",
    },
    /// A model call of a run was answered: `tokens` in and out, what it cost (USD), the model and its provider.
    RunLlmCall = "run.llm_call" {
        "run_id": "string", "project_id": "string", "agent": "string", "provider": "string", "model": "string",
        "input_tokens": "integer", "output_tokens": "integer", "cost": "string",
    },
    /// A run's agent called a tool; `ok` is whether it succeeded (`false`: the model was shown the error).
    RunToolCall = "run.tool_call" {
        "run_id": "string", "project_id": "string", "agent": "string", "tool": "string", "ok": "boolean",
    },
    /// A risky run waits for a human's approval.
    ApprovalRequested = "approval.requested" {
        "approval_id": "string", "run_id": "string", "risk_level": "string", "agent": "string", "kind": "string",
    },
    /// A run was approved (by `by`) and queued.
    ApprovalApproved = "approval.approved" { "approval_id": "string", "run_id": "string", "by": "string" },
    /// A run was denied (by `by`).
    ApprovalDenied = "approval.denied" { "approval_id": "string", "run_id": "string", "by": "string" },
    /// Nobody decided in time; the run ended `denied`.
    ApprovalExpired = "approval.expired" { "approval_id": "string", "run_id": "string" },
    /// A project's spending reached 90% of its budget.
    ProjectBudgetWarning = "project.budget_warning" { "project_id": "string", "budget": "string?", "spent": "string" },
    /// A project's spending reached its budget.
    ProjectBudgetExceeded = "project.budget_exceeded" {
        "project_id": "string", "budget": "string?", "spent": "string",
    },
    /// A schedule's fire started a run. `fire_time` is the fire's time, `origin` how it came about (`scheduled`,
    /// `trigger`, `backfill`), `lag_ms` how long after its planned start (fire time plus jitter) the run was created.
    ScheduleFired = "schedule.fired" {
        "schedule_id": "string", "project_id": "string", "run_id": "string", "fire_time": "string",
        "origin": "string", "lag_ms": "integer",
    },
    /// A schedule's fire started no run: `reason` is `overlap` (its last run had not ended), `budget` (the project
    /// had spent its budget), `missed` (later than the catch-up window after downtime), `paused` (it came while the
    /// schedule was paused), `not_permitted` (the schedule's creator may no longer start its target) or
    /// `invalid_target` (`detail` says why). `count` fires are skipped alike, the first at `fire_time`.
    ScheduleSkipped = "schedule.skipped" {
        "schedule_id": "string", "project_id": "string", "fire_time": "string", "origin": "string",
        "reason": "string", "detail": "string?", "count": "integer",
    },
    /// Deliveries to a webhook endpoint stopped: its receiver answered 410 Gone, or it failed for too long.
    WebhookEndpointDisabled = "webhook.endpoint_disabled" {
        "endpoint_id": "string", "url": "string", "reason": "string",
    },
}

impl EventKind {
    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|kind| kind.as_str() == name)
    }

    /// Whether an event of this kind, carrying a run's id, is that run's last: its end (`agent.*` for an agent
    /// run: a workflow's steps are agent runs inside it, so only `workflow.*` ends a workflow), or a denial.
    pub fn ends_run(self, run: crate::model::RunKind) -> bool {
        use crate::model::RunKind;
        match self {
            EventKind::AgentCompleted | EventKind::AgentFailed | EventKind::AgentCancelled => run == RunKind::Agent,
            EventKind::WorkflowCompleted | EventKind::WorkflowFailed | EventKind::WorkflowCancelled => {
                run == RunKind::Workflow
            }
            EventKind::ApprovalDenied | EventKind::ApprovalExpired => true,
            _ => false,
        }
    }

    /// The JSON Schema (2020-12) of the event's `data`.
    pub fn data_schema(self) -> serde_json::Value {
        let mut properties = serde_json::Map::new();
        for (name, ty) in self.fields() {
            let schema = match ty.strip_suffix('?') {
                Some(ty) => serde_json::json!({"type": [ty, "null"]}),
                None => serde_json::json!({"type": ty}),
            };
            properties.insert((*name).to_owned(), schema);
        }
        let required: Vec<&str> = self.fields().iter().map(|(name, _)| *name).collect();
        serde_json::json!({"type": "object", "properties": properties, "required": required})
    }

    /// Whether `data` has every field of the schema with its type (extra fields are allowed: the data may grow).
    pub fn data_matches(self, data: &serde_json::Value) -> bool {
        self.fields().iter().all(|(name, ty)| {
            let value = data.get(*name);
            let (ty, nullable) = ty.strip_suffix('?').map_or((*ty, false), |ty| (ty, true));
            match value {
                None => false,
                Some(serde_json::Value::Null) => nullable,
                Some(value) => match ty {
                    "string" => value.is_string(),
                    "integer" => value.is_u64() || value.is_i64(),
                    "boolean" => value.is_boolean(),
                    _ => false,
                },
            }
        })
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The schema is the wire names, from [`EventKind::ALL`]: a derived one would list the Rust variant names, since the
/// derive cannot read a `serde(rename)` that a `macro_rules!` fragment carries.
impl utoipa::PartialSchema for EventKind {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(EventKind::ALL.iter().map(|kind| kind.as_str())))
            .description(Some("Every type of event the platform publishes (`GET /v1/events/types` describes each)"))
            .into()
    }
}

impl utoipa::ToSchema for EventKind {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_wire_name_that_round_trips() {
        let names: std::collections::BTreeSet<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EventKind::ALL.len(), "names are unique");
        for &kind in EventKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert!(!kind.description().is_empty());
        }
        assert_eq!(EventKind::parse("agent.exploded"), None);
    }

    #[test]
    fn data_is_checked_against_the_schema() {
        let kind = EventKind::AgentCompleted;
        let schema = kind.data_schema();
        assert_eq!(schema["required"], serde_json::json!(["agent", "run_id", "project_id", "cost"]));
        assert_eq!(schema["properties"]["run_id"]["type"], serde_json::json!(["string", "null"]));
        let good = serde_json::json!({"agent": "qa", "run_id": null, "project_id": "p", "cost": "0.01", "extra": 1});
        assert!(kind.data_matches(&good));
        assert!(!kind.data_matches(&serde_json::json!({"agent": "qa", "run_id": null, "project_id": "p"})));
        assert!(!kind.data_matches(&serde_json::json!({"agent": 1, "run_id": null, "project_id": "p", "cost": "1"})));
        let steps = serde_json::json!({"run_id": "r", "workflow": "w", "project_id": "p", "cost": "0", "steps": 3});
        assert!(EventKind::WorkflowCompleted.data_matches(&steps));
    }
}
