//! `GET /console/schedules`: the tenant's schedules, each with what it starts, when, its next fire times (in its
//! own time zone too), its last fire and run, and how many fires started or were skipped; `POST
//! /console/schedules/{id}/pause|resume` (fire times that pass while paused are skipped and counted on resume).
//!
//! Any member reads; pausing and resuming needs `workflows:create`, as in the API, and the buttons are shown only
//! to those who hold it.

use agentic_core::Platform;
use agentic_core::api::{PauseRequest, UpcomingFire};
use agentic_core::ids::ScheduleId;
use agentic_core::model::{Permission, Schedule};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::ConsoleError;
use crate::page::{self, Section, when};
use crate::session::{CSRF_FIELD, CsrfForm, Session};

/// Fire times shown per schedule.
const UPCOMING: u32 = 3;

/// `GET /console/schedules`.
pub(crate) async fn list(State(platform): State<Platform>, session: Session) -> Result<Markup, ConsoleError> {
    let principal = &session.principal;
    let schedules = platform.list_schedules(principal, crate::WHOLE_LIST).await?;
    let projects = crate::projects(&platform, principal).await?;
    let mut shown = Vec::with_capacity(schedules.data.len());
    for schedule in schedules.data {
        // A paused or finished schedule has no fire coming.
        let upcoming = if schedule.paused || schedule.next_fire_at.is_none() {
            Vec::new()
        } else {
            platform.upcoming_fires(principal, schedule.id, Some(UPCOMING)).await?.data
        };
        shown.push((schedule, upcoming));
    }
    let may_change = principal.can(Permission::WorkflowsCreate);
    let body = html! {
        p { "Schedules start agents and workflows at their fire times, once each across every replica." }
        @if shown.is_empty() {
            p { "No schedule yet. Create one with " code { "POST /v1/schedules" } " or " code { "agentic schedules create" } "." }
        }
        @for (schedule, upcoming) in &shown {
            (card(&session, schedule, upcoming, &crate::project_name(&projects, schedule.project_id), may_change))
        }
    };
    Ok(page::page(&session, Section::Schedules, "Schedules", body))
}

/// When a schedule fires, as its spec says it.
fn timing(schedule: &Schedule) -> String {
    let spec = &schedule.spec;
    if let Some(cron) = &spec.cron {
        format!("cron {cron} ({})", spec.timezone.as_deref().unwrap_or("UTC"))
    } else if let Some(every) = &spec.every {
        match &spec.offset {
            Some(offset) => format!("every {every}, offset {offset}"),
            None => format!("every {every}"),
        }
    } else if let Some(at) = &spec.at {
        format!("once, at {}", at.to_rfc3339())
    } else {
        "no fire time".to_owned()
    }
}

/// A fire time as the schedule's own time zone reads it (`02:00 in Europe/Berlin`), for a zone other than UTC.
fn local_time(schedule: &Schedule, fire: &UpcomingFire) -> Option<String> {
    let zone = schedule.spec.timezone.as_deref().filter(|zone| !zone.eq_ignore_ascii_case("UTC"))?;
    let local = chrono::DateTime::parse_from_rfc3339(&fire.local).ok()?;
    let day =
        if local.date_naive() == fire.at.date_naive() { String::new() } else { local.format("%Y-%m-%d ").to_string() };
    Some(format!("{day}{} in {zone}", local.format("%H:%M")))
}

/// What a schedule starts.
fn target(schedule: &Schedule) -> String {
    let target = &schedule.target;
    match (&target.agent, &target.workflow) {
        (Some(agent), _) => format!("{agent}: {}", target.task.as_deref().unwrap_or("")),
        (None, Some(workflow)) => format!("workflow {workflow}"),
        (None, None) => "nothing".to_owned(),
    }
}

fn card(session: &Session, schedule: &Schedule, upcoming: &[UpcomingFire], project: &str, may_change: bool) -> Markup {
    let heading = format!("schedule-{}", schedule.id);
    let (action, label) = if schedule.paused { ("resume", "Resume") } else { ("pause", "Pause") };
    html! {
        article class="card" aria-labelledby=(heading) {
            h2 id=(heading) { (schedule.name) }
            dl {
                dt { "State" } dd {
                    @if schedule.paused { span class="status" { "paused" } }
                    @else if schedule.next_fire_at.is_none() { span class="status" { "finished" } }
                    @else { span class="status status-completed" { "active" } }
                    @if let Some(note) = &schedule.note { " (" (note) ")" }
                }
                dt { "Starts" } dd { (target(schedule)) }
                dt { "Project" } dd { (project) }
                dt { "When" } dd { (timing(schedule)) ", overlap " (schedule.overlap_policy.as_str()) }
                dt { "Next fire times" } dd {
                    @if upcoming.is_empty() { "none" }
                    @else {
                        ul class="plain" {
                            @for fire in upcoming {
                                li { (when(&fire.at)) @if let Some(local) = local_time(schedule, fire) { " (" (local) ")" } }
                            }
                        }
                    }
                }
                dt { "Last fire" } dd {
                    @match (&schedule.last_fire_at, &schedule.last_run_id) {
                        (Some(at), Some(run)) => { (when(at)) ", " a href={"/console/runs/" (run)} { "its run" } }
                        (Some(at), None) => { (when(at)) }
                        _ => { "never" }
                    }
                }
                dt { "Fires" } dd { (schedule.fires_started) " started, " (schedule.fires_skipped) " skipped" }
            }
            @if may_change {
                form method="post" action={"/console/schedules/" (schedule.id) "/" (action)} {
                    input type="hidden" name=(CSRF_FIELD) value=(session.csrf());
                    button type="submit" class=[(!schedule.paused).then_some("secondary")] { (label) " " span class="visually-hidden" { (schedule.name) } }
                }
            }
        }
    }
}

/// `POST /console/schedules/{id}/pause|resume`.
pub(crate) async fn pause_or_resume(
    State(platform): State<Platform>,
    session: Session,
    Path(path): Path<(String, String)>,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ConsoleError> {
    let (id, resume): (ScheduleId, bool) = crate::pause_or_resume(&session, path, form)?;
    let request = PauseRequest { note: None };
    if resume {
        platform.resume_schedule(&session.principal, id, request).await?;
    } else {
        platform.pause_schedule(&session.principal, id, request).await?;
    }
    Ok(Redirect::to("/console/schedules").into_response())
}
