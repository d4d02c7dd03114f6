//! Agents: the built-in catalog overlaid with the tenant's own.

use std::sync::OnceLock;

use crate::Platform;
use crate::agents::{AgentKey, AgentSpec, Catalog};
use crate::api::{AgentSource, AgentView};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::model::{Permission, ValidationError};
use crate::store::StoredAgent;

/// The built-in catalog, parsed once per process (it is compiled-in data).
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::builtin)
}

fn builtin_view(key: &str, spec: &AgentSpec) -> Option<AgentView> {
    Some(AgentView {
        name: AgentKey::parse(key).ok()?,
        source: AgentSource::Builtin,
        spec: spec.clone(),
        yaml: catalog().yaml(key)?.to_owned(),
        updated_by: None,
        updated_at: None,
    })
}

fn tenant_view(agent: StoredAgent) -> AgentView {
    AgentView {
        name: agent.key,
        source: AgentSource::Tenant,
        spec: agent.spec,
        yaml: agent.yaml,
        updated_by: Some(agent.updated_by),
        updated_at: Some(agent.updated_at),
    }
}

impl Platform {
    /// The specification an agent name resolves to in a tenant, and whether it is a built-in.
    pub(crate) async fn agent_spec(&self, tenant: crate::ids::TenantId, key: &AgentKey) -> Result<(AgentSpec, bool)> {
        if let Some(agent) = self.inner.store.tenant(tenant).get_agent(key).await? {
            return Ok((agent.spec, false));
        }
        catalog().get(key.as_str()).map(|spec| (spec.clone(), true)).ok_or(Error::NotFound("agent"))
    }

    /// Every agent the tenant can run: the built-ins, with the tenant's own added or overriding by name.
    pub async fn list_agents(&self, principal: &Principal) -> Result<Vec<AgentView>> {
        self.agent_roster(principal.tenant_id).await
    }

    /// Every agent a tenant can run, sorted by name.
    pub(crate) async fn agent_roster(&self, tenant: crate::ids::TenantId) -> Result<Vec<AgentView>> {
        let mut views: Vec<AgentView> = catalog().iter().filter_map(|(key, spec)| builtin_view(key, spec)).collect();
        for agent in self.inner.store.tenant(tenant).list_agents().await? {
            let view = tenant_view(agent);
            match views.iter_mut().find(|v| v.name == view.name) {
                Some(existing) => *existing = view,
                None => views.push(view),
            }
        }
        views.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(views)
    }

    /// One agent by name: the tenant's own if it defined one, else the built-in.
    pub async fn get_agent(&self, principal: &Principal, name: &str) -> Result<AgentView> {
        let key = AgentKey::parse(name).map_err(|_| Error::NotFound("agent"))?;
        if let Some(agent) = self.inner.store.tenant(principal.tenant_id).get_agent(&key).await? {
            return Ok(tenant_view(agent));
        }
        catalog().get(key.as_str()).and_then(|spec| builtin_view(key.as_str(), spec)).ok_or(Error::NotFound("agent"))
    }

    /// Deletes the tenant's agent `name`: its own agent, or its override of a built-in (which then applies
    /// again). Needs `departments:manage`. A built-in the tenant has not overridden cannot be deleted (409).
    pub async fn delete_agent(&self, principal: &Principal, name: &str) -> Result<()> {
        principal.require(Permission::DepartmentsManage)?;
        let key = AgentKey::parse(name).map_err(|_| Error::NotFound("agent"))?;
        if self.inner.store.tenant(principal.tenant_id).delete_agent(&key).await? {
            return Ok(());
        }
        match catalog().get(key.as_str()) {
            Some(_) => Err(Error::Conflict(format!("`{key}` is a built-in agent: it can be overridden, not deleted"))),
            None => Err(Error::NotFound("agent")),
        }
    }

    /// Adds or overrides an agent from its YAML. Needs `departments:manage`. Returns the agent and whether the
    /// tenant had no agent of this name before.
    pub async fn put_agent(&self, principal: &Principal, name: &str, yaml: &str) -> Result<(AgentView, bool)> {
        principal.require(Permission::DepartmentsManage)?;
        let key = AgentKey::parse(name)?;
        let spec = AgentSpec::from_yaml(yaml, &self.known_names())
            .map_err(|e| ValidationError::new(e.field.clone(), e.located_message()))?;
        let store = self.inner.store.tenant(principal.tenant_id);
        let created = store.get_agent(&key).await?.is_none();
        let agent = StoredAgent {
            tenant_id: principal.tenant_id,
            key,
            yaml: yaml.to_owned(),
            spec,
            updated_by: principal.user_id,
            updated_at: self.inner.clock.now(),
        };
        store.put_agent(&agent).await?;
        Ok((tenant_view(agent), created))
    }
}
