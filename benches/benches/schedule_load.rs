//! Load harness: fire lag of one replica's scheduler with `SCHEDULES` schedules (default 10,000), each
//! `every: 1m`, all due at the same instant (the worst minute: every schedule fires at once).
//!
//! The schedules are stored with their first fire a few seconds ahead; one scheduler (`run_scheduler`, as
//! `spawn_background` starts it) fires them. Reports how long it took to fire them all and the lag of each fire
//! (its run's creation after its planned start, from the `schedule.fired` events' `lag_ms`), p50 / p99 / max. No
//! workers run: the lag is the scheduler's alone.
//!
//! Memory store, and PostgreSQL with `DATABASE_URL`.
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p agentic-benches --bench schedule_load`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentic_core::Platform;
use agentic_core::api::CreateScheduleRequest;
use agentic_core::auth::{Credential, Principal};
use agentic_core::events::EventKind;
use agentic_core::ids::{EventId, ScheduleId};
use agentic_core::model::{OverlapPolicy, Role, ScheduleSpec, ScheduleTarget};
use agentic_core::store::{EventQuery, Store};
use agentic_store_memory::MemoryStore;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::TestDatabase;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn fire_lag(label: &str, store: Arc<dyn Store>) {
    let n = env_number("SCHEDULES", 10_000) as usize;
    let platform = Platform::builder().store(Arc::clone(&store)).build().unwrap();
    let report = agentic_benches::bootstrap(&platform).await.unwrap();
    let tenant = report.tenant.id;
    let project = agentic_benches::project(&platform, tenant, report.admin.id, "scheduled").await.unwrap();
    let admin = Principal {
        tenant_id: tenant,
        user_id: report.admin.id,
        credential: Credential::AccessToken,
        roles: vec![Role::Admin],
        permissions: Role::Admin.permissions(),
    };
    let request = CreateScheduleRequest {
        name: "load".into(),
        target: ScheduleTarget { agent: Some("qa_tester".into()), task: Some("ping".into()), ..Default::default() },
        project_id: project.id,
        risk_level: None,
        spec: ScheduleSpec { every: Some("1m".into()), ..Default::default() },
        overlap_policy: Some(OverlapPolicy::AllowAll),
        catchup_window: None,
        jitter: None,
        paused: Some(true),
        note: None,
    };
    let template = platform.create_schedule(&admin, request).await.unwrap();
    store.tenant(tenant).delete_schedule(template.id).await.unwrap();
    // All due at one instant, a little ahead so that every insert is done before it.
    let due = platform.clock().now() + chrono::Duration::seconds(3 + (n / 2_000) as i64);
    let handle = store.tenant(tenant);
    for _ in 0..n {
        let mut schedule = template.clone();
        schedule.id = ScheduleId::new();
        schedule.paused = false;
        schedule.next_fire_at = Some(due);
        schedule.next_start_at = Some(due);
        schedule.wake_at = Some(due);
        handle.insert_schedule(&schedule).await.unwrap();
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler = {
        let platform = platform.clone();
        tokio::spawn(async move {
            platform
                .run_scheduler("bench-scheduler".into(), async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    let wait = (due - platform.clock().now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
    // Each look reads every event from before the fire time: following with a cursor would miss an event whose
    // id (taken when it was made) is below one committed before it by a concurrent pass.
    let floor = EventId::floor_at(due - chrono::Duration::minutes(5));
    let deadline = Instant::now() + Duration::from_secs(900);
    let (lags, last_fired) = loop {
        let (mut lags, mut last_fired) = (Vec::with_capacity(n), due);
        let mut cursor = Some(floor);
        loop {
            let query = EventQuery { after: cursor, limit: 200, ..EventQuery::default() };
            let page = handle.list_events(&query).await.unwrap();
            for event in &page.data {
                // Only the fires of that instant (a schedule may reach its next minute before the harness ends).
                let fire_time =
                    event.data["fire_time"].as_str().and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok());
                if event.kind == EventKind::ScheduleFired && fire_time == Some(due) {
                    lags.push(event.data["lag_ms"].as_u64().unwrap());
                    last_fired = last_fired.max(event.occurred_at);
                }
            }
            match page.data.last() {
                Some(last) if page.next_cursor.is_some() => cursor = Some(last.id),
                _ => break,
            }
        }
        if lags.len() >= n || Instant::now() >= deadline {
            break (lags, last_fired);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut lags = lags;
    let elapsed = (last_fired - due).to_std().unwrap_or_default();
    let _ = stop.send(());
    scheduler.await.unwrap();
    // The ceiling in the same run: runs stored directly, as fast as 16 writers can (what each fire must do once).
    let ceiling = {
        let inserts = (n / 5).max(100);
        let started = Instant::now();
        let writers: Vec<_> = (0..16)
            .map(|w| {
                let store = Arc::clone(&store);
                let (tenant, project, admin) = (tenant, project.id, report.admin.id);
                tokio::spawn(async move {
                    for _ in (w..inserts).step_by(16) {
                        let input = serde_json::json!({"task": "ping"});
                        let run = agentic_core::model::Run::queued(
                            tenant,
                            project,
                            "qa_tester",
                            input,
                            agentic_core::model::RiskLevel::Low,
                            admin,
                            chrono::Utc::now(),
                        );
                        store.tenant(tenant).insert_run(&run, &[]).await.unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        inserts as f64 / started.elapsed().as_secs_f64()
    };
    lags.sort_unstable();
    let p = |q: f64| lags.get(((lags.len() as f64 * q) as usize).min(lags.len().saturating_sub(1))).copied();
    println!(
        "schedule_load {label}: {} of {n} schedules fired (one scheduler) within {elapsed:.2?} of their fire time; \
         fire lag p50 {} ms, p99 {} ms, max {} ms; {:.0} fires/s against {ceiling:.0} bare run inserts/s",
        lags.len(),
        p(0.5).unwrap_or_default(),
        p(0.99).unwrap_or_default(),
        lags.last().copied().unwrap_or_default(),
        lags.len() as f64 / elapsed.as_secs_f64(),
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        fire_lag("memory", Arc::new(MemoryStore::new())).await;
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let options = PgStoreOptions { max_connections: 16, ..PgStoreOptions::default() };
            let db = TestDatabase::create(&url, options).await.unwrap();
            fire_lag("postgres", Arc::new(db.store.clone())).await;
            drop(db);
        }
    });
}
