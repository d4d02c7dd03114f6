//! Handoffs: an agent whose specification names targets (`handoffs: [qa_tester]`) gets the `handoff` tool; a call
//! runs the target as a child run of the caller's, in the caller's worker, on the same project budget, token cap
//! and cancel, and hands the target's answer back to the caller's tool loop. A chain is bounded
//! ([`MAX_HANDOFF_DEPTH`]) and may not come back to an agent already in it, so delegation cannot loop.
//!
//! The child run is recorded when it ends (status, output, cost, `parent_run_id`, and in its input the handoff:
//! from, depth, the hash of the context handed over); `GET /v1/runs/{id}/handoffs` lists a run's children.

use serde_json::{Value, json};
use sha2::Digest;
use tracing::Instrument;

use crate::Platform;
use crate::api::HandoffView;
use crate::auth::Principal;
use crate::engine::agent_loop::AgentSpan;
use crate::engine::{AgentRunOutput, AgentTask};
use crate::error::{Error, Result};
use crate::events::EventKind;
use crate::ids::RunId;
use crate::llm::{ToolDefinition, Usage};
use crate::model::{Money, Run, RunStatus, validate_text};
use crate::store::RunQuery;
use crate::tools::ToolError;

/// The name of the tool.
pub const HANDOFF_TOOL: &str = "handoff";
/// How many handoffs deep a chain may go (the caller's own run is depth 0).
pub const MAX_HANDOFF_DEPTH: usize = 3;
/// The longest instructions a handoff carries.
const MAX_INSTRUCTIONS_CHARS: usize = 20_000;

/// The `handoff` tool's definition for an agent that may hand off to `targets`.
pub(crate) fn handoff_definition(targets: &[String]) -> ToolDefinition {
    ToolDefinition {
        name: HANDOFF_TOOL.to_owned(),
        description: "Hands a piece of work to another agent and waits for its answer, which comes back as this \
                      tool's result. Give it clear instructions and the context it needs."
            .to_owned(),
        input_schema: json!({"type": "object", "properties": {
            "to": {"type": "string", "enum": targets, "description": "The agent to hand off to"},
            "instructions": {"type": "string", "description": "What the other agent should do"},
            "context": {"type": "object", "description": "What it needs to know"}},
            "required": ["to", "instructions"]}),
    }
}

/// Why a handoff from `chain` (the agents above, the caller last) to `to` is refused, if it is.
pub fn refuse_handoff(chain: &[String], to: &str, max_depth: usize) -> Option<String> {
    if chain.iter().any(|agent| agent == to) {
        let path: Vec<&str> = chain.iter().map(String::as_str).chain([to]).collect();
        return Some(format!(
            "a handoff back to `{to}` would form a cycle ({}); do the work yourself",
            path.join(" → ")
        ));
    }
    if chain.len() > max_depth {
        return Some(format!("handoffs may go {max_depth} deep and this chain is there already; do the work yourself"));
    }
    None
}

/// What a handoff returns to the caller's loop: the tool's answer, and what the child cost.
pub(crate) struct HandoffResult {
    pub(crate) output: std::result::Result<Value, ToolError>,
    pub(crate) usage: Usage,
    pub(crate) cost: Money,
}

impl Platform {
    /// Runs the `handoff` call of `task`'s agent (whose allowed targets are `targets`): checks it, runs the
    /// target as a child run, records the child, and returns its answer.
    pub(crate) async fn hand_off(&self, task: &AgentTask, targets: &[String], input: &Value) -> HandoffResult {
        let refused = |message: String| HandoffResult {
            output: Err(ToolError::InvalidInput(message)),
            usage: Usage::default(),
            cost: Money::ZERO,
        };
        let Some(to) = input["to"].as_str() else { return refused("`to` (an agent name) is required".into()) };
        if !targets.iter().any(|t| t == to) {
            return refused(format!("you may hand off only to: {}", targets.join(", ")));
        }
        let instructions =
            match input["instructions"].as_str().map(|t| validate_text("instructions", t, MAX_INSTRUCTIONS_CHARS)) {
                Some(Ok(text)) => text,
                Some(Err(invalid)) => return refused(invalid.to_string()),
                None => return refused("`instructions` (text) is required".into()),
            };
        let context = input.get("context").cloned().filter(|c| !c.is_null());
        let mut chain = task.handoff_chain.clone();
        chain.push(task.agent.clone());
        if let Some(reason) = refuse_handoff(&chain, to, MAX_HANDOFF_DEPTH) {
            return HandoffResult {
                output: Err(ToolError::Failed(reason)),
                usage: Usage::default(),
                cost: Money::ZERO,
            };
        }
        let depth = chain.len();
        let child_id = RunId::new();
        let context_hash = hex(&sha2::Sha256::digest(serde_json::to_vec(&context).unwrap_or_default()));
        let data = json!({"run_id": task.run_id, "child_run_id": child_id, "project_id": task.project_id,
            "from": task.agent, "to": to, "depth": depth, "context_hash": context_hash});
        self.publish(task.tenant_id, EventKind::AgentHandoff, data).await;
        let started = self.inner.clock.now();
        let spent_before = task.control.cost_so_far();
        let child = AgentTask {
            tenant_id: task.tenant_id,
            project_id: task.project_id,
            run_id: Some(child_id),
            agent: to.to_owned(),
            task: instructions.clone(),
            context: context.clone(),
            // The child may run no riskier an agent than the caller was cleared for.
            cleared_risk: task.cleared_risk,
            control: task.control.clone(),
            acting_user: task.acting_user,
            handoff_chain: chain,
            output_schema: None,
        };
        let span = tracing::info_span!(
            "handoff",
            otel.name = format!("handoff {to}").as_str(),
            tenant_id = %task.tenant_id,
            run_id = %child_id,
            parent_run_id = task.run_id.map(tracing::field::display),
            from = %task.agent,
            to,
            depth,
        );
        let (result, end) = self.run_agent_reporting(child, AgentSpan::New, None).instrument(span).await;
        // The child's calls went through the shared controls: what they added is what it cost.
        let spent = Money::from_nanos((task.control.cost_so_far().nanos() - spent_before.nanos()).max(0));
        let input = json!({"task": instructions, "context": context, "handoff": {"from": task.agent, "depth": depth,
            "context_hash": context_hash}});
        let mut record = Run::queued(
            task.tenant_id,
            task.project_id,
            to,
            input,
            task.cleared_risk.unwrap_or_default(),
            task.acting_user.unwrap_or_default(),
            started,
        );
        record.id = child_id;
        record.parent_run_id = task.run_id;
        record.attempts = 1;
        record.updated_at = self.inner.clock.now();
        let answer = match &result {
            Ok(outcome) => {
                record.status = RunStatus::Completed;
                record.cost = outcome.cost;
                record.output = serde_json::to_value(AgentRunOutput::from(outcome.clone())).ok();
                Ok(json!({"agent": to, "run_id": child_id, "status": "completed", "answer": outcome.output}))
            }
            Err(error) => {
                record.status =
                    if matches!(error.cause(), Error::Cancelled) { RunStatus::Cancelled } else { RunStatus::Failed };
                record.error = Some(self.failure_reason(&record, error));
                record.error_code = Some(error.code().to_owned());
                record.cost = spent;
                Err(ToolError::Failed(format!("`{to}` could not finish: {}", error.public_detail())))
            }
        };
        // A host app's direct call (no run, nobody it acts for) has no runs to record the child beside.
        if task.acting_user.is_some()
            && let Err(error) = self.inner.store.tenant(task.tenant_id).insert_run(&record, &[]).await
        {
            tracing::warn!(run_id = %child_id, %error, "could not record a handoff's child run");
        }
        if let Some(end) = end {
            self.publish_event(end).await;
        }
        let (usage, cost) = match &result {
            Ok(outcome) => (outcome.usage, outcome.cost),
            Err(_) => (Usage::default(), spent),
        };
        HandoffResult { output: answer, usage, cost }
    }

    /// The handoffs a run of the caller's tenant made, oldest first (any member may read them).
    pub async fn run_handoffs(&self, principal: &Principal, id: RunId) -> Result<Vec<HandoffView>> {
        let store = self.inner.store.tenant(principal.tenant_id);
        store.get_run(id).await?.ok_or(Error::NotFound("run"))?;
        let mut handoffs = Vec::new();
        let mut query = RunQuery { parent_run_id: Some(id), limit: Some(200), ..RunQuery::default() };
        loop {
            let page = store.list_runs(&query).await?;
            handoffs.extend(page.data.iter().map(HandoffView::of));
            match page.next_cursor {
                Some(cursor) => query.after = Some(RunId::from_uuid(cursor)),
                None => break,
            }
        }
        handoffs.reverse();
        Ok(handoffs)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_and_depth_are_refused() {
        let chain = |agents: &[&str]| agents.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        assert_eq!(refuse_handoff(&chain(&["developer"]), "qa_tester", 3), None);
        let cycle = refuse_handoff(&chain(&["developer", "qa_tester"]), "developer", 3).unwrap();
        assert!(cycle.contains("developer → qa_tester → developer"), "{cycle}");
        assert_eq!(refuse_handoff(&chain(&["a", "b", "c"]), "d", 3), None, "the third handoff is allowed");
        assert!(refuse_handoff(&chain(&["a", "b", "c", "d"]), "e", 3).unwrap().contains("3 deep"));
        let definition = handoff_definition(&chain(&["qa_tester"]));
        assert_eq!(definition.input_schema["properties"]["to"]["enum"], json!(["qa_tester"]));
    }
}
