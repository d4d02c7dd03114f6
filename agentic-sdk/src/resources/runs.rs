//! Runs: reading one, and [`RunHandle`], which waits for a run however long it takes.

use std::time::{Duration, Instant};

use agentic_core::api::MAX_WAIT_SECS;
use agentic_core::ids::RunId;
use agentic_core::model::{Run, RunStatus};
use agentic_core::store::{Page, RunQuery};

use crate::client::AgenticClient;
use crate::error::{Error, Result};

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

    /// Reads the run again.
    pub async fn status(&mut self) -> Result<&Run> {
        self.run = self.client.runs().get(self.run.id).await?;
        Ok(&self.run)
    }

    /// Waits until the run ends, up to `timeout` (any length: the server answers a long-poll within 60 s, so the
    /// handle asks again until the time is up). A completed run is returned; a failed one is
    /// [`Error::RunFailed`], a denied one [`Error::ApprovalDenied`]; out of time, [`Error::ApprovalRequired`] if
    /// it still waits for approval, else [`Error::Timeout`].
    pub async fn wait_for_result(&mut self, timeout: Duration) -> Result<Run> {
        let deadline = Instant::now() + timeout;
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

/// What an ended run comes to; `None` while it has not ended.
fn ended(run: &Run) -> Option<Result<Run>> {
    match run.status {
        RunStatus::Completed => Some(Ok(run.clone())),
        RunStatus::Failed => Some(Err(failure(run))),
        RunStatus::Denied => Some(Err(Error::ApprovalDenied { run: Box::new(run.clone()) })),
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
