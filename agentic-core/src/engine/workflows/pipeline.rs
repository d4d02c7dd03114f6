//! `ProjectPipelineWorkflow`: its typed arguments, its saved output, and the order of its steps.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::Stop;
use super::plan::{PlannedTask, truncate};
use crate::Platform;
use crate::engine::{AgentOutcome, RunStep};
use crate::error::Error;
use crate::llm::{OutputSchema, Usage};
use crate::model::{Money, Run};

/// How much of each earlier step's answer is passed on as context (the full answer stays in the run).
const CONTEXT_CHARS_PER_STEP: usize = 8_000;
/// How long the pipeline's results stay in the project's context (a week), for later runs and other agents.
const SHARED_TTL_SECS: u64 = 7 * 24 * 3600;

/// The pipeline's validated arguments, as stored in its run's input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PipelineArgs {
    /// What the project is to achieve.
    pub(crate) goal: String,
    /// Context the caller gave for every step (`null`: none).
    #[serde(default)]
    pub(crate) context: serde_json::Value,
    /// Most tasks the plan may hold (1 to [`MAX_PLAN_TASKS`](super::MAX_PLAN_TASKS); absent: that maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_tasks: Option<usize>,
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

impl StepPhase {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            StepPhase::Plan => "plan",
            StepPhase::Task => "task",
            StepPhase::Review => "review",
        }
    }
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
    /// The QA review's summary, once given.
    pub review: Option<String>,
    /// The QA review's verdict, findings and next tests, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<ReviewVerdict>,
    /// Tokens over all steps.
    pub usage: Usage,
    /// Cost over all steps.
    pub cost: Money,
}

/// The QA review of a project pipeline, in the form the QA agent is held to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewVerdict {
    /// `approve` or `request_changes`.
    pub verdict: String,
    /// What is done.
    pub summary: String,
    /// What is missing or wrong.
    pub findings: Vec<ReviewFinding>,
    /// The tests to run next.
    pub next_tests: Vec<String>,
}

/// One finding of a QA review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewFinding {
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// What is missing or wrong.
    pub description: String,
}

impl ReviewVerdict {
    /// The form of a review: every field required, nothing else (as providers' strict modes want).
    pub fn form() -> OutputSchema {
        OutputSchema::new(
            "review_verdict",
            json!({
                "type": "object",
                "properties": {
                    "verdict": {"type": "string", "enum": ["approve", "request_changes"]},
                    "summary": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "findings": {"type": "array", "maxItems": 10, "items": {
                        "type": "object",
                        "properties": {
                            "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
                            "description": {"type": "string", "minLength": 1, "maxLength": 500},
                        },
                        "required": ["severity", "description"],
                        "additionalProperties": false,
                    }},
                    "next_tests": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 300}},
                },
                "required": ["verdict", "summary", "findings", "next_tests"],
                "additionalProperties": false,
            }),
        )
    }

    /// Reads a QA answer as a review; the error says what is wrong, for the repair round.
    pub fn read(answer: &str) -> std::result::Result<Self, String> {
        let value = Self::form().read(answer).map_err(|e| e.0)?;
        serde_json::from_value(value).map_err(|e| format!("the review is not of the asked shape: {e}"))
    }
}

/// A step's context with the knowledge bases the caller named for the whole workflow (`args.context.knowledge`)
/// at its top, where a run's grounding reads them: each task and the review answer from them and cite.
fn grounded(mut context: serde_json::Value, project_context: &serde_json::Value) -> serde_json::Value {
    if let (Some(knowledge), Some(step)) = (project_context.get("knowledge"), context.as_object_mut()) {
        step.insert("knowledge".into(), knowledge.clone());
    }
    context
}

impl PipelineOutput {
    pub(super) fn push(
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

    pub(super) fn tasks_done(&self) -> usize {
        self.steps.iter().filter(|s| s.phase == StepPhase::Task).count()
    }

    /// The finished task steps as context for the next agent, each answer cut to a bounded length.
    pub(super) fn earlier_results(&self) -> serde_json::Value {
        let results: Vec<_> = self
            .steps
            .iter()
            .filter(|s| s.phase == StepPhase::Task)
            .map(|s| json!({"agent": s.agent, "task": s.task, "result": truncate(&s.output, CONTEXT_CHARS_PER_STEP)}))
            .collect();
        serde_json::Value::Array(results)
    }
}

impl Platform {
    pub(super) async fn project_pipeline(
        &self,
        run: &Run,
        args: &PipelineArgs,
        worker: &str,
        control: &crate::engine::RunControl,
        state: &mut PipelineOutput,
    ) -> std::result::Result<(), Stop> {
        let (goal, project_context) = (&args.goal, &args.context);
        let plan = match state.plan.clone() {
            Some(plan) => plan,
            None => {
                let plan = self.make_plan(run, control, args, state).await?;
                state.plan = Some(plan.clone());
                self.save_progress(run, worker, state).await?;
                self.share(run, "pipeline.plan", json!({"run_id": run.id, "goal": goal, "tasks": plan})).await;
                plan
            }
        };
        for (i, planned) in plan.iter().enumerate().skip(state.tasks_done()) {
            control.check()?;
            let context = grounded(
                json!({"project_goal": goal, "project_context": project_context,
                    "earlier_results": state.earlier_results()}),
                project_context,
            );
            let outcome = self
                .run_agent(self.step_task(run, control, &planned.agent, planned.task.clone(), context))
                .await
                .map_err(|e| Error::step(format!("task {} ({})", i + 1, planned.agent), e))?;
            let shared = json!({"run_id": run.id, "agent": planned.agent, "task": planned.task,
                "output": truncate(&outcome.output, CONTEXT_CHARS_PER_STEP)});
            state.push(StepPhase::Task, &planned.agent, planned.task.clone(), outcome).map_err(Error::from)?;
            self.save_progress(run, worker, state).await?;
            self.share(run, &format!("pipeline.step.{}", i + 1), shared).await;
        }
        let review = format!(
            "Review the team's work on this project against its goal. Answer with JSON only: your verdict \
             (`approve` or `request_changes`), a summary of what is done, the findings (what is missing or wrong, \
             each with a severity) and the tests to run next.\nProject goal: {goal}"
        );
        let context =
            grounded(json!({"project_goal": goal, "plan": plan, "results": state.earlier_results()}), project_context);
        control.check()?;
        let mut job = self.step_task(run, control, "qa_tester", review, context);
        job.output_schema = Some(ReviewVerdict::form());
        let read = |answer: &str| ReviewVerdict::read(answer);
        let verdict = self.ask_in_form(job, StepPhase::Review, ("the QA review", "the QA review"), state, read).await?;
        state.review = Some(verdict.summary.clone());
        let shared = json!({"run_id": run.id, "verdict": verdict});
        state.verdict = Some(verdict);
        self.share(run, "pipeline.review", shared).await;
        Ok(())
    }

    /// Leaves a result in the project's shared context (`pipeline.plan`, `pipeline.step.<n>`, `pipeline.review`)
    /// for a week, written as the workflow's in its run, so other agents and later runs see it. A store that
    /// fails is logged, not fatal: the run's output holds the same.
    async fn share(&self, run: &Run, key: &str, value: serde_json::Value) {
        let scope = crate::store::ContextScope { tenant: run.tenant_id, project: run.project_id };
        let by = crate::model::Provenance {
            user_id: Some(run.requested_by),
            agent: Some(run.agent.clone()),
            run_id: Some(run.id),
        };
        let op = crate::engine::context::ContextOp::Put(&value, crate::model::Expect::Any);
        if let Err(error) = self.write_context(scope, key, &by, Some(SHARED_TTL_SECS), op).await {
            tracing::warn!(run_id = %run.id, key, %error, "could not share a workflow result in the project's context");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflows_knowledge_reaches_every_step_and_nothing_else_is_added() {
        let step = json!({"project_goal": "g"});
        let with = grounded(step.clone(), &json!({"knowledge": ["Handbook"], "other": 1}));
        assert_eq!(with, json!({"project_goal": "g", "knowledge": ["Handbook"]}));
        assert_eq!(grounded(step.clone(), &json!({"other": 1})), step);
        assert_eq!(grounded(step.clone(), &serde_json::Value::Null), step);
    }
}
