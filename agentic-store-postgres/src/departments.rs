//! Departments.

use agentic_core::ids::DepartmentId;
use agentic_core::model::{Department, DepartmentPatch};
use agentic_core::store::{DepartmentStore, Page, PageRequest, StoreError, StoreResult};
use async_trait::async_trait;

use crate::error::store_error;
use crate::rows::DepartmentRow;
use crate::tenant::{PgTenant, commit};

macro_rules! department_columns {
    () => {
        "tenant_id, id, name, description, created_at"
    };
}

#[async_trait]
impl DepartmentStore for PgTenant {
    async fn insert_department(&self, department: &Department) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(concat!("INSERT INTO departments (", department_columns!(), ") VALUES ($1, $2, $3, $4, $5)"))
            .bind(self.uuid())
            .bind(department.id.as_uuid())
            .bind(&department.name)
            .bind(&department.description)
            .bind(department.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, &format!("a department named `{}`", department.name)))?;
        commit(tx).await
    }

    async fn get_department(&self, id: DepartmentId) -> StoreResult<Option<Department>> {
        let mut tx = self.begin().await?;
        let row: Option<DepartmentRow> = sqlx::query_as(concat!(
            "SELECT ",
            department_columns!(),
            " FROM departments WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(self.uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the department"))?;
        commit(tx).await?;
        Ok(row.map(Department::from))
    }

    async fn list_departments(&self, page: PageRequest) -> StoreResult<Page<Department>> {
        let limit = page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<DepartmentRow> = sqlx::query_as(concat!(
            "SELECT ",
            department_columns!(),
            " FROM departments WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(self.uuid())
        .bind(page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "departments"))?;
        commit(tx).await?;
        Ok(Page::from_overfetch(rows.into_iter().map(Department::from).collect(), limit, |d: &Department| {
            d.id.as_uuid()
        }))
    }

    async fn update_department(&self, id: DepartmentId, patch: &DepartmentPatch) -> StoreResult<Option<Department>> {
        let mut tx = self.begin().await?;
        let row: Option<DepartmentRow> = sqlx::query_as(concat!(
            "UPDATE departments SET name = coalesce($3, name), \
             description = CASE WHEN $4 THEN $5 ELSE description END WHERE tenant_id = $1 AND id = $2 RETURNING ",
            department_columns!()
        ))
        .bind(self.uuid())
        .bind(id.as_uuid())
        .bind(&patch.name)
        .bind(patch.description.is_some())
        .bind(patch.description.clone().flatten())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "a department with this name"))?;
        commit(tx).await?;
        Ok(row.map(Department::from))
    }

    async fn delete_department(&self, id: DepartmentId) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // Checked first, so a department in use is a conflict on both stores (not a foreign-key error).
        let in_use: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projects WHERE tenant_id = $1 AND department_id = $2)")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| store_error(e, "projects"))?;
        if in_use {
            return Err(StoreError::conflict("projects of this department"));
        }
        let deleted = sqlx::query("DELETE FROM departments WHERE tenant_id = $1 AND id = $2")
            .bind(self.uuid())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "projects of this department"))?
            .rows_affected();
        commit(tx).await?;
        Ok(deleted > 0)
    }
}
