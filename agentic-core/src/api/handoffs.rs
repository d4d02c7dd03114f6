//! Bodies of `GET /v1/runs/{id}/handoffs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::RunId;
use crate::model::{Money, Run, RunStatus};

/// One handoff a run's agent made: the child run that did the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HandoffView {
    /// The child run.
    pub run_id: RunId,
    /// The agent that handed off.
    pub from: String,
    /// The agent that did the work.
    pub to: String,
    /// What it was asked.
    pub instructions: String,
    /// How deep in the chain (1: the run's own agent handed off).
    pub depth: u64,
    /// SHA-256 of the context handed over (hex), to compare without storing it twice.
    pub context_hash: String,
    /// How the child run ended.
    pub status: RunStatus,
    /// What it cost (also counted in the parent run's cost).
    pub cost: Money,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
}

impl HandoffView {
    /// The view of a child run (its input records the handoff).
    pub fn of(run: &Run) -> Self {
        let handoff = &run.input["handoff"];
        Self {
            run_id: run.id,
            from: handoff["from"].as_str().unwrap_or_default().to_owned(),
            to: run.agent.clone(),
            instructions: run.input["task"].as_str().unwrap_or_default().to_owned(),
            depth: handoff["depth"].as_u64().unwrap_or_default(),
            context_hash: handoff["context_hash"].as_str().unwrap_or_default().to_owned(),
            status: run.status,
            cost: run.cost,
            error: run.error.clone(),
            started_at: run.created_at,
            ended_at: run.updated_at,
        }
    }
}

/// `GET /v1/runs/{id}/handoffs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HandoffList {
    /// The run's handoffs, oldest first.
    pub data: Vec<HandoffView>,
}
