//! Load harness: a project's shared context, get / put / append operations per second on each backend, with 16
//! clients at once for `LOAD_SECS` seconds per operation (default 5). Puts spread over 100 keys, gets read them,
//! appends go to one list per client (so the list, and the append, stay small).
//!
//! Memory always; PostgreSQL with `DATABASE_URL`; Redis with `REDIS_URL`.
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 \
//!  cargo bench -p agentic-benches --bench context_load`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agentic_core::clock::{Clock, SystemClock};
use agentic_core::model::{ContextLimits, ContextWrite, Expect, Provenance};
use agentic_core::store::{ContextScope, ContextStore, Store};
use agentic_core::testing::fixtures::{project, tenant_with_admin};
use agentic_store_memory::MemoryContextStore;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::TestDatabase;
use agentic_store_redis::{RedisContextOptions, RedisContextStore};

const CLIENTS: usize = 16;
const KEYS: usize = 100;

#[derive(Clone, Copy, Debug)]
enum Op {
    Put,
    Get,
    Append,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn one(store: &dyn ContextStore, scope: ContextScope, op: Op, client: usize, n: u64) {
    let by = Provenance { agent: Some("bench".into()), ..Provenance::default() };
    let now = SystemClock.now();
    let key = format!("k{}", n as usize % KEYS);
    let write = |key| ContextWrite {
        key,
        provenance: &by,
        ttl: Duration::from_secs(3600),
        now,
        // Every client's list starts afresh every 200 items, so the harness makes many keys: no key limit here.
        limits: ContextLimits { max_keys: usize::MAX, ..ContextLimits::default() },
    };
    match op {
        Op::Put => {
            let value = serde_json::json!({"n": n, "client": client});
            store.put(scope, &value, Expect::Any, &write(&key)).await.unwrap().unwrap();
        }
        Op::Get => {
            store.get(scope, &key, now).await.unwrap();
        }
        Op::Append => {
            // One list per client, started afresh every 200 items so it stays small.
            let list = format!("log{client}-{}", n / 200);
            store.append(scope, &serde_json::json!(n), &write(&list)).await.unwrap().unwrap();
        }
    }
}

async fn measure(label: &str, store: Arc<dyn ContextStore>, scope: ContextScope) {
    let seconds = env_number("LOAD_SECS", 5);
    for op in [Op::Put, Op::Get, Op::Append] {
        let done = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (store, done) = (Arc::clone(&store), Arc::clone(&done));
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut n = 0_u64;
                    while Instant::now() < deadline {
                        let at = Instant::now();
                        one(&*store, scope, op, client, n).await;
                        latencies.push(at.elapsed());
                        n += 1;
                    }
                    done.fetch_add(n, Ordering::Relaxed);
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for client in clients {
            latencies.extend(client.await.unwrap());
        }
        latencies.sort();
        let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        let count = done.load(Ordering::Relaxed);
        println!(
            "context_load {label} {op:?}: {:.0} ops/s ({count} in {:.1} s, {CLIENTS} clients), p50 {:?} p99 {:?}",
            count as f64 / started.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64(),
            p(0.5),
            p(0.99),
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let anywhere =
            ContextScope { tenant: agentic_core::ids::TenantId::new(), project: agentic_core::ids::ProjectId::new() };
        measure("memory", Arc::new(MemoryContextStore::new()), anywhere).await;
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let options = PgStoreOptions { max_connections: 16, ..PgStoreOptions::default() };
            let db = TestDatabase::create(&url, options).await.unwrap();
            let (tenant, admin) = tenant_with_admin(&db.store, "bench").await;
            let p = project(tenant.id, None, admin.user.id);
            db.store.tenant(tenant.id).insert_project(&p).await.unwrap();
            let scope = ContextScope { tenant: tenant.id, project: p.id };
            measure("postgres", db.store.context_store(), scope).await;
            drop(db);
        }
        if let Ok(url) = std::env::var("REDIS_URL") {
            let options = RedisContextOptions {
                prefix: format!("agentic:ctx:bench:{}:", uuid::Uuid::now_v7()),
                ..RedisContextOptions::default()
            };
            let store = RedisContextStore::connect(&url, options).await.unwrap();
            measure("redis", Arc::new(store), anywhere).await;
        }
    });
}
