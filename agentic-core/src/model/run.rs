//! Runs: an agent (or workflow) working on a task, recorded durably so that any replica can pick it up and an
//! interrupted one is resumed or failed, never lost.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Money;
use super::RiskLevel;
use crate::ids::{ProjectId, RunId, ScheduleId, TenantId, UserId};

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    /// Waiting for a human to approve it.
    AwaitingApproval,
    /// A worker holds it (under a lease).
    Running,
    /// Finished with an output.
    Completed,
    /// Finished with an error.
    Failed,
    /// Not approved (denied, or the request expired).
    Denied,
    /// Cancelled by a caller: before a worker started it, or cooperatively at its next step.
    Cancelled,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::Queued,
        Self::AwaitingApproval,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Denied,
        Self::Cancelled,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::AwaitingApproval => "awaiting_approval",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Denied => "denied",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the run is over.
    pub const fn is_final(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Failed | RunStatus::Denied | RunStatus::Cancelled)
    }
}

/// What a run runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// One agent on one task.
    #[default]
    Agent,
    /// A named workflow (several agents, in steps).
    Workflow,
}

impl RunKind {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunKind::Agent => "agent",
            RunKind::Workflow => "workflow",
        }
    }
}

/// A run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Run {
    /// Id.
    pub id: RunId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Project charged.
    pub project_id: ProjectId,
    /// Whether it runs an agent or a workflow.
    pub kind: RunKind,
    /// The agent it runs, or for a workflow run the workflow's name.
    pub agent: String,
    /// The task and its context.
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// Status.
    pub status: RunStatus,
    /// Risk.
    pub risk_level: RiskLevel,
    /// Who asked for it.
    pub requested_by: UserId,
    /// The outcome, once completed: an agent run's answer, steps and usage; a workflow's plan, steps and review
    /// (saved after every step while it runs). The OpenAPI document gives both shapes (`AgentRunOutput`,
    /// `PipelineOutput`).
    #[schema(value_type = Option<Object>)]
    pub output: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// What kind of failure it was: the problem type's slug (`budget-exceeded`, `llm-failed`, …; see the problem
    /// catalogue), so clients branch on it rather than on the words of `error`.
    pub error_code: Option<String>,
    /// Money spent so far.
    pub cost: Money,
    /// How many times a worker has started it.
    pub attempts: u32,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Until when the worker's hold is valid; past it, another worker may take over.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When a caller asked to cancel the run while a worker held it: the worker stops at its next step.
    pub cancel_requested_at: Option<DateTime<Utc>>,
    /// The `Idempotency-Key` it was created with: the same key within [`IDEMPOTENCY_WINDOW`] returns this run
    /// instead of starting another.
    pub idempotency_key: Option<String>,
    /// The schedule that started it, if one did.
    pub schedule_id: Option<ScheduleId>,
    /// The run whose agent handed this one its work (a handoff), if any.
    pub parent_run_id: Option<RunId>,
    /// The W3C trace context of the request that created it: the run's spans continue that trace, whichever
    /// replica works it. `None` when no trace was being recorded (a scheduled run starts a trace of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Run {
    /// A new run, queued, not yet started by any worker.
    pub fn queued(
        tenant_id: TenantId,
        project_id: ProjectId,
        agent: impl Into<String>,
        input: serde_json::Value,
        risk_level: RiskLevel,
        requested_by: UserId,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: RunId::new(),
            tenant_id,
            project_id,
            kind: RunKind::Agent,
            agent: agent.into(),
            input,
            status: RunStatus::Queued,
            risk_level,
            requested_by,
            output: None,
            error: None,
            error_code: None,
            cost: Money::ZERO,
            attempts: 0,
            lease_owner: None,
            lease_expires_at: None,
            cancel_requested_at: None,
            idempotency_key: None,
            schedule_id: None,
            parent_run_id: None,
            traceparent: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// How long an idempotency key names its run: a request with the same key within this time of the run's creation
/// gets that run back; after it, the key starts a new run (which takes the key over). Both stores apply it.
pub const IDEMPOTENCY_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// The longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A worker's hold on a claimed run, as stores check it: the worker's name and the attempt it works, which is
/// the fencing token (a takeover claims the next attempt, so the old holder's writes match no row), and how long
/// each renewal extends the lease. Stores that have a clock of their own (PostgreSQL) measure the lease on it,
/// so replicas whose clocks disagree still agree on when a lease lapses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLease<'a> {
    /// The run held.
    pub run: RunId,
    /// The worker holding it.
    pub worker: &'a str,
    /// The attempt it works (the claimed run's `attempts`).
    pub attempt: u32,
    /// How long a claim or renewal holds.
    pub duration: chrono::Duration,
}

/// How far a worker got with a run: saved with a lease renewal so that a run resumed after a crash continues
/// from its last finished step instead of paying for that work again.
#[derive(Clone, Debug, PartialEq)]
pub struct RunProgress {
    /// The partial output (a workflow's finished steps).
    pub output: serde_json::Value,
    /// Money spent so far.
    pub cost: Money,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFinish {
    /// `completed` or `failed`.
    pub status: RunStatus,
    /// Output, for a completed run.
    pub output: Option<serde_json::Value>,
    /// Reason, for a failed run.
    pub error: Option<String>,
    /// The failure's problem type slug ([`Run::error_code`]).
    pub error_code: Option<String>,
    /// Total cost.
    pub cost: Money,
    /// Events of the end (`agent.completed`, `workflow.failed`, …), stored in the same transaction as the outcome
    /// (the transactional outbox): a run never ends without them, nor are they stored for an end that was refused.
    pub events: Vec<crate::events::Event>,
}

/// The `error` of a cancelled run (PostgreSQL's `tenant_cancel_run` spells the same text).
pub const CANCELLED: &str = "cancelled";

impl RunFinish {
    /// A run cancelled at a step boundary, having spent `cost`, with its end events.
    pub fn cancelled(cost: Money, events: Vec<crate::events::Event>) -> Self {
        RunFinish {
            status: RunStatus::Cancelled,
            output: None,
            error: Some(CANCELLED.to_owned()),
            error_code: None,
            cost,
            events,
        }
    }
}

/// Where an approval request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for a decision.
    Pending,
    /// Approved: the run proceeds.
    Approved,
    /// Denied: the run ends `denied`.
    Denied,
    /// Nobody decided in time: the run ends `denied`.
    Expired,
    /// The run was cancelled before anyone decided.
    Cancelled,
}

impl ApprovalStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Cancelled => "cancelled",
        }
    }
}

impl ApprovalStatus {
    /// What becomes of the run once its request has this status: queued when approved, else `denied` with the
    /// reason (`approval denied`, `approval expired`). Both stores apply it (PostgreSQL's expiry sweep spells the
    /// same text in SQL; the conformance suite checks they agree).
    pub fn run_outcome(self) -> (RunStatus, Option<String>) {
        match self {
            ApprovalStatus::Approved => (RunStatus::Queued, None),
            ApprovalStatus::Cancelled => (RunStatus::Cancelled, Some(CANCELLED.to_owned())),
            other => (RunStatus::Denied, Some(format!("approval {}", other.as_str()))),
        }
    }
}

/// A request for a human to approve a risky run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    /// Id.
    pub id: crate::ids::ApprovalId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// The run waiting for it.
    pub run_id: RunId,
    /// Status.
    pub status: ApprovalStatus,
    /// Who asked for the run (who may not approve it).
    pub requested_by: UserId,
    /// Who decided.
    pub decided_by: Option<UserId>,
    /// The decider's comment.
    pub comment: Option<String>,
    /// When it was requested.
    pub created_at: DateTime<Utc>,
    /// After this nobody can approve it.
    pub expires_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
}

/// A human's decision on an approval request, as the engine hands it to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Approve (queue the run) or deny it.
    pub approve: bool,
    /// Who decided.
    pub by: UserId,
    /// Their comment.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Approval {
    /// A pending request for `run`, which gets the run's requester and creation time.
    pub fn pending_for(run: &Run, expires_at: DateTime<Utc>) -> Approval {
        Approval {
            id: crate::ids::ApprovalId::new(),
            tenant_id: run.tenant_id,
            run_id: run.id,
            status: ApprovalStatus::Pending,
            requested_by: run.requested_by,
            decided_by: None,
            comment: None,
            created_at: run.created_at,
            expires_at,
            decided_at: None,
        }
    }

    /// This pending request once `verdict` is applied: `expired` once past its expiry, whatever was asked (and
    /// then without decider or comment), else `approved` or `denied` by the verdict's author. Both stores apply
    /// this one rule.
    pub fn decided(&self, verdict: &Verdict) -> Approval {
        let status = if self.expires_at <= verdict.at {
            ApprovalStatus::Expired
        } else if verdict.approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Denied
        };
        let human = status != ApprovalStatus::Expired;
        Approval {
            status,
            decided_by: human.then_some(verdict.by),
            comment: verdict.comment.clone().filter(|_| human),
            decided_at: Some(verdict.at),
            ..self.clone()
        }
    }
}
