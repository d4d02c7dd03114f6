//! `GET /console/webhooks`: the tenant's endpoints with their health (enabled, paused, disabled by the platform,
//! failing since when) and their last deliveries; `POST /console/webhooks/{id}/pause|resume` stops or restarts
//! deliveries (pending ones wait, and go out on resume).
//!
//! Endpoints are an administrator's (`webhooks:manage`); anyone else is told so rather than shown an error page.

use agentic_core::Platform;
use agentic_core::api::{DeliveryListQuery, UpdateWebhookRequest, WebhookView};
use agentic_core::ids::WebhookId;
use agentic_core::model::{Delivery, DeliveryStatus, Permission};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::ConsoleError;
use crate::page::{self, Section, when};
use crate::session::{CSRF_FIELD, CsrfForm, Session};

/// Deliveries shown per endpoint.
const LAST_DELIVERIES: u32 = 5;

/// `GET /console/webhooks`.
pub(crate) async fn list(State(platform): State<Platform>, session: Session) -> Result<Markup, ConsoleError> {
    let principal = &session.principal;
    if !principal.can(Permission::WebhooksManage) {
        let body = html! {
            p class="notice" role="status" { "Webhook endpoints are managed by administrators (the webhooks:manage permission)." }
        };
        return Ok(page::page(&session, Section::Webhooks, "Webhooks", body));
    }
    let endpoints = platform.list_webhooks(principal, crate::WHOLE_LIST).await?;
    let mut shown = Vec::with_capacity(endpoints.data.len());
    for endpoint in endpoints.data {
        let query = DeliveryListQuery { limit: Some(LAST_DELIVERIES), ..DeliveryListQuery::default() };
        let deliveries = platform.list_deliveries(principal, endpoint.id, query).await?.data;
        shown.push((endpoint, deliveries));
    }
    let body = html! {
        p { "Each endpoint gets the events it subscribes to, signed, retried with back-off. Pausing one holds its deliveries until it resumes." }
        @if shown.is_empty() {
            p { "No endpoint is registered. Add one with " code { "POST /v1/webhooks" } " or " code { "agentic webhooks create" } "." }
        }
        @for (endpoint, deliveries) in &shown {
            (card(&session, endpoint, deliveries))
        }
    };
    Ok(page::page(&session, Section::Webhooks, "Webhooks", body))
}

/// An endpoint's health in a word, and why.
fn health(endpoint: &WebhookView) -> Markup {
    html! {
        @if let Some(reason) = &endpoint.disabled_reason {
            span class="status status-failed" { "disabled by the platform" } " (" (reason) ")"
        } @else if !endpoint.enabled {
            span class="status" { "paused" }
        } @else if let Some(since) = &endpoint.failing_since {
            span class="status status-failed" { "failing" } " since " (when(since))
        } @else {
            span class="status status-completed" { "healthy" }
        }
    }
}

fn card(session: &Session, endpoint: &WebhookView, deliveries: &[Delivery]) -> Markup {
    let heading = format!("webhook-{}", endpoint.id);
    let (action, label) =
        if endpoint.enabled { ("pause", "Pause deliveries") } else { ("resume", "Resume deliveries") };
    html! {
        article class="card" aria-labelledby=(heading) {
            h2 id=(heading) { (endpoint.url) }
            dl {
                dt { "Health" } dd { (health(endpoint)) }
                @if !endpoint.description.is_empty() {
                    dt { "Description" } dd { (endpoint.description) }
                }
                dt { "Events" } dd { (endpoint.events.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                dt { "Created" } dd { (when(&endpoint.created_at)) }
            }
            @if deliveries.is_empty() {
                p { "No delivery yet." }
            } @else {
                table {
                    caption { "Last deliveries to " (endpoint.url) }
                    thead { tr { th scope="col" { "Event" } th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Answer" } th scope="col" { "When" } } }
                    tbody {
                        @for delivery in deliveries {
                            tr {
                                td { (delivery.event_type.as_str()) }
                                td { (delivery_status(delivery.status)) }
                                td class="number" { (delivery.attempts) }
                                td {
                                    @if let Some(code) = delivery.last_status_code { "HTTP " (code) }
                                    @if let Some(error) = &delivery.last_error { " " span class="error-text" { (shortened(error)) } }
                                }
                                td { (when(&delivery.updated_at)) }
                            }
                        }
                    }
                }
            }
            form method="post" action={"/console/webhooks/" (endpoint.id) "/" (action)} {
                input type="hidden" name=(CSRF_FIELD) value=(session.csrf());
                button type="submit" class=[endpoint.enabled.then_some("secondary")] { (label) span class="visually-hidden" { " to " (endpoint.url) } }
            }
        }
    }
}

/// An error as a table cell holds it: its first 160 characters (the delivery's page in the API has it whole).
fn shortened(error: &str) -> String {
    match error.char_indices().nth(160) {
        Some((end, _)) => format!("{}…", &error[..end]),
        None => error.to_owned(),
    }
}

fn delivery_status(status: DeliveryStatus) -> Markup {
    let class = match status {
        DeliveryStatus::Succeeded => "status status-completed",
        DeliveryStatus::Failed => "status status-failed",
        DeliveryStatus::Pending => "status",
    };
    html! { span class=(class) { (status.as_str()) } }
}

/// `POST /console/webhooks/{id}/pause|resume`.
pub(crate) async fn pause_or_resume(
    State(platform): State<Platform>,
    session: Session,
    Path(path): Path<(String, String)>,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ConsoleError> {
    let (id, enabled): (WebhookId, bool) = crate::pause_or_resume(&session, path, form)?;
    let change = UpdateWebhookRequest { enabled: Some(enabled), ..UpdateWebhookRequest::default() };
    platform.update_webhook(&session.principal, id, change).await?;
    Ok(Redirect::to("/console/webhooks").into_response())
}
