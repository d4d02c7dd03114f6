//! What metrics and tracing cost on the request path.
//!
//! Tracing: the same load as `run_load` (`POST /v1/agents/developer/execute` with `wait`, an instant mock LLM, the
//! memory store or with `STORE=postgres` PostgreSQL on `DATABASE_URL`, 1 and 16 clients in this process) in rounds with trace export off (the reference
//! server without `AGENTIC_OTLP_ENDPOINT`: its log layer at `info`) and on (the same plus `span_layer`, traces
//! sampled at `SAMPLE_RATIO`, default 1, batched OTLP/HTTP export to a local collector that answers 200). Rounds in the order A B B A A B …
//! keep the machine's drift out of the comparison; the medians are compared.
//!
//! Metrics cannot be turned off, so their cost is measured directly: the recording calls one run makes (request
//! count and latency, per-tenant request, LLM call, tokens and cost, tenant and agent cost, agent execution),
//! timed over many repetitions, against the time a run takes at the measured throughput.
//!
//! `cargo bench -p agentic-benches --bench observability_overhead` (`LOAD_SECS` per round, default 5; `ROUNDS`
//! pairs, default 4; `PROFILE=on` or `off` runs that mode alone, for a profiler).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agentic_core::Platform;
use agentic_core::ids::{ProjectId, TenantId};
use agentic_core::metrics::Metrics;
use agentic_core::model::{CostRecord, Money, RunStatus};
use agentic_llm::mock::MockProvider;
use agentic_llm::registry::ProviderRegistry;
use agentic_store_memory::MemoryStore;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::TestDatabase;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use secrecy::ExposeSecret;
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry, reload};

/// The reference server's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Switch = reload::Handle<Option<Box<dyn Layer<Registry> + Send + Sync>>, Registry>;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Spans the collector received, counted only while `on` (decoding costs CPU the measured rounds must not lose).
#[derive(Default)]
struct Received {
    on: AtomicBool,
    spans: AtomicU64,
}

/// A collector that accepts every export (the cost measured is the server's, not the collector's).
async fn collector(received: Arc<Received>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| async move {
            if received.on.load(Ordering::Relaxed) {
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                let spans = request.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len());
                received.spans.fetch_add(spans.sum::<usize>() as u64, Ordering::Relaxed);
            }
            ""
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1/traces")
}

/// Turns trace export on (a fresh OTLP pipeline) or off; returns the provider to flush when on.
fn set_tracing(switch: &Switch, endpoint: Option<&str>) -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use opentelemetry_sdk::trace::Sampler;
    let Some(endpoint) = endpoint else {
        switch.modify(|layer| *layer = None).unwrap();
        return None;
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()
        .unwrap();
    let ratio = std::env::var("SAMPLE_RATIO").ok().and_then(|r| r.parse().ok()).unwrap_or(1.0);
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)));
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .build();
    let layer = agentic_core::telemetry::span_layer(provider.tracer("bench")).boxed();
    switch.modify(|current| *current = Some(layer)).unwrap();
    Some(provider)
}

async fn drive(url: &str, key: &str, body: &serde_json::Value, concurrency: u64, seconds: u64) -> f64 {
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, key, body) = (client.clone(), url.to_owned(), key.to_owned(), body.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    let response = client.post(&url).bearer_auth(&key).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.unwrap();
    }
    done as f64 / started.elapsed().as_secs_f64()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The metrics one run records, timed per run.
fn metrics_per_run() -> Duration {
    let metrics = Metrics::new().unwrap();
    let (tenant, project) = (TenantId::new(), ProjectId::new());
    let record = CostRecord {
        id: agentic_core::ids::CostRecordId::new(),
        tenant_id: tenant,
        project_id: project,
        run_id: None,
        agent: Some("developer".into()),
        operation: "chat".into(),
        provider: "anthropic".into(),
        model: "claude-sonnet-4-20250514".into(),
        input_tokens: 1200,
        output_tokens: 300,
        cached_input_tokens: 0,
        cost: Money::from_nanos(8_100_000),
        latency_ms: 900,
        created_at: chrono::Utc::now(),
    };
    let method = axum::http::Method::POST;
    let iterations = 200_000;
    let started = Instant::now();
    for _ in 0..iterations {
        let m = &metrics;
        m.http.observe_request(&method, "/v1/agents/{name}/execute", axum::http::StatusCode::OK, 0.002);
        m.http.tenant_request(tenant);
        m.llm.call("anthropic", &record.model, "ok", 0.9);
        m.llm.spent(&record);
        m.costs.spent(&record);
        m.runs.agent_ended("developer", RunStatus::Completed, 1.1);
    }
    started.elapsed() / iterations
}

fn main() {
    agentic_llm::install_crypto_provider();
    let (layer, switch) = reload::Layer::new(None::<Box<dyn Layer<Registry> + Send + Sync>>);
    // As the reference server runs by default: its log layer (text, here into a sink instead of stderr) and
    // everything at `info` and above reaching the layers. Only trace export differs between the rounds.
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(tracing_subscriber::EnvFilter::new("info"));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (seconds, rounds) = (env_number("LOAD_SECS", 5), env_number("ROUNDS", 4));
    runtime.block_on(async {
        // `STORE=postgres`: the production store (a fresh database on `DATABASE_URL`), where a run costs more.
        let database = match std::env::var("STORE").as_deref() {
            Ok("postgres") => {
                let url = std::env::var("DATABASE_URL").expect("STORE=postgres needs DATABASE_URL");
                let options = PgStoreOptions { max_connections: 16, ..PgStoreOptions::default() };
                Some(TestDatabase::create(&url, options).await.unwrap())
            }
            _ => None,
        };
        let store: Arc<dyn agentic_core::store::Store> = match &database {
            Some(database) => Arc::new(database.store.clone()),
            None => Arc::new(MemoryStore::new()),
        };
        let platform = Platform::builder()
            .store(store)
            .llm_providers(Arc::new(ProviderRegistry::mock_only(Arc::new(MockProvider::echo()))))
            // The usage sample walks the whole store, which grows by ~10,000 runs a second here: taken every 30 s,
            // it would land in whichever round is running. What it costs is not what this bench measures.
            .usage_sample_interval(Duration::from_secs(3600))
            .build()
            .unwrap();
        let report = agentic_benches::bootstrap(&platform).await.unwrap();
        let project = agentic_benches::project(&platform, report.tenant.id, report.admin.id, "obs").await.unwrap();
        let background = platform.spawn_background(agentic_core::engine::BackgroundOptions::workers(16));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = platform.router().into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let received = Arc::new(Received::default());
        let endpoint = collector(received.clone()).await;
        let url = format!("http://{addr}/v1/agents/developer/execute");
        let key = report.api_key.expose_secret().to_owned();
        let body = json!({"task": "Write a hello world function", "project_id": project.id, "wait": 30});

        drive(&url, &key, &body, 16, 1).await; // warm-up
        // `PROFILE=on|off`: one mode only, at 16 clients, to profile it (`perf record` around this bench).
        if let Ok(mode) = std::env::var("PROFILE") {
            let provider = set_tracing(&switch, (mode == "on").then_some(endpoint.as_str()));
            let mut rates = Vec::new();
            for _ in 0..seconds {
                rates.push(drive(&url, &key, &body, 16, 1).await);
            }
            let rates: Vec<String> = rates.iter().map(|rate| format!("{rate:.0}")).collect();
            println!("observability_overhead profile {mode}: {} runs/s, second by second", rates.join(" "));
            if let Some(provider) = provider {
                tokio::task::spawn_blocking(move || provider.shutdown()).await.unwrap().unwrap();
            }
            return;
        }
        let mut saturated = 0.0;
        // One client: a request's own latency (the exporter's thread has a core to itself). Sixteen: throughput
        // with both cores busy, where the exporter's work competes with the requests'.
        for concurrency in [1, 16] {
            let (mut off, mut on) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                // Off-on, then on-off: throughput drifts as the memory store grows, and a fixed order would charge
                // the drift to one side.
                let order = if round % 2 == 0 { [false, true] } else { [true, false] };
                for traced in order {
                    let provider = set_tracing(&switch, traced.then_some(endpoint.as_str()));
                    let rate = drive(&url, &key, &body, concurrency, seconds).await;
                    eprintln!(
                        "c={concurrency} round {round} export {}: {rate:.0} runs/s",
                        if traced { "on" } else { "off" }
                    );
                    if traced {
                        on.push(rate)
                    } else {
                        off.push(rate)
                    }
                    set_tracing(&switch, None);
                    if let Some(provider) = provider {
                        tokio::task::spawn_blocking(move || provider.shutdown()).await.unwrap().unwrap();
                    }
                }
            }
            let (off, on) = (median(&mut off), median(&mut on));
            println!(
                "observability_overhead tracing c={concurrency}: {off:.0} runs/s with export off, {on:.0} runs/s with \
                 OTLP export on (median of {rounds} rounds of {seconds} s each): {:.1}% slower",
                (1.0 - on / off) * 100.0
            );
            saturated = off;
        }
        // Nothing was dropped on the way: each run's spans (the request, the run, the model call) reach the
        // collector. A full export queue would drop spans, and make export look cheaper than it is.
        received.on.store(true, Ordering::Relaxed);
        let provider = set_tracing(&switch, Some(&endpoint)).unwrap();
        let runs = drive(&url, &key, &body, 16, seconds).await * seconds as f64;
        set_tracing(&switch, None);
        tokio::task::spawn_blocking(move || provider.shutdown()).await.unwrap().unwrap();
        let spans = received.spans.load(Ordering::Relaxed);
        let ratio = std::env::var("SAMPLE_RATIO").ok().and_then(|r| r.parse().ok()).unwrap_or(1.0);
        println!(
            "observability_overhead tracing spans: {spans} exported for about {runs:.0} runs at 16 clients: {:.2} per \
             run ({:.2} expected: 3 per sampled run)",
            spans as f64 / runs,
            3.0 * ratio
        );

        let off = saturated;
        let per_run = metrics_per_run();
        // At `off` runs/s on two cores, a run takes 2 / off seconds of CPU.
        let cpu_per_run = Duration::from_secs_f64(2.0 / off);
        println!(
            "observability_overhead metrics: {per_run:?} of recording per run, against {cpu_per_run:?} of CPU per run \
             at that throughput: {:.2}%",
            per_run.as_secs_f64() / cpu_per_run.as_secs_f64() * 100.0
        );
        background.shutdown().await;
        drop(database);
    });
}
