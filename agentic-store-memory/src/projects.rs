//! Projects of one tenant, each in one of its departments (or none).

use agentic_core::ids::ProjectId;
use agentic_core::model::{BudgetThreshold, Project, ProjectPatch};
use agentic_core::store::{Page, PageRequest, ProjectStore, StoreError, StoreResult};
use async_trait::async_trait;

use crate::state::page;
use crate::tenant::MemoryTenant;

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

    async fn update_project(&self, id: ProjectId, patch: &ProjectPatch) -> StoreResult<Option<Project>> {
        let mut state = self.state.write();
        let Some(project) = state.projects.get_mut(&(self.tenant, id)) else { return Ok(None) };
        if let Some(name) = &patch.name {
            project.name.clone_from(name);
        }
        if let Some(description) = &patch.description {
            project.description.clone_from(description);
        }
        let updated = {
            if let Some(budget) = patch.budget {
                project.budget = budget;
            }
            project.clone()
        };
        if let (Some(budget), Some(spending)) = (patch.budget, state.spending.get_mut(&(self.tenant, id))) {
            let reached = budget.map(|b| BudgetThreshold::reached(b, spending.spent)).unwrap_or_default();
            spending.announced.retain(|line| reached.contains(line));
        }
        Ok(Some(updated))
    }
}
