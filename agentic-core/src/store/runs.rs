//! Runs of one tenant.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::clock::Timestamp;
use crate::ids::{ProjectId, RunId, ScheduleId};
use crate::model::{Run, RunFinish, RunKind, RunLease, RunProgress, RunStatus};

/// Which runs to list, newest first: the query of `GET /v1/runs` and of the store alike.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// Only runs with this status.
    pub status: Option<RunStatus>,
    /// Only runs of this agent (or, for workflow runs, this workflow).
    pub agent: Option<String>,
    /// Only runs charged to this project.
    pub project_id: Option<ProjectId>,
    /// Only agent runs or only workflow runs.
    pub kind: Option<RunKind>,
    /// Only runs started by this schedule.
    pub schedule_id: Option<ScheduleId>,
    /// Only the runs this run handed work to.
    pub parent_run_id: Option<RunId>,
    /// Runs older than this one (the previous page's `next_cursor`).
    pub after: Option<RunId>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
}

impl RunQuery {
    /// The page size a store returns ([`PageRequest`]'s rule).
    pub fn effective_limit(&self) -> usize {
        PageRequest { limit: self.limit.unwrap_or(PageRequest::first().limit), after: None }.effective_limit()
    }

    /// Whether `run` passes the filters (not the cursor): the one rule every store applies.
    pub fn matches(&self, run: &Run) -> bool {
        self.status.is_none_or(|s| run.status == s)
            && self.agent.as_deref().is_none_or(|a| run.agent == a)
            && self.project_id.is_none_or(|p| run.project_id == p)
            && self.kind.is_none_or(|k| run.kind == k)
            && self.schedule_id.is_none_or(|s| run.schedule_id == Some(s))
            && self.parent_run_id.is_none_or(|p| run.parent_run_id == Some(p))
    }
}

/// What [`RunStore::cancel_run`] did, with the run as it stands after.
#[derive(Clone, Debug, PartialEq)]
pub enum Cancellation {
    /// The run was queued or waiting for approval: it ended `cancelled` now (a pending approval request with it,
    /// as `cancelled`), and the event was stored with the change.
    Cancelled(Run),
    /// A worker holds the run: it is marked (`cancel_requested_at`, kept from the first request) for the worker to
    /// stop at its next step; the event is not stored (the worker stores its own with the end).
    Requested(Run),
    /// The run had ended already; nothing changed.
    AlreadyEnded(Run),
}

/// Runs of the handle's tenant. Claiming (across tenants) is on the system interface. Every write by a worker is
/// fenced by its [`RunLease`]: it applies only while the run is `running` under that worker and attempt.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Records a new run. A run whose `idempotency_key` is held by another run of the tenant created within
    /// [`IDEMPOTENCY_WINDOW`](crate::model::IDEMPOTENCY_WINDOW) before it is refused as a
    /// [`Conflict`](super::StoreError::Conflict); an older holder loses the key to it. (The same holds for a gated
    /// run inserted with its approval request.) A run may be inserted already claimed (`running`, with a lease
    /// holder and expiry): its lease lasts `lease_expires_at - updated_at` from the insert, on the store's clock
    /// where it has one, and lapses like any other. `events` (a claimed run's `agent.started`) are stored in the
    /// same transaction: all of it, or nothing.
    async fn insert_run(&self, run: &Run, events: &[crate::events::Event]) -> StoreResult<()>;

    /// The run holding idempotency key `key`, if any.
    async fn run_by_idempotency_key(&self, key: &str) -> StoreResult<Option<Run>>;

    /// A run by id.
    async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>>;

    /// A page of runs, newest first, filtered as [`RunQuery`] says.
    async fn list_runs(&self, query: &RunQuery) -> StoreResult<Page<Run>>;

    /// Extends the lease on `lease.run` to `lease.duration` from now (the store's clock where it has one, else `at`), saving
    /// `progress` when given. `false` if the lease no longer holds: another worker has taken the run over, and
    /// this one must stop.
    async fn renew_run(&self, lease: &RunLease<'_>, progress: Option<&RunProgress>, at: Timestamp)
    -> StoreResult<bool>;

    /// Ends `lease.run`. `false` if the lease no longer holds (another worker took over): the other
    /// worker's result stands.
    async fn finish_run(&self, lease: &RunLease<'_>, finish: &RunFinish, at: Timestamp) -> StoreResult<bool>;

    /// Cancels run `id` as [`Cancellation`] describes, storing `event` (its `agent.cancelled` or
    /// `workflow.cancelled`) only when the run ends here. `None` if the tenant has no such run.
    async fn cancel_run(
        &self,
        id: RunId,
        event: &crate::events::Event,
        at: Timestamp,
    ) -> StoreResult<Option<Cancellation>>;

    /// Gives `lease.run` back unfinished (its worker is shutting down): `queued` again at once, without counting the
    /// attempt, so no worker waits out the lease and no attempt is spent. `false` if the lease no longer holds.
    async fn release_run(&self, lease: &RunLease<'_>, at: Timestamp) -> StoreResult<bool>;
}
