//! Workflows: named multi-agent procedures, each run as one durable run. `ProjectPipelineWorkflow`: the Overseer
//! plans (a JSON list of tasks, each for a named agent), the agents carry the tasks out in order with the earlier
//! results as context, and the QA Tester reviews the whole. Each finished step is saved with the lease renewal,
//! so a run resumed after a crash continues from its last finished step instead of paying for it again.

mod pipeline;
mod plan;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Platform;
use crate::api::WorkflowRequest;
use crate::auth::Principal;
use crate::engine::AgentTask;
use crate::error::{Error, Result};
use crate::events::{Event, EventKind};
use crate::model::RiskLevel;
use crate::model::{Money, Permission, Run, RunFinish, RunKind, RunProgress, RunStatus, ValidationError};
use pipeline::PipelineArgs;
pub use pipeline::{PipelineOutput, ReviewFinding, ReviewVerdict, StepPhase, WorkflowStep};
pub use plan::{MAX_PLAN_TASKS, PlannedTask, parse_plan, plan_schema};

/// The project pipeline's name as stored on its runs.
pub const PROJECT_PIPELINE: &str = "project_pipeline";

/// A workflow run's input as stored: which workflow, and its validated arguments.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct WorkflowInput {
    workflow: String,
    args: PipelineArgs,
    /// The run's token cap (read by [`RunControl::for_run`](crate::engine::RunControl) from the input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    budget_tokens: Option<u64>,
}

/// Why a workflow stopped before its end.
pub(super) enum Stop {
    /// Another worker holds the run now: the work is theirs, so nothing is published or recorded here.
    LeaseLost,
    /// The workflow failed.
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Stop::Failed(error)
    }
}

/// The workflow a request names, by its stored name.
fn workflow_name(name: &str) -> Option<&'static str> {
    match name {
        "ProjectPipelineWorkflow" | PROJECT_PIPELINE => Some(PROJECT_PIPELINE),
        _ => None,
    }
}

impl Platform {
    /// Starts a named workflow as one run. Needs `workflows:create`. Its risk is the highest of any agent it may
    /// run (the tenant's whole roster, since the Overseer picks the agents) or the request's, if higher; the run
    /// is gated like an agent run when that needs approval. When it runs, the plan may name only agents at or
    /// below that risk, so an agent added later at a higher risk is not run without approval.
    pub async fn start_workflow(&self, principal: &Principal, request: WorkflowRequest) -> Result<Run> {
        self.start_workflow_keyed(principal, request, None).await
    }

    /// [`start_workflow`](Self::start_workflow) under an idempotency key, as
    /// [`execute_agent_keyed`](Self::execute_agent_keyed) describes.
    pub async fn start_workflow_keyed(
        &self,
        principal: &Principal,
        request: WorkflowRequest,
        idempotency_key: Option<&str>,
    ) -> Result<Run> {
        let mut run = self.prepare_workflow_run(principal, &request).await?;
        run.idempotency_key = idempotency_key.map(crate::engine::runs::validate_idempotency_key).transpose()?;
        self.submit_run(principal, run, request.wait, None).await
    }

    /// The queued run `request` asks for, checked (permission, workflow, arguments, token cap) but not stored.
    pub(crate) async fn prepare_workflow_run(&self, principal: &Principal, request: &WorkflowRequest) -> Result<Run> {
        principal.require(Permission::WorkflowsCreate)?;
        let name = workflow_name(&request.name).ok_or(Error::NotFound("workflow"))?;
        let goal = match request.args.get("goal").and_then(|g| g.as_str()) {
            Some(goal) => crate::model::validate_text("args.goal", goal, 20_000)?,
            None => return Err(ValidationError::new("args.goal", "must be a text of 1 to 20000 characters").into()),
        };
        let known = ["goal", "context", "max_tasks"];
        if let Some(extra) = request.args.as_object().and_then(|o| o.keys().find(|k| !known.contains(&k.as_str()))) {
            return Err(ValidationError::new(format!("args.{extra}"), "is not an argument of this workflow").into());
        }
        let context = request.args.get("context").cloned().unwrap_or(serde_json::Value::Null);
        let max_tasks = match request.args.get("max_tasks") {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
                Some(n @ 1..=MAX_PLAN_TASKS) => Some(n),
                _ => {
                    let message = format!("must be a whole number of 1 to {MAX_PLAN_TASKS}");
                    return Err(ValidationError::new("args.max_tasks", message).into());
                }
            },
        };
        let budget_tokens = crate::engine::run_control::requested_token_cap(request.budget_tokens, Some(&context))?;
        let args = PipelineArgs { goal, context, max_tasks };
        let input = serde_json::to_value(WorkflowInput { workflow: name.to_owned(), args, budget_tokens })
            .map_err(|e| Error::Internal(format!("workflow input: {e}")))?;
        let roster_risk = self.agent_roster(principal.tenant_id).await?.iter().map(|a| a.spec.risk_level).max();
        let risk = roster_risk.unwrap_or(RiskLevel::Low).max(request.risk_level.unwrap_or(RiskLevel::Low));
        let now = self.inner.clock.now();
        let mut run = Run::queued(principal.tenant_id, request.project_id, name, input, risk, principal.user_id, now);
        run.kind = RunKind::Workflow;
        Ok(run)
    }

    /// Does a claimed workflow run's work, from where an earlier attempt left it; `None` if the run was taken over
    /// by another worker meanwhile.
    pub(crate) async fn perform_workflow(
        &self,
        run: &Run,
        worker: &str,
        control: &crate::engine::RunControl,
    ) -> Option<RunFinish> {
        let mut state: PipelineOutput =
            run.output.clone().and_then(|saved| serde_json::from_value(saved).ok()).unwrap_or_default();
        state.workflow = run.agent.clone();
        if run.attempts == 1 {
            let data = json!({"run_id": run.id, "workflow": run.agent, "project_id": run.project_id});
            self.publish(run.tenant_id, EventKind::WorkflowStarted, data).await;
        }
        let input = serde_json::from_value::<WorkflowInput>(run.input.clone());
        let result = match (run.agent.as_str(), input) {
            (PROJECT_PIPELINE, Ok(input)) => self.project_pipeline(run, &input.args, worker, control, &mut state).await,
            (_, Err(error)) => Err(Stop::Failed(Error::Internal(format!("unreadable workflow input: {error}")))),
            (other, Ok(_)) => Err(Stop::Failed(Error::Internal(format!("unknown workflow `{other}`")))),
        };
        let output = serde_json::to_value(&state).ok();
        match result {
            Ok(()) => {
                let end = self.workflow_end_event(run, Ok(state.steps.len()), state.cost);
                Some(RunFinish {
                    status: RunStatus::Completed,
                    output,
                    error: None,
                    error_code: None,
                    cost: state.cost,
                    events: vec![end],
                })
            }
            Err(Stop::Failed(error)) if matches!(error.cause(), Error::Cancelled) => {
                let end = Event::run_cancelled(run, state.cost, self.inner.clock.now());
                Some(RunFinish { output, ..RunFinish::cancelled(state.cost, vec![end]) })
            }
            Err(Stop::Failed(error)) => {
                let reason = self.failure_reason(run, &error);
                let events = vec![self.workflow_end_event(run, Err(&reason), state.cost)];
                let error_code = Some(error.code().to_owned());
                Some(RunFinish {
                    status: RunStatus::Failed,
                    output,
                    error: Some(reason),
                    error_code,
                    cost: state.cost,
                    events,
                })
            }
            Err(Stop::LeaseLost) => None,
        }
    }

    /// The event of a workflow run's end: `workflow.completed` (with the number of steps) or `workflow.failed`
    /// (with the reason), stored with the outcome.
    pub(crate) fn workflow_end_event(&self, run: &Run, result: std::result::Result<usize, &str>, cost: Money) -> Event {
        let mut data = json!({"run_id": run.id, "workflow": run.agent, "project_id": run.project_id, "cost": cost});
        let kind = match result {
            Ok(steps) => {
                data["steps"] = json!(steps);
                EventKind::WorkflowCompleted
            }
            Err(reason) => {
                data["reason"] = json!(reason);
                EventKind::WorkflowFailed
            }
        };
        Event::new(run.tenant_id, kind, data, self.inner.clock.now())
    }

    pub(super) fn step_task(
        &self,
        run: &Run,
        control: &crate::engine::RunControl,
        agent: &str,
        task: String,
        context: serde_json::Value,
    ) -> AgentTask {
        AgentTask {
            control: control.clone(),
            tenant_id: run.tenant_id,
            project_id: run.project_id,
            run_id: Some(run.id),
            agent: agent.to_owned(),
            task,
            context: (!context.is_null()).then_some(context),
            cleared_risk: Some(run.risk_level),
            acting_user: Some(run.requested_by),
            handoff_chain: Vec::new(),
            output_schema: None,
        }
    }

    /// Saves the finished steps with a lease renewal; stops when the lease is lost (another worker has the run).
    /// A store that cannot be reached does not stop the workflow: the next step's save (or the lease keeper)
    /// tries again, and at worst a resumed run redoes the unsaved steps.
    pub(super) async fn save_progress(
        &self,
        run: &Run,
        worker: &str,
        state: &PipelineOutput,
    ) -> std::result::Result<(), Stop> {
        let output = serde_json::to_value(state).map_err(|e| Error::Internal(e.to_string()))?;
        let progress = RunProgress { output, cost: state.cost };
        match self.renew_lease(run, worker, Some(&progress)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Stop::LeaseLost),
            Err(error) => {
                tracing::warn!(run_id = %run.id, %error, "could not save the workflow's progress; going on");
                Ok(())
            }
        }
    }
}
