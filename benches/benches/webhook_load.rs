//! Load harness: signed webhook deliveries to a receiver on loopback (it answers 200 at once).
//!
//! 1. Throughput: `WEBHOOK_EVENTS` events (default 20,000) stored at once, relayed and delivered by one
//!    replica's relay and dispatcher (64 attempts in flight); reports deliveries per second from the first
//!    store to the last delivery.
//! 2. Latency at a steady 500 events/s for `LOAD_SECS` (default 10): every 10 ms five events are stored and the
//!    relay is run at once (as a state change in the process wakes it); reports event stored → first attempt
//!    received, p50 and p99.
//!
//! Memory store, and PostgreSQL with `DATABASE_URL`. Client, platform and receiver share the process and its
//! cores.
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p agentic-benches --bench webhook_load`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentic_core::Platform;
use agentic_core::clock::{Clock, SystemClock};
use agentic_core::engine::BackgroundOptions;
use agentic_core::events::{Event, EventKind};
use agentic_core::ids::{TenantId, WebhookId};
use agentic_core::model::{EventPattern, WebhookEndpoint};
use agentic_core::store::Store;
use agentic_core::testing::receiver::Receiver;
use agentic_core::webhooks::WebhookSettings;
use agentic_core::webhooks::cipher::SecretCipher;
use agentic_core::webhooks::signature::SigningSecret;
use agentic_core::webhooks::target::TargetPolicy;
use agentic_store_memory::MemoryStore;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::TestDatabase;

const KEY: [u8; 32] = [7; 32];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn events(tenant: TenantId, n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let data =
                serde_json::json!({"project_id": uuid::Uuid::now_v7(), "budget": "1.00", "spent": i.to_string()});
            Event::new(tenant, EventKind::ProjectBudgetWarning, data, chrono::Utc::now())
        })
        .collect()
}

async fn setup(store: Arc<dyn Store>, receiver: &Receiver) -> (Platform, TenantId) {
    let targets = TargetPolicy { allow_http: true, allowed: vec!["127.0.0.0/8".parse().unwrap()] };
    let platform = Platform::builder()
        .store(Arc::clone(&store))
        .webhooks(WebhookSettings::with_targets(targets))
        .webhook_secret_key(SecretCipher::new(&KEY).unwrap())
        .build()
        .unwrap();
    let report = agentic_benches::bootstrap(&platform).await.unwrap();
    let tenant = report.tenant.id;
    let id = WebhookId::new();
    let secret = SigningSecret::generate().unwrap();
    let now = SystemClock.now();
    let endpoint = WebhookEndpoint {
        id,
        tenant_id: tenant,
        url: receiver.url.clone(),
        description: "load".into(),
        events: vec![EventPattern::parse("project.*").unwrap()],
        enabled: true,
        disabled_reason: None,
        failing_since: None,
        secret: SecretCipher::new(&KEY).unwrap().seal(tenant, id, &secret).unwrap(),
        previous_secret: None,
        created_by: report.admin.id,
        created_at: now,
        updated_at: now,
    };
    store.tenant(tenant).insert_endpoint(&endpoint).await.unwrap();
    (platform, tenant)
}

fn only_deliveries() -> BackgroundOptions {
    let mut options = BackgroundOptions::workers(0);
    options.upkeep = false;
    options
}

async fn throughput(label: &str, store: Arc<dyn Store>) {
    let n = env_number("WEBHOOK_EVENTS", 20_000) as usize;
    let receiver = Receiver::accepting().await.unwrap();
    let (platform, tenant) = setup(Arc::clone(&store), &receiver).await;
    let background = platform.spawn_background(only_deliveries());
    let batch = events(tenant, n);
    let started = Instant::now();
    for chunk in batch.chunks(500) {
        store.tenant(tenant).append_events(chunk).await.unwrap();
    }
    platform.relay_events().await.unwrap();
    let done = receiver.wait_until(Duration::from_secs(600), |r| r.delivered_ids().len() >= n).await;
    let elapsed = started.elapsed().as_secs_f64();
    background.shutdown().await;
    println!(
        "webhook_load {label} throughput: {n} events delivered{} in {elapsed:.2} s: {:.0} deliveries/s ({} requests)",
        if done { "" } else { " (NOT ALL)" },
        receiver.delivered_ids().len() as f64 / elapsed,
        receiver.received().len(),
    );
}

async fn latency(label: &str, store: Arc<dyn Store>) {
    let seconds = env_number("LOAD_SECS", 10);
    let receiver = Receiver::accepting().await.unwrap();
    let (platform, tenant) = setup(Arc::clone(&store), &receiver).await;
    let background = platform.spawn_background(only_deliveries());
    let mut stored_at: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        tick.tick().await;
        let five = events(tenant, 5);
        store.tenant(tenant).append_events(&five).await.unwrap();
        let at = Instant::now();
        for event in &five {
            stored_at.insert(event.id.to_string(), at);
        }
        platform.relay_events().await.unwrap();
    }
    let sent = stored_at.len();
    receiver.wait_until(Duration::from_secs(60), |r| r.delivered_ids().len() >= sent).await;
    background.shutdown().await;
    let mut first: HashMap<String, Instant> = HashMap::new();
    for request in receiver.received() {
        let at = first.entry(request.id.clone()).or_insert(request.at);
        *at = (*at).min(request.at);
    }
    let mut latencies: Vec<Duration> = first
        .iter()
        .filter_map(|(id, at)| stored_at.get(id).map(|stored| at.saturating_duration_since(*stored)))
        .collect();
    latencies.sort();
    let p = |q: f64| latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)));
    println!(
        "webhook_load {label} latency at {:.0} events/s: {} of {sent} delivered, event stored -> first attempt p50 {:?} p99 {:?}",
        sent as f64 / seconds as f64,
        latencies.len(),
        p(0.5).copied().unwrap_or_default(),
        p(0.99).copied().unwrap_or_default(),
    );
}

fn main() {
    agentic_llm::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        throughput("memory", Arc::new(MemoryStore::new())).await;
        latency("memory", Arc::new(MemoryStore::new())).await;
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let options = PgStoreOptions { max_connections: 16, ..PgStoreOptions::default() };
            let db = TestDatabase::create(&url, options.clone()).await.unwrap();
            throughput("postgres", Arc::new(db.store.clone())).await;
            drop(db);
            let db = TestDatabase::create(&url, options).await.unwrap();
            latency("postgres", Arc::new(db.store.clone())).await;
            drop(db);
        }
    });
}
