//! The server binary on PostgreSQL: migrate, serve, persist across restarts, refuse wrong schemas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::Read;

use agentic_store_postgres::testing::database_url;
use common::{EmptyDatabase, KEY, get, post, server, stop, wait_for_listen_line};
use sqlx::{Connection, PgConnection};

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrates_serves_and_keeps_its_data_across_restarts() {
    let Some(admin_url) = database_url() else { return };
    let db = EmptyDatabase::create(&admin_url).await;

    let migrated = server().arg("migrate").env("DATABASE_URL", db.url()).output().unwrap();
    assert!(migrated.status.success(), "{}", stderr_of(&migrated));

    let start = || {
        server()
            .env("AGENTIC_BIND", "127.0.0.1:0")
            .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
            .env("DATABASE_URL", db.url())
            .env("AGENTIC_DB_POOL_SIZE", "4")
            .spawn()
            .unwrap()
    };
    let mut first = start();
    let (addr, banner) = wait_for_listen_line(&mut first);
    assert!(banner.contains("created tenant `default`"), "{banner}");
    assert_eq!(get(&addr, "/ready", None).0, 200);
    let (status, body) = get(&addr, "/v1/me", Some(KEY));
    assert_eq!(status, 200, "{body}");
    stop(&mut first);

    // Restarted: nothing is bootstrapped again, and the stored key still works.
    let mut second = start();
    let (addr, banner) = wait_for_listen_line(&mut second);
    assert!(!banner.contains("created tenant"), "{banner}");
    let (status, body) = get(&addr, "/v1/me", Some(KEY));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("admin@example.com"));
    stop(&mut second);
    let mut stderr = String::new();
    second.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!stderr.contains(KEY), "the API key reached the log");
    db.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_unmigrated_and_newer_schemas_and_migrates_on_request() {
    let Some(admin_url) = database_url() else { return };
    let db = EmptyDatabase::create(&admin_url).await;

    let unmigrated = server().env("AGENTIC_BIND", "127.0.0.1:0").env("DATABASE_URL", db.url()).output().unwrap();
    assert_eq!(unmigrated.status.code(), Some(1));
    assert!(stderr_of(&unmigrated).contains("agentic-server migrate"), "{}", stderr_of(&unmigrated));

    // --migrate applies the migrations at start-up.
    let mut child =
        server().args(["--migrate"]).env("AGENTIC_BIND", "127.0.0.1:0").env("DATABASE_URL", db.url()).spawn().unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    assert_eq!(get(&addr, "/health", None).0, 200);
    stop(&mut child);

    let mut conn = PgConnection::connect(&db.url()).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99991231000000, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let newer = server().env("AGENTIC_BIND", "127.0.0.1:0").env("DATABASE_URL", db.url()).output().unwrap();
    assert_eq!(newer.status.code(), Some(1));
    assert!(stderr_of(&newer).contains("newer than this build"), "{}", stderr_of(&newer));
    db.drop_it().await;
}

#[test]
fn an_unreachable_database_stops_start_up_with_a_clear_message() {
    let output = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/agentic")
        .env("AGENTIC_DB_ACQUIRE_TIMEOUT_SECS", "2")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("cannot connect to PostgreSQL"), "{}", stderr_of(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_survives_its_server_being_killed() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let Some(admin_url) = database_url() else { return };
    let db = EmptyDatabase::create(&admin_url).await;
    assert!(server().arg("migrate").env("DATABASE_URL", db.url()).output().unwrap().status.success());

    // A slow model: each answer takes 3 s, long enough to kill the server mid-call.
    let llm = MockServer::start().await;
    let answer = serde_json::json!({"id": "c", "object": "chat.completion", "model": "slow",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "done"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3}});
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer).set_delay(std::time::Duration::from_secs(3)))
        .mount(&llm)
        .await;
    let dir = std::env::temp_dir().join(format!("agentic-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pricing = dir.join("pricing.toml");
    std::fs::write(&pricing, "[free]\nproviders = [\"openai\"]\n").unwrap();

    let start = || {
        server()
            .env("AGENTIC_BIND", "127.0.0.1:0")
            .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
            .env("DATABASE_URL", db.url())
            .env("OPENAI_BASE_URL", format!("{}/v1", llm.uri()))
            .env("AGENTIC_LLM_DEFAULT_PROVIDER", "openai")
            .env("AGENTIC_PRICING_FILE", &pricing)
            .env("AGENTIC_RUN_LEASE_SECS", "2")
            .env("AGENTIC_WORKERS", "1")
            .spawn()
            .unwrap()
    };
    let mut first = start();
    let (addr, _) = wait_for_listen_line(&mut first);
    let (status, project) = post(&addr, "/v1/projects", KEY, r#"{"name":"Durable"}"#);
    assert_eq!(status, 201, "{project}");
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let body = format!(r#"{{"task":"Do it","project_id":"{}"}}"#, project["id"].as_str().unwrap());
    let (status, run) = post(&addr, "/v1/agents/developer/execute", KEY, &body);
    assert_eq!(status, 202, "{run}");
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    let run_id = run["id"].as_str().unwrap().to_owned();

    // Wait until the worker is inside the model call, then SIGKILL the server.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while llm.received_requests().await.unwrap_or_default().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the worker never called the model");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();

    // A fresh server takes the run over once the dead worker's lease lapses, and finishes it.
    let mut second = start();
    let (addr, _) = wait_for_listen_line(&mut second);
    let (status, done) = get(&addr, &format!("/v1/runs/{run_id}/result?wait=30"), Some(KEY));
    assert_eq!(status, 200, "{done}");
    let done: serde_json::Value = serde_json::from_str(&done).unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["attempts"], 2, "{done}");
    assert_eq!(done["output"]["answer"], "done");
    stop(&mut second);
    std::fs::remove_dir_all(&dir).unwrap();
    db.drop_it().await;
}
