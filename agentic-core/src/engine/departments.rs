//! Departments: the company's units that agents work for.

use crate::Platform;
use crate::api::{CreateDepartmentRequest, UpdateDepartmentRequest};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::DepartmentId;
use crate::model::{
    Department, DepartmentPatch, MAX_DESCRIPTION_CHARS, Permission, validate_name, validate_optional_text,
};
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

    /// Renames a department or changes its description. Needs `departments:manage`.
    pub async fn update_department(
        &self,
        principal: &Principal,
        id: DepartmentId,
        request: UpdateDepartmentRequest,
    ) -> Result<Department> {
        principal.require(Permission::DepartmentsManage)?;
        let name = request.name.as_deref().map(|name| validate_name("name", name, 200)).transpose()?;
        let description = request
            .description
            .map(|text| validate_optional_text("description", text, MAX_DESCRIPTION_CHARS))
            .transpose()?;
        let patch = DepartmentPatch { name: name.clone(), description };
        let store = self.inner.store.tenant(principal.tenant_id);
        let updated = store.update_department(id, &patch).await.map_err(|e| match e {
            StoreError::Conflict { .. } => {
                Error::Conflict(format!("a department named `{}` exists", name.unwrap_or_default()))
            }
            other => other.into(),
        })?;
        updated.ok_or(Error::NotFound("department"))
    }

    /// Deletes a department that no project belongs to (409 while one does). Needs `departments:manage`.
    pub async fn delete_department(&self, principal: &Principal, id: DepartmentId) -> Result<()> {
        principal.require(Permission::DepartmentsManage)?;
        let store = self.inner.store.tenant(principal.tenant_id);
        match store.delete_department(id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::NotFound("department")),
            Err(StoreError::Conflict { .. }) => {
                Err(Error::Conflict("projects belong to this department: move or delete them first".into()))
            }
            Err(other) => Err(other.into()),
        }
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
