//! The restore drill: a populated database dumped with `pg_dump`, restored with `pg_restore` into a fresh
//! database, and the server started on the copy: tenants, keys, runs, costs, events and knowledge are all there,
//! and row-level security still holds (another tenant sees none of it; the runtime role sees nothing unscoped).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use agentic_store_postgres::testing::database_url;
use common::{EmptyDatabase, KEY, get, request, server, stop, wait_for_listen_line};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

const MASTER: &str = "restore-drill-master-key-0123456789abcdef";

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

fn start(url: &str) -> (std::process::Child, String) {
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("AGENTIC_MASTER_KEY", MASTER)
        .env("DATABASE_URL", url)
        .env("AGENTIC_DB_POOL_SIZE", "4")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    (child, addr)
}

fn call(addr: &str, method: &str, path: &str, bearer: &str, body: Value) -> (u16, Value) {
    let body = if body.is_null() { String::new() } else { body.to_string() };
    let (status, reply) = request(addr, method, path, bearer, "application/json", &body);
    (status, json_of(&reply))
}

fn pg(tool: &str, args: &[&str]) {
    let output = std::process::Command::new(tool).args(args).output().unwrap();
    assert!(output.status.success(), "{tool}: {}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_restored_into_a_fresh_database_serves_everything_and_keeps_tenants_apart() {
    let Some(admin_url) = database_url() else { return };
    let original = EmptyDatabase::create(&admin_url).await;
    let migrated = server().arg("migrate").env("DATABASE_URL", original.url()).output().unwrap();
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));

    // Populate: a project with a run (its cost and events), a second tenant, an API key, a knowledge base.
    let (mut child, addr) = start(&original.url());
    let (status, project) = call(&addr, "POST", "/v1/projects", KEY, json!({"name": "Drill", "budget": "5.00"}));
    assert_eq!(status, 201, "{project}");
    let task = json!({"task": "Say hello", "project_id": project["id"], "wait": 30});
    let (status, run) = call(&addr, "POST", "/v1/agents/qa_tester/execute", KEY, task);
    assert_eq!((status, run["status"].as_str()), (200, Some("completed")), "{run}");
    let tenant = json!({"name": "Other", "slug": "other", "plan": "developer",
        "admin_email": "boss@other.test", "admin_password": "other password 123"});
    assert_eq!(call(&addr, "POST", "/v1/tenants", MASTER, tenant).0, 201);
    let (status, key) = call(&addr, "POST", "/v1/api-keys", KEY, json!({"name": "drill", "scopes": []}));
    assert_eq!(status, 201, "{key}");
    let (status, base) = call(&addr, "POST", "/v1/knowledge", KEY, json!({"name": "Runbooks"}));
    assert_eq!(status, 201, "{base}");
    let documents = format!("/v1/knowledge/{}/documents", base["id"].as_str().unwrap());
    let upload = json!({"content": "# Restore\n\nRestore drills run every quarter."});
    assert_eq!(call(&addr, "POST", &documents, KEY, upload).0, 201);
    stop(&mut child);

    // Dump, and restore into a fresh database.
    let dump = std::env::temp_dir().join(format!("agentic-drill-{}.dump", std::process::id()));
    pg("pg_dump", &["--format=custom", "--file", dump.to_str().unwrap(), "--dbname", &original.url()]);
    let restored = EmptyDatabase::create(&admin_url).await;
    pg("pg_restore", &["--exit-on-error", "--dbname", &restored.url(), dump.to_str().unwrap()]);
    std::fs::remove_file(&dump).unwrap();
    original.drop_it().await;

    // The server starts on the copy without migrating, and everything is there.
    let (mut child, addr) = start(&restored.url());
    let (status, me) = get(&addr, "/v1/me", Some(KEY));
    assert_eq!(status, 200, "the bootstrap key still signs in: {me}");
    let new_key = key["key"].as_str().unwrap();
    assert_eq!(get(&addr, "/v1/me", Some(new_key)).0, 200, "a key made before the dump");
    let run_path = format!("/v1/runs/{}", run["id"].as_str().unwrap());
    let (status, again) = call(&addr, "GET", &run_path, KEY, Value::Null);
    assert_eq!((status, again["status"].as_str()), (200, Some("completed")), "{again}");
    let costs = format!("/v1/projects/{}/costs", project["id"].as_str().unwrap());
    let (status, costs) = call(&addr, "GET", &costs, KEY, Value::Null);
    assert_eq!(status, 200, "{costs}");
    assert!(costs["total"]["calls"].as_u64().unwrap() >= 1, "{costs}");
    let (status, events) = call(&addr, "GET", "/v1/events?type=agent.completed", KEY, Value::Null);
    assert_eq!(status, 200, "{events}");
    assert!(!events["data"].as_array().unwrap().is_empty(), "{events}");
    let search = format!("/v1/knowledge/{}/search", base["id"].as_str().unwrap());
    let (status, hits) = call(&addr, "POST", &search, KEY, json!({"query": "restore drill"}));
    assert_eq!((status, hits["data"].as_array().map(Vec::len)), (200, Some(1)), "{hits}");

    // Row-level security holds on the copy: the other tenant sees none of it.
    let login = json!({"tenant": "other", "email": "boss@other.test", "password": "other password 123"});
    let (status, session) = call(&addr, "POST", "/v1/auth/login", "", login);
    assert_eq!(status, 200, "{session}");
    let other = session["access_token"].as_str().unwrap();
    assert_eq!(call(&addr, "GET", &run_path, other, Value::Null).0, 404);
    let (_, projects) = call(&addr, "GET", "/v1/projects", other, Value::Null);
    assert_eq!(projects["data"], json!([]), "{projects}");
    assert_eq!(call(&addr, "POST", &search, other, json!({"query": "restore"})).0, 404);
    stop(&mut child);

    // And for the runtime role itself: nothing without a tenant, only the tenant's rows with one.
    let mut conn = PgConnection::connect(&restored.url()).await.unwrap();
    sqlx::query("SET ROLE agentic_app").execute(&mut conn).await.unwrap();
    let unscoped: i64 = sqlx::query_scalar("SELECT count(*) FROM runs").fetch_one(&mut conn).await.unwrap();
    assert_eq!(unscoped, 0, "runs are visible with no tenant set");
    let tenant_id = me_tenant(&me);
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.current_tenant', $1, true)").bind(&tenant_id).execute(&mut *tx).await.unwrap();
    let scoped: i64 = sqlx::query_scalar("SELECT count(*) FROM runs").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(scoped, 1);
    tx.rollback().await.unwrap();
    conn.close().await.unwrap();
    restored.drop_it().await;
}

fn me_tenant(me: &str) -> String {
    json_of(me)["user"]["tenant_id"].as_str().unwrap().to_owned()
}
