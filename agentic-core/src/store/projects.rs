//! Projects of one tenant.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::ids::ProjectId;
use crate::model::{Project, ProjectPatch};

/// Projects of the handle's tenant.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// Inserts a project. [`StoreError::MissingReference`](super::StoreError::MissingReference) if its department
    /// is not in this tenant.
    async fn insert_project(&self, project: &Project) -> StoreResult<()>;

    /// A project by id.
    async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Project>>;

    /// A page of projects, oldest first.
    async fn list_projects(&self, page: PageRequest) -> StoreResult<Page<Project>>;

    /// Applies a change; returns the project after it, or `None` if there is none. A new budget keeps only the
    /// announced budget lines that spending still reaches under it ([`BudgetThreshold::reached`]), so a raised
    /// budget announces its lines again when they are crossed anew.
    ///
    /// [`BudgetThreshold::reached`]: crate::model::BudgetThreshold::reached
    async fn update_project(&self, id: ProjectId, patch: &ProjectPatch) -> StoreResult<Option<Project>>;
}
