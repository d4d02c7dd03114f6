//! Departments of one tenant, names unique per tenant (ignoring case).

use agentic_core::ids::DepartmentId;
use agentic_core::model::{Department, DepartmentPatch};
use agentic_core::store::{DepartmentStore, Page, PageRequest, StoreError, StoreResult};
use async_trait::async_trait;

use crate::state::page;
use crate::tenant::MemoryTenant;

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

    async fn update_department(&self, id: DepartmentId, patch: &DepartmentPatch) -> StoreResult<Option<Department>> {
        let mut state = self.state.write();
        let Some(old_name) = state.departments.get(&(self.tenant, id)).map(|d| d.name.to_lowercase()) else {
            return Ok(None);
        };
        if let Some(name) = &patch.name {
            let key = (self.tenant, name.to_lowercase());
            if state.department_names.get(&key).is_some_and(|other| *other != id) {
                return Err(StoreError::conflict(format!("a department named `{name}`")));
            }
            state.department_names.remove(&(self.tenant, old_name));
            state.department_names.insert(key, id);
        }
        let Some(department) = state.departments.get_mut(&(self.tenant, id)) else { return Ok(None) };
        if let Some(name) = &patch.name {
            department.name.clone_from(name);
        }
        if let Some(description) = &patch.description {
            department.description.clone_from(description);
        }
        Ok(Some(department.clone()))
    }

    async fn delete_department(&self, id: DepartmentId) -> StoreResult<bool> {
        let mut state = self.state.write();
        let tenant = self.tenant;
        if state.projects.values().any(|p| p.tenant_id == tenant && p.department_id == Some(id)) {
            return Err(StoreError::conflict("projects of this department"));
        }
        let Some(department) = state.departments.remove(&(tenant, id)) else { return Ok(false) };
        state.department_names.remove(&(tenant, department.name.to_lowercase()));
        Ok(true)
    }
}
