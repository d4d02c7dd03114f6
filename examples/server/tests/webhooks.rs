//! Webhook delivery survives the server: SIGKILLed with 1,000 events pending or in flight on PostgreSQL, then
//! started again beside a second server on the same database, it delivers every event, and no delivery is ever
//! attempted twice at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::process::Child;
use std::time::Duration;

use agentic_core::events::{Event, EventKind};
use agentic_core::model::Slug;
use agentic_core::store::Store;
use agentic_core::testing::receiver::{Receiver, Reply};
use agentic_store_postgres::testing::database_url;
use agentic_store_postgres::{PgStore, PgStoreOptions};
use common::{EmptyDatabase, KEY, post, server, stop, wait_for_listen_line};

const EVENTS: usize = 1_000;

/// A server on `url` that may deliver to loopback, with one-second attempts retried every 200 ms; its stderr
/// is drained on a thread (so a chatty log never blocks it) and returned when it ends.
fn start(url: &str) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("DATABASE_URL", url)
        .env("AGENTIC_DB_MIGRATE", "true")
        .env("AGENTIC_DB_POOL_SIZE", "8")
        .env("AGENTIC_WEBHOOK_ALLOW_HTTP", "on")
        .env("AGENTIC_WEBHOOK_ALLOWED_RANGES", "127.0.0.0/8")
        .env("AGENTIC_WEBHOOK_TIMEOUT_SECS", "1")
        .env("AGENTIC_WEBHOOK_RETRY_SCHEDULE", "0,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let log = common::drain_log(&mut child);
    (child, addr, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_loses_no_delivery_and_two_servers_never_attempt_one_twice_at_once() {
    let Some(admin_url) = database_url() else { return };
    let db = EmptyDatabase::create(&admin_url).await;
    // Every answer takes 30 ms, so attempts are in flight when the server dies.
    let receiver = Receiver::start(|_, _| Reply::status(200).after(Duration::from_millis(30))).await.unwrap();
    let (mut first, addr, _) = start(&db.url());
    let body = format!(r#"{{"url": "{}", "events": ["project.*"]}}"#, receiver.url);
    let (status, created) = post(&addr, "/v1/webhooks", KEY, &body);
    assert_eq!(status, 201, "{created}");

    // A thousand events stored as a settlement stores them (the outbox); the servers relay and deliver them.
    let store = PgStore::connect(&db.url(), PgStoreOptions::default()).await.unwrap();
    let tenant = store.system().tenant_by_slug(&Slug::parse("default").unwrap()).await.unwrap().unwrap();
    let events: Vec<Event> = (0..EVENTS)
        .map(|i| {
            let data =
                serde_json::json!({"project_id": uuid::Uuid::now_v7(), "budget": "1.00", "spent": format!("{i}")});
            Event::new(tenant.id, EventKind::ProjectBudgetWarning, data, chrono::Utc::now())
        })
        .collect();
    for chunk in events.chunks(250) {
        store.tenant(tenant.id).append_events(chunk).await.unwrap();
    }

    // Killed midway: some delivered, the rest pending or in flight.
    let some = receiver.wait_until(Duration::from_secs(60), |r| r.delivered_ids().len() >= 100).await;
    assert!(some, "deliveries started: {}", receiver.delivered_ids().len());
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = receiver.delivered_ids().len();
    assert!(at_kill < EVENTS, "the kill came before the end ({at_kill} delivered)");

    // Started again, with a second server on the same database.
    let (mut again, _, _) = start(&db.url());
    let (mut second, _, second_log) = start(&db.url());
    let all = receiver.wait_until(Duration::from_secs(90), |r| r.delivered_ids().len() == EVENTS).await;
    stop(&mut again);
    stop(&mut second);
    let log = second_log.join().unwrap();
    let expected: std::collections::HashSet<String> = events.iter().map(|e| e.id.to_string()).collect();
    assert!(
        all,
        "delivered {} of {EVENTS} (at the kill: {at_kill}); second server's log:\n{log}",
        receiver.delivered_ids().len()
    );
    assert_eq!(receiver.delivered_ids(), expected, "every event, and nothing else");
    assert_eq!(receiver.most_in_flight(), 1, "no delivery was attempted twice at once");
    let requests = receiver.received().len();
    println!("delivered {EVENTS} events in {requests} requests; {at_kill} before the kill");
    db.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_without_a_webhook_secret_key_is_refused() {
    let Some(admin_url) = database_url() else { return };
    let db = EmptyDatabase::create(&admin_url).await;
    let output = server()
        .env_remove("AGENTIC_WEBHOOK_SECRET_KEY")
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_DB_MIGRATE", "true")
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("AGENTIC_WEBHOOK_SECRET_KEY is required"), "{stderr}");
    db.drop_it().await;
}
