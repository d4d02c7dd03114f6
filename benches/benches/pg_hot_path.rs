//! The PostgreSQL hot path, in-process: authenticate an API key (lookup + hash + owner), build the principal, and
//! insert one record in the principal's tenant — with a pool of 8 connections and 16 concurrent workers.
//! Reports operations/s and latency percentiles. Target: ≥ 2,000 ops/s on a 2-core machine.
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p agentic-benches --bench pg_hot_path`
//! (`PG_BENCH_SECONDS` and `PG_BENCH_WORKERS` override the 10 s and 16 workers.)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentic_core::Platform;
use agentic_core::clock::{Clock, SystemClock};
use agentic_core::ids::DepartmentId;
use agentic_core::model::Department;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::TestDatabase;
use secrecy::ExposeSecret;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; filters are not supported by this harness.
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("pg_hot_path: skipped (set DATABASE_URL)");
        return;
    };
    let seconds = env_number("PG_BENCH_SECONDS", 10);
    let workers = env_number("PG_BENCH_WORKERS", 16);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let options = PgStoreOptions { max_connections: 8, ..PgStoreOptions::default() };
        let db = TestDatabase::create(&url, options).await.unwrap();
        let platform = Platform::builder().store(Arc::new(db.store.clone())).build().unwrap();
        let report = agentic_benches::bootstrap(&platform).await.unwrap();
        let key: Arc<str> = report.api_key.expose_secret().into();
        let authenticator = platform.authenticator();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for worker in 0..workers {
            let (key, authenticator, store) = (Arc::clone(&key), Arc::clone(&authenticator), Arc::clone(platform.store()));
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0_u64;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let principal = authenticator.authenticate(&key).await.unwrap();
                    let department = Department {
                        id: DepartmentId::new(),
                        tenant_id: principal.tenant_id,
                        name: format!("d-{worker}-{n}"),
                        description: None,
                        created_at: SystemClock.now(),
                    };
                    store.tenant(principal.tenant_id).insert_department(&department).await.unwrap();
                    latencies.push(started.elapsed());
                    n += 1;
                }
                latencies
            }));
        }
        let started = Instant::now();
        let mut latencies: Vec<Duration> = Vec::new();
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "pg_hot_path: {} ops in {elapsed:.1} s = {:.0} ops/s (pool 8, {workers} workers); latency p50 {:?} p99 {:?} max {:?}",
            latencies.len(),
            latencies.len() as f64 / elapsed,
            pct(0.50),
            pct(0.99),
            latencies[latencies.len() - 1],
        );
        drop(db);
    });
}
