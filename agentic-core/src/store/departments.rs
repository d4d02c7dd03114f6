//! Departments of one tenant.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::ids::DepartmentId;
use crate::model::{Department, DepartmentPatch};

/// Departments of the handle's tenant.
#[async_trait]
pub trait DepartmentStore: Send + Sync {
    /// Inserts a department. [`StoreError::Conflict`](super::StoreError::Conflict) if the name is taken.
    async fn insert_department(&self, department: &Department) -> StoreResult<()>;

    /// A department by id.
    async fn get_department(&self, id: DepartmentId) -> StoreResult<Option<Department>>;

    /// A page of departments, oldest first.
    async fn list_departments(&self, page: PageRequest) -> StoreResult<Page<Department>>;

    /// Applies a change; the department after it, or `None` if there is none.
    /// [`StoreError::Conflict`](super::StoreError::Conflict) if the new name is taken.
    async fn update_department(&self, id: DepartmentId, patch: &DepartmentPatch) -> StoreResult<Option<Department>>;

    /// Deletes a department; `false` if there is none. [`StoreError::Conflict`](super::StoreError::Conflict) while
    /// a project belongs to it.
    async fn delete_department(&self, id: DepartmentId) -> StoreResult<bool>;
}
