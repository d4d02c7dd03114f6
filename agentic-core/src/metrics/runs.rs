//! Agent and workflow runs: how many ended and how, how long they took, and runs taken over after a lost lease.

use prometheus::{HistogramVec, IntCounter, IntCounterVec};

use super::{Registrar, SLOW_BUCKETS};
use crate::error::Error;
use crate::model::RunStatus;

/// Agent executions (every agent a run, a workflow step or a handoff starts) and workflow runs.
#[derive(Clone, Debug)]
pub struct RunMetrics {
    /// `agent_executions_total{agent_name,status}`, status `completed`, `failed` or `cancelled` (tenant-defined
    /// agents count as `custom`).
    agent_executions_total: IntCounterVec,
    /// `agent_execution_duration_seconds{agent_name}`.
    agent_execution_duration_seconds: HistogramVec,
    /// `workflow_executions_total{workflow,status}`: workflow runs a worker finished, by how (runs that end
    /// before a worker starts them, cancelled or denied, are not counted here).
    workflow_executions_total: IntCounterVec,
    /// `workflow_duration_seconds{workflow}`: from a workflow run's creation to its end (queueing and approval
    /// included).
    workflow_duration_seconds: HistogramVec,
    /// `run_lease_takeovers_total`: runs claimed again after an earlier attempt stopped without giving them back
    /// (its worker crashed or lost the lease).
    pub lease_takeovers_total: IntCounter,
}

impl RunMetrics {
    pub(super) fn register(r: &Registrar<'_>) -> Result<Self, Error> {
        let metrics = Self {
            agent_executions_total: r.int_counter_vec(
                "agent_executions_total",
                "Agent executions finished, by agent and status",
                &["agent_name", "status"],
            )?,
            agent_execution_duration_seconds: r.histogram_vec(
                "agent_execution_duration_seconds",
                "Agent execution duration",
                &["agent_name"],
                SLOW_BUCKETS,
            )?,
            workflow_executions_total: r.int_counter_vec(
                "workflow_executions_total",
                "Workflow runs a worker finished, by workflow and status",
                &["workflow", "status"],
            )?,
            workflow_duration_seconds: r.histogram_vec(
                "workflow_duration_seconds",
                "Workflow run duration, from creation to end",
                &["workflow"],
                SLOW_BUCKETS,
            )?,
            lease_takeovers_total: r.int_counter(
                "run_lease_takeovers_total",
                "Runs claimed again after an earlier attempt stopped without giving them back",
            )?,
        };
        Ok(metrics)
    }

    /// Counts and times one agent execution; `agent` is the agent's name (bounded here).
    pub fn agent_ended(&self, agent: &str, status: RunStatus, seconds: f64) {
        let label = crate::agents::metric_label(agent);
        self.agent_execution_duration_seconds.with_label_values(&[label]).observe(seconds);
        self.agent_executions_total.with_label_values(&[label, status.as_str()]).inc();
    }

    /// Counts and times one workflow run's end (`workflow` is a built-in workflow's name).
    pub fn workflow_ended(&self, workflow: &str, status: RunStatus, seconds: f64) {
        self.workflow_duration_seconds.with_label_values(&[workflow]).observe(seconds);
        self.workflow_executions_total.with_label_values(&[workflow, status.as_str()]).inc();
    }
}
