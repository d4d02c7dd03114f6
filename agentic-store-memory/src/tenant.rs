//! The tenant-scoped handle: every operation reads and writes only keys that start with its tenant id.

use std::sync::Arc;

use agentic_core::clock::Timestamp;
use agentic_core::ids::{ApiKeyId, DepartmentId, ProjectId, TenantId, UserId};
use agentic_core::model::{
    ApiKey, Department, Email, Project, RunLease, StoredApiKey, Tenant, User, UserPatch, UserRecord,
};
use agentic_core::store::{
    ApiKeyStore, DepartmentStore, Page, PageRequest, ProjectStore, StoreError, StoreResult, TenantStore, UserStore,
};
use async_trait::async_trait;
use parking_lot::RwLock;

use crate::state::{State, canonical_roles, page};

pub(crate) struct MemoryTenant {
    pub(crate) state: Arc<RwLock<State>>,
    pub(crate) tenant: TenantId,
}

#[async_trait]
impl TenantStore for MemoryTenant {
    fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    async fn get_tenant(&self) -> StoreResult<Option<Tenant>> {
        Ok(self.state.read().tenants.get(&self.tenant).cloned())
    }
}

#[async_trait]
impl UserStore for MemoryTenant {
    async fn insert_user(&self, record: &UserRecord) -> StoreResult<()> {
        let mut state = self.state.write();
        let user = &record.user;
        if !state.tenants.contains_key(&self.tenant) {
            return Err(StoreError::MissingReference { what: "the tenant".into() });
        }
        if state.emails.contains_key(&(self.tenant, user.email.clone())) {
            return Err(StoreError::conflict(format!("a user with email `{}`", user.email)));
        }
        if state.users.contains_key(&(self.tenant, user.id)) {
            return Err(StoreError::conflict("a user with this id"));
        }
        state.emails.insert((self.tenant, user.email.clone()), user.id);
        let user = User { tenant_id: self.tenant, roles: canonical_roles(&user.roles), ..user.clone() };
        state.users.insert((self.tenant, user.id), UserRecord { user, password_hash: record.password_hash.clone() });
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.state.read().users.get(&(self.tenant, id)).map(|r| r.user.clone()))
    }

    async fn user_record_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        let state = self.state.read();
        let id = state.emails.get(&(self.tenant, email.clone()));
        Ok(id.and_then(|id| state.users.get(&(self.tenant, *id))).cloned())
    }

    async fn list_users(&self, request: PageRequest) -> StoreResult<Page<User>> {
        let state = self.state.read();
        Ok(page(&state.users, self.tenant, request, |_| true, |r| r.user.clone(), |u| u.id.as_uuid()))
    }

    async fn update_user(&self, id: UserId, patch: &UserPatch) -> StoreResult<Option<User>> {
        let mut state = self.state.write();
        let Some(record) = state.users.get_mut(&(self.tenant, id)) else {
            return Ok(None);
        };
        if let Some(roles) = &patch.roles {
            record.user.roles = canonical_roles(roles);
        }
        if let Some(active) = patch.active {
            record.user.active = active;
        }
        if let Some(hash) = &patch.password_hash {
            record.password_hash = hash.clone();
        }
        record.user.updated_at = patch.at;
        Ok(Some(record.user.clone()))
    }
}

#[async_trait]
impl ApiKeyStore for MemoryTenant {
    async fn insert_api_key(&self, key: &StoredApiKey) -> StoreResult<()> {
        let mut state = self.state.write();
        if !state.users.contains_key(&(self.tenant, key.key.owner_id)) {
            return Err(StoreError::MissingReference { what: "the key's owner".into() });
        }
        if state.lookups.contains_key(&key.lookup) {
            return Err(StoreError::conflict("an API key with this lookup id"));
        }
        state.lookups.insert(key.lookup.clone(), (self.tenant, key.key.id));
        let mut stored = key.clone();
        stored.key.tenant_id = self.tenant;
        state.api_keys.insert((self.tenant, key.key.id), stored);
        Ok(())
    }

    async fn get_api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        Ok(self.state.read().api_keys.get(&(self.tenant, id)).map(|k| k.key.clone()))
    }

    async fn list_api_keys(&self, owner: Option<UserId>, request: PageRequest) -> StoreResult<Page<ApiKey>> {
        let state = self.state.read();
        let keep = |k: &StoredApiKey| owner.is_none_or(|o| k.key.owner_id == o);
        Ok(page(&state.api_keys, self.tenant, request, keep, |k| k.key.clone(), |k| k.id.as_uuid()))
    }

    async fn revoke_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<Option<ApiKey>> {
        let mut state = self.state.write();
        Ok(state.api_keys.get_mut(&(self.tenant, id)).map(|k| {
            k.key.revoked_at.get_or_insert(at);
            k.key.clone()
        }))
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()> {
        let mut state = self.state.write();
        if let Some(k) = state.api_keys.get_mut(&(self.tenant, id)) {
            k.key.last_used_at = Some(k.key.last_used_at.map_or(at, |prev| prev.max(at)));
        }
        Ok(())
    }
}

#[async_trait]
impl DepartmentStore for MemoryTenant {
    async fn insert_department(&self, department: &Department) -> StoreResult<()> {
        let mut state = self.state.write();
        let name_key = (self.tenant, department.name.to_lowercase());
        if state.department_names.contains_key(&name_key) {
            return Err(StoreError::conflict(format!("a department named `{}`", department.name)));
        }
        state.department_names.insert(name_key, department.id);
        let department = Department { tenant_id: self.tenant, ..department.clone() };
        state.departments.insert((self.tenant, department.id), department);
        Ok(())
    }

    async fn get_department(&self, id: DepartmentId) -> StoreResult<Option<Department>> {
        Ok(self.state.read().departments.get(&(self.tenant, id)).cloned())
    }

    async fn list_departments(&self, request: PageRequest) -> StoreResult<Page<Department>> {
        let state = self.state.read();
        Ok(page(&state.departments, self.tenant, request, |_| true, Clone::clone, |d| d.id.as_uuid()))
    }
}

#[async_trait]
impl ProjectStore for MemoryTenant {
    async fn insert_project(&self, project: &Project) -> StoreResult<()> {
        let mut state = self.state.write();
        if let Some(department) = project.department_id
            && !state.departments.contains_key(&(self.tenant, department))
        {
            return Err(StoreError::MissingReference { what: "the department".into() });
        }
        if state.projects.contains_key(&(self.tenant, project.id)) {
            return Err(StoreError::conflict("a project with this id"));
        }
        let project = Project { tenant_id: self.tenant, ..project.clone() };
        state.projects.insert((self.tenant, project.id), project);
        Ok(())
    }

    async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        Ok(self.state.read().projects.get(&(self.tenant, id)).cloned())
    }

    async fn list_projects(&self, request: PageRequest) -> StoreResult<Page<Project>> {
        let state = self.state.read();
        Ok(page(&state.projects, self.tenant, request, |_| true, Clone::clone, |p| p.id.as_uuid()))
    }
}

#[async_trait]
impl agentic_core::store::AgentStore for MemoryTenant {
    async fn put_agent(&self, agent: &agentic_core::store::StoredAgent) -> StoreResult<()> {
        let stored = agentic_core::store::StoredAgent { tenant_id: self.tenant, ..agent.clone() };
        let mut state = self.state.write();
        if !state.users.contains_key(&(self.tenant, agent.updated_by)) {
            return Err(StoreError::MissingReference { what: "the user".into() });
        }
        state.agents.insert((self.tenant, agent.key.as_str().to_owned()), stored);
        Ok(())
    }

    async fn get_agent(
        &self,
        key: &agentic_core::agents::AgentKey,
    ) -> StoreResult<Option<agentic_core::store::StoredAgent>> {
        Ok(self.state.read().agents.get(&(self.tenant, key.as_str().to_owned())).cloned())
    }

    async fn list_agents(&self) -> StoreResult<Vec<agentic_core::store::StoredAgent>> {
        let state = self.state.read();
        Ok(state
            .agents
            .range((self.tenant, String::new())..)
            .take_while(|((t, _), _)| *t == self.tenant)
            .map(|(_, a)| a.clone())
            .collect())
    }
}

#[async_trait]
impl agentic_core::store::RunStore for MemoryTenant {
    async fn insert_run(&self, run: &agentic_core::model::Run) -> StoreResult<()> {
        let mut state = self.state.write();
        if !state.projects.contains_key(&(self.tenant, run.project_id)) {
            return Err(StoreError::MissingReference { what: "the project".into() });
        }
        if state.runs.contains_key(&(self.tenant, run.id)) {
            return Err(StoreError::conflict("a run with this id"));
        }
        state.runs.insert((self.tenant, run.id), agentic_core::model::Run { tenant_id: self.tenant, ..run.clone() });
        state.reindex_run(self.tenant, run.id);
        Ok(())
    }

    async fn get_run(&self, id: agentic_core::ids::RunId) -> StoreResult<Option<agentic_core::model::Run>> {
        Ok(self.state.read().runs.get(&(self.tenant, id)).cloned())
    }

    async fn renew_run(
        &self,
        lease: &RunLease<'_>,
        progress: Option<&agentic_core::model::RunProgress>,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut state = self.state.write();
        let Some(run) = state.held_run(self.tenant, lease) else { return Ok(false) };
        run.lease_expires_at = Some(at + lease.duration);
        if let Some(progress) = progress {
            run.output = Some(progress.output.clone());
            run.cost = progress.cost;
        }
        run.updated_at = at;
        Ok(true)
    }

    async fn finish_run(
        &self,
        lease: &RunLease<'_>,
        finish: &agentic_core::model::RunFinish,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut state = self.state.write();
        let Some(run) = state.held_run(self.tenant, lease) else { return Ok(false) };
        run.status = finish.status;
        run.output.clone_from(&finish.output);
        run.error.clone_from(&finish.error);
        run.cost = finish.cost;
        run.lease_owner = None;
        run.lease_expires_at = None;
        run.updated_at = at;
        state.reindex_run(self.tenant, lease.run);
        Ok(true)
    }

    async fn release_run(&self, lease: &RunLease<'_>, at: Timestamp) -> StoreResult<bool> {
        let mut state = self.state.write();
        let Some(run) = state.held_run(self.tenant, lease) else { return Ok(false) };
        run.status = agentic_core::model::RunStatus::Queued;
        run.lease_owner = None;
        run.lease_expires_at = None;
        run.attempts = run.attempts.saturating_sub(1);
        run.updated_at = at;
        state.reindex_run(self.tenant, lease.run);
        Ok(true)
    }
}
