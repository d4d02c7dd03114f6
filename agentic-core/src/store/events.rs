//! The tenant's stored events: what `GET /v1/events` lists and what delivery reads.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::events::{Event, EventKind};
use crate::ids::{EventId, ProjectId, RunId};

/// Which events to list, and which page: the query of `GET /v1/events` and of the store alike.
///
/// Without `after`, the newest first, older than `before` when given (each page's `next_cursor` is the next
/// `before`); with `after`, the oldest first among those newer than it (each page's `next_cursor` is the next
/// `after`), which is how a reader follows new events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Only this type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<String>)]
    pub kind: Option<EventKind>,
    /// Only events of this project.
    pub project_id: Option<ProjectId>,
    /// Only events of this run.
    pub run_id: Option<RunId>,
    /// Oldest first, after this event.
    pub after: Option<EventId>,
    /// Newest first, before this event (ignored with `after`).
    pub before: Option<EventId>,
    /// Page size, 1–200 (default 50; 0 also means the default).
    #[serde(default)]
    pub limit: u32,
}

impl EventQuery {
    /// The page size a store returns: [`PageRequest`]'s rule (0 is the default).
    pub fn effective_limit(&self) -> usize {
        let limit = if self.limit == 0 { PageRequest::first().limit } else { self.limit };
        PageRequest { limit, after: None }.effective_limit()
    }

    /// Whether `event` passes the filters (not the cursor).
    pub fn matches(&self, event: &Event) -> bool {
        self.kind.is_none_or(|kind| event.kind == kind)
            && self.project_id.is_none_or(|p| event.project_id == Some(p))
            && self.run_id.is_none_or(|r| event.run_id == Some(r))
    }
}

/// Events of the handle's tenant.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Stores events of this tenant (an event of another tenant is refused as a conflict and nothing is stored).
    async fn append_events(&self, events: &[Event]) -> StoreResult<()>;

    /// A page of the tenant's events, as [`EventQuery`] describes.
    async fn list_events(&self, query: &EventQuery) -> StoreResult<Page<Event>>;
}
