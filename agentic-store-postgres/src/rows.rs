//! Database rows and their conversion to domain types. Data that does not fit the model (an unknown role, a
//! malformed e-mail) is reported as a backend error rather than trusted.

use agentic_core::ids::{ApiKeyId, DepartmentId, ProjectId, TenantId, UserId};
use agentic_core::model::{
    ApiKey, Department, Email, Money, PasswordHash, Permission, PermissionSet, Plan, Project, Role, Slug, StoredApiKey,
    Tenant, User, UserRecord,
};
use agentic_core::store::StoreError;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::corrupt;

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) slug: String,
    pub(crate) plan: String,
    pub(crate) settings: serde_json::Value,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;

    fn try_from(row: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: TenantId::from_uuid(row.id),
            name: row.name,
            slug: Slug::parse(&row.slug).map_err(|e| corrupt(format!("tenant slug: {e}")))?,
            plan: row.plan.parse::<Plan>().map_err(|e| corrupt(format!("tenant plan: {e}")))?,
            settings: row.settings,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) tenant_id: Uuid,
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) password_hash: String,
    pub(crate) active: bool,
    pub(crate) roles: Vec<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

pub(crate) fn roles(names: &[String]) -> Result<Vec<Role>, StoreError> {
    let mut roles = names
        .iter()
        .map(|n| n.parse::<Role>().map_err(|e| corrupt(format!("user role: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Role names, de-duplicated (the primary key of `user_roles` admits each role once).
pub(crate) fn role_names(roles: &[Role]) -> Vec<String> {
    let mut names: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
    names.sort();
    names.dedup();
    names
}

pub(crate) fn user(
    tenant_id: Uuid,
    id: Uuid,
    email: &str,
    active: bool,
    role_names: &[String],
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> Result<User, StoreError> {
    Ok(User {
        id: UserId::from_uuid(id),
        tenant_id: TenantId::from_uuid(tenant_id),
        email: Email::parse(email).map_err(|e| corrupt(format!("user e-mail: {e}")))?,
        roles: roles(role_names)?,
        active,
        created_at,
        updated_at,
    })
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let user = user(row.tenant_id, row.id, &row.email, row.active, &row.roles, row.created_at, row.updated_at)?;
        Ok(UserRecord { user, password_hash: PasswordHash::from_phc(row.password_hash) })
    }
}

pub(crate) fn scopes(names: &[String]) -> Result<PermissionSet, StoreError> {
    names.iter().map(|n| n.parse::<Permission>().map_err(|e| corrupt(format!("API key scope: {e}")))).collect()
}

pub(crate) fn scope_names(scopes: PermissionSet) -> Vec<String> {
    scopes.iter().map(|p| p.as_str().to_owned()).collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    pub(crate) tenant_id: Uuid,
    pub(crate) id: Uuid,
    pub(crate) owner_id: Uuid,
    pub(crate) name: String,
    pub(crate) lookup: String,
    pub(crate) key_hash: Vec<u8>,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) last_used_at: Option<DateTime<Utc>>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
}

impl TryFrom<ApiKeyRow> for StoredApiKey {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        let hash: [u8; 32] =
            row.key_hash.as_slice().try_into().map_err(|_| corrupt("API key hash is not 32 bytes".into()))?;
        Ok(StoredApiKey {
            key: ApiKey {
                id: ApiKeyId::from_uuid(row.id),
                tenant_id: TenantId::from_uuid(row.tenant_id),
                owner_id: UserId::from_uuid(row.owner_id),
                name: row.name,
                prefix: agentic_core::auth::api_key::display_prefix(&row.lookup),
                scopes: scopes(&row.scopes)?,
                expires_at: row.expires_at,
                last_used_at: row.last_used_at,
                revoked_at: row.revoked_at,
                created_at: row.created_at,
            },
            lookup: row.lookup,
            hash,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DepartmentRow {
    pub(crate) tenant_id: Uuid,
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
}

impl From<DepartmentRow> for Department {
    fn from(row: DepartmentRow) -> Self {
        Department {
            id: DepartmentId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            name: row.name,
            description: row.description,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProjectRow {
    pub(crate) tenant_id: Uuid,
    pub(crate) id: Uuid,
    pub(crate) department_id: Option<Uuid>,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) budget_nanos: Option<i64>,
    pub(crate) created_by: Uuid,
    pub(crate) created_at: DateTime<Utc>,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Project {
            id: ProjectId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            department_id: row.department_id.map(DepartmentId::from_uuid),
            name: row.name,
            description: row.description,
            budget: row.budget_nanos.map(Money::from_nanos),
            created_by: UserId::from_uuid(row.created_by),
            created_at: row.created_at,
        }
    }
}
