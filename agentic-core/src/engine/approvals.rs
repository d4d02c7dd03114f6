//! Approval gates: runs at or above the tenant's risk threshold wait for a human with `approvals:approve`, who may
//! not be the requester. A decision and the run's new status are written together; requests expire.

use crate::Platform;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::{ApprovalId, TenantId};
use crate::model::{Approval, ApprovalStatus, Permission, RiskLevel, Run};

/// The risk at which a tenant's runs need approval: `settings.approvals.required_at` (`low`, `medium`, `high` or
/// `never`), default `high`.
pub fn approval_threshold(settings: &serde_json::Value) -> Option<RiskLevel> {
    match settings.pointer("/approvals/required_at").and_then(|v| v.as_str()) {
        Some("never") => None,
        Some("low") => Some(RiskLevel::Low),
        Some("medium") => Some(RiskLevel::Medium),
        _ => Some(RiskLevel::High),
    }
}

impl Platform {
    /// Whether a run of `risk` in `tenant` needs approval.
    pub(crate) async fn needs_approval(&self, tenant: TenantId, risk: RiskLevel) -> Result<bool> {
        let settings = self.inner.store.tenant(tenant).get_tenant().await?.map(|t| t.settings).unwrap_or_default();
        Ok(approval_threshold(&settings).is_some_and(|threshold| risk >= threshold))
    }

    /// Approval requests, optionally of one status. Needs `approvals:approve`.
    pub async fn list_approvals(&self, principal: &Principal, status: Option<ApprovalStatus>) -> Result<Vec<Approval>> {
        principal.require(Permission::ApprovalsApprove)?;
        Ok(self.inner.store.tenant(principal.tenant_id).list_approvals(status).await?)
    }

    /// The e-mail of whoever asked for the run an approval request gates: approvers see who they decide for
    /// without needing `users:manage`. Needs `approvals:approve`.
    pub async fn approval_requester(&self, principal: &Principal, id: ApprovalId) -> Result<crate::model::Email> {
        principal.require(Permission::ApprovalsApprove)?;
        let store = self.inner.store.tenant(principal.tenant_id);
        let approval = store.get_approval(id).await?.ok_or(Error::NotFound("approval"))?;
        let user = store.get_user(approval.requested_by).await?.ok_or(Error::NotFound("user"))?;
        Ok(user.email)
    }

    /// Approves (the run is queued) or denies (the run ends `denied`) a pending request. Needs
    /// `approvals:approve`; nobody approves their own run. A request past its expiry ends `expired` instead.
    pub async fn decide_approval(
        &self,
        principal: &Principal,
        id: ApprovalId,
        approve: bool,
        comment: Option<String>,
    ) -> Result<Approval> {
        principal.require(Permission::ApprovalsApprove)?;
        let store = self.inner.store.tenant(principal.tenant_id);
        let current = store.get_approval(id).await?.ok_or(Error::NotFound("approval"))?;
        if approve && current.requested_by == principal.user_id {
            return Err(Error::Forbidden("you cannot approve a run you requested".into()));
        }
        if current.status != ApprovalStatus::Pending {
            return Err(Error::Conflict(format!("the request is already {}", current.status.as_str())));
        }
        let now = self.inner.clock.now();
        let verdict = crate::model::Verdict { approve, by: principal.user_id, comment, at: now };
        let decision = store.decide_approval(id, &verdict).await?.ok_or(Error::NotFound("approval"))?;
        let decided = decision.approval;
        if !decision.changed {
            // Decided (or expired by the sweep) since the check above: that call announced it.
            return Err(Error::Conflict(format!("the request is already {}", decided.status.as_str())));
        }
        if decision.event.is_some() {
            self.events_stored();
        }
        if decided.status == ApprovalStatus::Approved {
            self.inner.run_signals.run_queued();
        } else {
            self.inner.run_signals.run_changed(decided.run_id);
        }
        if decided.status == ApprovalStatus::Expired {
            return Err(Error::Conflict("the request expired before it was decided".into()));
        }
        Ok(decided)
    }

    /// Expires every pending request past its expiry, across tenants (their runs end `denied`), publishing
    /// `approval.expired` for each and waking the runs' waiters. Workers call it periodically; returns how many
    /// expired.
    pub async fn expire_approvals(&self) -> Result<usize> {
        const BATCH: u32 = 100;
        let mut total = 0;
        loop {
            let now = self.inner.clock.now();
            let expired = self.inner.store.system().expire_approvals(now, BATCH).await?;
            for decision in &expired {
                if decision.event.is_some() {
                    self.events_stored();
                }
                self.inner.run_signals.run_changed(decision.approval.run_id);
            }
            total += expired.len();
            if expired.len() < BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// The approval request of a gated run, newly made.
    pub(crate) fn approval_for(&self, run: &Run) -> Approval {
        Approval::pending_for(run, run.created_at + self.inner.approval_ttl)
    }
}
