//! `GET /console/runs`: the tenant's runs, newest first, filtered by status, agent and project, a page at a time;
//! `GET /console/runs/{id}`: one run (task, status, steps, output, citations, cost), followed live until it ends;
//! `POST /console/runs/{id}/cancel`.

use agentic_core::Platform;
use agentic_core::engine::{AgentRunOutput, PipelineOutput, RunStep};
use agentic_core::ids::{ProjectId, RunId};
use agentic_core::model::{CostRecord, Run, RunKind, RunStatus};
use agentic_core::store::RunQuery;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::ConsoleError;
use crate::page::{self, Section, usd, when};
use crate::session::{CSRF_FIELD, CsrfForm, Session};

/// Runs a page shows.
const PAGE: u32 = 50;

/// The list's filters, as the filter form sends them (an empty field is no filter).
#[derive(Deserialize, Default)]
pub(crate) struct RunFilter {
    status: Option<String>,
    agent: Option<String>,
    project: Option<String>,
    after: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl RunFilter {
    fn query(&self) -> Result<RunQuery, ConsoleError> {
        let status = given(&self.status)
            .map(|s| RunStatus::ALL.into_iter().find(|known| known.as_str() == s).ok_or("status is not a run status"))
            .transpose();
        let project = given(&self.project).map(|p| p.parse::<ProjectId>().map_err(|_| "project is not a project id"));
        let after = given(&self.after).map(|a| a.parse::<RunId>().map_err(|_| "after is not a run id"));
        let bad = |why: &str| ConsoleError::BadForm(why.to_owned());
        Ok(RunQuery {
            status: status.map_err(bad)?,
            agent: given(&self.agent).map(str::to_owned),
            project_id: project.transpose().map_err(bad)?,
            after: after.transpose().map_err(bad)?,
            limit: Some(PAGE),
            ..RunQuery::default()
        })
    }

    /// The list's URL with these filters and `after` for the next page.
    fn next_page(&self, after: RunId) -> String {
        let mut fields = Vec::new();
        for (name, value) in [("status", &self.status), ("agent", &self.agent), ("project", &self.project)] {
            if let Some(value) = given(value) {
                fields.push((name, value.to_owned()));
            }
        }
        fields.push(("after", after.to_string()));
        format!("/console/runs?{}", serde_urlencoded::to_string(fields).unwrap_or_default())
    }
}

fn status_badge(status: RunStatus) -> Markup {
    html! { span class={"status status-" (status.as_str())} { (status.as_str().replace('_', " ")) } }
}

/// `GET /console/runs`.
pub(crate) async fn list(
    State(platform): State<Platform>,
    session: Session,
    filter: Result<Query<RunFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Markup, ConsoleError> {
    let Query(filter) = filter?;
    let principal = &session.principal;
    let runs = platform.list_runs(principal, filter.query()?).await?;
    let projects = crate::projects(&platform, principal).await?;
    let agents = platform.list_agents(principal).await?;
    let chosen = |value: &Option<String>, option: &str| given(value) == Some(option);
    let body = html! {
        form class="card filters" method="get" action="/console/runs" {
            div {
                label for="status" { "Status" }
                select id="status" name="status" {
                    option value="" { "Any" }
                    @for status in RunStatus::ALL {
                        option value=(status.as_str()) selected[chosen(&filter.status, status.as_str())] { (status.as_str().replace('_', " ")) }
                    }
                }
            }
            div {
                label for="agent" { "Agent" }
                select id="agent" name="agent" {
                    option value="" { "Any" }
                    @for agent in &agents {
                        option value=(agent.name) selected[chosen(&filter.agent, agent.name.as_str())] { (agent.name) }
                    }
                    option value="ProjectPipelineWorkflow" selected[chosen(&filter.agent, "ProjectPipelineWorkflow")] { "ProjectPipelineWorkflow (workflow)" }
                }
            }
            div {
                label for="project" { "Project" }
                select id="project" name="project" {
                    option value="" { "Any" }
                    @for project in &projects {
                        option value=(project.id) selected[chosen(&filter.project, &project.id.to_string())] { (project.name) }
                    }
                }
            }
            div class="actions" { button type="submit" { "Filter" } a href="/console/runs" { "Clear" } }
        }
        section aria-labelledby="runs-heading" data-live=(crate::live::RUNS) {
            h2 id="runs-heading" { "Runs" }
            @if runs.data.is_empty() {
                p { "No run matches." }
            } @else {
                table {
                    caption class="visually-hidden" { "Runs, newest first" }
                    thead { tr { th scope="col" { "Run" } th scope="col" { "Agent" } th scope="col" { "Status" } th scope="col" { "Project" } th scope="col" { "Cost" } th scope="col" { "Started" } } }
                    tbody {
                        @for run in &runs.data {
                            tr {
                                td { a href={"/console/runs/" (run.id)} { (short_task(run)) } }
                                td { (run.agent) }
                                td { (status_badge(run.status)) }
                                td { (crate::project_name(&projects, run.project_id)) }
                                td class="number" { (usd(run.cost)) }
                                td { (when(&run.created_at)) }
                            }
                        }
                    }
                }
            }
            @if let Some(after) = runs.next_cursor {
                p { a href=(filter.next_page(RunId::from_uuid(after))) { "Older runs" } }
            }
        }
    };
    Ok(page::page(&session, Section::Runs, "Runs", body))
}

/// A run's task, cut for a table cell.
fn short_task(run: &Run) -> String {
    let task = run.input.get("task").and_then(|t| t.as_str()).unwrap_or(run.agent.as_str());
    match task.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &task[..end]),
        None if task.is_empty() => run.id.to_string(),
        None => task.to_owned(),
    }
}

/// `GET /console/runs/{id}`.
pub(crate) async fn show(
    State(platform): State<Platform>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Markup, ConsoleError> {
    let id: RunId = id.parse().map_err(|_| ConsoleError::NotFound)?;
    let principal = &session.principal;
    let run = platform.get_run(principal, id).await?;
    let costs = platform.run_costs(principal, id).await?;
    let project =
        platform.get_project(principal, run.project_id).await.map_or_else(|_| run.project_id.to_string(), |p| p.name);
    let task = run.input.get("task").and_then(|t| t.as_str()).unwrap_or("");
    let live = (!run.status.is_final()).then(|| crate::live::run_topic(run.id));
    let can_cancel = !run.status.is_final() && agentic_core::engine::may_cancel(principal, &run).is_ok();
    let body = html! {
        p { a href="/console/runs" { "All runs" } }
        section aria-labelledby="summary-heading" data-live=[live.as_deref()] {
            h2 id="summary-heading" { "Summary" }
            dl class="card" {
                dt { "Status" } dd { (status_badge(run.status)) }
                dt { "Agent" } dd { (run.agent) " (" (run.kind.as_str()) ")" }
                dt { "Task" } dd { (task) }
                dt { "Project" } dd { (project) }
                dt { "Risk" } dd { (run.risk_level.as_str()) }
                dt { "Cost" } dd { (usd(run.cost)) }
                dt { "Attempts" } dd { (run.attempts) }
                dt { "Started" } dd { (when(&run.created_at)) }
                dt { "Last change" } dd { (when(&run.updated_at)) }
                @if let Some(error) = &run.error {
                    dt { "Error" } dd class="error-text" { (error) @if let Some(code) = &run.error_code { " (" (code) ")" } }
                }
            }
            @if can_cancel {
                form method="post" action={"/console/runs/" (run.id) "/cancel"} {
                    input type="hidden" name=(CSRF_FIELD) value=(session.csrf());
                    button type="submit" class="secondary" { "Cancel this run" }
                }
            }
            (output(&run))
            (cost_table(&costs))
        }
    };
    Ok(page::page(&session, Section::Runs, &format!("Run {}", short_id(&run.id)), body))
}

/// The first eight characters of an id: enough to tell runs apart on a page.
fn short_id(id: &RunId) -> String {
    id.to_string().chars().take(8).collect()
}

/// A run's output, in its kind's shape; raw JSON when it has neither (an older or a host-defined shape).
fn output(run: &Run) -> Markup {
    let Some(value) = &run.output else { return html! {} };
    let agent = (run.kind == RunKind::Agent).then(|| serde_json::from_value::<AgentRunOutput>(value.clone()).ok());
    let workflow =
        (run.kind == RunKind::Workflow).then(|| serde_json::from_value::<PipelineOutput>(value.clone()).ok());
    html! {
        @if let Some(Some(out)) = agent {
            h2 { "Answer" }
            div class="card answer" { (out.answer) }
            (steps_table("steps-heading", "Steps", &out.steps))
            @if !out.citations.is_empty() {
                h2 { "Citations" }
                ol class="card" {
                    @for citation in &out.citations {
                        li { strong { "[" (citation.marker) "] " (citation.title) } blockquote { (citation.snippet) } }
                    }
                }
            }
            p { "Tokens: " (out.usage.input_tokens) " in, " (out.usage.output_tokens) " out." }
        } @else if let Some(Some(out)) = workflow {
            @if let Some(verdict) = &out.verdict {
                h2 { "Review" }
                div class="card" { p { strong { (verdict.verdict) } ": " (verdict.summary) } }
            }
            h2 { "Workflow steps" }
            @for (n, step) in out.steps.iter().enumerate() {
                article class="card" aria-labelledby={"wf-step-" (n)} {
                    h3 id={"wf-step-" (n)} { (n + 1) ". " (step.phase.as_str()) " · " (step.agent) }
                    p { (step.task) }
                    details { summary { "What the agent answered" } div class="answer" { (step.output) } }
                    p { "Cost " (usd(step.cost)) ", " (step.steps.len()) " steps." }
                }
            }
        } @else {
            h2 { "Output" }
            pre { (serde_json::to_string_pretty(value).unwrap_or_default()) }
        }
    }
}

fn steps_table(id: &str, title: &str, steps: &[RunStep]) -> Markup {
    html! {
        @if !steps.is_empty() {
            h2 id=(id) { (title) }
            table {
                caption class="visually-hidden" { "Model turns and tool calls, in order" }
                thead { tr { th scope="col" { "#" } th scope="col" { "Step" } th scope="col" { "Detail" } th scope="col" { "Cost" } } }
                tbody {
                    @for (n, step) in steps.iter().enumerate() {
                        tr {
                            td { (n + 1) }
                            @match step {
                                RunStep::LlmCall { model, usage, cost, .. } => {
                                    td { "model turn" }
                                    td { (model) ": " (usage.input_tokens) " tokens in, " (usage.output_tokens) " out" }
                                    td class="number" { (usd(*cost)) }
                                }
                                RunStep::ToolCall { name, ok, .. } => {
                                    td { "tool call" }
                                    td { (name) @if !ok { " (failed)" } }
                                    td {}
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn cost_table(costs: &[CostRecord]) -> Markup {
    html! {
        @if !costs.is_empty() {
            h2 { "Cost records" }
            table {
                caption class="visually-hidden" { "What each model call of the run cost" }
                thead { tr { th scope="col" { "Provider" } th scope="col" { "Model" } th scope="col" { "Tokens in" } th scope="col" { "Tokens out" } th scope="col" { "Cost" } th scope="col" { "Latency" } } }
                tbody {
                    @for record in costs {
                        tr {
                            td { (record.provider) }
                            td { (record.model) }
                            td class="number" { (record.input_tokens) }
                            td class="number" { (record.output_tokens) }
                            td class="number" { (usd(record.cost)) }
                            td class="number" { (record.latency_ms) " ms" }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /console/runs/{id}/cancel`: asks the run to stop, then back to its page.
pub(crate) async fn cancel(
    State(platform): State<Platform>,
    session: Session,
    Path(id): Path<String>,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ConsoleError> {
    let axum::Form(form) = form?;
    session.check_csrf(form.csrf.as_deref())?;
    let id: RunId = id.parse().map_err(|_| ConsoleError::NotFound)?;
    platform.cancel_run(&session.principal, id).await?;
    Ok(Redirect::to(&format!("/console/runs/{id}")).into_response())
}
