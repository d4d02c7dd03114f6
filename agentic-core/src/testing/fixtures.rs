//! Records to feed the stores: the suite's, and a backend's own tests'.

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::ids::{ApiKeyId, DepartmentId, ProjectId, TenantId, UserId};
use crate::model::{
    ApiKey, Department, Email, Money, PasswordHash, PermissionSet, Plan, Project, Role, Slug, StoredApiKey, Tenant,
    User, UserRecord,
};

pub(crate) fn now() -> Timestamp {
    SystemClock.now()
}

pub(crate) fn tenant(slug: &str) -> Tenant {
    let at = now();
    Tenant {
        id: TenantId::new(),
        name: format!("Tenant {slug}"),
        slug: Slug::parse(slug).unwrap(),
        plan: Plan::Developer,
        settings: serde_json::json!({"theme": "dark"}),
        created_at: at,
        updated_at: at,
    }
}

pub(crate) fn user(tenant: TenantId, email: &str, roles: &[Role]) -> UserRecord {
    let at = now();
    UserRecord {
        user: User {
            id: UserId::new(),
            tenant_id: tenant,
            email: Email::parse(email).unwrap(),
            roles: roles.to_vec(),
            active: true,
            created_at: at,
            updated_at: at,
        },
        password_hash: PasswordHash::from_phc(format!("$argon2id$v=19$m=19456,t=2,p=1$fixture${email}")),
    }
}

/// A tenant with its admin (`admin@<slug>.test`), created through the system store.
pub async fn tenant_with_admin(store: &dyn crate::store::Store, slug: &str) -> (Tenant, UserRecord) {
    let t = tenant(slug);
    let admin = user(t.id, &format!("admin@{slug}.test"), &[Role::Admin]);
    store.system().create_tenant(&t, &admin).await.unwrap();
    (t, admin)
}

pub(crate) fn api_key(tenant: TenantId, owner: UserId, lookup: &str, scopes: PermissionSet) -> StoredApiKey {
    let mut hash = [0_u8; 32];
    for (i, b) in lookup.bytes().enumerate() {
        hash[i % 32] ^= b;
    }
    StoredApiKey {
        key: ApiKey {
            id: ApiKeyId::new(),
            tenant_id: tenant,
            owner_id: owner,
            name: format!("key {lookup}"),
            prefix: crate::auth::api_key::display_prefix(lookup),
            scopes,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            created_at: now(),
        },
        lookup: lookup.to_owned(),
        hash,
    }
}

pub(crate) fn department(tenant: TenantId, name: &str) -> Department {
    Department {
        id: DepartmentId::new(),
        tenant_id: tenant,
        name: name.into(),
        description: Some("d".into()),
        created_at: now(),
    }
}

/// A tenant with its admin ([`tenant_with_admin`]) and one stored project the admin made.
pub async fn tenant_with_project(store: &dyn crate::store::Store, slug: &str) -> (Tenant, UserRecord, Project) {
    let (tenant, admin) = tenant_with_admin(store, slug).await;
    let project = project(tenant.id, None, admin.user.id);
    store.tenant(tenant.id).insert_project(&project).await.unwrap();
    (tenant, admin, project)
}

/// A project of `tenant` (in `department`, when given) with a budget.
pub fn project(tenant: TenantId, department: Option<DepartmentId>, creator: UserId) -> Project {
    Project {
        id: ProjectId::new(),
        tenant_id: tenant,
        department_id: department,
        name: "Website".into(),
        description: None,
        budget: Some(Money::from_nanos(123_456_789_012)),
        created_by: creator,
        created_at: now(),
    }
}
