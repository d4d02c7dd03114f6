//! Approval requests, decided together with their run under the store's write lock.

use agentic_core::events::Event;
use agentic_core::ids::ApprovalId;
use agentic_core::model::{Approval, ApprovalStatus, Run, Verdict};
use agentic_core::store::{ApprovalStore, Decision, StoreError, StoreResult};
use async_trait::async_trait;

use crate::tenant::MemoryTenant;

#[async_trait]
impl ApprovalStore for MemoryTenant {
    async fn insert_gated_run(&self, run: &Run, approval: &Approval) -> StoreResult<Event> {
        let mut state = self.state.write();
        if !state.projects.contains_key(&(self.tenant, run.project_id)) {
            return Err(StoreError::MissingReference { what: "the project".into() });
        }
        if state.runs.contains_key(&(self.tenant, run.id)) || state.approvals.contains_key(&(self.tenant, approval.id))
        {
            return Err(StoreError::conflict("a run or approval with this id"));
        }
        state.check_idempotency_key(self.tenant, run)?;
        state.take_idempotency_key(self.tenant, run);
        state.runs.insert((self.tenant, run.id), Run { tenant_id: self.tenant, ..run.clone() });
        state.reindex_run(self.tenant, run.id);
        state.approvals.insert((self.tenant, approval.id), Approval { tenant_id: self.tenant, ..approval.clone() });
        if approval.status == ApprovalStatus::Pending {
            state.pending_approvals.insert((approval.expires_at, self.tenant, approval.id));
        }
        // The outbox: the event under the same lock as the change.
        let event = Event::approval_requested(&Run { tenant_id: self.tenant, ..run.clone() }, approval);
        state.store_events(self.tenant, std::slice::from_ref(&event));
        Ok(event)
    }

    async fn get_approval(&self, id: ApprovalId) -> StoreResult<Option<Approval>> {
        Ok(self.state.read().approvals.get(&(self.tenant, id)).cloned())
    }

    async fn list_approvals(&self, status: Option<ApprovalStatus>) -> StoreResult<Vec<Approval>> {
        let state = self.state.read();
        Ok(state
            .approvals
            .iter()
            .filter(|((t, _), a)| *t == self.tenant && status.is_none_or(|s| a.status == s))
            .map(|(_, a)| a.clone())
            .take(200)
            .collect())
    }

    async fn decide_approval(&self, id: ApprovalId, verdict: &Verdict) -> StoreResult<Option<Decision>> {
        let mut state = self.state.write();
        let Some(approval) = state.approvals.get_mut(&(self.tenant, id)) else { return Ok(None) };
        if approval.status != ApprovalStatus::Pending {
            return Ok(Some(Decision { approval: approval.clone(), changed: false, event: None }));
        }
        *approval = approval.decided(verdict);
        let decided = approval.clone();
        state.pending_approvals.remove(&(decided.expires_at, self.tenant, id));
        state.resolve_gated_run(self.tenant, decided.run_id, decided.status, verdict.at);
        let event = Event::approval_decided(&decided);
        state.store_events(self.tenant, std::slice::from_ref(&event));
        Ok(Some(Decision { approval: decided, changed: true, event: Some(event) }))
    }
}
