//! A multi-statement operation killed halfway leaves nothing behind; the schema version is enforced.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use agentic_core::clock::{Clock, SystemClock};
use agentic_core::ids::{TenantId, UserId};
use agentic_core::model::{Email, PasswordHash, Plan, Role, Slug, Tenant, User, UserPatch, UserRecord};
use agentic_core::store::{Store, StoreError};
use agentic_store_postgres::testing::{TestDatabase, database_url};
use agentic_store_postgres::{PgStore, PgStoreError, PgStoreOptions, SchemaStatus, schema_status};

async fn tenant_with_user(store: &dyn Store) -> (TenantId, User) {
    let at = SystemClock.now();
    let tenant = Tenant {
        id: TenantId::new(),
        name: "Acme".into(),
        slug: Slug::parse("acme").unwrap(),
        plan: Plan::Free,
        settings: serde_json::json!({}),
        created_at: at,
        updated_at: at,
    };
    let user = User {
        id: UserId::new(),
        tenant_id: tenant.id,
        email: Email::parse("dev@acme.test").unwrap(),
        roles: vec![Role::Developer],
        active: true,
        created_at: at,
        updated_at: at,
    };
    let record = UserRecord { user: user.clone(), password_hash: PasswordHash::from_phc("x".into()) };
    store.system().create_tenant(&tenant, &record).await.unwrap();
    (tenant.id, user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_killed_mid_transaction_leaves_no_partial_write() {
    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    let (tenant, user) = tenant_with_user(&db.store).await;

    // Hold the user's role rows, so the update blocks after its first statement (the UPDATE of `users`).
    let mut blocker = db.admin_pool.begin().await.unwrap();
    sqlx::query("SELECT * FROM user_roles WHERE user_id = $1 FOR UPDATE")
        .bind(user.id.as_uuid())
        .execute(&mut *blocker)
        .await
        .unwrap();

    let store = db.store.clone();
    let patch = UserPatch {
        at: SystemClock.now() + chrono::Duration::seconds(30),
        roles: Some(vec![Role::Admin]),
        active: Some(false),
        password_hash: None,
    };
    let update = tokio::spawn(async move { store.tenant(tenant).update_user(user.id, &patch).await });

    // Find the update's backend, waiting on the lock with its first write done, and kill it.
    let mut pid = None;
    for _ in 0..200 {
        pid = sqlx::query_scalar::<_, i32>(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' \
             AND query LIKE 'DELETE FROM user_roles%'",
        )
        .fetch_optional(&db.admin_pool)
        .await
        .unwrap();
        if pid.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = pid.expect("the update never reached its second statement");
    let killed: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&db.admin_pool).await.unwrap();
    assert!(killed);
    blocker.rollback().await.unwrap();

    let outcome = update.await.unwrap();
    assert!(matches!(outcome, Err(StoreError::Unavailable(_) | StoreError::Backend(_))), "{outcome:?}");
    // Nothing of the update survived: not the first statement, not the roles.
    let now = db.store.tenant(tenant).get_user(user.id).await.unwrap().unwrap();
    assert_eq!(now, user);
}

#[tokio::test]
async fn a_database_ahead_of_this_build_is_refused() {
    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    assert_eq!(schema_status(&db.admin_pool).await.unwrap(), SchemaStatus::UpToDate);
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99991231000000, 'from the future', true, '\\x00', 0)",
    )
    .execute(&db.admin_pool)
    .await
    .unwrap();
    match PgStore::connect_with(db.connect_options(), PgStoreOptions::default()).await {
        Err(PgStoreError::Schema(message)) => assert!(message.contains("newer than this build"), "{message}"),
        other => panic!("expected a schema error, got {other:?}"),
    }
    let url_for_db = format!("{}/{}", url.rsplit_once('/').unwrap().0, db.name());
    assert!(matches!(agentic_store_postgres::migrate(&url_for_db).await, Err(PgStoreError::Schema(_))));
}

#[tokio::test]
async fn an_unmigrated_database_is_refused_and_an_unreachable_one_fails_fast() {
    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations").execute(&db.admin_pool).await.unwrap();
    match PgStore::connect_with(db.connect_options(), PgStoreOptions::default()).await {
        Err(PgStoreError::Schema(message)) => assert!(message.contains("agentic-server migrate"), "{message}"),
        other => panic!("expected a schema error, got {other:?}"),
    }
    let options = PgStoreOptions { acquire_timeout: Duration::from_secs(2), ..PgStoreOptions::default() };
    let started = std::time::Instant::now();
    let unreachable = PgStore::connect("postgres://postgres@127.0.0.1:1/postgres", options).await;
    assert!(matches!(unreachable, Err(PgStoreError::Connect(_))));
    assert!(started.elapsed() < Duration::from_secs(10));
}
