//! Schedules fire exactly once across replicas: three servers on one PostgreSQL, an every-second schedule for a
//! minute, one server SIGKILLed midway and started again. Every fire time from the first to the last started
//! exactly one run (counted by the runs' idempotency keys, which name their fire times), with no gap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use agentic_store_postgres::testing::database_url;
use common::{EmptyDatabase, KEY, get, post, server, stop, wait_for_listen_line};

/// How long the schedule runs.
const WINDOW: Duration = Duration::from_secs(60);

fn start(url: &str) -> (Child, String) {
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("DATABASE_URL", url)
        .env("AGENTIC_DB_MIGRATE", "true")
        .env("AGENTIC_DB_POOL_SIZE", "6")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_start_one_run_per_fire_time_while_one_is_killed_and_restarted() {
    let Some(admin_url) = database_url() else { return };
    let db = EmptyDatabase::create(&admin_url).await;
    let (mut first, addr) = start(&db.url());
    let (mut second, _) = start(&db.url());
    let (mut third, _) = start(&db.url());

    let (status, project) = post(&addr, "/v1/projects", KEY, r#"{"name": "Nightly"}"#);
    assert_eq!(status, 201, "{project}");
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let body = serde_json::json!({"name": "every second", "target": {"agent": "qa_tester", "task": "ping"},
        "project_id": project["id"], "spec": {"every": "1s"}, "overlap_policy": "allow_all"});
    let (status, schedule) = post(&addr, "/v1/schedules", KEY, &body.to_string());
    assert_eq!(status, 201, "{schedule}");
    let schedule: serde_json::Value = serde_json::from_str(&schedule).unwrap();
    let id = schedule["id"].as_str().unwrap().to_owned();

    let started = Instant::now();
    std::thread::sleep(WINDOW / 3);
    first.kill().unwrap();
    first.wait().unwrap();
    let killed_at = started.elapsed();
    std::thread::sleep(Duration::from_secs(10));
    let (mut restarted, addr) = start(&db.url());
    std::thread::sleep(WINDOW.saturating_sub(started.elapsed()));
    let (status, paused) = post(&addr, &format!("/v1/schedules/{id}/pause"), KEY, "{}");
    assert_eq!(status, 200, "{paused}");
    // A pass that claimed the schedule before the pause either wrote before it or is refused; let it settle.
    std::thread::sleep(Duration::from_secs(2));

    let (status, runs) = get(&addr, &format!("/v1/schedules/{id}/runs?limit=200"), Some(KEY));
    assert_eq!(status, 200, "{runs}");
    let runs: serde_json::Value = serde_json::from_str(&runs).unwrap();
    let mut per_fire: BTreeMap<i64, usize> = BTreeMap::new();
    for run in runs["data"].as_array().unwrap() {
        let key = run["idempotency_key"].as_str().expect("a scheduled run names its fire");
        let millis: i64 = key.rsplit(':').next().unwrap().parse().unwrap();
        *per_fire.entry(millis).or_default() += 1;
    }
    let twice: Vec<_> = per_fire.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "fire times with more than one run: {twice:?}");
    let (first_fire, last_fire) = (*per_fire.keys().next().unwrap(), *per_fire.keys().last().unwrap());
    let expected = usize::try_from((last_fire - first_fire) / 1000 + 1).unwrap();
    let missing: Vec<_> =
        (0..expected as i64).map(|i| first_fire + i * 1000).filter(|at| !per_fire.contains_key(at)).collect();
    assert!(missing.is_empty(), "fire times without a run: {missing:?}");
    assert!(per_fire.len() >= 55, "about a minute of fire times: {}", per_fire.len());
    let (_, schedule) = get(&addr, &format!("/v1/schedules/{id}"), Some(KEY));
    let schedule: serde_json::Value = serde_json::from_str(&schedule).unwrap();
    println!(
        "{} fire times, one run each, no gap; server killed at {killed_at:?} and restarted 10 s later; \
         the schedule counts {} started, {} skipped",
        per_fire.len(),
        schedule["fires_started"],
        schedule["fires_skipped"]
    );
    for child in [&mut second, &mut third, &mut restarted] {
        stop(child);
    }
    db.drop_it().await;
}
