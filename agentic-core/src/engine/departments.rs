//! Departments: the company's units that agents work for.

use crate::Platform;
use crate::api::CreateDepartmentRequest;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::DepartmentId;
use crate::model::{Department, MAX_DESCRIPTION_CHARS, Permission, validate_name, validate_optional_text};
use crate::store::{Page, PageRequest, StoreError};

impl Platform {
    /// Creates a department. Needs `departments:manage`.
    pub async fn create_department(
        &self,
        principal: &Principal,
        request: CreateDepartmentRequest,
    ) -> Result<Department> {
        principal.require(Permission::DepartmentsManage)?;
        let department = Department {
            id: DepartmentId::new(),
            tenant_id: principal.tenant_id,
            name: validate_name("name", &request.name, 200)?,
            description: validate_optional_text("description", request.description, MAX_DESCRIPTION_CHARS)?,
            created_at: self.inner.clock.now(),
        };
        self.inner.store.tenant(principal.tenant_id).insert_department(&department).await.map_err(|e| match e {
            StoreError::Conflict { .. } => Error::Conflict(format!("a department named `{}` exists", department.name)),
            other => other.into(),
        })?;
        Ok(department)
    }

    /// A page of departments. Any member may read.
    pub async fn list_departments(&self, principal: &Principal, page: PageRequest) -> Result<Page<Department>> {
        Ok(self.inner.store.tenant(principal.tenant_id).list_departments(page).await?)
    }

    /// A department. Any member may read.
    pub async fn get_department(&self, principal: &Principal, id: DepartmentId) -> Result<Department> {
        self.inner.store.tenant(principal.tenant_id).get_department(id).await?.ok_or(Error::NotFound("department"))
    }
}
