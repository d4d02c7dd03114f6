//! `GET /console/events?topic=…`: the names of the tenant's events of one topic as Server-Sent Events, which
//! `console.js` answers by fetching its page again and swapping in the parts marked `data-live`. Only the
//! event's type and id travel: the page itself is what the user may see.

use std::convert::Infallible;
use std::time::Duration;

use agentic_core::Platform;
use agentic_core::store::EventQuery;
use axum::extract::{Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::ConsoleError;
use crate::session::Session;

/// Which events a page follows.
#[derive(Deserialize)]
pub(crate) struct Topic {
    topic: String,
}

/// The event-type prefix of each topic a page can follow.
fn prefix(topic: &str) -> Option<&'static str> {
    match topic {
        "approvals" => Some("approval."),
        _ => None,
    }
}

/// `GET /console/events?topic=approvals`.
pub(crate) async fn follow(
    State(platform): State<Platform>,
    session: Session,
    topic: Result<Query<Topic>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ConsoleError> {
    let Query(topic) = topic.map_err(|rejection| ConsoleError::BadForm(rejection.body_text()))?;
    let prefix = prefix(&topic.topic).ok_or(ConsoleError::NotFound)?;
    let events = platform.follow_events(&session.principal, EventQuery::default(), None).await?;
    let frames = events.filter_map(move |event| async move {
        event.kind.as_str().starts_with(prefix).then(|| {
            Ok::<_, Infallible>(SseEvent::default().id(event.id.to_string()).event(event.kind.as_str()).data("{}"))
        })
    });
    Ok(Sse::new(frames).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}
