//! `GET /console/approvals`: runs waiting for a human, with what a manager needs to decide; `POST
//! /console/approvals/{id}/approve|deny` records the decision.
//!
//! An approver (`approvals:approve`) sees each pending request with its run's task, agent, risk, requester,
//! project and context, and a form to approve or deny it with a comment; the requester of a run is offered only
//! "Deny" (withdrawing it), as the engine refuses anyone approving their own run. Anyone else sees the runs
//! waiting, without forms; a forged decision is refused by the engine all the same.

use agentic_core::Platform;
use agentic_core::auth::Principal;
use agentic_core::ids::ApprovalId;
use agentic_core::model::{Approval, ApprovalStatus, Money, Permission, Run, RunStatus};
use agentic_core::store::RunQuery;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::ConsoleError;
use crate::page::{self, Section, usd};
use crate::session::{CSRF_FIELD, Session};

/// A decision's form.
#[derive(Deserialize)]
pub(crate) struct DecisionForm {
    csrf: Option<String>,
    comment: Option<String>,
}

/// What one pending request shows: the request, its run, and who asked.
struct Pending {
    approval: Option<Approval>,
    run: Run,
    requester: String,
}

/// Completed runs an estimate averages over.
const ESTIMATE_SAMPLE: u32 = 20;

/// What a run of an agent is likely to cost: the mean of its last completed runs in the tenant, and how many that
/// was. A run's cost depends on its task and the model's answers, so past runs are the honest guide; `None` when
/// the agent has not completed a run yet.
struct Estimate {
    mean: Money,
    sample: usize,
}

async fn estimate(platform: &Platform, principal: &Principal, agent: &str) -> Result<Option<Estimate>, ConsoleError> {
    let query = RunQuery {
        status: Some(RunStatus::Completed),
        agent: Some(agent.to_owned()),
        limit: Some(ESTIMATE_SAMPLE),
        ..RunQuery::default()
    };
    let runs = platform.list_runs(principal, query).await?.data;
    let total: i128 = runs.iter().map(|run| i128::from(run.cost.nanos())).sum();
    let Ok(count) = i128::try_from(runs.len()) else { return Ok(None) };
    if count == 0 {
        return Ok(None);
    }
    let mean = i64::try_from(total / count).unwrap_or(i64::MAX);
    Ok(Some(Estimate { mean: Money::from_nanos(mean), sample: runs.len() }))
}

/// `GET /console/approvals`.
pub(crate) async fn list(State(platform): State<Platform>, session: Session) -> Result<Markup, ConsoleError> {
    let principal = &session.principal;
    let approver = principal.can(Permission::ApprovalsApprove);
    let mut pending = Vec::new();
    if approver {
        for approval in platform.list_approvals(principal, Some(ApprovalStatus::Pending)).await? {
            let run = platform.get_run(principal, approval.run_id).await?;
            let requester = if approval.requested_by == principal.user_id {
                "you".to_owned()
            } else {
                platform.approval_requester(principal, approval.id).await?.to_string()
            };
            pending.push(Pending { approval: Some(approval), run, requester });
        }
    } else {
        let query = RunQuery { status: Some(RunStatus::AwaitingApproval), limit: Some(200), ..RunQuery::default() };
        for run in platform.list_runs(principal, query).await?.data {
            let requester = if run.requested_by == principal.user_id { "you" } else { "another member" };
            pending.push(Pending { approval: None, run, requester: requester.to_owned() });
        }
    }
    let projects = crate::projects(&platform, principal).await?;
    pending.sort_by_key(|item| item.run.created_at);
    let mut estimates: Vec<(String, Option<Estimate>)> = Vec::new();
    for item in &pending {
        if !estimates.iter().any(|(agent, _)| *agent == item.run.agent) {
            estimates.push((item.run.agent.clone(), estimate(&platform, principal, &item.run.agent).await?));
        }
    }
    let estimate_of =
        |agent: &str| estimates.iter().find(|(known, _)| known == agent).and_then(|(_, estimate)| estimate.as_ref());
    let body = html! {
        p { "Runs wait here when their agent's risk is at or above the tenant's approval threshold. Approving queues the run; denying ends it." }
        @if !approver {
            p class="notice" role="status" { "You can see what waits, but deciding needs the approvals:approve permission (a manager's or an admin's)." }
        }
        section aria-labelledby="pending-heading" data-live=(crate::live::APPROVALS) {
            h2 id="pending-heading" { "Waiting for a decision (" (pending.len()) ")" }
            @if pending.is_empty() {
                p { "Nothing is waiting." }
            }
            @for item in &pending {
                (card(&session, item, &crate::project_name(&projects, item.run.project_id), estimate_of(&item.run.agent)))
            }
        }
    };
    Ok(page::page(&session, Section::Approvals, "Approvals", body))
}

fn card(session: &Session, item: &Pending, project: &str, estimate: Option<&Estimate>) -> Markup {
    let run = &item.run;
    let task = run.input.get("task").and_then(|t| t.as_str()).unwrap_or("");
    let context = run.input.get("context").filter(|c| !c.is_null());
    let heading = format!("run-{}", run.id);
    html! {
        article class="card approval" aria-labelledby=(heading) {
            h3 id=(heading) { (run.agent) " · " (run.kind.as_str()) }
            dl {
                dt { "Task" } dd { (task) }
                dt { "Risk" } dd { span class={"risk risk-" (run.risk_level.as_str())} { (run.risk_level.as_str()) } }
                dt { "Requested by" } dd { (item.requester) }
                dt { "Project" } dd { (project) }
                dt { "Estimated cost" } dd {
                    @match estimate {
                        Some(estimate) if estimate.sample == 1 => { "about " (usd(estimate.mean)) " (what the one completed " (run.agent) " run cost)" }
                        Some(estimate) => { "about " (usd(estimate.mean)) " (the mean of the last " (estimate.sample) " completed " (run.agent) " runs)" }
                        None => { "unknown: no " (run.agent) " run has completed yet" }
                    }
                }
                dt { "Requested" } dd { time datetime=(run.created_at.to_rfc3339()) { (run.created_at.format("%Y-%m-%d %H:%M UTC")) } }
                @if let Some(approval) = &item.approval {
                    dt { "Expires" } dd { time datetime=(approval.expires_at.to_rfc3339()) { (approval.expires_at.format("%Y-%m-%d %H:%M UTC")) } }
                }
                dt { "Run" } dd { code { (run.id) } }
            }
            @if let Some(context) = context {
                details {
                    summary { "Context" }
                    pre { (serde_json::to_string_pretty(context).unwrap_or_default()) }
                }
            }
            @if let Some(approval) = &item.approval {
                (decision_form(session, approval, run))
            }
        }
    }
}

fn decision_form(session: &Session, approval: &Approval, run: &Run) -> Markup {
    let own = approval.requested_by == session.principal.user_id;
    // Every card has the same buttons: their names also say which run, for a list of a page's buttons.
    let which = format!(" the {} run {}", run.agent, run.id.to_string().chars().take(8).collect::<String>());
    let field = format!("comment-{}", approval.id);
    let (approve, deny) =
        (format!("/console/approvals/{}/approve", approval.id), format!("/console/approvals/{}/deny", approval.id));
    // The form's own action is its first button's: a form submitted without a button does what it shows first.
    html! {
        form class="decision" method="post" action=(if own { &deny } else { &approve }) {
            input type="hidden" name=(CSRF_FIELD) value=(session.csrf());
            label for=(field) { "Comment (optional)" }
            textarea id=(field) name="comment" rows="2" maxlength="2000" {}
            div class="actions" {
                @if own {
                    p class="hint" { "You asked for this run, so someone else approves it; you can withdraw it." }
                } @else {
                    button type="submit" formaction=(approve) { "Approve" span class="visually-hidden" { (which) } }
                }
                button type="submit" class="secondary" formaction=(deny) { "Deny" span class="visually-hidden" { (which) } }
            }
        }
    }
}

/// `POST /console/approvals/{id}/approve|deny`: the decision, then back to the list.
pub(crate) async fn decide(
    State(platform): State<Platform>,
    session: Session,
    Path((id, decision)): Path<(String, String)>,
    form: Result<axum::Form<DecisionForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ConsoleError> {
    let axum::Form(form) = form?;
    session.check_csrf(form.csrf.as_deref())?;
    let approve = match decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return Err(ConsoleError::NotFound),
    };
    let id: ApprovalId = id.parse().map_err(|_| ConsoleError::NotFound)?;
    let comment = form.comment.filter(|c| !c.trim().is_empty());
    let comment = agentic_core::model::validate_optional_text("comment", comment, 2000)
        .map_err(|error| ConsoleError::from(agentic_core::Error::Validation(error)))?;
    platform.decide_approval(&session.principal, id, approve, comment).await?;
    Ok(Redirect::to("/console/approvals").into_response())
}
