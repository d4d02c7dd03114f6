//! Runs of one tenant; lease-fenced writes go through `State::held_run`.

use agentic_core::clock::Timestamp;
use agentic_core::model::RunLease;
use agentic_core::store::{StoreError, StoreResult};
use async_trait::async_trait;

use crate::state::State;
use crate::tenant::MemoryTenant;

#[async_trait]
impl agentic_core::store::RunStore for MemoryTenant {
    async fn insert_run(
        &self,
        run: &agentic_core::model::Run,
        events: &[agentic_core::events::Event],
    ) -> StoreResult<()> {
        State::check_events(self.tenant, events)?;
        let mut state = self.state.write();
        if !state.projects.contains_key(&(self.tenant, run.project_id)) {
            return Err(StoreError::MissingReference { what: "the project".into() });
        }
        if state.runs.contains_key(&(self.tenant, run.id)) {
            return Err(StoreError::conflict("a run with this id"));
        }
        state.check_idempotency_key(self.tenant, run)?;
        state.take_idempotency_key(self.tenant, run);
        state.runs.insert((self.tenant, run.id), agentic_core::model::Run { tenant_id: self.tenant, ..run.clone() });
        state.reindex_run(self.tenant, run.id);
        state.store_events(self.tenant, events);
        Ok(())
    }

    async fn run_by_idempotency_key(&self, key: &str) -> StoreResult<Option<agentic_core::model::Run>> {
        let state = self.state.read();
        let id = state.idempotency_keys.get(&(self.tenant, key.to_owned()));
        Ok(id.and_then(|id| state.runs.get(&(self.tenant, *id))).cloned())
    }

    async fn get_run(&self, id: agentic_core::ids::RunId) -> StoreResult<Option<agentic_core::model::Run>> {
        Ok(self.state.read().runs.get(&(self.tenant, id)).cloned())
    }

    async fn list_runs(
        &self,
        query: &agentic_core::store::RunQuery,
    ) -> StoreResult<agentic_core::store::Page<agentic_core::model::Run>> {
        use agentic_core::ids::RunId;
        use std::ops::Bound;
        let state = self.state.read();
        let limit = query.effective_limit();
        let floor = Bound::Included((self.tenant, RunId::from_uuid(uuid::Uuid::nil())));
        let ceiling = match query.after {
            Some(after) => Bound::Excluded((self.tenant, after)),
            None => Bound::Included((self.tenant, RunId::from_uuid(uuid::Uuid::max()))),
        };
        let runs: Vec<_> = state
            .runs
            .range((floor, ceiling))
            .rev()
            .map(|(_, r)| r)
            .filter(|r| query.matches(r))
            .take(limit + 1)
            .cloned()
            .collect();
        Ok(agentic_core::store::Page::from_overfetch(runs, limit, |r| r.id.as_uuid()))
    }

    async fn renew_run(
        &self,
        lease: &RunLease<'_>,
        progress: Option<&agentic_core::model::RunProgress>,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut state = self.state.write();
        let Some(run) = state.held_run(self.tenant, lease) else { return Ok(false) };
        run.lease_expires_at = Some(at + lease.duration);
        if let Some(progress) = progress {
            run.output = Some(progress.output.clone());
            run.cost = progress.cost;
        }
        run.updated_at = at;
        Ok(true)
    }

    async fn finish_run(
        &self,
        lease: &RunLease<'_>,
        finish: &agentic_core::model::RunFinish,
        at: Timestamp,
    ) -> StoreResult<bool> {
        State::check_events(self.tenant, &finish.events)?;
        let mut state = self.state.write();
        let Some(run) = state.held_run(self.tenant, lease) else { return Ok(false) };
        run.status = finish.status;
        run.output.clone_from(&finish.output);
        run.error.clone_from(&finish.error);
        run.error_code.clone_from(&finish.error_code);
        run.cost = finish.cost;
        run.lease_owner = None;
        run.lease_expires_at = None;
        run.updated_at = at;
        state.reindex_run(self.tenant, lease.run);
        state.store_events(self.tenant, &finish.events);
        Ok(true)
    }

    async fn cancel_run(
        &self,
        id: agentic_core::ids::RunId,
        event: &agentic_core::events::Event,
        at: Timestamp,
    ) -> StoreResult<Option<agentic_core::store::Cancellation>> {
        use agentic_core::model::{ApprovalStatus, RunStatus};
        use agentic_core::store::Cancellation;
        State::check_events(self.tenant, std::slice::from_ref(event))?;
        let mut state = self.state.write();
        let state = &mut *state;
        let Some(run) = state.runs.get_mut(&(self.tenant, id)) else { return Ok(None) };
        match run.status {
            RunStatus::Running => {
                run.cancel_requested_at.get_or_insert(at);
                run.updated_at = at;
                return Ok(Some(Cancellation::Requested(run.clone())));
            }
            status if status.is_final() => return Ok(Some(Cancellation::AlreadyEnded(run.clone()))),
            _ => {}
        }
        (run.status, run.error) = ApprovalStatus::Cancelled.run_outcome();
        run.updated_at = at;
        let cancelled = run.clone();
        // A gated run's pending request is withdrawn with it.
        let pending = state
            .approvals
            .range_mut(crate::state::tenant_range(self.tenant))
            .find(|(_, a)| a.run_id == id && a.status == ApprovalStatus::Pending);
        if let Some((_, approval)) = pending {
            approval.status = ApprovalStatus::Cancelled;
            approval.decided_at = Some(at);
            state.pending_approvals.remove(&(approval.expires_at, self.tenant, approval.id));
        }
        state.reindex_run(self.tenant, id);
        state.store_events(self.tenant, std::slice::from_ref(event));
        Ok(Some(Cancellation::Cancelled(cancelled)))
    }

    async fn release_run(&self, lease: &RunLease<'_>, at: Timestamp) -> StoreResult<bool> {
        let mut state = self.state.write();
        let Some(run) = state.held_run(self.tenant, lease) else { return Ok(false) };
        run.status = agentic_core::model::RunStatus::Queued;
        run.lease_owner = None;
        run.lease_expires_at = None;
        run.attempts = run.attempts.saturating_sub(1);
        run.updated_at = at;
        state.reindex_run(self.tenant, lease.run);
        Ok(true)
    }
}
