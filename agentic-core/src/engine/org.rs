//! Departments and projects.

use crate::Platform;
use crate::api::{CreateDepartmentRequest, CreateProjectRequest};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::{DepartmentId, ProjectId};
use crate::model::{Department, Permission, Project, ValidationError, validate_name};
use crate::store::{Page, PageRequest, StoreError};

const MAX_DESCRIPTION_CHARS: usize = 2000;

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
            description: validate_description(request.description)?,
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
            description: validate_description(request.description)?,
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

    /// A page of projects. Any member may read.
    pub async fn list_projects(&self, principal: &Principal, page: PageRequest) -> Result<Page<Project>> {
        Ok(self.inner.store.tenant(principal.tenant_id).list_projects(page).await?)
    }

    /// A project. Any member may read.
    pub async fn get_project(&self, principal: &Principal, id: ProjectId) -> Result<Project> {
        self.inner.store.tenant(principal.tenant_id).get_project(id).await?.ok_or(Error::NotFound("project"))
    }
}

fn validate_description(description: Option<String>) -> Result<Option<String>, ValidationError> {
    match description {
        Some(d) if d.trim().is_empty() => Ok(None),
        Some(d) => crate::model::validate_text("description", &d, MAX_DESCRIPTION_CHARS).map(Some),
        None => Ok(None),
    }
}
