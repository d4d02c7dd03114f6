//! Bodies of the events API: the catalogue (the listing's query is [`crate::store::EventQuery`]), and the frames
//! of the event streams.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::events::EventKind;

/// One frame of a `text/event-stream` response (`GET /v1/events/stream`, `GET /v1/runs/{id}/events`): how each
/// [`Event`](crate::events::Event) travels as a Server-Sent Event. Between frames, a comment line every 15 s keeps the
/// connection open. Only the document uses this type: the frames are written by the SSE encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventFrame {
    /// The event's id: send it back as `Last-Event-ID` to resume after it.
    #[schema(format = Uuid)]
    pub id: String,
    /// The event's type, e.g. `agent.completed`.
    pub event: EventKind,
    /// The event, as JSON.
    #[schema(content_media_type = "application/json")]
    pub data: String,
}

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
