//! Approval requests: list them, approve or deny.

use agentic_core::api::{ApprovalList, ApprovalQuery, DecisionRequest};
use agentic_core::ids::ApprovalId;
use agentic_core::model::{Approval, ApprovalStatus};

use crate::client::{AgenticClient, Repeat};
use crate::error::Result;

/// `client.approvals()`.
#[derive(Clone, Copy, Debug)]
pub struct Approvals<'a>(pub(crate) &'a AgenticClient);

impl Approvals<'_> {
    /// Requests, oldest first, optionally of one status (`approvals:approve`).
    pub async fn list(&self, status: Option<ApprovalStatus>) -> Result<ApprovalList> {
        self.0.get("/v1/approvals", Some(&ApprovalQuery { status })).await
    }

    /// Approves a request: its run is queued.
    pub async fn approve(&self, id: ApprovalId, comment: Option<&str>) -> Result<Approval> {
        self.decide(id, "approve", comment).await
    }

    /// Denies a request: its run ends `denied`.
    pub async fn deny(&self, id: ApprovalId, comment: Option<&str>) -> Result<Approval> {
        self.decide(id, "deny", comment).await
    }

    async fn decide(&self, id: ApprovalId, verb: &str, comment: Option<&str>) -> Result<Approval> {
        let body = DecisionRequest { comment: comment.map(str::to_owned) };
        // A decision is made once (a second one is a conflict), so repeating it is safe.
        self.0.post(&format!("/v1/approvals/{id}/{verb}"), Some(&body), Repeat::Safe).await
    }
}
