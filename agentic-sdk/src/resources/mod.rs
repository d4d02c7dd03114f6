//! The API's resources, one handle each (`client.agents()`, `client.projects()`, …): thin, typed calls.

mod accounts;
mod agents;
mod approvals;
mod context;
mod events;
mod knowledge;
mod org;
mod runs;
mod schedules;
mod settings;
mod tenants;
mod webhooks;

pub use accounts::{ApiKeys, Auth, Users};
pub use agents::{Agents, Workflows};
pub use approvals::Approvals;
pub use context::Context;
pub use events::Events;
pub use knowledge::{DocumentFile, Knowledge};
pub use org::{Departments, Projects};
pub use runs::{RunHandle, Runs};
pub use schedules::Schedules;
pub use settings::Settings;
pub use tenants::Tenants;
pub use webhooks::Webhooks;

/// `segment` escaped for a URL path.
pub(crate) fn escape(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

impl crate::AgenticClient {
    /// Signing in, and the caller.
    pub fn auth(&self) -> Auth<'_> {
        Auth(self)
    }

    /// Agents: the catalog, the tenant's own, executing one.
    pub fn agents(&self) -> Agents<'_> {
        Agents(self)
    }

    /// Workflows.
    pub fn workflows(&self) -> Workflows<'_> {
        Workflows(self)
    }

    /// Runs.
    pub fn runs(&self) -> Runs<'_> {
        Runs(self)
    }

    /// Approval requests of gated runs.
    pub fn approvals(&self) -> Approvals<'_> {
        Approvals(self)
    }

    /// Projects, their costs and budgets.
    pub fn projects(&self) -> Projects<'_> {
        Projects(self)
    }

    /// Departments.
    pub fn departments(&self) -> Departments<'_> {
        Departments(self)
    }

    /// Tenants: the caller's own; with the master key, creating them and changing their plan.
    pub fn tenants(&self) -> Tenants<'_> {
        Tenants(self)
    }

    /// Users of the tenant.
    pub fn users(&self) -> Users<'_> {
        Users(self)
    }

    /// API keys.
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys(self)
    }

    /// Webhook endpoints and their deliveries.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks(self)
    }

    /// Stored events and their catalogue.
    pub fn events(&self) -> Events<'_> {
        Events(self)
    }

    /// Schedules and their fires.
    pub fn schedules(&self) -> Schedules<'_> {
        Schedules(self)
    }

    /// The tenant's settings: the outgoing guardrail.
    pub fn settings(&self) -> Settings<'_> {
        Settings(self)
    }

    /// Knowledge bases, their documents and searches.
    pub fn knowledge(&self) -> Knowledge<'_> {
        Knowledge(self)
    }

    /// The shared context of a project.
    pub fn context(&self, project: agentic_core::ids::ProjectId) -> Context<'_> {
        Context { client: self, project }
    }
}
