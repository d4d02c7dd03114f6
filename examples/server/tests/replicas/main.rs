//! The fault suite: three reference servers on one PostgreSQL database and one Redis, under load from clients that
//! keep a ledger of what they were told, while one server is SIGKILLed and started again, Redis is restarted and
//! PostgreSQL terminates every connection of the database. Then, each with its figure:
//!
//! - rate limits: a route's quota allows exactly its quota across the three servers, and every request it allowed
//!   is stored;
//! - budgets: 100 concurrent runs spread over the servers against a small budget spend no more than it, and what
//!   they spent is what their cost records say;
//! - runs: every run a client was told was accepted exists once and ends exactly once (one end event), and no run
//!   called the model more often than it was attempted (a run taken over after its server died starts again; its
//!   old server is gone, not still working on it), nor was charged for more calls than the model answered;
//! - webhooks: every `agent.*` event is delivered at least once, and never two attempts of one at once;
//! - schedules: an every-second schedule started exactly one run per fire time, with no gap.
//!
//! `AGENTIC_FAULT_SECS` sets how long the load and its faults last (30 s by default, as CI runs it;
//! `scripts/fault-suite` runs it longer and keeps the output).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../common/mod.rs"]
mod common;

mod checks;
mod cluster;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentic_core::testing::receiver::{Receiver, Reply};
use agentic_store_postgres::testing::database_url;
use common::EmptyDatabase;
use reqwest::Method;
use serde_json::json;
use sqlx::Connection;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use cluster::{Api, Cluster, REPLICAS, Redis};

/// Concurrent load clients, each pausing `PACE` between its requests.
const CLIENTS: usize = 4;
const PACE: Duration = Duration::from_millis(150);
/// The model the mock upstream says answered, priced at $3 in and $15 out per million tokens: with the 1,000 +
/// 1,000 tokens it reports, a call costs $0.018, near what a run holds before its call ($0.021).
const MODEL: &str = "claude-sonnet-4-20250514";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_keep_every_promise_while_a_server_redis_and_postgres_connections_fail() {
    let Some(admin_url) = database_url() else { return };
    let Some(mut redis) = Redis::start() else { return };
    let seconds: u64 = std::env::var("AGENTIC_FAULT_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let load_for = Duration::from_secs(seconds);
    let db = EmptyDatabase::create(&admin_url).await;

    // The model: every call answered after 250 ms, so that calls are in flight when a server dies.
    let upstream = MockServer::start().await;
    let answer = json!({
        "id": "chatcmpl-fault-suite", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Done: the change is reviewed and nothing needs fixing."}}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000}
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer).set_delay(Duration::from_millis(250)))
        .mount(&upstream)
        .await;
    let receiver = Receiver::start(|_, _| Reply::status(200).after(Duration::from_millis(20))).await.unwrap();

    let logs = std::env::temp_dir().join(format!("agentic-fault-suite-{}", std::process::id()));
    std::fs::create_dir_all(&logs).unwrap();
    let limits = logs.join("limits.toml");
    cluster::write_limits(&limits, checks::QUOTA);
    let cluster = Cluster { database_url: db.url(), redis_url: redis.url(), upstream: upstream.uri(), limits, logs };
    let mut children = Vec::new();
    let mut addrs = Vec::new();
    for slot in 0..REPLICAS {
        let (child, addr) = cluster.start(slot, 0);
        children.push(child);
        addrs.push(addr);
    }
    let api = Api { http: reqwest::Client::new(), addrs: Arc::new(Mutex::new(addrs)), retries: Arc::default() };
    println!("fault suite: {REPLICAS} servers, their logs in {}", cluster.logs.display());

    let hook = api.post("/v1/webhooks", &json!({"url": receiver.url, "events": ["agent.*"]})).await;
    assert!(hook["id"].is_string(), "{hook}");

    checks::rate_limits_hold_across_replicas(&api, "before the faults").await;
    checks::budgets_are_never_overspent(&api).await;

    // The load, the schedule and the faults.
    let project = api.post("/v1/projects", &json!({"name": "Under fire"})).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let body = json!({"name": "every second", "target": {"agent": "qa_tester", "task": "scheduled ping"},
        "project_id": project_id, "spec": {"every": "1s"}, "overlap_policy": "allow_all"});
    let schedule = api.post("/v1/schedules", &body).await;
    let schedule_id = schedule["id"].as_str().unwrap().to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let ledger: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (api, stop, next, ledger, project_id) =
            (api.clone(), stop.clone(), next.clone(), ledger.clone(), project_id.clone());
        clients.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let body = json!({"task": format!("ledger-{n}: review the change"), "project_id": project_id});
                let key = format!("ledger-{n}");
                let path = "/v1/agents/qa_tester/execute";
                let (status, run) = api.call(n, Method::POST, path, Some(&body), Some(&key)).await;
                assert_eq!(status, 202, "run {n} was not accepted: {run}");
                ledger.lock().unwrap().push((n, run["id"].as_str().unwrap().to_owned()));
                tokio::time::sleep(PACE).await;
            }
        });
    }

    let started = Instant::now();
    let at = |fraction: f64| load_for.mul_f64(fraction);
    let until = |moment: Duration| tokio::time::sleep(moment.saturating_sub(started.elapsed()));
    until(at(0.2)).await;
    children[1].kill().unwrap();
    children[1].wait().unwrap();
    let killed_at = started.elapsed();
    until(at(0.4)).await;
    let restarted = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.start(1, 1)).await.unwrap()
    };
    api.addrs.lock().unwrap()[1] = restarted.1.clone();
    children[1] = restarted.0;
    until(at(0.55)).await;
    let redis_at = started.elapsed();
    redis = tokio::task::spawn_blocking(move || {
        redis.restart(Duration::from_secs(1));
        redis
    })
    .await
    .unwrap();
    until(at(0.75)).await;
    let terminated = terminate_connections(&admin_url, &cluster.database_url).await;
    let terminated_at = started.elapsed();
    until(at(1.0)).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(client) = clients.join_next().await {
        client.unwrap();
    }
    let (status, paused) =
        api.call(0, Method::POST, &format!("/v1/schedules/{schedule_id}/pause"), Some(&json!({})), None).await;
    assert_eq!(status, 200, "{paused}");
    println!(
        "faults: server 1 SIGKILLed at {killed_at:.1?} and started again at {:.1?}; Redis restarted at \
         {redis_at:.1?}; {terminated} PostgreSQL connections terminated at {terminated_at:.1?}; the clients sent {} requests \
         again to the next server",
        at(0.4),
        api.retries.load(Ordering::Relaxed)
    );

    checks::rate_limits_hold_across_replicas(&api, "after Redis restarted").await;
    let ledger = ledger.lock().unwrap().clone();
    let runs = checks::runs_end_exactly_once(&api, &project_id, &ledger, &upstream).await;
    checks::webhooks_deliver_every_event_once_at_a_time(&api, &receiver).await;
    checks::schedules_fire_once_per_time(&api, &schedule_id, &runs).await;

    for child in &mut children {
        common::stop(child);
    }
    drop(redis);
    db.drop_it().await;
}

/// Terminates every connection to the database but the caller's; returns how many.
async fn terminate_connections(admin_url: &str, database_url: &str) -> i64 {
    let name = database_url.rsplit('/').next().unwrap().to_owned();
    let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()) AS terminated",
    )
    .bind(name)
    .fetch_one(&mut admin)
    .await
    .unwrap()
}
