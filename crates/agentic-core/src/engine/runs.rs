//! Durable runs: queue a run, let any replica's worker claim it under a lease, record the outcome; a run whose
//! worker died is claimed again after its lease lapses (up to [`MAX_ATTEMPTS`], then failed with a reason).

use std::time::Duration;

use serde_json::json;

use crate::Platform;
use crate::agents::AgentKey;
use crate::api::ExecuteRequest;
use crate::auth::Principal;
use crate::engine::AgentTask;
use crate::error::{Error, Result};
use crate::ids::RunId;
use crate::model::{Money, Permission, Run, RunFinish, RunStatus, ValidationError, validate_name};

/// Starts of one run before it is failed as repeatedly interrupted.
pub const MAX_ATTEMPTS: u32 = 3;
/// How long a worker's claim on a run lasts by default (see [`PlatformBuilder::run_lease`](crate::PlatformBuilder::run_lease)).
pub const LEASE: chrono::Duration = chrono::Duration::minutes(10);
/// The longest a caller may wait for a result in one request.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

impl Platform {
    /// Queues a run of `agent`. Needs `agents:execute`; the agent and the project must exist in the tenant.
    pub async fn execute_agent(&self, principal: &Principal, agent: &str, request: ExecuteRequest) -> Result<Run> {
        principal.require(Permission::AgentsExecute)?;
        let key = AgentKey::parse(agent).map_err(|_| Error::NotFound("agent"))?;
        let (spec, _) = self.agent_spec(principal.tenant_id, &key).await?;
        let task = validate_name("task", &request.task, 20_000)?;
        if request.wait.is_some_and(|w| w > MAX_WAIT.as_secs()) {
            return Err(ValidationError::new("wait", format!("must be at most {} seconds", MAX_WAIT.as_secs())).into());
        }
        let store = self.inner.store.tenant(principal.tenant_id);
        if store.get_project(request.project_id).await?.is_none() {
            return Err(Error::NotFound("project"));
        }
        let now = self.inner.clock.now();
        let risk_level = request.risk_level.unwrap_or(spec.risk_level);
        let gated = self.needs_approval(principal.tenant_id, risk_level).await?;
        let input = json!({"task": task, "context": request.context});
        let mut run =
            Run::queued(principal.tenant_id, request.project_id, key, input, risk_level, principal.user_id, now);
        if gated {
            run.status = RunStatus::AwaitingApproval;
        }
        if gated {
            let approval = self.approval_for(&run);
            store.insert_gated_run(&run, &approval).await?;
            let data =
                json!({"approval_id": approval.id, "run_id": run.id, "risk_level": run.risk_level, "agent": run.agent});
            let event = crate::events::Event::new(principal.tenant_id, "approval.requested", data, now);
            self.inner.events.publish(event).await;
        } else {
            store.insert_run(&run).await?;
        }
        match request.wait {
            Some(seconds) if seconds > 0 => self.wait_for_run(principal, run.id, Duration::from_secs(seconds)).await,
            _ => Ok(run),
        }
    }

    /// A run of the caller's tenant.
    pub async fn get_run(&self, principal: &Principal, id: RunId) -> Result<Run> {
        self.inner.store.tenant(principal.tenant_id).get_run(id).await?.ok_or(Error::NotFound("run"))
    }

    /// The run once it is final, or as it stands after `wait` (at most [`MAX_WAIT`]).
    pub async fn wait_for_run(&self, principal: &Principal, id: RunId, wait: Duration) -> Result<Run> {
        let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        loop {
            let run = self.get_run(principal, id).await?;
            if run.status.is_final() || tokio::time::Instant::now() >= deadline {
                return Ok(run);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Claims and runs at most one run as `worker`; returns whether there was one.
    pub async fn work_once(&self, worker: &str) -> Result<bool> {
        let now = self.inner.clock.now();
        let claimed = self.inner.store.system().claim_runs(worker, now, now + self.inner.run_lease, 1).await?;
        let Some(run) = claimed.into_iter().next() else { return Ok(false) };
        let finish = if run.attempts > MAX_ATTEMPTS {
            RunFinish {
                status: RunStatus::Failed,
                output: None,
                error: Some(format!("interrupted {} times; not retried again", run.attempts - 1)),
                cost: run.cost,
            }
        } else {
            let task = AgentTask {
                tenant_id: run.tenant_id,
                project_id: run.project_id,
                run_id: Some(run.id.as_uuid()),
                agent: run.agent.clone(),
                task: run.input["task"].as_str().unwrap_or_default().to_owned(),
                context: run.input.get("context").cloned().filter(|c| !c.is_null()),
            };
            match self.run_agent(task).await {
                Ok(outcome) => RunFinish {
                    status: RunStatus::Completed,
                    cost: outcome.cost,
                    output: Some(json!({"answer": outcome.output, "steps": outcome.steps, "usage": outcome.usage})),
                    error: None,
                },
                Err(error) => RunFinish {
                    status: RunStatus::Failed,
                    output: None,
                    error: Some(error.to_string()),
                    cost: Money::ZERO,
                },
            }
        };
        let finished = self.inner.clock.now();
        if !self.inner.store.tenant(run.tenant_id).finish_run(run.id, worker, &finish, finished).await? {
            tracing::warn!(run_id = %run.id, worker, "lost the run's lease before finishing; another worker's result stands");
        }
        Ok(true)
    }

    /// Works runs until `shutdown` resolves, polling every `idle` when there is nothing to do.
    pub async fn run_worker(&self, worker: String, idle: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let worked = tokio::select! {
                () = &mut shutdown => return,
                result = self.work_once(&worker) => result,
            };
            match worked {
                Ok(true) => {}
                Ok(false) => tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(idle) => {}
                },
                Err(error) => {
                    tracing::warn!(%error, worker, "worker could not claim a run");
                    tokio::time::sleep(idle).await;
                }
            }
        }
    }
}
