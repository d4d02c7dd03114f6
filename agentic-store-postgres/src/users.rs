//! Users and their roles.

use agentic_core::ids::UserId;
use agentic_core::model::{Email, User, UserPatch, UserRecord};
use agentic_core::store::{Page, PageRequest, StoreResult, UserStore};
use async_trait::async_trait;
use uuid::Uuid;

use crate::error::store_error;
use crate::rows::{UserRow, role_names};
use crate::tenant::{PgTenant, commit};

/// Users with their roles aggregated, filtered by `$where`, grouped, then `$tail` (order, limit).
macro_rules! select_users {
    ($where:literal, $tail:literal) => {
        concat!(
            "SELECT u.tenant_id, u.id, u.email, u.password_hash, u.active, u.created_at, u.updated_at, ",
            "COALESCE(array_agg(r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS roles ",
            "FROM users u LEFT JOIN user_roles r ON r.tenant_id = u.tenant_id AND r.user_id = u.id ",
            "WHERE ",
            $where,
            " GROUP BY u.tenant_id, u.id ",
            $tail
        )
    };
}

impl PgTenant {
    async fn user_row(&self, tx: &mut sqlx::PgConnection, id: Uuid) -> StoreResult<Option<UserRow>> {
        sqlx::query_as(select_users!("u.tenant_id = $1 AND u.id = $2", ""))
            .bind(self.uuid())
            .bind(id)
            .fetch_optional(tx)
            .await
            .map_err(|e| store_error(e, "the user"))
    }
}

#[async_trait]
impl UserStore for PgTenant {
    async fn insert_user(&self, record: &UserRecord) -> StoreResult<()> {
        let user = &record.user;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO users (tenant_id, id, email, password_hash, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(self.uuid())
        .bind(user.id.as_uuid())
        .bind(user.email.as_str())
        .bind(record.password_hash.as_phc())
        .bind(user.active)
        .bind(user.created_at)
        .bind(user.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, &format!("a user with email `{}`", user.email)))?;
        sqlx::query("INSERT INTO user_roles (tenant_id, user_id, role) SELECT $1, $2, unnest($3::text[])")
            .bind(self.uuid())
            .bind(user.id.as_uuid())
            .bind(role_names(&user.roles))
            .execute(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the user's roles"))?;
        commit(tx).await
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let mut tx = self.begin().await?;
        let row = self.user_row(&mut tx, id.as_uuid()).await?;
        commit(tx).await?;
        Ok(row.map(UserRecord::try_from).transpose()?.map(|r| r.user))
    }

    async fn user_record_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        let mut tx = self.begin().await?;
        let row: Option<UserRow> = sqlx::query_as(select_users!("u.tenant_id = $1 AND u.email = $2", ""))
            .bind(self.uuid())
            .bind(email.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| store_error(e, "the user"))?;
        commit(tx).await?;
        row.map(UserRecord::try_from).transpose()
    }

    async fn list_users(&self, page: PageRequest) -> StoreResult<Page<User>> {
        let limit = page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<UserRow> = sqlx::query_as(select_users!(
            "u.tenant_id = $1 AND ($2::uuid IS NULL OR u.id > $2)",
            "ORDER BY u.id LIMIT $3"
        ))
        .bind(self.uuid())
        .bind(page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "users"))?;
        commit(tx).await?;
        let users = rows.into_iter().map(|r| UserRecord::try_from(r).map(|r| r.user)).collect::<StoreResult<_>>()?;
        Ok(Page::from_overfetch(users, limit, |u: &User| u.id.as_uuid()))
    }

    async fn update_user(&self, id: UserId, patch: &UserPatch) -> StoreResult<Option<User>> {
        let mut tx = self.begin().await?;
        // One UPDATE locks the row, so concurrent patches of one user apply one after the other.
        let updated = sqlx::query(
            "UPDATE users SET active = COALESCE($3, active), password_hash = COALESCE($4, password_hash), \
             updated_at = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(self.uuid())
        .bind(id.as_uuid())
        .bind(patch.active)
        .bind(patch.password_hash.as_ref().map(|h| h.as_phc()))
        .bind(patch.at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the user"))?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        if let Some(roles) = &patch.roles {
            sqlx::query("DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the user's roles"))?;
            sqlx::query("INSERT INTO user_roles (tenant_id, user_id, role) SELECT $1, $2, unnest($3::text[])")
                .bind(self.uuid())
                .bind(id.as_uuid())
                .bind(role_names(roles))
                .execute(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the user's roles"))?;
        }
        let row = self.user_row(&mut tx, id.as_uuid()).await?;
        commit(tx).await?;
        Ok(row.map(UserRecord::try_from).transpose()?.map(|r| r.user))
    }
}
