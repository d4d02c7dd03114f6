//! A multi-statement operation killed or cancelled halfway leaves nothing behind; the schema version is enforced.
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

/// Makes every insert into `events` fail (on) or succeed again (off), as a fault between a change and its event.
async fn refuse_events(db: &TestDatabase, on: bool) {
    let statement = if on {
        "CREATE OR REPLACE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'event refused by the test'; END $$; \
         CREATE TRIGGER refuse_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_event();"
    } else {
        "DROP TRIGGER refuse_event ON events;"
    };
    sqlx::raw_sql(statement).execute(&db.admin_pool).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_and_its_event_are_stored_together_or_not_at_all() {
    use agentic_core::events::EventKind;
    use agentic_core::model::{Approval, ApprovalStatus, RiskLevel, Run, RunStatus, Verdict};
    use agentic_core::model::{RunFinish, RunLease};
    use agentic_core::store::EventQuery;

    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    let (tenant, admin) = agentic_core::testing::fixtures::tenant_with_admin(&db.store, "acme").await;
    let (tenant, user) = (tenant.id, admin.user);
    let handle = db.store.tenant(tenant);
    let at = SystemClock.now();
    let project = agentic_core::testing::fixtures::project(tenant, None, user.id);
    handle.insert_project(&project).await.unwrap();
    let mut run =
        Run::queued(tenant, project.id, "devops_engineer", serde_json::json!({}), RiskLevel::High, user.id, at);
    run.status = RunStatus::AwaitingApproval;
    let approval = Approval::pending_for(&run, at + chrono::Duration::hours(1));
    let events = || async { handle.list_events(&EventQuery::default()).await.unwrap().data };

    // The event cannot be stored: neither can the gated run and its request.
    refuse_events(&db, true).await;
    assert!(handle.insert_gated_run(&run, &approval).await.is_err());
    assert_eq!(handle.get_run(run.id).await.unwrap(), None);
    assert_eq!(handle.get_approval(approval.id).await.unwrap(), None);
    refuse_events(&db, false).await;
    assert!(events().await.is_empty());
    handle.insert_gated_run(&run, &approval).await.unwrap();
    assert_eq!(events().await.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::ApprovalRequested]);

    // Nor the decision without its event.
    let verdict = Verdict { approve: true, by: user.id, comment: None, at: SystemClock.now() };
    refuse_events(&db, true).await;
    assert!(handle.decide_approval(approval.id, &verdict).await.is_err());
    refuse_events(&db, false).await;
    assert_eq!(handle.get_approval(approval.id).await.unwrap().unwrap().status, ApprovalStatus::Pending);
    assert_eq!(handle.get_run(run.id).await.unwrap().unwrap().status, RunStatus::AwaitingApproval);
    assert_eq!(events().await.len(), 1);
    let decision = handle.decide_approval(approval.id, &verdict).await.unwrap().unwrap();
    assert_eq!(handle.get_run(run.id).await.unwrap().unwrap().status, RunStatus::Queued);
    let stored = events().await;
    assert_eq!((stored[0].kind, Some(&stored[0])), (EventKind::ApprovalApproved, decision.event.as_ref()));

    // Nor the run's end without its end event: the run stays running under its lease, to be finished again.
    let lease_for = chrono::Duration::seconds(30);
    let claimed = db.store.system().claim_runs("w1", SystemClock.now(), lease_for, 1).await.unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), [run.id]);
    let lease = RunLease { run: run.id, worker: "w1", attempt: 1, duration: lease_for };
    let data = serde_json::json!({"agent": "devops_engineer", "run_id": run.id, "project_id": project.id,
        "cost": "0.00"});
    let end = agentic_core::events::Event::new(tenant, EventKind::AgentCompleted, data, SystemClock.now());
    let finish = RunFinish {
        status: RunStatus::Completed,
        output: Some(serde_json::json!({"answer": "done"})),
        error: None,
        error_code: None,
        cost: agentic_core::model::Money::ZERO,
        events: vec![end.clone()],
    };
    refuse_events(&db, true).await;
    assert!(handle.finish_run(&lease, &finish, SystemClock.now()).await.is_err());
    refuse_events(&db, false).await;
    assert_eq!(handle.get_run(run.id).await.unwrap().unwrap().status, RunStatus::Running);
    assert_eq!(events().await.len(), 2);
    assert!(handle.finish_run(&lease, &finish, SystemClock.now()).await.unwrap());
    assert_eq!(handle.get_run(run.id).await.unwrap().unwrap().status, RunStatus::Completed);
    assert_eq!(events().await.first(), Some(&end));

    // Nor an expiry without its approval.expired: the approval stays pending for the next sweep.
    let mut late =
        Run::queued(tenant, project.id, "devops_engineer", serde_json::json!({}), RiskLevel::High, user.id, at);
    late.status = RunStatus::AwaitingApproval;
    let lapsed = Approval::pending_for(&late, at - chrono::Duration::seconds(1));
    handle.insert_gated_run(&late, &lapsed).await.unwrap();
    refuse_events(&db, true).await;
    assert!(db.store.system().expire_approvals(SystemClock.now(), 10).await.is_err());
    refuse_events(&db, false).await;
    assert_eq!(handle.get_approval(lapsed.id).await.unwrap().unwrap().status, ApprovalStatus::Pending);
    let expired = db.store.system().expire_approvals(SystemClock.now(), 10).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(events().await.first().map(|e| e.kind), Some(EventKind::ApprovalExpired));
}

/// A request whose future is dropped halfway (a client that hangs up, a timeout) gives its connection back with no
/// transaction open. sqlx 0.9.0 did not: a `BEGIN` cancelled in flight left the pooled session inside a
/// transaction, the next borrowers' statements ran in it holding its locks, and their writes were lost when the
/// connection closed (sqlx #4393, fixed in 0.9.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_cancelled_mid_transaction_gives_back_a_clean_connection() {
    let Some(url) = database_url() else { return };
    // One connection, so every attempt and every check share the session a cancelled attempt may have spoilt.
    let db =
        TestDatabase::create(&url, PgStoreOptions { max_connections: 1, ..PgStoreOptions::default() }).await.unwrap();
    let (tenant, user) = tenant_with_user(&db.store).await;
    let handle = db.store.tenant(tenant);
    let mut cancelled = 0;
    for step in 0..300u64 {
        // A tenant read is BEGIN, the tenant's setting, the SELECT and COMMIT: dropped after 0–3 ms, it is cut at
        // each of those round trips in turn.
        let read = handle.get_user(user.id);
        if tokio::time::timeout(Duration::from_micros(step * 10), read).await.is_err() {
            cancelled += 1;
        }
        // Outside a transaction each statement gets its own transaction id; inside one, both get the same.
        let xid = || sqlx::query_scalar::<_, String>("SELECT pg_current_xact_id()::text").fetch_one(db.store.pool());
        let left_open = xid().await.unwrap() == xid().await.unwrap();
        assert!(!left_open, "a read cancelled after {} µs left its transaction open", step * 10);
    }
    assert!(cancelled > 10, "only {cancelled} reads were cut short");
}
