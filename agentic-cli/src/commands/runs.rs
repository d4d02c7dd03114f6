//! Starting work and following it: `agents`, `workflows`, `runs`.

use std::time::Duration;

use agentic_sdk::api::{ExecuteRequest, WorkflowRequest};
use agentic_sdk::ids::RunId;
use agentic_sdk::model::{RiskLevel, Run};
use agentic_sdk::query::RunQuery;
use agentic_sdk::{Error as ApiError, RunHandle};
use futures_util::StreamExt;

use super::{Context, project};
use crate::cli::{AgentsCommand, Execute, Risk, RunsCommand, Start, WorkflowsCommand};
use crate::error::{CliError, parse_id};
use crate::output::{Progress, wire_name};

pub(crate) async fn agents(ctx: &Context, command: AgentsCommand) -> Result<(), CliError> {
    match command {
        AgentsCommand::List => {
            let agents = ctx.client.agents().list().await?;
            ctx.out.show(&agents, &["NAME", "ROLE", "RISK", "MODEL", "SOURCE"], || {
                agents
                    .data
                    .iter()
                    .map(|a| {
                        vec![
                            a.name.to_string(),
                            a.spec.role.clone(),
                            a.spec.risk_level.as_str().to_owned(),
                            format!("{}/{}", a.spec.llm.provider, a.spec.llm.model),
                            wire_name(&a.source),
                        ]
                    })
                    .collect()
            })
        }
        AgentsCommand::Show { name } => {
            let agent = ctx.client.agents().get(&name).await?;
            if ctx.out.json {
                return ctx.out.json(&agent);
            }
            ctx.out.line(agent.yaml.trim_end())
        }
        AgentsCommand::Execute(execute) => execute_agent(ctx, execute).await,
    }
}

async fn execute_agent(ctx: &Context, execute: Execute) -> Result<(), CliError> {
    let Execute { agent, task, start, risk } = execute;
    let request = ExecuteRequest {
        task,
        context: context(start.context.as_deref())?,
        project_id: project(&ctx.client, &start.project).await?,
        risk_level: risk.map(|r| match r {
            Risk::Low => RiskLevel::Low,
            Risk::Medium => RiskLevel::Medium,
            Risk::High => RiskLevel::High,
        }),
        wait: None,
        budget_tokens: start.budget_tokens,
    };
    let agents = ctx.client.agents();
    let handle = match &start.idempotency_key {
        Some(key) => agents.execute_idempotent(&agent, &request, key).await?,
        None => agents.execute(&agent, &request).await?,
    };
    started(ctx, handle, &start).await
}

pub(crate) async fn workflows(ctx: &Context, command: WorkflowsCommand) -> Result<(), CliError> {
    let WorkflowsCommand::Start { goal, start } = command;
    let mut args = serde_json::json!({"goal": goal});
    if let Some(context) = context(start.context.as_deref())? {
        args["context"] = context;
    }
    let request = WorkflowRequest {
        name: "ProjectPipelineWorkflow".into(),
        args,
        project_id: project(&ctx.client, &start.project).await?,
        risk_level: None,
        wait: None,
        budget_tokens: start.budget_tokens,
    };
    let workflows = ctx.client.workflows();
    let handle = match &start.idempotency_key {
        Some(key) => workflows.create_idempotent(&request, key).await?,
        None => workflows.create(&request).await?,
    };
    started(ctx, handle, &start).await
}

/// A run was started: follow it with `--wait`, else print it as it stands.
async fn started(ctx: &Context, handle: RunHandle, start: &Start) -> Result<(), CliError> {
    if start.wait {
        return follow(ctx, handle, Duration::from_secs(start.timeout)).await;
    }
    print_run(ctx, handle.run())
}

pub(crate) async fn runs(ctx: &Context, command: RunsCommand) -> Result<(), CliError> {
    match command {
        RunsCommand::List { status, agent, project: named, limit } => {
            let status = status
                .map(|s| serde_json::from_value(serde_json::Value::String(s.clone())))
                .transpose()
                .map_err(|_| CliError::Usage("unknown --status (see `agentic runs list --help`)".into()))?;
            let project_id = match named {
                Some(named) => Some(project(&ctx.client, &named).await?),
                None => None,
            };
            let query = RunQuery { status, agent, project_id, limit: Some(limit), ..RunQuery::default() };
            let page = ctx.client.runs().list(&query).await?;
            ctx.out.show(&page.data, &["ID", "STATUS", "KIND", "AGENT", "COST", "CREATED"], || {
                page.data
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.to_string(),
                            r.status.as_str().to_owned(),
                            r.kind.as_str().to_owned(),
                            r.agent.clone(),
                            r.cost.to_string(),
                            r.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        ]
                    })
                    .collect()
            })
        }
        RunsCommand::Show { id } => {
            let run = ctx.client.runs().get(parse_id::<RunId>(&id, "run")?).await?;
            print_run(ctx, &run)
        }
        RunsCommand::Wait { id, timeout } => {
            let handle = ctx.client.runs().handle(parse_id::<RunId>(&id, "run")?).await?;
            follow(ctx, handle, Duration::from_secs(timeout)).await
        }
        RunsCommand::Cancel { id } => {
            let run = ctx.client.runs().cancel(parse_id::<RunId>(&id, "run")?).await?;
            print_run(ctx, &run)
        }
    }
}

/// Follows a run to its end: its progress on a terminal, then its result; the exit code says how it ended.
async fn follow(ctx: &Context, mut handle: RunHandle, timeout: Duration) -> Result<(), CliError> {
    let mut progress = Progress::new(&ctx.out);
    let outcome = if progress.is_shown() {
        let mut events = handle.progress().fuse();
        let wait = handle.wait_for_result(timeout);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                outcome = &mut wait => break outcome,
                Some(Ok(event)) = events.next() => progress.event(&event),
            }
        }
    } else {
        handle.wait_for_result(timeout).await
    };
    progress.finish();
    match outcome {
        Ok(run) => print_run(ctx, &run),
        Err(error) => {
            if let Some(run) = ended_run(&error) {
                print_run(ctx, run)?;
            }
            Err(error.into())
        }
    }
}

/// The run an unsuccessful wait ended with, to print before the error.
fn ended_run(error: &ApiError) -> Option<&Run> {
    match error {
        ApiError::RunFailed { run }
        | ApiError::RunCancelled { run }
        | ApiError::ApprovalDenied { run }
        | ApiError::ApprovalRequired { run }
        | ApiError::Timeout { run } => Some(run),
        _ => None,
    }
}

/// A run: as JSON, or a summary line and its answer (a workflow's review).
fn print_run(ctx: &Context, run: &Run) -> Result<(), CliError> {
    if ctx.out.json {
        return ctx.out.json(run);
    }
    ctx.out.line(&format!(
        "run {}  {}  {} {}  cost {} USD",
        run.id,
        run.status.as_str(),
        run.kind.as_str(),
        run.agent,
        run.cost
    ))?;
    if let Some(error) = &run.error {
        ctx.out.line(&format!("error: {error}"))?;
    }
    let output = run.output.as_ref();
    let text = output.and_then(|o| o.get("answer").or_else(|| o.get("review"))).and_then(|t| t.as_str());
    if let Some(text) = text {
        ctx.out.line("")?;
        ctx.out.line(text)?;
    }
    Ok(())
}

/// `--context` as a JSON object.
fn context(text: Option<&str>) -> Result<Option<serde_json::Value>, CliError> {
    let Some(text) = text else { return Ok(None) };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) if value.is_object() => Ok(Some(value)),
        Ok(_) => Err(CliError::Usage("--context must be a JSON object".into())),
        Err(error) => Err(CliError::Usage(format!("--context is not JSON: {error}"))),
    }
}
