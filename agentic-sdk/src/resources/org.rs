//! Departments and projects (with their costs and budgets).

use agentic_core::api::{
    CostQuery, CostReport, CreateDepartmentRequest, CreateProjectRequest, UpdateDepartmentRequest, UpdateProjectRequest,
};
use agentic_core::ids::{DepartmentId, ProjectId};
use agentic_core::model::{Department, Project};
use agentic_core::store::{Page, PageRequest};

use crate::client::{AgenticClient, Repeat};
use crate::error::Result;

/// `client.departments()`.
#[derive(Clone, Copy, Debug)]
pub struct Departments<'a>(pub(crate) &'a AgenticClient);

impl Departments<'_> {
    /// A page of departments.
    pub async fn list(&self, page: PageRequest) -> Result<Page<Department>> {
        self.0.get("/v1/departments", Some(&page)).await
    }

    /// Creates a department (`departments:manage`).
    pub async fn create(&self, request: &CreateDepartmentRequest) -> Result<Department> {
        self.0.post("/v1/departments", Some(request), Repeat::Unsafe).await
    }

    /// A department.
    pub async fn get(&self, id: DepartmentId) -> Result<Department> {
        self.0.get(&format!("/v1/departments/{id}"), None).await
    }

    /// Renames a department or changes its description (`departments:manage`).
    pub async fn update(&self, id: DepartmentId, request: &UpdateDepartmentRequest) -> Result<Department> {
        self.0.patch(&format!("/v1/departments/{id}"), request).await
    }

    /// Deletes a department no project belongs to.
    pub async fn delete(&self, id: DepartmentId) -> Result<()> {
        self.0.delete(&format!("/v1/departments/{id}")).await
    }
}

/// `client.projects()`.
#[derive(Clone, Copy, Debug)]
pub struct Projects<'a>(pub(crate) &'a AgenticClient);

impl Projects<'_> {
    /// A page of projects.
    pub async fn list(&self, page: PageRequest) -> Result<Page<Project>> {
        self.0.get("/v1/projects", Some(&page)).await
    }

    /// Creates a project (`departments:manage`), with an optional budget.
    pub async fn create(&self, request: &CreateProjectRequest) -> Result<Project> {
        self.0.post("/v1/projects", Some(request), Repeat::Unsafe).await
    }

    /// A project.
    pub async fn get(&self, id: ProjectId) -> Result<Project> {
        self.0.get(&format!("/v1/projects/{id}"), None).await
    }

    /// Changes a project's name, description or budget (`departments:manage`).
    pub async fn update(&self, id: ProjectId, request: &UpdateProjectRequest) -> Result<Project> {
        self.0.patch(&format!("/v1/projects/{id}"), request).await
    }

    /// A project's costs, grouped as asked, with where its budget stands.
    pub async fn costs(&self, id: ProjectId, query: CostQuery) -> Result<CostReport> {
        self.0.get(&format!("/v1/projects/{id}/costs"), Some(&query)).await
    }

    /// The tenant's costs across projects.
    pub async fn tenant_costs(&self, query: CostQuery) -> Result<CostReport> {
        self.0.get("/v1/costs", Some(&query)).await
    }
}
