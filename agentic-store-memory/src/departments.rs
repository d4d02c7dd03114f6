//! Departments of one tenant, names unique per tenant (ignoring case).

use agentic_core::ids::DepartmentId;
use agentic_core::model::Department;
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
}
