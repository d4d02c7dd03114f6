//! Stored events and the catalogue of their types.

use agentic_core::api::EventTypeList;
use agentic_core::events::Event;
use agentic_core::store::{EventQuery, Page};

use crate::client::AgenticClient;
use crate::error::Result;

/// `client.events()`.
#[derive(Clone, Copy, Debug)]
pub struct Events<'a>(pub(crate) &'a AgenticClient);

impl Events<'_> {
    /// A page of the tenant's events: newest first, or oldest first after a cursor.
    pub async fn list(&self, query: &EventQuery) -> Result<Page<Event>> {
        self.0.get("/v1/events", Some(query)).await
    }

    /// Every event type, with its meaning and the schema of its data.
    pub async fn types(&self) -> Result<EventTypeList> {
        self.0.get("/v1/events/types", None).await
    }
}
