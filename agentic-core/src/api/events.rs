//! Bodies of the events API: the catalogue and the event listing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::events::EventKind;
use crate::ids::{EventId, ProjectId, RunId};

/// One entry of the event catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventTypeView {
    /// The type, e.g. `agent.completed`.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// What it means.
    pub description: String,
    /// The JSON Schema of its `data`.
    #[schema(value_type = Object)]
    pub schema: serde_json::Value,
}

/// `GET /v1/events/types`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventTypeList {
    /// Every event type.
    pub data: Vec<EventTypeView>,
}

impl EventTypeList {
    /// The whole catalogue.
    pub fn catalogue() -> Self {
        let data = EventKind::ALL
            .iter()
            .map(|&kind| EventTypeView { kind, description: kind.description().to_owned(), schema: kind.data_schema() })
            .collect();
        Self { data }
    }
}

/// `GET /v1/events?type=&project_id=&run_id=&after=&before=&limit=`.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventListQuery {
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<String>)]
    pub kind: Option<EventKind>,
    /// Only events of this project.
    pub project_id: Option<ProjectId>,
    /// Only events of this run.
    pub run_id: Option<RunId>,
    /// Oldest first, after this event id (follow with each page's `next_cursor`).
    pub after: Option<EventId>,
    /// Newest first (the default), before this event id (the previous page's `next_cursor`).
    pub before: Option<EventId>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
}
