//! Approval requests of one tenant, kept consistent with their runs.

use async_trait::async_trait;

use super::StoreResult;
use crate::events::Event;
use crate::ids::ApprovalId;
use crate::model::{Approval, ApprovalStatus, Run, Verdict};

/// What deciding a request did.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The request after the call.
    pub approval: Approval,
    /// Whether this call decided it (or expired it); `false` when it was no longer pending, so that only the
    /// call that changed a request announces it.
    pub changed: bool,
    /// The event stored with the change ([`Event::approval_decided`]); `None` when nothing changed.
    pub event: Option<Event>,
}

/// Approvals of the handle's tenant. A decision and its run's new status are written together.
#[async_trait]
pub trait ApprovalStore: Send + Sync {
    /// Records a run that waits for approval, with its request and their `approval.requested` event
    /// ([`Event::approval_requested`]): all or nothing. Returns the event.
    async fn insert_gated_run(&self, run: &Run, approval: &Approval) -> StoreResult<Event>;

    /// An approval by id.
    async fn get_approval(&self, id: ApprovalId) -> StoreResult<Option<Approval>>;

    /// Approvals, oldest first, optionally of one status (at most 200).
    async fn list_approvals(&self, status: Option<ApprovalStatus>) -> StoreResult<Vec<Approval>>;

    /// Decides a pending request with [`Approval::decided`]: approving queues its run, denying ends it `denied`;
    /// a request past its expiry becomes `expired` (and its run `denied`) instead. The decision's event
    /// ([`Event::approval_decided`]) is stored with it. Returns the request after the change,
    /// or as it was (`changed: false`) if it was no longer pending; `None` if there is no such request.
    async fn decide_approval(&self, id: ApprovalId, verdict: &Verdict) -> StoreResult<Option<Decision>>;
}
