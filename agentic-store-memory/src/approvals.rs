//! Approval requests, decided together with their run under the store's write lock.

use agentic_core::clock::Timestamp;
use agentic_core::ids::{ApprovalId, UserId};
use agentic_core::model::{Approval, ApprovalStatus, Run};
use agentic_core::store::{ApprovalStore, Decision, StoreError, StoreResult};
use async_trait::async_trait;

use crate::tenant::MemoryTenant;

#[async_trait]
impl ApprovalStore for MemoryTenant {
    async fn insert_gated_run(&self, run: &Run, approval: &Approval) -> StoreResult<()> {
        let mut state = self.state.write();
        if !state.projects.contains_key(&(self.tenant, run.project_id)) {
            return Err(StoreError::MissingReference { what: "the project".into() });
        }
        if state.runs.contains_key(&(self.tenant, run.id)) || state.approvals.contains_key(&(self.tenant, approval.id))
        {
            return Err(StoreError::conflict("a run or approval with this id"));
        }
        state.runs.insert((self.tenant, run.id), Run { tenant_id: self.tenant, ..run.clone() });
        state.reindex_run(self.tenant, run.id);
        state.approvals.insert((self.tenant, approval.id), Approval { tenant_id: self.tenant, ..approval.clone() });
        if approval.status == ApprovalStatus::Pending {
            state.pending_approvals.insert((approval.expires_at, self.tenant, approval.id));
        }
        Ok(())
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

    async fn decide_approval(
        &self,
        id: ApprovalId,
        approve: bool,
        by: UserId,
        comment: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<Option<Decision>> {
        let mut state = self.state.write();
        let Some(approval) = state.approvals.get_mut(&(self.tenant, id)) else { return Ok(None) };
        if approval.status != ApprovalStatus::Pending {
            return Ok(Some(Decision { approval: approval.clone(), changed: false }));
        }
        let status = approval.decided(approve, at);
        approval.status = status;
        approval.decided_at = Some(at);
        let expires_at = approval.expires_at;
        if status != ApprovalStatus::Expired {
            approval.decided_by = Some(by);
            approval.comment = comment.map(str::to_owned);
        }
        let (decided, run_id) = (approval.clone(), approval.run_id);
        state.pending_approvals.remove(&(expires_at, self.tenant, id));
        state.resolve_gated_run(self.tenant, run_id, status, at);
        Ok(Some(Decision { approval: decided, changed: true }))
    }
}
