//! Reserve + settle of one LLM call's budget, on the memory store and on PostgreSQL (pool 8, 16 workers).
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p agentic-benches --bench budget_path`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentic_core::Platform;
use agentic_core::engine::LlmCall;
use agentic_core::llm::{ChatRequest, ChatResponse, Message, StopReason, Usage};
use agentic_core::store::Store;
use agentic_store_memory::MemoryStore;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::TestDatabase;

const WORKERS: usize = 16;

async fn run(label: &str, store: Arc<dyn Store>, seconds: u64) {
    let platform = Platform::builder().store(store).build().unwrap();
    let report = agentic_benches::bootstrap(&platform).await.unwrap();
    let tenant = report.tenant.id;
    let project = agentic_benches::project(&platform, tenant, report.admin.id, "bench").await.unwrap();
    let request = ChatRequest::new("claude-sonnet-4-20250514", vec![Message::user("Summarise the incident report.")])
        .with_max_tokens(1024);
    let response = ChatResponse {
        text: "ok".into(),
        tool_calls: vec![],
        stop_reason: StopReason::EndTurn,
        model: "claude-sonnet-4-20250514".into(),
        usage: Usage { input_tokens: 900, output_tokens: 300, cached_input_tokens: 0, cache_write_input_tokens: 0 },
        latency: Duration::from_millis(800),
        provider: None,
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (platform, request, response) = (platform.clone(), request.clone(), response.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let held = platform.reserve_llm_call(tenant, project.id, "anthropic", &request).await.unwrap();
                    let call = LlmCall {
                        provider: "anthropic",
                        model: "claude-sonnet-4",
                        run_id: None,
                        agent: Some("bench"),
                        response: &response,
                    };
                    platform.settle_llm_call(&held, call).await.unwrap();
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "budget_path {label}: {:.0} reserve+settle/s ({WORKERS} workers); p50 {:?} p99 {:?}",
        latencies.len() as f64 / elapsed,
        p(0.5),
        p(0.99)
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        run("memory", Arc::new(MemoryStore::new()), 3).await;
        match std::env::var("DATABASE_URL") {
            Ok(url) => {
                let options = PgStoreOptions { max_connections: 8, ..PgStoreOptions::default() };
                let db = TestDatabase::create(&url, options).await.unwrap();
                run("postgres", Arc::new(db.store.clone()), 10).await;
                drop(db);
            }
            Err(_) => eprintln!("budget_path postgres: skipped (set DATABASE_URL)"),
        }
    });
}
