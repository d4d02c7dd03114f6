//! Stored events and the catalogue of their types.

use agentic_core::api::EventTypeList;
use agentic_core::events::Event;
use agentic_core::store::{EventQuery, Page};

use crate::client::AgenticClient;
use crate::error::Result;
use crate::stream::{self, EventStream, Follow};

/// `client.events()`.
#[derive(Clone, Copy, Debug)]
pub struct Events<'a>(pub(crate) &'a AgenticClient);

impl Events<'_> {
    /// A page of the tenant's events: newest first, or oldest first after a cursor.
    pub async fn list(&self, query: &EventQuery) -> Result<Page<Event>> {
        self.0.get("/v1/events", Some(query)).await
    }

    /// The tenant's new events as they are stored, filtered like [`list`](Self::list) (type, project, run): after
    /// `query.after` when given, else from now on. Endless; a dropped connection resumes after the last event.
    pub fn stream(&self, query: &EventQuery) -> EventStream {
        let filter = EventQuery { after: None, before: None, ..*query };
        let follow = Follow { path: "/v1/events/stream".into(), query: Some(filter), run: None };
        stream::follow(self.0.clone(), follow, query.after.map(|id| id.to_string()))
    }

    /// Every event type, with its meaning and the schema of its data.
    pub async fn types(&self) -> Result<EventTypeList> {
        self.0.get("/v1/events/types", None).await
    }
}
