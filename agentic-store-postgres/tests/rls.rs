//! Row-level security as the second wall, checked directly in the database as the runtime role.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use agentic_core::clock::{Clock, SystemClock};
use agentic_core::ids::{ApiKeyId, CostRecordId, DepartmentId, ReservationId, TenantId};
use agentic_core::model::{
    ApiKey, CostRecord, Department, Money, PermissionSet, Reservation, ReserveOutcome, Role, StoredApiKey,
};
use agentic_core::store::Store;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::{TestDatabase, database_url};
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

/// Tables that belong to no tenant (reference data and sqlx's bookkeeping). Any other table must be tenant-owned
/// and protected: a new table missing from both this list and row-level security fails the test.
const GLOBAL_TABLES: [&str; 4] = ["_sqlx_migrations", "permissions", "role_permissions", "roles"];

/// Creates a tenant with a row in every tenant-owned table.
async fn populate(store: &dyn Store, slug: &str) -> TenantId {
    let at = SystemClock.now();
    let (tenant, admin) = agentic_core::testing::fixtures::tenant_with_admin(store, slug).await;
    let admin = admin.user;
    let handle = store.tenant(tenant.id);
    let lookup = format!("{:0<12}", slug);
    handle
        .insert_api_key(&StoredApiKey {
            key: ApiKey {
                id: ApiKeyId::new(),
                tenant_id: tenant.id,
                owner_id: admin.id,
                name: "k".into(),
                prefix: format!("agk_{lookup}"),
                scopes: PermissionSet::EMPTY,
                expires_at: None,
                last_used_at: None,
                revoked_at: None,
                created_at: at,
            },
            lookup,
            hash: [7; 32],
        })
        .await
        .unwrap();
    let department = Department {
        id: DepartmentId::new(),
        tenant_id: tenant.id,
        name: "Ops".into(),
        description: None,
        created_at: at,
    };
    handle.insert_department(&department).await.unwrap();
    let project = agentic_core::testing::fixtures::project(tenant.id, Some(department.id), admin.id);
    handle.insert_project(&project).await.unwrap();
    let hold = |amount| Reservation {
        id: ReservationId::new(),
        tenant_id: tenant.id,
        project_id: project.id,
        amount: Money::from_nanos(amount),
        expires_at: at + chrono::Duration::hours(1),
    };
    let (kept, settled) = (hold(10), hold(20));
    for r in [&kept, &settled] {
        assert!(matches!(handle.reserve(r, at).await.unwrap(), ReserveOutcome::Reserved(_)));
    }
    let record = CostRecord {
        id: CostRecordId::new(),
        tenant_id: tenant.id,
        project_id: project.id,
        run_id: None,
        agent: None,
        operation: "llm_call".into(),
        provider: "mock".into(),
        model: "m".into(),
        input_tokens: 1,
        output_tokens: 1,
        cached_input_tokens: 0,
        cost: Money::from_nanos(15),
        latency_ms: 1,
        created_at: at,
    };
    handle.settle(settled.id, &record, &[], at).await.unwrap();
    // A record past retention, folded into its day's roll-up (cost_rollups).
    let old = CostRecord { id: CostRecordId::new(), created_at: at - chrono::Duration::days(400), ..record.clone() };
    handle.settle(agentic_core::ids::ReservationId::new(), &old, &[], at).await.unwrap();
    assert_eq!(store.system().roll_up_cost_records_before(at - chrono::Duration::days(365), 10).await.unwrap(), 1);
    let yaml = "name: A\nrole: R\ngoal: G\nbackstory: B\ntools: []\nllm: {provider: mock, model: m}\n";
    handle
        .put_agent(&agentic_core::store::StoredAgent {
            tenant_id: tenant.id,
            key: agentic_core::agents::AgentKey::parse("custom").unwrap(),
            yaml: yaml.into(),
            spec: agentic_core::agents::AgentSpec::from_yaml(yaml, &agentic_core::agents::KnownNames::any()).unwrap(),
            updated_by: admin.id,
            updated_at: at,
        })
        .await
        .unwrap();
    let mut gated_run = agentic_core::model::Run::queued(
        tenant.id,
        project.id,
        "devops_engineer",
        serde_json::json!({}),
        agentic_core::model::RiskLevel::High,
        admin.id,
        at,
    );
    gated_run.status = agentic_core::model::RunStatus::AwaitingApproval;
    let approval = agentic_core::model::Approval {
        id: agentic_core::ids::ApprovalId::new(),
        tenant_id: tenant.id,
        run_id: gated_run.id,
        status: agentic_core::model::ApprovalStatus::Pending,
        requested_by: admin.id,
        decided_by: None,
        comment: None,
        created_at: at,
        expires_at: at + chrono::Duration::hours(1),
        decided_at: None,
    };
    handle.insert_gated_run(&gated_run, &approval).await.unwrap();
    let data = serde_json::json!({"agent": "qa_tester", "run_id": gated_run.id, "project_id": project.id});
    let event = agentic_core::events::Event::new(tenant.id, agentic_core::events::EventKind::AgentStarted, data, at);
    handle.append_events(std::slice::from_ref(&event)).await.unwrap();
    // A webhook endpoint with a delivery of that event, attempted once.
    let cipher = agentic_core::webhooks::cipher::SecretCipher::ephemeral().unwrap();
    let endpoint_id = agentic_core::ids::WebhookId::new();
    let secret = agentic_core::webhooks::signature::SigningSecret::generate().unwrap();
    handle
        .insert_endpoint(&agentic_core::model::WebhookEndpoint {
            id: endpoint_id,
            tenant_id: tenant.id,
            url: "https://93.184.215.14/hook".into(),
            description: String::new(),
            events: vec![agentic_core::model::EventPattern::parse("*").unwrap()],
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            secret: cipher.seal(tenant.id, endpoint_id, &secret).unwrap(),
            previous_secret: None,
            created_by: admin.id,
            created_at: at,
            updated_at: at,
        })
        .await
        .unwrap();
    let delivery = agentic_core::store::NewDelivery {
        id: agentic_core::ids::DeliveryId::new(),
        tenant_id: tenant.id,
        endpoint_id,
        event_id: event.id,
        event_type: event.kind,
        due_at: at - chrono::Duration::seconds(1),
    };
    assert_eq!(handle.requeue_deliveries(std::slice::from_ref(&delivery)).await.unwrap(), 1);
    let claimed = store.system().claim_deliveries("w", at, chrono::Duration::seconds(30), 10).await.unwrap();
    assert_eq!(claimed.iter().map(|c| c.delivery.id).collect::<Vec<_>>(), [delivery.id]);
    let log = agentic_core::model::DeliveryAttempt {
        number: 1,
        attempted_at: at,
        status_code: Some(500),
        duration_ms: 3,
        response_body: None,
        error: Some("the receiver answered 500".into()),
    };
    let record = agentic_core::store::AttemptRecord {
        delivery: delivery.id,
        worker: "w",
        attempt: 1,
        log,
        next: agentic_core::store::NextStep::RetryAt(at + chrono::Duration::hours(1)),
        disable: None,
    };
    assert!(handle.record_attempt(&record).await.unwrap());
    handle
        .insert_run(
            &agentic_core::model::Run::queued(
                tenant.id,
                project.id,
                "qa_tester",
                serde_json::json!({}),
                agentic_core::model::RiskLevel::Low,
                admin.id,
                at,
            ),
            &[],
        )
        .await
        .unwrap();
    let schedule: agentic_core::model::Schedule = serde_json::from_value(serde_json::json!({
        "id": agentic_core::ids::ScheduleId::new(), "tenant_id": tenant.id, "project_id": project.id,
        "name": "nightly", "note": null, "target": {"agent": "qa_tester", "task": "t"}, "risk_level": null,
        "spec": {"cron": "@daily"}, "overlap_policy": "skip", "catchup_window": "1h", "jitter": "0s",
        "paused": false, "created_by": admin.id, "run_as": admin.id, "created_at": at, "updated_at": at,
        "next_fire_at": at, "next_start_at": at, "buffered": [], "wake_at": at, "last_fire_at": null,
        "last_run_id": null, "fires_started": 0, "fires_skipped": 0, "version": 0,
    }))
    .unwrap();
    handle.insert_schedule(&schedule).await.unwrap();
    let scope = agentic_core::store::ContextScope { tenant: tenant.id, project: project.id };
    let by = agentic_core::model::Provenance::default();
    let write = agentic_core::model::ContextWrite {
        key: "plan",
        provenance: &by,
        ttl: std::time::Duration::from_secs(3600),
        now: at,
        limits: agentic_core::model::ContextLimits::default(),
    };
    let value = serde_json::json!({"tenant": slug});
    store.context_store().put(scope, &value, agentic_core::model::Expect::Any, &write).await.unwrap().unwrap();
    let base = agentic_core::model::KnowledgeBase {
        id: agentic_core::ids::KnowledgeBaseId::new(),
        tenant_id: tenant.id,
        project_id: Some(project.id),
        name: "Handbook".into(),
        description: String::new(),
        language: agentic_core::model::TextLanguage::English,
        created_by: admin.id,
        created_at: at,
        documents: 0,
        chunks: 0,
    };
    handle.insert_knowledge_base(&base).await.unwrap();
    let text = format!("# {slug}\n\nThe handbook of {slug}.");
    let chunks = agentic_core::knowledge::chunk(&text, agentic_core::knowledge::ChunkSizes::default());
    let document = agentic_core::model::KnowledgeDocument {
        id: agentic_core::ids::DocumentId::new(),
        knowledge_base_id: base.id,
        title: slug.into(),
        media_type: "text/markdown".into(),
        content_hash: agentic_core::knowledge::content_hash(&text),
        size_bytes: text.len() as u64,
        chunk_count: chunks.len() as u32,
        created_by: admin.id,
        created_at: at,
    };
    let vectors = agentic_core::knowledge::ChunkVectors {
        model: "m".into(),
        vectors: chunks.iter().map(|_| vec![1.0, 0.0]).collect(),
    };
    handle.insert_document(&document, &chunks, Some(&vectors)).await.unwrap();
    tenant.id
}

/// Every table of the schema, with the column that names its tenant (`None` for global tables).
async fn tenant_tables(db: &TestDatabase) -> BTreeMap<String, Option<String>> {
    let rows = sqlx::query(
        "SELECT c.relname::text AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced, \
                EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' \
                        AND NOT a.attisdropped) AS has_tenant_id, \
                (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&db.admin_pool)
    .await
    .unwrap();
    let mut tables = BTreeMap::new();
    for row in rows {
        let name: String = row.get("name");
        if GLOBAL_TABLES.contains(&name.as_str()) {
            tables.insert(name, None);
            continue;
        }
        let (rls, forced, has_tenant_id, policies): (bool, bool, bool, i64) =
            (row.get("rls"), row.get("forced"), row.get("has_tenant_id"), row.get("policies"));
        assert!(rls && forced, "table {name} must ENABLE and FORCE ROW LEVEL SECURITY");
        assert!(policies > 0, "table {name} has no row-level security policy");
        let column = if name == "tenants" {
            "id"
        } else {
            assert!(has_tenant_id, "table {name} is neither global nor tenant-owned (no tenant_id column)");
            "tenant_id"
        };
        tables.insert(name, Some(column.to_owned()));
    }
    tables
}

#[tokio::test]
async fn the_runtime_role_sees_only_the_current_tenant() {
    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    let a = populate(&db.store, "alpha").await;
    let b = populate(&db.store, "bravo").await;
    let tables = tenant_tables(&db).await;
    let owned: Vec<(&String, &String)> = tables.iter().filter_map(|(t, c)| c.as_ref().map(|c| (t, c))).collect();
    assert!(owned.len() >= 6, "{tables:?}");

    let pool = db.store.pool();
    // The connection really is the restricted role.
    let who = sqlx::query(
        "SELECT current_user::text AS u, (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user) AS bypass, \
                           (SELECT count(*) FROM pg_tables WHERE tableowner = current_user) AS owned",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(who.get::<String, _>("u"), "agentic_app");
    assert!(!who.get::<bool, _>("bypass"));
    assert_eq!(who.get::<i64, _>("owned"), 0);

    for (table, column) in &owned {
        let select = format!("SELECT {column} AS tenant FROM {table}");

        // Scoped to A: only A's rows, and at least one.
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("SELECT set_config('app.current_tenant', $1, true)")
            .bind(a.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        let seen: Vec<Uuid> = sqlx::query_scalar(AssertSqlSafe(select.clone())).fetch_all(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(!seen.is_empty(), "{table}: A's rows are missing");
        assert!(seen.iter().all(|t| *t == a.as_uuid()), "{table}: rows of another tenant are visible: {seen:?}");

        // Unscoped: nothing at all.
        let mut tx = pool.begin().await.unwrap();
        let seen: Vec<Uuid> = sqlx::query_scalar(AssertSqlSafe(select.clone())).fetch_all(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(seen.is_empty(), "{table}: rows are visible with no tenant set: {seen:?}");

        // The migration role (owner) sees both tenants, so the rows exist.
        let all: Vec<Uuid> = sqlx::query_scalar(AssertSqlSafe(select)).fetch_all(&db.admin_pool).await.unwrap();
        assert!(all.contains(&b.as_uuid()), "{table}: B's rows were not written");
    }
}

#[tokio::test]
async fn the_runtime_role_cannot_write_into_another_tenant() {
    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    let a = populate(&db.store, "alpha").await;
    let b = populate(&db.store, "bravo").await;
    let pool = db.store.pool();
    let attempts = [
        "INSERT INTO departments (tenant_id, id, name, created_at) VALUES ($1, gen_random_uuid(), 'Evil', now())",
        "INSERT INTO users (tenant_id, id, email, password_hash, active, created_at, updated_at) \
         VALUES ($1, gen_random_uuid(), 'evil@x.test', 'x', true, now(), now())",
        "UPDATE tenants SET name = 'pwned' WHERE id = $1",
    ];
    for statement in attempts {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("SELECT set_config('app.current_tenant', $1, true)")
            .bind(a.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        let result = sqlx::query(statement).bind(b.as_uuid()).execute(&mut *tx).await;
        match result {
            Err(sqlx::Error::Database(e)) => assert_eq!(e.code().as_deref(), Some("42501"), "{statement}: {e}"),
            Ok(done) => assert_eq!(done.rows_affected(), 0, "{statement} changed another tenant's rows"),
            Err(other) => panic!("{statement}: {other}"),
        }
        tx.rollback().await.unwrap();
    }
    let name: String = sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1")
        .bind(b.as_uuid())
        .fetch_one(&db.admin_pool)
        .await
        .unwrap();
    assert_eq!(name, "Tenant bravo", "unchanged");
    // And the setting cannot be smuggled in as SQL text: it is a bound parameter.
    let mut tx = pool.begin().await.unwrap();
    let injected = sqlx::query("SELECT set_config('app.current_tenant', $1, true)")
        .bind(format!("{a}'; SET app.current_tenant = '{b}"))
        .execute(&mut *tx)
        .await;
    assert!(injected.is_ok());
    let bad = sqlx::query_scalar::<_, Uuid>("SELECT id FROM tenants").fetch_all(&mut *tx).await;
    assert!(bad.is_err(), "a malformed tenant id must not be read as one");
}

#[tokio::test]
async fn reference_tables_match_the_code() {
    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT role, permission FROM role_permissions ORDER BY 1, 2")
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    let mut expected: Vec<(String, String)> = Role::ALL
        .iter()
        .flat_map(|r| r.permissions().iter().map(move |p| (r.as_str().to_owned(), p.as_str().to_owned())))
        .collect();
    expected.sort();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn functions_resolve_names_with_pg_temp_last() {
    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    let rows = sqlx::query(
        "SELECT p.proname::text AS name, p.prosecdef AS definer, array_to_string(p.proconfig, ',') AS config \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = 'public' AND p.prokind = 'f' AND p.proname <> 'app_current_tenant'",
    )
    .fetch_all(&db.admin_pool)
    .await
    .unwrap();
    let definers = rows.iter().filter(|r| r.get::<bool, _>("definer")).count();
    assert!(definers >= 6, "the SECURITY DEFINER functions are found: {definers}");
    for row in &rows {
        let name: String = row.get("name");
        let config: Option<String> = row.get("config");
        assert_eq!(config.as_deref(), Some("search_path=pg_catalog, public, pg_temp"), "{name}");
    }
}

#[tokio::test]
async fn a_tenant_function_refuses_a_tenant_other_than_the_bound_one() {
    let Some(url) = database_url() else { return };
    let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
    let a = populate(&db.store, "alpha").await;
    let b = populate(&db.store, "bravo").await;
    let pool = db.store.pool();

    // In a transaction bound to A, asking for B's tenant record is refused (and would have rebound it to B).
    let mut tx = pool.begin().await.unwrap();
    bind(&mut tx, a).await;
    let refused = sqlx::query("SELECT * FROM tenant_get_tenant($1)").bind(b.as_uuid()).fetch_all(&mut *tx).await;
    let error = refused.unwrap_err().to_string();
    assert!(error.contains("bound to another tenant"), "{error}");
    tx.rollback().await.unwrap();

    // The bound tenant itself, and an unbound call (autocommit), work.
    let mut tx = pool.begin().await.unwrap();
    bind(&mut tx, a).await;
    let own = sqlx::query("SELECT id FROM tenant_get_tenant($1)").bind(a.as_uuid()).fetch_all(&mut *tx).await;
    assert_eq!(own.unwrap().len(), 1);
    tx.rollback().await.unwrap();
    let alone = sqlx::query("SELECT id FROM tenant_get_tenant($1)").bind(b.as_uuid()).fetch_all(pool).await.unwrap();
    assert_eq!(alone.len(), 1);
    // After an autocommit call the setting is empty again, so the next one may bind any tenant.
    let next = sqlx::query("SELECT id FROM tenant_get_tenant($1)").bind(a.as_uuid()).fetch_all(pool).await.unwrap();
    assert_eq!(next.len(), 1);
}

async fn bind(tx: &mut sqlx::PgConnection, tenant: TenantId) {
    sqlx::query("SELECT set_config('app.current_tenant', $1, true)")
        .bind(tenant.to_string())
        .execute(tx)
        .await
        .unwrap();
}
