//! Workflows: named multi-agent procedures, each run as one durable run. `ProjectPipelineWorkflow`: the Overseer
//! plans (a JSON list of tasks, each for a named agent), the agents carry the tasks out in order with the earlier
//! results as context, and the QA Tester reviews the whole. Each finished step is saved with the lease renewal,
//! so a run resumed after a crash continues from its last finished step instead of paying for it again.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::Platform;
use crate::agents::AgentKey;
use crate::api::WorkflowRequest;
use crate::auth::Principal;
use crate::engine::{AgentOutcome, AgentTask, RunStep};
use crate::error::{Error, Result};
use crate::events::EventKind;
use crate::llm::Usage;
use crate::model::RiskLevel;
use crate::model::{Money, Permission, Run, RunFinish, RunKind, RunProgress, RunStatus, ValidationError};

/// The project pipeline's name as stored on its runs.
pub const PROJECT_PIPELINE: &str = "project_pipeline";
/// Most tasks an Overseer plan may hold.
pub const MAX_PLAN_TASKS: usize = 10;
/// Longest text of one planned task.
const MAX_TASK_CHARS: usize = 4_000;
/// How much of each earlier step's answer is passed on as context (the full answer stays in the run).
const CONTEXT_CHARS_PER_STEP: usize = 8_000;

/// One task of an Overseer plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlannedTask {
    /// The agent that does it.
    pub agent: String,
    /// What to do.
    pub task: String,
}

/// What a workflow step was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepPhase {
    /// The Overseer making (or repairing) the plan.
    Plan,
    /// A planned task.
    Task,
    /// The QA review of the whole.
    Review,
}

/// One finished step of a workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowStep {
    /// What the step was for.
    pub phase: StepPhase,
    /// The agent that did it.
    pub agent: String,
    /// Its task.
    pub task: String,
    /// The agent's answer.
    pub output: String,
    /// Its model turns and tool calls.
    pub steps: Vec<RunStep>,
    /// Its tokens.
    #[schema(value_type = Object)]
    pub usage: Usage,
    /// Its cost.
    pub cost: Money,
}

/// A project pipeline run's output: saved after every step, final once the review is in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PipelineOutput {
    /// The workflow.
    pub workflow: String,
    /// The Overseer's plan, once made.
    pub plan: Option<Vec<PlannedTask>>,
    /// Finished steps, in order.
    pub steps: Vec<WorkflowStep>,
    /// The QA review's answer, once given.
    pub review: Option<String>,
    /// Tokens over all steps.
    #[schema(value_type = Object)]
    pub usage: Usage,
    /// Cost over all steps.
    pub cost: Money,
}

impl PipelineOutput {
    fn push(
        &mut self,
        phase: StepPhase,
        agent: &str,
        task: String,
        outcome: AgentOutcome,
    ) -> std::result::Result<(), crate::model::MoneyOverflow> {
        self.usage = self.usage.plus(outcome.usage);
        self.cost = self.cost.try_add(outcome.cost)?;
        self.steps.push(WorkflowStep {
            phase,
            agent: agent.to_owned(),
            task,
            output: outcome.output,
            steps: outcome.steps,
            usage: outcome.usage,
            cost: outcome.cost,
        });
        Ok(())
    }

    fn tasks_done(&self) -> usize {
        self.steps.iter().filter(|s| s.phase == StepPhase::Task).count()
    }

    /// The finished task steps as context for the next agent, each answer cut to a bounded length.
    fn earlier_results(&self) -> serde_json::Value {
        let results: Vec<_> = self
            .steps
            .iter()
            .filter(|s| s.phase == StepPhase::Task)
            .map(|s| json!({"agent": s.agent, "task": s.task, "result": truncate(&s.output, CONTEXT_CHARS_PER_STEP)}))
            .collect();
        serde_json::Value::Array(results)
    }
}

fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Reads an Overseer answer as a plan: the JSON object in it (fences and prose around it are tolerated) with
/// 1 to [`MAX_PLAN_TASKS`] tasks, each for an agent in `agents`. The error says what is wrong, for the repair
/// round.
pub fn parse_plan(answer: &str, agents: &[AgentKey]) -> std::result::Result<Vec<PlannedTask>, String> {
    #[derive(Deserialize)]
    struct Plan {
        tasks: Vec<PlannedTask>,
    }
    let (Some(start), Some(end)) = (answer.find('{'), answer.rfind('}')) else {
        return Err("the answer holds no JSON object".into());
    };
    if end < start {
        return Err("the answer holds no JSON object".into());
    }
    let plan: Plan = serde_json::from_str(&answer[start..=end])
        .map_err(|e| format!("the plan is not valid JSON of the asked shape: {e}"))?;
    if plan.tasks.is_empty() || plan.tasks.len() > MAX_PLAN_TASKS {
        return Err(format!("the plan must hold 1 to {MAX_PLAN_TASKS} tasks, not {}", plan.tasks.len()));
    }
    let mut tasks = Vec::with_capacity(plan.tasks.len());
    for (i, planned) in plan.tasks.into_iter().enumerate() {
        let agent = planned.agent.trim();
        if !agents.iter().any(|a| a.as_str() == agent) {
            return Err(format!("task {} names agent `{agent}`, which does not exist", i + 1));
        }
        let task = planned.task.trim();
        if task.is_empty() || task.chars().count() > MAX_TASK_CHARS {
            return Err(format!("task {} must have a text of 1 to {MAX_TASK_CHARS} characters", i + 1));
        }
        tasks.push(PlannedTask { agent: agent.to_owned(), task: task.to_owned() });
    }
    Ok(tasks)
}

/// Why a workflow stopped before its end.
enum Stop {
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
        principal.require(Permission::WorkflowsCreate)?;
        let name = workflow_name(&request.name).ok_or(Error::NotFound("workflow"))?;
        let goal = match request.args.get("goal").and_then(|g| g.as_str()) {
            Some(goal) => crate::model::validate_text("args.goal", goal, 20_000)?,
            None => return Err(ValidationError::new("args.goal", "must be a text of 1 to 20000 characters").into()),
        };
        if let Some(extra) = request.args.as_object().and_then(|o| o.keys().find(|k| *k != "goal" && *k != "context")) {
            return Err(ValidationError::new(format!("args.{extra}"), "is not an argument of this workflow").into());
        }
        let context = request.args.get("context").cloned().unwrap_or(serde_json::Value::Null);
        let input = json!({"workflow": name, "args": {"goal": goal, "context": context}});
        let roster_risk = self.agent_roster(principal.tenant_id).await?.iter().map(|a| a.spec.risk_level).max();
        let risk = roster_risk.unwrap_or(RiskLevel::Low).max(request.risk_level.unwrap_or(RiskLevel::Low));
        let now = self.inner.clock.now();
        let mut run = Run::queued(principal.tenant_id, request.project_id, name, input, risk, principal.user_id, now);
        run.kind = RunKind::Workflow;
        self.submit_run(principal, run, request.wait).await
    }

    /// Does a claimed workflow run's work, from where an earlier attempt left it; `None` if the run was taken over
    /// by another worker meanwhile.
    pub(crate) async fn perform_workflow(&self, run: &Run, worker: &str) -> Option<RunFinish> {
        let mut state: PipelineOutput =
            run.output.clone().and_then(|saved| serde_json::from_value(saved).ok()).unwrap_or_default();
        state.workflow = run.agent.clone();
        if run.attempts == 1 {
            let data = json!({"run_id": run.id, "workflow": run.agent, "project_id": run.project_id});
            self.publish(run.tenant_id, EventKind::WorkflowStarted, data).await;
        }
        let result = match run.agent.as_str() {
            PROJECT_PIPELINE => self.project_pipeline(run, worker, &mut state).await,
            other => Err(Stop::Failed(Error::Internal(format!("unknown workflow `{other}`")))),
        };
        let output = serde_json::to_value(&state).ok();
        match result {
            Ok(()) => {
                self.publish_workflow_end(run, Ok(state.steps.len()), state.cost).await;
                Some(RunFinish { status: RunStatus::Completed, output, error: None, cost: state.cost })
            }
            Err(Stop::Failed(error)) => {
                let reason = self.failure_reason(run, &error);
                self.publish_workflow_end(run, Err(&reason), state.cost).await;
                Some(RunFinish { status: RunStatus::Failed, output, error: Some(reason), cost: state.cost })
            }
            Err(Stop::LeaseLost) => None,
        }
    }

    /// Publishes `workflow.completed` (with the number of steps) or `workflow.failed` (with the reason).
    pub(crate) async fn publish_workflow_end(&self, run: &Run, result: std::result::Result<usize, &str>, cost: Money) {
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
        self.publish(run.tenant_id, kind, data).await;
    }

    async fn project_pipeline(
        &self,
        run: &Run,
        worker: &str,
        state: &mut PipelineOutput,
    ) -> std::result::Result<(), Stop> {
        let goal = run.input["args"]["goal"].as_str().unwrap_or_default().to_owned();
        let project_context = run.input["args"].get("context").cloned().unwrap_or(serde_json::Value::Null);
        let plan = match state.plan.clone() {
            Some(plan) => plan,
            None => {
                let plan = self.make_plan(run, &goal, &project_context, state).await?;
                state.plan = Some(plan.clone());
                self.save_progress(run, worker, state).await?;
                plan
            }
        };
        for (i, planned) in plan.iter().enumerate().skip(state.tasks_done()) {
            let context = json!({"project_goal": goal, "project_context": project_context,
                "earlier_results": state.earlier_results()});
            let outcome = self
                .run_agent(self.step_task(run, &planned.agent, planned.task.clone(), context))
                .await
                .map_err(|e| Error::step(format!("task {} ({})", i + 1, planned.agent), e))?;
            state.push(StepPhase::Task, &planned.agent, planned.task.clone(), outcome).map_err(Error::from)?;
            self.save_progress(run, worker, state).await?;
        }
        let review = format!(
            "Review the team's work on this project against its goal. Say what is done, what is missing or wrong, \
             and what should be tested next.\nProject goal: {goal}"
        );
        let context = json!({"project_goal": goal, "plan": plan, "results": state.earlier_results()});
        let outcome = self
            .run_agent(self.step_task(run, "qa_tester", review.clone(), context))
            .await
            .map_err(|e| Error::step("the QA review", e))?;
        state.review = Some(outcome.output.clone());
        state.push(StepPhase::Review, "qa_tester", review, outcome).map_err(Error::from)?;
        Ok(())
    }

    /// Asks the Overseer for a plan; an unusable answer is sent back once with the reason.
    async fn make_plan(
        &self,
        run: &Run,
        goal: &str,
        project_context: &serde_json::Value,
        state: &mut PipelineOutput,
    ) -> Result<Vec<PlannedTask>> {
        // Only agents the run was cleared for: its risk was fixed (and approved, when gated) at submission.
        let mut roster = self.agent_roster(run.tenant_id).await?;
        roster.retain(|agent| agent.spec.risk_level <= run.risk_level);
        let names: Vec<AgentKey> = roster.iter().map(|a| a.name.clone()).collect();
        let mut listing = String::new();
        for agent in &roster {
            listing.push_str(&format!("- {}: {} — {}\n", agent.name, agent.spec.role, agent.spec.goal));
        }
        let ask = format!(
            "Plan this project so that a team of agents can carry it out.\nProject goal: {goal}\n\nAgents available \
             (name: role — goal):\n{listing}\nAnswer with JSON only, in this shape: \
             {{\"tasks\": [{{\"agent\": \"<agent name>\", \"task\": \"<what to do>\"}}]}} — 1 to {MAX_PLAN_TASKS} \
             tasks, in the order they must be done. A QA review of the whole follows automatically."
        );
        let mut task = ask.clone();
        for round in 0..2 {
            let context = (!project_context.is_null()).then(|| json!({"project_context": project_context}));
            let mut job = self.step_task(run, "overseer", task.clone(), serde_json::Value::Null);
            job.context = context;
            let outcome = self.run_agent(job).await.map_err(|e| Error::step("planning", e))?;
            let parsed = parse_plan(&outcome.output, &names);
            let answer = outcome.output.clone();
            state.push(StepPhase::Plan, "overseer", task.clone(), outcome)?;
            match parsed {
                Ok(plan) => return Ok(plan),
                Err(reason) if round == 0 => {
                    task = format!(
                        "{ask}\n\nYour previous answer could not be used: {reason}.\nPrevious answer:\n{}",
                        truncate(&answer, 4_000)
                    );
                }
                Err(reason) => return Err(Error::Conflict(format!("the Overseer's plan could not be used: {reason}"))),
            }
        }
        Err(Error::Internal("planning ended without an outcome".into()))
    }

    fn step_task(&self, run: &Run, agent: &str, task: String, context: serde_json::Value) -> AgentTask {
        AgentTask {
            tenant_id: run.tenant_id,
            project_id: run.project_id,
            run_id: Some(run.id),
            agent: agent.to_owned(),
            task,
            context: (!context.is_null()).then_some(context),
            cleared_risk: Some(run.risk_level),
        }
    }

    /// Saves the finished steps with a lease renewal; stops when the lease is lost (another worker has the run).
    /// A store that cannot be reached does not stop the workflow: the next step's save (or the lease keeper)
    /// tries again, and at worst a resumed run redoes the unsaved steps.
    async fn save_progress(&self, run: &Run, worker: &str, state: &PipelineOutput) -> std::result::Result<(), Stop> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn agents() -> Vec<AgentKey> {
        ["developer", "qa_tester"].iter().map(|n| AgentKey::parse(n).unwrap()).collect()
    }

    #[test]
    fn a_fenced_plan_with_prose_around_it_is_read() {
        let answer =
            "Here is the plan:\n```json\n{\"tasks\": [{\"agent\": \"developer\", \"task\": \" Build it \"}]}\n```";
        assert_eq!(
            parse_plan(answer, &agents()).unwrap(),
            vec![PlannedTask { agent: "developer".into(), task: "Build it".into() }]
        );
    }

    #[test]
    fn unusable_plans_say_why() {
        let cases = [
            ("no json here", "no JSON object"),
            ("} {", "no JSON object"),
            ("{\"steps\": []}", "asked shape"),
            ("{\"tasks\": []}", "1 to 10 tasks"),
            ("{\"tasks\": [{\"agent\": \"wizard\", \"task\": \"x\"}]}", "`wizard`, which does not exist"),
            ("{\"tasks\": [{\"agent\": \"developer\", \"task\": \"  \"}]}", "task 1 must have a text"),
        ];
        for (answer, reason) in cases {
            let error = parse_plan(answer, &agents()).unwrap_err();
            assert!(error.contains(reason), "{answer}: {error}");
        }
        let many = json!({"tasks": vec![json!({"agent": "developer", "task": "x"}); 11]}).to_string();
        assert!(parse_plan(&many, &agents()).unwrap_err().contains("not 11"));
    }

    #[test]
    fn long_answers_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hi", 5), "hi");
    }
}
