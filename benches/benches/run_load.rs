//! Load harness: the platform's overhead on one agent execution over real HTTP, with an instant mock LLM.
//!
//! Each request is `POST /v1/agents/developer/execute` with `wait`, answered once the run is completed: API-key
//! auth, per-IP + tenant + route rate limits (memory limiter, quotas far above the load), the run record, a
//! worker's claim under a lease, the agent loop (budget reserve → mock LLM → settle with a cost record), `agent.*`
//! events, the finish, and the waiter's wake-up. Reports req/s, p50/p99 and the process's memory at concurrency
//! 16 and 64, on the memory store and (with `DATABASE_URL`) on PostgreSQL. Client and server share the process
//! and its cores; the memory store keeps every run, so its RSS grows with the runs stored.
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p agentic-benches --bench run_load`
//! (`LOAD_SECS` per step, default 10; `LOAD_WORKERS` run workers, default 16).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentic_core::Platform;
use agentic_core::limit::{PlanQuotas, Quota, RateLimitPolicy, RouteOverride};
use agentic_core::store::Store;
use agentic_llm::mock::MockProvider;
use agentic_llm::registry::ProviderRegistry;
use agentic_store_memory::{MemoryRateLimiter, MemoryStore};
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::TestDatabase;
use secrecy::ExposeSecret;
use serde_json::json;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Quotas high enough never to refuse, so every check runs and none decides.
fn generous_limits() -> RateLimitPolicy {
    let lots = Quota::per_minute(100_000_000);
    RateLimitPolicy {
        per_ip: Some(lots),
        plans: PlanQuotas { free: Some(lots), developer: Some(lots), enterprise: Some(lots) },
        per_principal: Some(lots),
        routes: vec![RouteOverride {
            method: Some("POST".into()),
            route: "/v1/agents/{name}/execute".into(),
            quota: lots,
        }],
        ..RateLimitPolicy::default()
    }
}

/// Resident and peak memory of this process, in MiB.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Server {
    url: String,
    key: String,
    project: String,
    stop: tokio::sync::watch::Sender<bool>,
}

async fn serve(store: Arc<dyn Store>, workers: u64) -> Server {
    let platform = Platform::builder()
        .store(store)
        .llm_providers(Arc::new(ProviderRegistry::mock_only(Arc::new(MockProvider::echo()))))
        .rate_limits(Arc::new(MemoryRateLimiter::new()), generous_limits())
        .build()
        .unwrap();
    let report = agentic_benches::bootstrap(&platform).await.unwrap();
    let project = agentic_benches::project(&platform, report.tenant.id, report.admin.id, "load").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for n in 0..workers {
        let (platform, mut stopped) = (platform.clone(), stopped.clone());
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            platform.run_worker(format!("load-{n}"), Duration::from_millis(250), shutdown).await;
        });
    }
    let app = platform.router().into_make_service_with_connect_info::<SocketAddr>();
    let mut stopped = stopped;
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
            .unwrap();
    });
    Server {
        url: format!("http://{addr}"),
        key: report.api_key.expose_secret().to_owned(),
        project: project.id.to_string(),
        stop,
    }
}

/// `concurrency` clients executing runs back to back for `seconds`; returns latencies of completed runs and the
/// number of failures.
async fn drive(server: &Server, concurrency: u64, seconds: u64) -> (Vec<Duration>, u64, f64) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(128).build().unwrap();
    let url = format!("{}/v1/agents/developer/execute", server.url);
    let body = json!({"task": "Write a hello world function", "project_id": server.project, "wait": 30});
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, body, key) = (client.clone(), url.clone(), body.clone(), server.key.clone());
            tokio::spawn(async move {
                let (mut latencies, mut failures) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let response = client.post(&url).bearer_auth(&key).json(&body).send().await;
                    let ok = match response {
                        Ok(response) if response.status() == 200 => {
                            response.json::<serde_json::Value>().await.is_ok_and(|run| run["status"] == "completed")
                        }
                        Ok(response) => {
                            if failures == 0 {
                                eprintln!(
                                    "  failure: {} {}",
                                    response.status(),
                                    response.text().await.unwrap_or_default()
                                );
                            }
                            false
                        }
                        Err(error) => {
                            if failures == 0 {
                                eprintln!("  failure: {error}");
                            }
                            false
                        }
                    };
                    if ok {
                        latencies.push(t.elapsed());
                    } else {
                        failures += 1;
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let (mut latencies, mut failures) = (Vec::new(), 0);
    for task in tasks {
        let (l, f) = task.await.unwrap();
        latencies.extend(l);
        failures += f;
    }
    (latencies, failures, started.elapsed().as_secs_f64())
}

/// Runs the steps on `store`; returns the number of requests that failed.
async fn run(label: &str, store: Arc<dyn Store>) -> u64 {
    let (seconds, workers) = (env_number("LOAD_SECS", 10), env_number("LOAD_WORKERS", 16));
    let server = serve(store, workers).await;
    let (warm_up, _, _) = drive(&server, 16, 1).await; // connections, pools, caches
    let mut runs_stored = warm_up.len();
    let mut failed = 0;
    for concurrency in [16, 64] {
        let (mut latencies, failures, elapsed) = drive(&server, concurrency, seconds).await;
        runs_stored += latencies.len();
        failed += failures;
        latencies.sort();
        let p = |q: f64| {
            latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1))).copied()
        };
        let (rss, peak) = memory_mib();
        println!(
            "run_load {label} c={concurrency} workers={workers}: {:.0} runs/s, p50 {:?} p99 {:?}, {failures} failed; \
             rss {rss:.0} MiB (peak {peak:.0} MiB) with {runs_stored} runs stored",
            latencies.len() as f64 / elapsed,
            p(0.5).unwrap_or_default(),
            p(0.99).unwrap_or_default(),
        );
    }
    let _ = server.stop.send(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    failed
}

fn main() {
    agentic_llm::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let failed = runtime.block_on(async {
        let mut failed = run("memory", Arc::new(MemoryStore::new())).await;
        match std::env::var("DATABASE_URL") {
            Ok(url) => {
                let options = PgStoreOptions { max_connections: 16, ..PgStoreOptions::default() };
                let db = TestDatabase::create(&url, options).await.unwrap();
                failed += run("postgres", Arc::new(db.store.clone())).await;
                drop(db);
            }
            Err(_) => eprintln!("run_load postgres: skipped (set DATABASE_URL)"),
        }
        failed
    });
    // A load run is also a check: figures over failed requests mean nothing.
    if failed > 0 {
        eprintln!("run_load: {failed} requests failed");
        std::process::exit(1);
    }
}
