//! The agent runtime: prompt from the spec, the `auto_tools` run on the input files first, a tool-calling loop
//! bounded by `max_iterations`, every LLM call budgeted (reserve → settle, one cost record each), spans, metrics
//! and `agent.*` events.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::Instrument;
use utoipa::ToSchema;

use crate::Platform;
use crate::agents::{AgentKey, AgentSpec};
use crate::error::{Error, Result};
use crate::events::{Event, EventKind};
use crate::ids::{ProjectId, TenantId};
use crate::knowledge::Citation;
use crate::llm::{ChatRequest, Message, StopReason, Usage};
use crate::model::RiskLevel;
use crate::model::{Money, RunStatus};
use crate::tools::{Finding, InputFile, KNOWLEDGE_SEARCH_TOOL, ToolContext, ToolError};

use super::CallSite;
use super::on_abandon::OnAbandon;

/// The answer tokens an agent whose spec sets none gets for an answer in a form (`AgentTask::output_schema`).
pub const FORM_MAX_TOKENS: u32 = 4096;

/// What to run.
#[derive(Clone, Debug)]
pub struct AgentTask {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Project charged.
    pub project_id: ProjectId,
    /// The run this belongs to.
    pub run_id: Option<crate::ids::RunId>,
    /// Agent name (`qa_tester`, or a tenant's own).
    pub agent: String,
    /// The task, in words.
    pub task: String,
    /// Extra context (results of earlier steps, files, …).
    pub context: Option<serde_json::Value>,
    /// The highest risk this task was cleared to run at (its run's risk level, approved when gated). An agent
    /// whose specification has since become riskier is refused rather than run without approval. `None` for a
    /// host app's direct call, which does its own gating.
    pub cleared_risk: Option<RiskLevel>,
    /// Cancelling the run, and its token cap: checked before every model call and tool call.
    pub control: super::RunControl,
    /// The user the run acts as (recorded with what its agent writes to the project's context).
    pub acting_user: Option<crate::ids::UserId>,
    /// The agents that handed this task down, the first at the top (empty for a run's own agent): what a
    /// handoff from here may not go back to, and how deep it is.
    pub handoff_chain: Vec<String>,
    /// The form the final answer must take, asked of the provider on every model call (see
    /// [`OutputSchema`](crate::llm::OutputSchema)); the caller reads the answer with it.
    pub output_schema: Option<crate::llm::OutputSchema>,
}

/// One thing that happened in a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunStep {
    /// A model turn.
    LlmCall {
        /// Model that answered.
        model: String,
        /// Why it stopped.
        #[schema(value_type = String)]
        stop_reason: StopReason,
        /// Tokens.
        usage: Usage,
        /// Cost.
        cost: Money,
    },
    /// A tool call.
    ToolCall {
        /// Tool.
        name: String,
        /// Its input.
        #[schema(value_type = Object)]
        input: serde_json::Value,
        /// Its output, or the error the model was shown.
        #[schema(value_type = Value)]
        output: serde_json::Value,
        /// Whether it succeeded.
        ok: bool,
    },
}

/// A finished agent run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentOutcome {
    /// The final answer.
    pub output: String,
    /// What happened, in order.
    pub steps: Vec<RunStep>,
    /// Tokens over all calls.
    pub usage: Usage,
    /// Cost over all calls.
    pub cost: Money,
    /// What the agent's `auto_tools` found in the run's input files, before the model's first turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The knowledge-base passages the answer cites (for an agent that answers from knowledge bases).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
}

/// An agent run's `output`, as `GET /v1/runs/{id}` shows it (a workflow run's is a
/// [`PipelineOutput`](super::PipelineOutput)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentRunOutput {
    /// The final answer.
    pub answer: String,
    /// What happened, in order: each model turn and tool call.
    pub steps: Vec<RunStep>,
    /// Tokens over all calls.
    pub usage: Usage,
    /// What the agent's `auto_tools` found in the run's input files (`context.files`), whatever the answer says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The knowledge-base passages the answer cites: its `[n]` markers, each with the words of its chunk that
    /// support it (a marker whose quote the chunk does not hold is dropped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
}

impl From<AgentOutcome> for AgentRunOutput {
    fn from(outcome: AgentOutcome) -> Self {
        Self {
            answer: outcome.output,
            steps: outcome.steps,
            usage: outcome.usage,
            findings: outcome.findings,
            citations: outcome.citations,
        }
    }
}

/// What the model is told of the automatic analyzers' findings, below the task.
fn findings_brief(tools: &[String], findings: &[Finding]) -> String {
    let ran = tools.join(", ");
    if findings.is_empty() {
        return format!("\n\nThe automatic analyzers ({ran}) ran on the files above and found nothing.");
    }
    let mut brief = format!(
        "\n\nThe automatic analyzers ({ran}) ran on the files above. These findings are verified; include each \
         in your answer:"
    );
    for f in findings {
        brief.push_str(&format!("\n- [{}] {} `{}`", f.severity.as_str(), f.tool, f.rule));
        if let Some(location) = &f.location {
            brief.push_str(&format!(" at {location}"));
        }
        brief.push_str(&format!(": {}", f.message));
    }
    brief
}

/// The system prompt of an agent.
pub fn system_prompt(spec: &AgentSpec) -> String {
    let mut prompt =
        format!("You are {}, {}.\nYour goal: {}\nBackground: {}\n", spec.name, spec.role, spec.goal, spec.backstory);
    if !spec.tools.is_empty() {
        prompt.push_str("Use the tools you are given when they help; when you are done, answer without calling any.\n");
    }
    prompt
}

/// Where an agent's invocation is traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AgentSpan {
    /// In an `invoke_agent` span of its own (a workflow step, a handoff's child, a direct call).
    New,
    /// In the current span, which already is the invocation's (an agent run's own span).
    Current,
}

/// The data an agent run's events share (`agent.started`, and its end's with more added).
pub(crate) fn agent_event_data(
    agent: &str,
    run_id: Option<crate::ids::RunId>,
    project_id: ProjectId,
) -> serde_json::Value {
    json!({"agent": agent, "run_id": run_id, "project_id": project_id})
}

impl Platform {
    /// Runs an agent on a task to its final answer. Fails with [`Error::BudgetExceeded`] as soon as a call's
    /// worst case does not fit the project's budget (no further LLM call is made), with [`Error::Llm`] when the
    /// provider fails, and with [`Error::MaxIterations`] when the model is still calling tools after the spec's
    /// bound.
    pub async fn run_agent(&self, task: AgentTask) -> Result<AgentOutcome> {
        let (result, end) = self.run_agent_reporting(task, AgentSpan::New, None).await;
        if let Some(end) = end {
            self.publish_event(end).await;
        }
        result
    }

    /// [`run_agent`](Self::run_agent), handing back the event of its end (`agent.completed` or `agent.failed`)
    /// unpublished, for the caller to store with the outcome (a run's end and its event share one transaction).
    /// `None` when the task failed before the agent started (no `agent.started` to end). `accepted` is the spec
    /// the replica that accepted the run read a moment ago, when it stored the run with its `agent.started`
    /// (a waited run worked where it was accepted): neither is done again.
    pub(crate) async fn run_agent_reporting(
        &self,
        task: AgentTask,
        span: AgentSpan,
        accepted: Option<AgentSpec>,
    ) -> (Result<AgentOutcome>, Option<Event>) {
        let key = match AgentKey::parse(&task.agent) {
            Ok(key) => key,
            Err(_) => return (Err(Error::NotFound("agent")), None),
        };
        let started_with_the_run = accepted.is_some();
        let spec = match accepted {
            Some(spec) => spec,
            None => match self.agent_spec(task.tenant_id, &key).await {
                Ok((spec, _builtin)) => spec,
                Err(error) => return (Err(error), None),
            },
        };
        if let Some(cleared) = task.cleared_risk
            && spec.risk_level > cleared
        {
            let refused = Error::Conflict(format!(
                "agent `{key}` is now at risk {}, above the {} this run was cleared for; start it again to have it \
                 gated",
                spec.risk_level.as_str(),
                cleared.as_str()
            ));
            return (Err(refused), None);
        }
        let span = match span {
            AgentSpan::Current => tracing::Span::current(),
            AgentSpan::New => tracing::info_span!(
                "agent_run",
                otel.name = format!("invoke_agent {key}").as_str(),
                gen_ai.operation.name = "invoke_agent",
                gen_ai.agent.name = %key,
                tenant_id = %task.tenant_id,
                agent = %key,
                run_id = task.run_id.map(tracing::field::display),
            ),
        };
        let started = Instant::now();
        let data = agent_event_data(key.as_str(), task.run_id, task.project_id);
        if !started_with_the_run {
            self.publish(task.tenant_id, EventKind::AgentStarted, data.clone()).await;
        }
        // Dropped midway (a worker that lost its lease stops), the run still gets an end to its `agent.started`.
        let unfinished = OnAbandon::new({
            let (platform, tenant, mut data) = (self.clone(), task.tenant_id, data.clone());
            data["reason"] = json!("abandoned before it finished");
            async move { platform.publish(tenant, EventKind::AgentFailed, data).await }
        });
        let result = self.agent_loop(&task, &spec).instrument(span).await;
        unfinished.disarm();
        let mut data = data;
        let (kind, status) = match &result {
            Ok(outcome) => {
                data["cost"] = json!(outcome.cost);
                (EventKind::AgentCompleted, RunStatus::Completed)
            }
            Err(error) if matches!(error.cause(), Error::Cancelled) => {
                data["cost"] = json!(task.control.cost_so_far());
                (EventKind::AgentCancelled, RunStatus::Cancelled)
            }
            Err(error) => {
                data["reason"] = json!(error.public_detail());
                (EventKind::AgentFailed, RunStatus::Failed)
            }
        };
        self.inner.metrics.runs.agent_ended(key.as_str(), status, started.elapsed().as_secs_f64());
        let end = Event::new(task.tenant_id, kind, data, self.inner.clock.now());
        (result, Some(end))
    }

    async fn agent_loop(&self, task: &AgentTask, spec: &AgentSpec) -> Result<AgentOutcome> {
        let provider = self.llm_provider(&spec.llm.provider)?;
        let provider_name = provider.name().to_owned();
        let mut tools = self.inner.tools.definitions(&spec.tools);
        if !spec.handoffs.is_empty() {
            tools.push(super::handoffs::handoff_definition(&spec.handoffs));
        }
        let model = Arc::new(super::tool_model::AgentModel {
            platform: self.clone(),
            provider: Arc::clone(&provider),
            provider_name: provider_name.clone(),
            model: spec.llm.model.clone(),
            max_tokens: spec.llm.max_tokens.unwrap_or(ChatRequest::DEFAULT_MAX_TOKENS),
            tenant: task.tenant_id,
            project: task.project_id,
            run_id: task.run_id,
            agent: task.agent.clone(),
            control: task.control.clone(),
            spent: parking_lot::Mutex::default(),
        });
        let project_context = super::context::AgentProjectContext {
            platform: self.clone(),
            tenant: task.tenant_id,
            project: task.project_id,
            agent: task.agent.clone(),
            run: task.run_id,
            user: task.acting_user,
        };
        let mut context = ToolContext::new(task.tenant_id, task.project_id, task.agent.clone())
            .with_model(Arc::clone(&model) as Arc<dyn crate::tools::ToolModel>)
            .with_project_context(Arc::new(project_context));
        context.run_id = task.run_id;
        let knowledge = self.run_knowledge(task, spec).await?;
        let mut system = system_prompt(spec);
        if let Some(knowledge) = &knowledge {
            context = context.with_knowledge(Arc::clone(knowledge) as Arc<dyn crate::tools::KnowledgeSearch>);
            if !spec.tools.iter().any(|t| t == KNOWLEDGE_SEARCH_TOOL) {
                tools.extend(self.inner.tools.definitions(&[KNOWLEDGE_SEARCH_TOOL.to_owned()]));
            }
            system.push_str(super::grounding::GROUNDING);
        }
        let mut outcome = AgentOutcome {
            output: String::new(),
            steps: Vec::new(),
            usage: Usage::default(),
            cost: Money::ZERO,
            findings: Vec::new(),
            citations: Vec::new(),
        };
        let mut first = task.task.clone();
        if let Some(extra) = &task.context {
            first.push_str("\n\nContext:\n");
            first.push_str(&serde_json::to_string_pretty(extra).unwrap_or_default());
        }
        let files = InputFile::from_context(task.context.as_ref());
        if !spec.auto_tools.is_empty() && !files.is_empty() {
            self.run_auto_tools(task, spec, &files, &mut outcome).await;
            first.push_str(&findings_brief(&spec.auto_tools, &outcome.findings));
        }
        if let Some(knowledge) = &knowledge {
            first.push_str(&knowledge.first_passages(&task.task).await);
        }
        let mut messages = vec![Message::user(first)];
        // An answer in a form is cut mid-JSON by the token limit, and is then unreadable: unless the spec says
        // otherwise, a form gets room for the longest one it allows.
        let default_max_tokens = match task.output_schema {
            Some(_) => FORM_MAX_TOKENS,
            None => ChatRequest::DEFAULT_MAX_TOKENS,
        };
        for _ in 0..spec.max_iterations {
            let mut request = ChatRequest::new(spec.llm.model.clone(), messages.clone())
                .with_system(system.clone())
                .with_max_tokens(spec.llm.max_tokens.unwrap_or(default_max_tokens));
            request.temperature = spec.llm.temperature;
            request.tools = tools.clone();
            request.output_schema = task.output_schema.clone();
            let site = CallSite {
                tenant: task.tenant_id,
                project: task.project_id,
                provider: &provider_name,
                model: &spec.llm.model,
                run_id: task.run_id,
                agent: Some(&task.agent),
                control: Some(&task.control),
            };
            let (response, record) = self.budgeted_chat(site, &*provider, request).await?;
            outcome.usage = outcome.usage.plus(response.usage);
            outcome.cost = outcome.cost.try_add(record.cost)?;
            outcome.steps.push(RunStep::LlmCall {
                model: record.model,
                stop_reason: response.stop_reason.clone(),
                usage: response.usage,
                cost: record.cost,
            });
            if response.tool_calls.is_empty() {
                if let Some(knowledge) = &knowledge {
                    outcome.citations = knowledge.cite(&response.text).citations;
                }
                outcome.output = response.text;
                return Ok(outcome);
            }
            messages.push(Message::Assistant { content: response.text, tool_calls: response.tool_calls.clone() });
            for call in response.tool_calls {
                task.control.check()?;
                let result = match self.inner.tools.get(&call.name) {
                    _ if call.name == super::handoffs::HANDOFF_TOOL && !spec.handoffs.is_empty() => {
                        let handoff = Box::pin(self.hand_off(task, &spec.handoffs, &call.arguments)).await;
                        outcome.usage = outcome.usage.plus(handoff.usage);
                        outcome.cost = outcome.cost.try_add(handoff.cost)?;
                        handoff.output
                    }
                    Some(tool)
                        if spec.tools.contains(&call.name)
                            || (knowledge.is_some() && call.name == KNOWLEDGE_SEARCH_TOOL) =>
                    {
                        tool.call(&context, call.arguments.clone())
                            .instrument(tracing::info_span!(
                                "execute_tool",
                                otel.name = format!("execute_tool {}", call.name).as_str(),
                                gen_ai.operation.name = "execute_tool",
                                gen_ai.tool.name = %call.name,
                                tenant_id = %task.tenant_id,
                                run_id = task.run_id.map(tracing::field::display),
                                agent = %task.agent,
                            ))
                            .await
                    }
                    _ => Err(ToolError::InvalidInput(format!(
                        "no tool named `{}` is available to this agent",
                        call.name
                    ))),
                };
                let (output, ok) = match result {
                    Ok(output) => (output, true),
                    Err(error) => (json!({"error": error.to_string()}), false),
                };
                messages.push(Message::Tool {
                    tool_call_id: call.id.clone(),
                    name: call.name.clone(),
                    content: output.to_string(),
                    is_error: !ok,
                });
                self.publish_tool_call(task, &call.name, ok).await;
                outcome.steps.push(RunStep::ToolCall { name: call.name, input: call.arguments, output, ok });
            }
            let (usage, cost) = model.take_spent();
            outcome.usage = outcome.usage.plus(usage);
            outcome.cost = outcome.cost.try_add(cost)?;
        }
        Err(Error::MaxIterations { limit: spec.max_iterations })
    }

    /// Runs the agent's `auto_tools` on the run's input files, recording each as a step and keeping the findings.
    async fn run_auto_tools(
        &self,
        task: &AgentTask,
        spec: &AgentSpec,
        files: &[InputFile],
        outcome: &mut AgentOutcome,
    ) {
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        for name in &spec.auto_tools {
            let analyzer = self.inner.tools.get(name).and_then(|tool| tool.analyzer());
            let (output, ok) = match analyzer {
                Some(analyzer) => {
                    let found = tracing::info_span!(
                        "execute_tool",
                        otel.name = format!("execute_tool {name}").as_str(),
                        gen_ai.operation.name = "execute_tool",
                        gen_ai.tool.name = %name,
                        tenant_id = %task.tenant_id,
                        agent = %task.agent,
                    )
                    .in_scope(|| analyzer.analyze(files));
                    let output = json!({"findings": found});
                    outcome.findings.extend(found);
                    (output, true)
                }
                // The spec was accepted while the tool was registered; the host app has since removed it.
                None => (json!({"error": format!("`{name}` is not a registered analyzer on this platform")}), false),
            };
            self.publish_tool_call(task, name, ok).await;
            outcome.steps.push(RunStep::ToolCall {
                name: name.clone(),
                input: json!({"files": paths, "auto": true}),
                output,
                ok,
            });
        }
    }

    /// `run.tool_call`, for the run's progress stream (a direct call outside a run has no stream to feed).
    async fn publish_tool_call(&self, task: &AgentTask, tool: &str, ok: bool) {
        let Some(run_id) = task.run_id else { return };
        let data =
            json!({"run_id": run_id, "project_id": task.project_id, "agent": task.agent, "tool": tool, "ok": ok});
        self.publish(task.tenant_id, EventKind::RunToolCall, data).await;
    }
}
