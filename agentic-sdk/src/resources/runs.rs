//! Runs: reading one, and [`RunHandle`], which waits for a run however long it takes.

use std::time::{Duration, Instant};

use agentic_core::api::MAX_WAIT_SECS;
use agentic_core::ids::RunId;
use agentic_core::model::{Run, RunStatus};
use agentic_core::store::{Page, RunQuery};

use agentic_core::ids::EventId;
use agentic_core::model::CostRecord;

use crate::client::{AgenticClient, Repeat};
use crate::error::{Error, Result};
use crate::stream::{self, EventStream, Follow};

/// What "no deadline" comes to.
const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `client.runs()`.
#[derive(Clone, Copy, Debug)]
pub struct Runs<'a>(pub(crate) &'a AgenticClient);

impl Runs<'_> {
    /// A run.
    pub async fn get(&self, id: RunId) -> Result<Run> {
        self.0.get(&format!("/v1/runs/{id}"), None).await
    }

    /// A page of the tenant's runs, newest first, filtered.
    pub async fn list(&self, query: &RunQuery) -> Result<Page<Run>> {
        self.0.get("/v1/runs", Some(query)).await
    }

    /// Cancels a run: a queued or gated one ends `cancelled` at once; a running one stops at its next step (the
    /// answer then shows `cancel_requested_at`). An ended run is [`Error::Conflict`].
    pub async fn cancel(&self, id: RunId) -> Result<Run> {
        self.0.post::<_, ()>(&format!("/v1/runs/{id}/cancel"), None, Repeat::Safe).await
    }

    /// The run's cost records (one per model call), oldest first.
    pub async fn costs(&self, id: RunId) -> Result<Vec<CostRecord>> {
        self.0.get(&format!("/v1/runs/{id}/costs"), None).await
    }

    /// The handoffs the run's agent made (each a child run), oldest first.
    pub async fn handoffs(&self, id: RunId) -> Result<Vec<agentic_core::api::HandoffView>> {
        let list: agentic_core::api::HandoffList = self.0.get(&format!("/v1/runs/{id}/handoffs"), None).await?;
        Ok(list.data)
    }

    /// The run's progress as it happens, from its first event (or after `resume`, an event id): model calls with
    /// tokens and cost, tool calls, approval decisions; the stream ends after the run's end event.
    pub async fn events(&self, id: RunId, resume: Option<EventId>) -> Result<EventStream> {
        let run = self.get(id).await?;
        Ok(run_stream(self.0, &run, resume))
    }

    /// A handle on a run known by id.
    pub async fn handle(&self, id: RunId) -> Result<RunHandle> {
        Ok(RunHandle::new(self.0.clone(), self.get(id).await?))
    }
}

/// A run that was started: read it again, or wait for its end.
#[derive(Clone, Debug)]
pub struct RunHandle {
    client: AgenticClient,
    run: Run,
}

impl RunHandle {
    pub(crate) fn new(client: AgenticClient, run: Run) -> Self {
        Self { client, run }
    }

    /// The run's id.
    pub fn id(&self) -> RunId {
        self.run.id
    }

    /// The run as last read.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// Cancels the run ([`Runs::cancel`]) and keeps what the platform answered.
    pub async fn cancel(&mut self) -> Result<&Run> {
        self.run = self.client.runs().cancel(self.run.id).await?;
        Ok(&self.run)
    }

    /// The run's events as they happen, ending with its end event ([`Runs::events`]).
    pub fn progress(&self) -> EventStream {
        run_stream(&self.client, &self.run, None)
    }

    /// Reads the run again.
    pub async fn status(&mut self) -> Result<&Run> {
        self.run = self.client.runs().get(self.run.id).await?;
        Ok(&self.run)
    }

    /// Waits until the run ends, up to `timeout` (any length: the server answers a long-poll within 60 s, so the
    /// handle asks again until the time is up). A completed run is returned; a failed one is
    /// [`Error::RunFailed`], a denied one [`Error::ApprovalDenied`]; out of time, [`Error::ApprovalRequired`] if
    /// it still waits for approval, else [`Error::Timeout`]; a cancelled one is [`Error::RunCancelled`].
    pub async fn wait_for_result(&mut self, timeout: Duration) -> Result<Run> {
        // A timeout too long to add means no deadline in practice: a century.
        let deadline = Instant::now().checked_add(timeout).unwrap_or_else(|| Instant::now() + CENTURY);
        loop {
            if let Some(ended) = ended(&self.run) {
                return ended;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let run = Box::new(self.run.clone());
                return Err(match run.status {
                    RunStatus::AwaitingApproval => Error::ApprovalRequired { run },
                    _ => Error::Timeout { run },
                });
            }
            let wait = left.as_secs().clamp(1, MAX_WAIT_SECS);
            let path = format!("/v1/runs/{}/result", self.run.id);
            self.run = self.client.get(&path, Some(&[("wait", wait)])).await?;
        }
    }
}

/// `run`'s progress stream, after `resume` when given; it ends with the run (its kind says which event ends it).
fn run_stream(client: &AgenticClient, run: &Run, resume: Option<EventId>) -> EventStream {
    let follow = Follow { path: format!("/v1/runs/{}/events", run.id), query: None, run: Some(run.kind) };
    stream::follow(client.clone(), follow, resume.map(|id| id.to_string()))
}

/// What an ended run comes to; `None` while it has not ended.
fn ended(run: &Run) -> Option<Result<Run>> {
    match run.status {
        RunStatus::Completed => Some(Ok(run.clone())),
        RunStatus::Failed => Some(Err(failure(run))),
        RunStatus::Denied => Some(Err(Error::ApprovalDenied { run: Box::new(run.clone()) })),
        RunStatus::Cancelled => Some(Err(Error::RunCancelled { run: Box::new(run.clone()) })),
        RunStatus::Queued | RunStatus::AwaitingApproval | RunStatus::Running => None,
    }
}

/// The error a failed run stands for: a budget refusal is [`Error::BudgetExceeded`] (read from the run's
/// `error_code`), anything else [`Error::RunFailed`] with the run.
fn failure(run: &Run) -> Error {
    use agentic_core::api::{Problem, ProblemType};
    match run.error_code.as_deref().and_then(ProblemType::from_slug) {
        Some(ProblemType::BudgetExceeded) => {
            let detail = run.error.clone().unwrap_or_default();
            let mut problem = Problem::new(ProblemType::BudgetExceeded, detail);
            problem.extensions.insert("run_id".into(), serde_json::json!(run.id));
            Error::BudgetExceeded { budget: None, spent: None, requested: None, problem: Box::new(problem) }
        }
        _ => Error::RunFailed { run: Box::new(run.clone()) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_failed_on_its_budget_is_a_budget_error_and_others_are_run_failures() {
        let mut run = Run::queued(
            agentic_core::ids::TenantId::new(),
            agentic_core::ids::ProjectId::new(),
            "qa_tester",
            serde_json::json!({}),
            agentic_core::model::RiskLevel::Low,
            agentic_core::ids::UserId::new(),
            chrono::Utc::now(),
        );
        run.status = RunStatus::Failed;
        run.error = Some("the budget of project p cannot cover this call".into());
        run.error_code = Some("budget-exceeded".into());
        match ended(&run) {
            Some(Err(Error::BudgetExceeded { problem, .. })) => assert_eq!(problem.status, 402),
            other => panic!("{other:?}"),
        }
        run.error_code = Some("llm-failed".into());
        assert!(matches!(ended(&run), Some(Err(Error::RunFailed { .. }))));
        run.status = RunStatus::Running;
        assert!(ended(&run).is_none());
    }
}
