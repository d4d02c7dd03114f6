//! Uniqueness holds when many tasks race for the same slug, e-mail or lookup id.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use agentic_core::ids::{TenantId, UserId};
use agentic_core::model::{Email, PasswordHash, Plan, Role, Slug, Tenant, User, UserRecord};
use agentic_core::store::{PageRequest, Store, StoreError};
use agentic_store_memory::MemoryStore;

fn tenant(slug: &str) -> Tenant {
    let now = chrono::Utc::now();
    Tenant {
        id: TenantId::new(),
        name: slug.into(),
        slug: Slug::parse(slug).unwrap(),
        plan: Plan::Free,
        settings: serde_json::json!({}),
        created_at: now,
        updated_at: now,
    }
}

fn user(tenant: TenantId, email: &str) -> UserRecord {
    let now = chrono::Utc::now();
    UserRecord {
        user: User {
            id: UserId::new(),
            tenant_id: tenant,
            email: Email::parse(email).unwrap(),
            roles: vec![Role::Viewer],
            active: true,
            created_at: now,
            updated_at: now,
        },
        password_hash: PasswordHash::from_phc("$argon2id$placeholder".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tenants_with_one_slug_create_exactly_one() {
    let store = Arc::new(MemoryStore::new());
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let t = tenant("race");
                store.system().create_tenant(&t, &user(t.id, &format!("a{i}@race.test"))).await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_users_with_one_email_create_exactly_one() {
    let store = Arc::new(MemoryStore::new());
    let t = tenant("acme");
    store.system().create_tenant(&t, &user(t.id, "admin@acme.test")).await.unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.tenant(t.id).insert_user(&user(t.id, "same@acme.test")).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
    let users = store.tenant(t.id).list_users(PageRequest::first()).await.unwrap();
    assert_eq!(users.data.len(), 2);
}

#[tokio::test]
async fn rows_written_under_one_tenant_are_invisible_to_another() {
    let store = MemoryStore::new();
    let (a, b) = (tenant("alpha"), tenant("bravo"));
    let a_admin = user(a.id, "admin@alpha.test");
    store.system().create_tenant(&a, &a_admin).await.unwrap();
    store.system().create_tenant(&b, &user(b.id, "admin@bravo.test")).await.unwrap();
    let from_b = store.tenant(b.id);
    assert!(from_b.get_user(a_admin.user.id).await.unwrap().is_none());
    assert!(from_b.user_record_by_email(&a_admin.user.email).await.unwrap().is_none());
    // Even a record claiming tenant A lands in B when written through B's handle.
    let smuggled = user(a.id, "smuggled@alpha.test");
    from_b.insert_user(&smuggled).await.unwrap();
    assert!(store.tenant(a.id).get_user(smuggled.user.id).await.unwrap().is_none());
    assert_eq!(from_b.get_user(smuggled.user.id).await.unwrap().unwrap().tenant_id, b.id);
}
