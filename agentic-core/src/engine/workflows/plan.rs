//! The Overseer's plan: how it is asked for, read and repaired.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::pipeline::{PipelineArgs, PipelineOutput, StepPhase};
use crate::Platform;
use crate::agents::AgentKey;
use crate::error::{Error, Result};
use crate::llm::OutputSchema;
use crate::model::Run;

/// Most tasks an Overseer plan may hold.
pub const MAX_PLAN_TASKS: usize = 10;
/// Longest text of one planned task.
const MAX_TASK_CHARS: usize = 4_000;

/// One task of an Overseer plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlannedTask {
    /// The agent that does it.
    pub agent: String,
    /// What to do.
    pub task: String,
}

/// The form of an Overseer plan for a roster of `agents`: 1 to `max_tasks` tasks (at most [`MAX_PLAN_TASKS`]),
/// each naming one of them. Providers that constrain their output to a schema can only answer with a plan of this
/// shape.
pub fn plan_schema(agents: &[AgentKey], max_tasks: usize) -> OutputSchema {
    let names: Vec<&str> = agents.iter().map(AgentKey::as_str).collect();
    OutputSchema::new(
        "project_plan",
        json!({
            "type": "object",
            "properties": {
                "tasks": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": max_tasks.clamp(1, MAX_PLAN_TASKS),
                    "items": {
                        "type": "object",
                        "properties": {
                            "agent": {"type": "string", "enum": names},
                            "task": {"type": "string", "minLength": 1, "maxLength": MAX_TASK_CHARS},
                        },
                        "required": ["agent", "task"],
                        "additionalProperties": false,
                    },
                },
            },
            "required": ["tasks"],
            "additionalProperties": false,
        }),
    )
}

/// Reads an Overseer answer as a plan: the JSON object in it (fences and prose around it are tolerated) in the
/// form of [`plan_schema`], each task's text not blank. The error says what is wrong, for the repair round.
pub fn parse_plan(
    answer: &str,
    agents: &[AgentKey],
    max_tasks: usize,
) -> std::result::Result<Vec<PlannedTask>, String> {
    #[derive(Deserialize)]
    struct Plan {
        tasks: Vec<PlannedTask>,
    }
    let value = plan_schema(agents, max_tasks).read(answer).map_err(|e| e.0)?;
    let plan: Plan =
        serde_json::from_value(value).map_err(|e| format!("the plan is not valid JSON of the asked shape: {e}"))?;
    // The schema bounds the count, names the agents and bounds each text; a text of spaces is what it lets by.
    let mut tasks = Vec::with_capacity(plan.tasks.len());
    for (i, planned) in plan.tasks.into_iter().enumerate() {
        let task = planned.task.trim();
        if task.is_empty() {
            return Err(format!("task {} must have a text of 1 to {MAX_TASK_CHARS} characters", i + 1));
        }
        tasks.push(PlannedTask { agent: planned.agent, task: task.to_owned() });
    }
    Ok(tasks)
}

impl Platform {
    /// Asks the Overseer for a plan; an unusable answer is sent back once with the reason.
    pub(super) async fn make_plan(
        &self,
        run: &Run,
        control: &crate::engine::RunControl,
        args: &PipelineArgs,
        state: &mut PipelineOutput,
    ) -> Result<Vec<PlannedTask>> {
        let (goal, project_context) = (&args.goal, &args.context);
        let max_tasks = args.max_tasks.unwrap_or(MAX_PLAN_TASKS);
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
             {{\"tasks\": [{{\"agent\": \"<agent name>\", \"task\": \"<what to do>\"}}]}} — 1 to {max_tasks} \
             tasks, in the order they must be done. A QA review of the whole follows automatically."
        );
        let context = (!project_context.is_null()).then(|| json!({"project_context": project_context}));
        let mut job = self.step_task(run, control, "overseer", ask, serde_json::Value::Null);
        job.context = context;
        job.output_schema = Some(plan_schema(&names, max_tasks));
        let read = |answer: &str| parse_plan(answer, &names, max_tasks);
        self.ask_in_form(job, StepPhase::Plan, ("planning", "the Overseer's plan"), state, read).await
    }

    /// Runs `job`, whose answer must be in its `output_schema` and is read by `read`. An answer that cannot be
    /// used goes back to the agent once, with the reason and the answer; each attempt is a `phase` step of
    /// `state`. An agent that fails fails the workflow's `step`; a second unusable answer is a conflict naming
    /// `what`.
    pub(super) async fn ask_in_form<T>(
        &self,
        mut job: crate::engine::AgentTask,
        phase: StepPhase,
        (step, what): (&str, &str),
        state: &mut PipelineOutput,
        read: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let (agent, ask) = (job.agent.clone(), job.task.clone());
        for round in 0..2 {
            let outcome = self.run_agent(job.clone()).await.map_err(|e| Error::step(step, e))?;
            let cut_off = matches!(
                outcome.steps.last(),
                Some(crate::engine::RunStep::LlmCall { stop_reason: crate::llm::StopReason::MaxTokens, .. })
            );
            let read = read(&outcome.output).map_err(|reason| match cut_off {
                true => format!("it was cut off at the length limit ({reason}); answer much more briefly"),
                false => reason,
            });
            let answer = outcome.output.clone();
            state.push(phase, &agent, job.task.clone(), outcome)?;
            match read {
                Ok(value) => return Ok(value),
                Err(reason) if round == 0 => {
                    job.task = format!(
                        "{ask}\n\nYour previous answer could not be used: {reason}.\nPrevious answer:\n{}",
                        truncate(&answer, 4_000)
                    );
                }
                Err(reason) => return Err(Error::Conflict(format!("{what} could not be used: {reason}"))),
            }
        }
        Err(Error::Internal(format!("{what}: no answer after two rounds")))
    }
}

/// `text` cut to `chars` characters, marked with an ellipsis when cut.
pub(super) fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
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
            parse_plan(answer, &agents(), MAX_PLAN_TASKS).unwrap(),
            vec![PlannedTask { agent: "developer".into(), task: "Build it".into() }]
        );
    }

    #[test]
    fn unusable_plans_say_why() {
        let cases = [
            ("no json here", "no JSON object"),
            ("} {", "no JSON object"),
            ("{\"steps\": []}", "\"tasks\" is a required property"),
            ("{\"tasks\": []}", "/tasks: [] has less than 1 item"),
            ("{\"tasks\": [{\"agent\": \"wizard\", \"task\": \"x\"}]}", "/tasks/0/agent: \"wizard\" is not one of"),
            ("{\"tasks\": [{\"agent\": \"developer\", \"task\": \"  \"}]}", "task 1 must have a text"),
        ];
        for (answer, reason) in cases {
            let error = parse_plan(answer, &agents(), MAX_PLAN_TASKS).unwrap_err();
            assert!(error.contains(reason), "{answer}: {error}");
        }
        let many = json!({"tasks": vec![json!({"agent": "developer", "task": "x"}); 11]}).to_string();
        assert!(parse_plan(&many, &agents(), MAX_PLAN_TASKS).unwrap_err().contains("/tasks: "), "more than 10 tasks");
    }

    #[test]
    fn a_plan_holds_no_more_tasks_than_the_run_allows() {
        let three = json!({"tasks": vec![json!({"agent": "developer", "task": "x"}); 3]}).to_string();
        assert_eq!(parse_plan(&three, &agents(), 3).unwrap().len(), 3);
        assert!(parse_plan(&three, &agents(), 2).unwrap_err().contains("/tasks: "));
        assert_eq!(plan_schema(&agents(), 2).schema["properties"]["tasks"]["maxItems"], 2);
        assert_eq!(plan_schema(&agents(), 0).schema["properties"]["tasks"]["maxItems"], 1, "clamped");
    }

    #[test]
    fn long_answers_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hi", 5), "hi");
    }
}
