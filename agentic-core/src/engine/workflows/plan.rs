//! The Overseer's plan: how it is asked for, read and repaired.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::pipeline::{PipelineArgs, PipelineOutput, StepPhase};
use crate::Platform;
use crate::agents::AgentKey;
use crate::error::{Error, Result};
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
            let mut job = self.step_task(run, control, "overseer", task.clone(), serde_json::Value::Null);
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
