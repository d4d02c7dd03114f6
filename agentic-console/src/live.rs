//! `GET /console/events?topic=…`: the tenant's events of one topic as Server-Sent Events, which `console.js`
//! answers by fetching its page again and swapping in the parts marked `data-live`. Only the event's type and id
//! travel: what the page then shows is what the user may see.
//!
//! Topics: `approvals` (requests and decisions), `runs` (any run starting, ending or being decided) and
//! `run:<id>` (one run's events, until it ends).

use std::convert::Infallible;
use std::time::Duration;

use agentic_core::Platform;
use agentic_core::ids::RunId;
use agentic_core::store::EventQuery;
use axum::extract::{Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::ConsoleError;
use crate::session::Session;

/// The topic of the approvals page: requests and decisions.
pub(crate) const APPROVALS: &str = "approvals";
/// The topic of the runs list: any run starting, ending or being decided.
pub(crate) const RUNS: &str = "runs";

/// The topic of one run's page: its events, until it ends.
pub(crate) fn run_topic(run: RunId) -> String {
    format!("run:{run}")
}

/// Which events a page follows.
#[derive(Deserialize)]
pub(crate) struct Topic {
    topic: String,
}

/// The event-type prefixes a topic lets through, and the one run it is about, if any.
fn parse(topic: &str) -> Option<(&'static [&'static str], Option<RunId>)> {
    const RUN_EVENTS: &[&str] = &["agent.", "workflow.", "approval.", "run.cancelled"];
    match topic {
        APPROVALS => Some((&["approval."], None)),
        RUNS => Some((RUN_EVENTS, None)),
        _ => topic.strip_prefix("run:").and_then(|id| id.parse().ok()).map(|id| (&[""][..], Some(id))),
    }
}

/// `GET /console/events?topic=…`.
pub(crate) async fn follow(
    State(platform): State<Platform>,
    session: Session,
    topic: Result<Query<Topic>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ConsoleError> {
    let Query(topic) = topic?;
    let (prefixes, run) = parse(&topic.topic).ok_or(ConsoleError::NotFound)?;
    let events = match run {
        // A run's own stream checks the run is the tenant's, and ends with it.
        Some(id) => platform.follow_run(&session.principal, id, None).await?.boxed(),
        None => platform.follow_events(&session.principal, EventQuery::default(), None).await?.boxed(),
    };
    let frames = events.filter_map(move |event| async move {
        prefixes
            .iter()
            .any(|prefix| event.kind.as_str().starts_with(prefix))
            .then(|| Ok::<_, Infallible>(SseEvent::default().id(event.id.to_string()).data(event.kind.as_str())))
    });
    Ok(Sse::new(frames).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

#[cfg(test)]
mod tests {
    use super::{APPROVALS, RUNS, parse, run_topic};

    #[test]
    fn topics_are_known_names_or_a_run() {
        assert!(parse(APPROVALS).is_some() && parse(RUNS).is_some());
        let run = agentic_core::ids::RunId::new();
        assert_eq!(parse(&run_topic(run)).and_then(|(_, id)| id), Some(run));
        assert!(parse("run:not-an-id").is_none() && parse("secrets").is_none());
    }
}
