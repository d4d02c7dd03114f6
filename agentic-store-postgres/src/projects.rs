//! Projects.

use agentic_core::ids::ProjectId;
use agentic_core::model::{BudgetThreshold, Money, Project, ProjectPatch};
use agentic_core::store::{Page, PageRequest, ProjectStore, StoreResult};
use async_trait::async_trait;

use crate::error::store_error;
use crate::rows::ProjectRow;
use crate::tenant::{PgTenant, commit};

macro_rules! project_columns {
    () => {
        "tenant_id, id, department_id, name, description, budget_nanos, created_by, created_at"
    };
}

#[async_trait]
impl ProjectStore for PgTenant {
    async fn insert_project(&self, project: &Project) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(concat!("INSERT INTO projects (", project_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(self.uuid())
            .bind(project.id.as_uuid())
            .bind(project.department_id.map(|d| d.as_uuid()))
            .bind(&project.name)
            .bind(&project.description)
            .bind(project.budget.map(|b| b.nanos()))
            .bind(project.created_by.as_uuid())
            .bind(project.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "a project with this id"))?;
        commit(tx).await
    }

    async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        let mut tx = self.begin().await?;
        let row: Option<ProjectRow> =
            sqlx::query_as(concat!("SELECT ", project_columns!(), " FROM projects WHERE tenant_id = $1 AND id = $2"))
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the project"))?;
        commit(tx).await?;
        Ok(row.map(Project::from))
    }

    async fn list_projects(&self, page: PageRequest) -> StoreResult<Page<Project>> {
        let limit = page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<ProjectRow> = sqlx::query_as(concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(self.uuid())
        .bind(page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "projects"))?;
        commit(tx).await?;
        Ok(Page::from_overfetch(rows.into_iter().map(Project::from).collect(), limit, |p: &Project| p.id.as_uuid()))
    }

    async fn update_project(&self, id: ProjectId, patch: &ProjectPatch) -> StoreResult<Option<Project>> {
        let mut tx = self.begin().await?;
        // The spending is read under the row lock, so the lines kept follow the rule in Rust for this very state.
        let spent: Option<i64> =
            sqlx::query_scalar("SELECT spent_nanos FROM projects WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the project"))?;
        let Some(spent) = spent else {
            commit(tx).await?;
            return Ok(None);
        };
        let reached = match patch.budget {
            Some(Some(budget)) => BudgetThreshold::reached(budget, Money::from_nanos(spent)),
            Some(None) => Vec::new(),
            None => vec![BudgetThreshold::Warning, BudgetThreshold::Exceeded],
        };
        let row: ProjectRow = sqlx::query_as(concat!(
            "UPDATE projects SET name = coalesce($3, name), \
             description = CASE WHEN $4 THEN $5 ELSE description END, \
             budget_nanos = CASE WHEN $6 THEN $7 ELSE budget_nanos END, \
             budget_warning_sent = budget_warning_sent AND $8, budget_exceeded_sent = budget_exceeded_sent AND $9 \
             WHERE tenant_id = $1 AND id = $2 RETURNING ",
            project_columns!()
        ))
        .bind(self.uuid())
        .bind(id.as_uuid())
        .bind(&patch.name)
        .bind(patch.description.is_some())
        .bind(patch.description.clone().flatten())
        .bind(patch.budget.is_some())
        .bind(patch.budget.flatten().map(|b| b.nanos()))
        .bind(reached.contains(&BudgetThreshold::Warning))
        .bind(reached.contains(&BudgetThreshold::Exceeded))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the project"))?;
        commit(tx).await?;
        Ok(Some(Project::from(row)))
    }
}
