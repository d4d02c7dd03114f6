//! Reading the tenant's events.

use crate::Platform;
use crate::api::EventListQuery;
use crate::auth::Principal;
use crate::error::Result;
use crate::events::Event;
use crate::store::{EventQuery, Page};

impl Platform {
    /// A page of the caller's tenant's events (any member may read them: they describe runs, approvals and
    /// budgets the member can already see).
    pub async fn list_events(&self, principal: &Principal, query: EventListQuery) -> Result<Page<Event>> {
        let query = EventQuery {
            kind: query.kind,
            project_id: query.project_id,
            run_id: query.run_id,
            after: query.after,
            before: query.before,
            limit: query.limit.unwrap_or(0),
        };
        Ok(self.inner.store.tenant(principal.tenant_id).list_events(&query).await?)
    }
}
