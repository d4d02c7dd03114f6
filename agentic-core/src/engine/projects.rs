//! Projects: where work is charged and budgets are kept.

use crate::Platform;
use crate::api::{CreateProjectRequest, UpdateProjectRequest};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::ProjectId;
use crate::model::{
    MAX_DESCRIPTION_CHARS, Permission, Project, ProjectPatch, ValidationError, validate_name, validate_optional_text,
};
use crate::store::{Page, PageRequest, StoreError};

impl Platform {
    /// Creates a project. Needs `departments:manage` (projects are how departments organise work and spending).
    pub async fn create_project(&self, principal: &Principal, request: CreateProjectRequest) -> Result<Project> {
        principal.require(Permission::DepartmentsManage)?;
        if request.budget.is_some_and(|b| b.is_negative()) {
            return Err(ValidationError::new("budget", "must not be negative").into());
        }
        let project = Project {
            id: ProjectId::new(),
            tenant_id: principal.tenant_id,
            department_id: request.department_id,
            name: validate_name("name", &request.name, 200)?,
            description: validate_optional_text("description", request.description, MAX_DESCRIPTION_CHARS)?,
            budget: request.budget,
            created_by: principal.user_id,
            created_at: self.inner.clock.now(),
        };
        self.inner.store.tenant(principal.tenant_id).insert_project(&project).await.map_err(|e| match e {
            // A department of another tenant is reported exactly like a missing one.
            StoreError::MissingReference { .. } => Error::NotFound("department"),
            other => other.into(),
        })?;
        Ok(project)
    }

    /// Changes a project's name, description or budget. Needs `departments:manage`.
    pub async fn update_project(
        &self,
        principal: &Principal,
        id: ProjectId,
        request: UpdateProjectRequest,
    ) -> Result<Project> {
        principal.require(Permission::DepartmentsManage)?;
        if request.budget.flatten().is_some_and(|b| b.is_negative()) {
            return Err(ValidationError::new("budget", "must not be negative").into());
        }
        let patch = ProjectPatch {
            name: request.name.as_deref().map(|name| validate_name("name", name, 200)).transpose()?,
            description: request
                .description
                .map(|text| validate_optional_text("description", text, MAX_DESCRIPTION_CHARS))
                .transpose()?,
            budget: request.budget,
        };
        let store = self.inner.store.tenant(principal.tenant_id);
        store.update_project(id, &patch).await?.ok_or(Error::NotFound("project"))
    }

    /// A page of projects. Any member may read.
    pub async fn list_projects(&self, principal: &Principal, page: PageRequest) -> Result<Page<Project>> {
        Ok(self.inner.store.tenant(principal.tenant_id).list_projects(page).await?)
    }

    /// A project. Any member may read.
    pub async fn get_project(&self, principal: &Principal, id: ProjectId) -> Result<Project> {
        self.inner.store.tenant(principal.tenant_id).get_project(id).await?.ok_or(Error::NotFound("project"))
    }
}
