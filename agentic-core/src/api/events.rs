//! Bodies of the events API: the catalogue (the listing's query is [`crate::store::EventQuery`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::events::EventKind;

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
