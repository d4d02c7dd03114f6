//! Events of one tenant, in id (time) order.

use agentic_core::events::Event;
use agentic_core::ids::EventId;
use agentic_core::store::{EventQuery, EventStore, Page, StoreResult};
use async_trait::async_trait;

use crate::state::State;
use crate::tenant::MemoryTenant;

#[async_trait]
impl EventStore for MemoryTenant {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        State::check_events(self.tenant, events)?;
        self.state.write().store_events(self.tenant, events);
        Ok(())
    }

    async fn list_events(&self, query: &EventQuery) -> StoreResult<Page<Event>> {
        let state = self.state.read();
        let limit = query.effective_limit();
        let tenant = state.events.range(
            (self.tenant, EventId::from_uuid(uuid::Uuid::nil()))..=(self.tenant, EventId::from_uuid(uuid::Uuid::max())),
        );
        let matching = |(_, event): &(&(_, EventId), &Event)| query.matches(event);
        let items: Vec<Event> = match (query.after, query.before) {
            (Some(after), _) => tenant
                .filter(|((_, id), _)| *id > after)
                .filter(matching)
                .take(limit + 1)
                .map(|(_, e)| e.clone())
                .collect(),
            (None, before) => tenant
                .rev()
                .filter(|((_, id), _)| before.is_none_or(|before| *id < before))
                .filter(matching)
                .take(limit + 1)
                .map(|(_, e)| e.clone())
                .collect(),
        };
        Ok(Page::from_overfetch(items, limit, |e| e.id.as_uuid()))
    }
}
