//! Schedules over HTTP: validation, the fire times, exactly one run per fire time (a holder that dies midway
//! included), the overlap policies (trigger-now and backfill too), catch-up, budget and pause skips, and tenant
//! isolation. The scheduler is driven by hand (`fire_due_schedules`) against the app's manual clock.

use std::sync::Arc;
use std::time::Duration;

use agentic_core::testing::faults::{FaultyStore, Op};
use agentic_llm::mock::{MockProvider, MockReply};
use agentic_store_memory::MemoryStore;
use serde_json::{Value, json};

use crate::support::TestApp;

async fn project(app: &TestApp, budget: Option<&str>) -> String {
    let mut body = json!({"name": "Site"});
    if let Some(budget) = budget {
        body["budget"] = json!(budget);
    }
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(body)).await.expect(201);
    project["id"].as_str().unwrap().to_owned()
}

async fn schedule(app: &TestApp, project: &str, extra: Value) -> Value {
    let mut body = json!({
        "name": "Nightly tests",
        "target": {"agent": "qa_tester", "task": "Run the suite"},
        "project_id": project,
        "spec": {"every": "1m"},
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    app.call("POST", "/v1/schedules", Some(&app.admin_key), Some(body)).await.expect(201)
}

async fn get(app: &TestApp, path: &str) -> Value {
    app.call("GET", path, Some(&app.admin_key), None).await.expect(200)
}

/// Moves the clock to the schedule's next start and fires what is due.
async fn fire_next(app: &TestApp, id: &str) -> Value {
    let schedule = get(app, &format!("/v1/schedules/{id}")).await;
    let start: chrono::DateTime<chrono::Utc> = schedule["next_start_at"].as_str().unwrap().parse().unwrap();
    let now = app.platform.clock().now();
    if start > now {
        app.clock.advance(start - now);
    }
    app.platform.fire_due_schedules("scheduler-test").await.unwrap();
    get(app, &format!("/v1/schedules/{id}")).await
}

async fn runs_of(app: &TestApp, id: &str) -> Vec<Value> {
    get(app, &format!("/v1/schedules/{id}/runs")).await["data"].as_array().unwrap().clone()
}

fn metric(app: &TestApp, name: &str, label: &str) -> f64 {
    let text = app.platform.metrics().render().unwrap();
    let prefix = format!("{name}{{{label}}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)).map_or(0.0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn bad_schedules_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let project = project(&app, None).await;
    let base = json!({"name": "n", "target": {"agent": "qa_tester", "task": "t"}, "project_id": project,
        "spec": {"every": "1m"}});
    let cases = [
        (json!({"spec": {"cron": "61 * * * *"}}), "spec.cron"),
        (json!({"spec": {"cron": "0 0 30 2 *"}}), "spec.cron"),
        (json!({"spec": {"cron": "0 9 * * *", "timezone": "Mars/Olympus"}}), "spec.timezone"),
        (json!({"spec": {"every": "1m", "cron": "* * * * *"}}), "spec"),
        (json!({"spec": {"every": "soon"}}), "spec.every"),
        (json!({"spec": {"at": "2001-01-01T00:00:00Z"}}), "spec.at"),
        (json!({"target": {"agent": "nobody", "task": "t"}}), "target.agent"),
        (json!({"target": {"agent": "qa_tester"}}), "target.task"),
        (json!({"target": {"agent": "qa_tester", "task": "t", "workflow": "ProjectPipelineWorkflow"}}), "target"),
        (json!({"target": {"workflow": "ProjectPipelineWorkflow", "args": {}}}), "target.args.goal"),
        (json!({"target": {"workflow": "Nope", "args": {"goal": "g"}}}), "target.workflow"),
        (json!({"catchup_window": "400d"}), "catchup_window"),
        (json!({"jitter": "2h"}), "jitter"),
        (json!({"name": " "}), "name"),
    ];
    for (change, field) in cases {
        let mut body = base.clone();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let problem = app.call("POST", "/v1/schedules", Some(&app.admin_key), Some(body.clone())).await.expect(422);
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let mut unknown_project = base.clone();
    unknown_project["project_id"] = json!("0190f5f5-0000-7000-8000-000000000000");
    app.call("POST", "/v1/schedules", Some(&app.admin_key), Some(unknown_project)).await.expect(404);
    let mut extra = base.clone();
    extra["colour"] = json!("red");
    app.call("POST", "/v1/schedules", Some(&app.admin_key), Some(extra)).await.expect(422);
}

#[tokio::test]
async fn a_schedule_shows_its_fire_times_in_its_own_zone_and_can_be_changed() {
    let app = TestApp::new().await;
    let project = project(&app, None).await;
    let spec = json!({"cron": "30 2 * * *", "timezone": "Europe/Berlin"});
    let created = schedule(&app, &project, json!({"spec": spec, "jitter": "10s", "note": "n"})).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!((created["overlap_policy"].as_str(), created["catchup_window"].as_str()), (Some("skip"), Some("1h")));
    let upcoming = get(&app, &format!("/v1/schedules/{id}/upcoming?count=3")).await;
    assert_eq!(upcoming["timezone"], "Europe/Berlin");
    let fires = upcoming["data"].as_array().unwrap();
    assert_eq!(fires.len(), 3);
    for fire in fires {
        let local = fire["local"].as_str().unwrap();
        assert!(local.contains("T02:30:00+0") || local.contains("T03:00:00+02:00"), "{local}");
        let (at, starts): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
            (fire["at"].as_str().unwrap().parse().unwrap(), fire["starts_at"].as_str().unwrap().parse().unwrap());
        assert!(starts >= at && starts < at + chrono::Duration::seconds(10), "jitter stays below 10 s");
    }
    assert_eq!(fires[0]["at"], created["next_fire_at"]);
    app.call("GET", &format!("/v1/schedules/{id}/upcoming?count=0"), Some(&app.admin_key), None).await.expect(422);

    let body = json!({"spec": {"every": "15m"}, "jitter": "0s", "name": "Quarterly"});
    let changed = app.call("PATCH", &format!("/v1/schedules/{id}"), Some(&app.admin_key), Some(body)).await.expect(200);
    let next: chrono::DateTime<chrono::Utc> = changed["next_fire_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(next.timestamp() % 900, 0, "every 15 minutes from the epoch");
    assert!(next > app.platform.clock().now() && next <= app.platform.clock().now() + chrono::Duration::minutes(15));
    assert_eq!((changed["name"].as_str(), changed["version"].as_u64()), (Some("Quarterly"), Some(1)));
    let listed = get(&app, "/v1/schedules").await;
    assert_eq!(listed["data"][0]["id"], id);
    app.call("DELETE", &format!("/v1/schedules/{id}"), Some(&app.admin_key), None).await.expect(204);
    app.call("GET", &format!("/v1/schedules/{id}"), Some(&app.admin_key), None).await.expect(404);
}

crate::both_backends!(exactly_once, each_fire_time_starts_one_run_and_is_reported);

async fn each_fire_time_starts_one_run_and_is_reported(app: TestApp) {
    let project = project(&app, None).await;
    let created = schedule(&app, &project, json!({"overlap_policy": "allow_all"})).await;
    let id = created["id"].as_str().unwrap();
    let after = fire_next(&app, id).await;
    // A second scheduler finds nothing due: the fire time is done.
    assert_eq!(app.platform.fire_due_schedules("another").await.unwrap(), 0);
    let runs = runs_of(&app, id).await;
    assert_eq!(runs.len(), 1);
    let fire_time: chrono::DateTime<chrono::Utc> = created["next_fire_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(runs[0]["schedule_id"], id);
    assert_eq!(runs[0]["idempotency_key"], format!("schedule:{id}:{}", fire_time.timestamp_millis()));
    assert_eq!((after["fires_started"].as_u64(), after["last_run_id"].clone()), (Some(1), runs[0]["id"].clone()));
    let next: chrono::DateTime<chrono::Utc> = after["next_fire_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(next - fire_time, chrono::Duration::minutes(1));
    app.platform.relay_events().await.unwrap();
    let fired = app.events.of_kind("schedule.fired");
    assert_eq!(fired.len(), 1);
    assert_eq!(
        (fired[0].data["run_id"].clone(), fired[0].data["origin"].as_str()),
        (runs[0]["id"].clone(), Some("scheduled"))
    );
    assert_eq!(fired[0].run_id.map(|r| r.to_string()).as_deref(), runs[0]["id"].as_str(), "in the run's stream too");
    assert_eq!(metric(&app, "schedule_fires_total", "result=\"started\""), 1.0);
    let text = app.platform.metrics().render().unwrap();
    assert!(text.contains("schedule_fire_lag_seconds_count 1"), "one lag observed");
    assert!(text.contains("schedule_skipped_total{reason=\"budget\"} 0"), "every reason is exported from the start");

    // Two more fire times, two more runs; a schedule filter on the runs list finds the same.
    fire_next(&app, id).await;
    fire_next(&app, id).await;
    assert_eq!(runs_of(&app, id).await.len(), 3);
    let listed = get(&app, &format!("/v1/runs?schedule_id={id}")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_holder_that_dies_after_starting_a_run_leaves_one_run_for_its_fire_time() {
    let (store, faults) = FaultyStore::wrap(Arc::new(MemoryStore::new()));
    let app = TestApp::with(move |b| {
        b.store(Arc::new(store))
            .jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", crate::support::HS_SECRET).unwrap())
    })
    .await;
    let project = project(&app, None).await;
    let created = schedule(&app, &project, json!({"spec": {"every": "1h"}})).await;
    let id = created["id"].as_str().unwrap();
    // The pass starts the run, then cannot write the schedule's state (as if its process died there).
    faults.fail(Op::AdvanceSchedule, 1);
    let unchanged = fire_next(&app, id).await;
    assert_eq!(
        (unchanged["fires_started"].as_u64(), unchanged["next_fire_at"].clone()),
        (Some(0), created["next_fire_at"].clone())
    );
    assert_eq!(runs_of(&app, id).await.len(), 1, "its run was started");
    // Still claimed: nobody acts on it until the lease lapses.
    assert_eq!(app.platform.fire_due_schedules("heir").await.unwrap(), 0);
    app.clock.advance(agentic_core::engine::SCHEDULE_LEASE + chrono::Duration::seconds(1));
    assert_eq!(app.platform.fire_due_schedules("heir").await.unwrap(), 1);
    let after = get(&app, &format!("/v1/schedules/{id}")).await;
    let runs = runs_of(&app, id).await;
    assert_eq!(runs.len(), 1, "the heir found the fire's run by its key: {runs:?}");
    assert_eq!((after["fires_started"].as_u64(), after["last_run_id"].clone()), (Some(1), runs[0]["id"].clone()));
}

#[tokio::test]
async fn overlap_policies_decide_each_fire_and_trigger_now_honours_them() {
    let app = TestApp::new().await;
    let project = project(&app, None).await;
    // No worker runs: each run stays queued, so the schedule's last run has not ended.
    let id_of = |s: &Value| s["id"].as_str().unwrap().to_owned();

    let skip = id_of(&schedule(&app, &project, json!({})).await);
    fire_next(&app, &skip).await;
    let after = fire_next(&app, &skip).await;
    assert_eq!((after["fires_started"].as_u64(), after["fires_skipped"].as_u64()), (Some(1), Some(1)));
    let trigger = format!("/v1/schedules/{skip}/trigger");
    let report = app.call("POST", &trigger, Some(&app.admin_key), None).await.expect(200);
    assert_eq!((report["outcome"].as_str(), report["reason"].as_str()), (Some("skipped"), Some("overlap")));
    assert_eq!(report["origin"], "trigger");
    let forced = app.call("POST", &trigger, Some(&app.admin_key), Some(json!({"overlap_policy": "allow_all"}))).await;
    let forced = forced.expect(200);
    assert_eq!(forced["outcome"], "started");
    assert_eq!(runs_of(&app, &skip).await.len(), 2);
    assert_eq!(metric(&app, "schedule_skipped_total", "reason=\"overlap\""), 2.0);

    let one = id_of(&schedule(&app, &project, json!({"overlap_policy": "buffer_one"})).await);
    fire_next(&app, &one).await;
    fire_next(&app, &one).await;
    let after = fire_next(&app, &one).await;
    assert_eq!((after["buffered"].as_array().unwrap().len(), after["fires_skipped"].as_u64()), (1, Some(1)));
    let first_run = after["last_run_id"].as_str().unwrap().to_owned();
    app.call("POST", &format!("/v1/runs/{first_run}/cancel"), Some(&app.admin_key), None).await.expect(200);
    app.clock.advance(agentic_core::model::BUFFER_RECHECK);
    app.platform.fire_due_schedules("scheduler-test").await.unwrap();
    let after = get(&app, &format!("/v1/schedules/{one}")).await;
    assert!(after["buffered"].as_array().unwrap().is_empty(), "the buffered fire started once the run ended");
    assert_ne!(after["last_run_id"].as_str(), Some(first_run.as_str()));
    assert_eq!(runs_of(&app, &one).await.len(), 2);

    let all = id_of(&schedule(&app, &project, json!({"overlap_policy": "buffer_all"})).await);
    for _ in 0..3 {
        fire_next(&app, &all).await;
    }
    let after = get(&app, &format!("/v1/schedules/{all}")).await;
    assert_eq!((after["buffered"].as_array().unwrap().len(), after["fires_skipped"].as_u64()), (2, Some(0)));

    let cancel = id_of(&schedule(&app, &project, json!({"overlap_policy": "cancel_other"})).await);
    let first = fire_next(&app, &cancel).await["last_run_id"].as_str().unwrap().to_owned();
    let second = fire_next(&app, &cancel).await["last_run_id"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(get(&app, &format!("/v1/runs/{first}")).await["status"], "cancelled", "the queued run was cancelled");

    let allow = id_of(&schedule(&app, &project, json!({"overlap_policy": "allow_all"})).await);
    fire_next(&app, &allow).await;
    fire_next(&app, &allow).await;
    assert_eq!(runs_of(&app, &allow).await.len(), 2, "runs may overlap");
}

#[tokio::test]
async fn a_buffered_fire_starts_when_a_long_running_run_ends() {
    let mock = MockProvider::echo().then(MockReply::text("slow").with_delay(Duration::from_millis(600)));
    let app = TestApp::new().await.with_llm(mock);
    let project = project(&app, None).await;
    let id = schedule(&app, &project, json!({"overlap_policy": "buffer_one"})).await["id"].as_str().unwrap().to_owned();
    let platform = app.platform.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(async move {
        platform
            .run_worker("w".into(), Duration::from_millis(20), async {
                let _ = stopped.await;
            })
            .await;
    });
    let first = fire_next(&app, &id).await["last_run_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(get(&app, &format!("/v1/runs/{first}")).await["status"], "running");
    let after = fire_next(&app, &id).await;
    assert_eq!((after["buffered"].as_array().unwrap().len(), after["last_run_id"].as_str()), (1, Some(first.as_str())));
    let done = app.call("GET", &format!("/v1/runs/{first}/result?wait=5"), Some(&app.admin_key), None).await;
    assert_eq!(done.expect(200)["status"], "completed");
    app.clock.advance(agentic_core::model::BUFFER_RECHECK);
    app.platform.fire_due_schedules("scheduler-test").await.unwrap();
    let after = get(&app, &format!("/v1/schedules/{id}")).await;
    let second = after["last_run_id"].as_str().unwrap();
    assert_ne!(second, first);
    let second = app.call("GET", &format!("/v1/runs/{second}/result?wait=5"), Some(&app.admin_key), None).await;
    assert_eq!(second.expect(200)["status"], "completed");
    let _ = stop.send(());
    worker.await.unwrap();
}

#[tokio::test]
async fn downtime_budget_pause_and_permissions_skip_fires_and_count_them() {
    let app = TestApp::new().await;
    let project_id = project(&app, None).await;
    let id = schedule(&app, &project_id, json!({"catchup_window": "5m", "overlap_policy": "allow_all"})).await;
    let id = id["id"].as_str().unwrap().to_owned();
    // Twenty minutes down: the fires of the last five minutes start, the older ones are counted as missed.
    app.clock.advance(chrono::Duration::minutes(20));
    app.platform.fire_due_schedules("scheduler-test").await.unwrap();
    let after = get(&app, &format!("/v1/schedules/{id}")).await;
    let started = after["fires_started"].as_u64().unwrap();
    let skipped = after["fires_skipped"].as_u64().unwrap();
    assert!((5..=6).contains(&started), "the fires inside the window: {started}");
    assert_eq!(started + skipped, 20, "every fire time accounted for");
    app.platform.relay_events().await.unwrap();
    let missed = app.events.of_kind("schedule.skipped");
    assert_eq!((missed[0].data["reason"].as_str(), missed[0].data["count"].as_u64()), (Some("missed"), Some(skipped)));
    assert_eq!(metric(&app, "schedule_skipped_total", "reason=\"missed\""), skipped as f64);

    // Paused for three fire times: resuming counts them as skipped.
    app.call("POST", &format!("/v1/schedules/{id}/pause"), Some(&app.admin_key), Some(json!({"note": "release"})))
        .await
        .expect(200);
    app.clock.advance(chrono::Duration::minutes(3));
    assert_eq!(app.platform.fire_due_schedules("scheduler-test").await.unwrap(), 0, "a paused schedule is not claimed");
    let resumed = app.call("POST", &format!("/v1/schedules/{id}/resume"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(resumed["fires_skipped"].as_u64(), Some(skipped + 3));
    assert_eq!(resumed["note"], "release");
    assert!(
        resumed["next_fire_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap()
            > app.platform.clock().now()
    );

    // A project that has spent its budget: each fire is skipped with the reason, no failing runs are made.
    let broke = project(&app, Some("0")).await;
    let poor = schedule(&app, &broke, json!({})).await["id"].as_str().unwrap().to_owned();
    let after = fire_next(&app, &poor).await;
    assert_eq!((after["fires_started"].as_u64(), after["fires_skipped"].as_u64()), (Some(0), Some(1)));
    assert!(runs_of(&app, &poor).await.is_empty());
    assert_eq!(metric(&app, "schedule_skipped_total", "reason=\"budget\""), 1.0);

    // Its runs act as its creator: once deactivated, fires are skipped as not permitted.
    let (user_id, token) = app.user("sched@acme.test", &["developer"]).await;
    let body = json!({"name": "n", "target": {"agent": "qa_tester", "task": "t"}, "project_id": project_id,
        "spec": {"every": "1m"}});
    let theirs = app.call("POST", "/v1/schedules", Some(&token), Some(body)).await.expect(201);
    app.call("PATCH", &format!("/v1/users/{user_id}"), Some(&app.admin_key), Some(json!({"active": false})))
        .await
        .expect(200);
    let after = fire_next(&app, theirs["id"].as_str().unwrap()).await;
    assert_eq!(after["fires_skipped"].as_u64(), Some(1));
    assert_eq!(metric(&app, "schedule_skipped_total", "reason=\"not_permitted\""), 1.0);
}

#[tokio::test]
async fn a_backfill_reports_every_fire_time_of_its_range() {
    let app = TestApp::new().await;
    let project = project(&app, None).await;
    let id = schedule(&app, &project, json!({"spec": {"every": "1h"}})).await["id"].as_str().unwrap().to_owned();
    let now = app.platform.clock().now();
    let backfill = format!("/v1/schedules/{id}/backfill");
    // Five whole hours, clear of the hour now is in: a range ending a minute ago held only four fire times during
    // the first minute of an hour.
    let hour = chrono::DurationRound::duration_trunc(now, chrono::Duration::hours(1)).unwrap();
    let range = |policy: &str| {
        json!({"from": hour - chrono::Duration::minutes(330), "to": hour - chrono::Duration::minutes(30),
            "overlap_policy": policy})
    };
    let all = app.call("POST", &backfill, Some(&app.admin_key), Some(range("allow_all"))).await.expect(200);
    let fires = all["fires"].as_array().unwrap();
    assert_eq!((all["started"].as_u64(), fires.len()), (Some(5), 5));
    assert!(fires.iter().all(|f| f["origin"] == "backfill" && f["run_id"].is_string()));
    // Under `skip`, the first starts and the rest are skipped, each reported: none is dropped silently.
    let skip = app.call("POST", &backfill, Some(&app.admin_key), Some(range("skip"))).await.expect(200);
    assert_eq!(
        (skip["started"].as_u64(), skip["skipped"].as_u64()),
        (Some(0), Some(5)),
        "the last backfill run still runs"
    );
    assert_eq!(runs_of(&app, &id).await.len(), 5);

    let refuse = |body: Value, field: &'static str| {
        let (app, backfill) = (&app, &backfill);
        async move {
            let problem = app.call("POST", backfill, Some(&app.admin_key), Some(body)).await.expect(422);
            assert_eq!(problem["errors"][0]["field"], field);
        }
    };
    refuse(json!({"from": now, "to": now + chrono::Duration::hours(1)}), "to").await;
    refuse(json!({"from": now - chrono::Duration::hours(1), "to": now - chrono::Duration::hours(2)}), "to").await;
    refuse(json!({"from": now - chrono::Duration::days(60), "to": now}), "to").await;
}

#[tokio::test]
async fn another_tenants_schedule_is_not_found() {
    let app = TestApp::new().await;
    let project = project(&app, None).await;
    let id = schedule(&app, &project, json!({})).await["id"].as_str().unwrap().to_owned();
    let (_, other) = app.second_tenant("globex").await;
    let base = format!("/v1/schedules/{id}");
    let calls = [
        ("GET", base.clone(), None),
        ("PATCH", base.clone(), Some(json!({"name": "mine"}))),
        ("DELETE", base.clone(), None),
        ("POST", format!("{base}/pause"), None),
        ("POST", format!("{base}/resume"), None),
        ("POST", format!("{base}/trigger"), None),
        (
            "POST",
            format!("{base}/backfill"),
            Some(json!({"from": "2020-01-01T00:00:00Z", "to": "2020-01-01T02:00:00Z"})),
        ),
        ("GET", format!("{base}/runs"), None),
        ("GET", format!("{base}/upcoming"), None),
    ];
    for (method, path, body) in calls {
        let response = app.call(method, &path, Some(&other), body).await;
        assert_eq!(response.status.as_u16(), 404, "{method} {path}: {}", response.body);
    }
    assert!(
        app.call("GET", "/v1/schedules", Some(&other), None).await.expect(200)["data"].as_array().unwrap().is_empty()
    );
    assert_eq!(get(&app, &base).await["name"], "Nightly tests", "unchanged");
}

/// Fires until no fire waits (each pass after a recheck interval), as the scheduler would while runs end.
async fn settle(app: &TestApp, id: &str) -> Value {
    for _ in 0..100 {
        let schedule = get(app, &format!("/v1/schedules/{id}")).await;
        let running = match schedule["last_run_id"].as_str() {
            Some(run) => !["completed", "failed", "cancelled", "denied"]
                .contains(&get(app, &format!("/v1/runs/{run}")).await["status"].as_str().unwrap()),
            None => false,
        };
        if schedule["buffered"].as_array().unwrap().is_empty() && !running {
            return schedule;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        app.clock.advance(agentic_core::model::BUFFER_RECHECK);
        app.platform.fire_due_schedules("scheduler-test").await.unwrap();
    }
    panic!("the schedule's runs did not settle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_overlap_policy_with_a_long_running_target() {
    // Each run asks the model twice (a tool call, then the answer), 300 ms each: a fire comes while the last run
    // is still working, and a cancel stops it at its second call.
    let delay = Duration::from_millis(300);
    let answered = |r: &agentic_core::llm::ChatRequest| {
        r.messages.iter().any(|m| matches!(m, agentic_core::llm::Message::Tool { .. }))
    };
    let mock = MockProvider::new()
        .when(answered, MockReply::text("done").with_delay(delay))
        .when(|_| true, MockReply::tool_call("secret_detector", json!({"files": []})).with_delay(delay));
    let app = TestApp::new().await.with_llm(mock);
    let project = project(&app, None).await;
    let platform = app.platform.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let workers = tokio::spawn(async move {
        let stopped = futures_util::FutureExt::shared(async move {
            let _ = stopped.await;
        });
        let one = platform.run_worker("w1".into(), Duration::from_millis(10), stopped.clone());
        let two = platform.run_worker("w2".into(), Duration::from_millis(10), stopped);
        tokio::join!(one, two);
    });
    // (policy, runs started by three fires in quick succession, fires skipped, the first run's end)
    let cases = [
        ("skip", 1, 2, "completed"),
        ("buffer_one", 2, 1, "completed"),
        ("buffer_all", 3, 0, "completed"),
        ("cancel_other", 2, 1, "cancelled"),
        ("allow_all", 3, 0, "completed"),
    ];
    for (policy, started, skipped, first_end) in cases {
        let id = schedule(&app, &project, json!({"overlap_policy": policy})).await["id"].as_str().unwrap().to_owned();
        let first = fire_next(&app, &id).await["last_run_id"].as_str().unwrap().to_owned();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while get(&app, &format!("/v1/runs/{first}")).await["status"] != "running" {
            assert!(std::time::Instant::now() < deadline, "{policy}: the first run never started");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        fire_next(&app, &id).await;
        fire_next(&app, &id).await;
        let after = settle(&app, &id).await;
        let runs = runs_of(&app, &id).await;
        assert_eq!(runs.len(), started, "{policy}: {runs:?}");
        assert_eq!(
            (after["fires_started"].as_u64(), after["fires_skipped"].as_u64()),
            (Some(started as u64), Some(skipped)),
            "{policy}"
        );
        assert_eq!(get(&app, &format!("/v1/runs/{first}")).await["status"], first_end, "{policy}");
        if policy != "allow_all" {
            // Runs never overlapped: each started after the one before had ended.
            let mut ordered = runs.clone();
            ordered.sort_by_key(|r| r["created_at"].as_str().unwrap().to_owned());
            for pair in ordered.windows(2) {
                assert!(pair[1]["created_at"].as_str() >= pair[0]["updated_at"].as_str(), "{policy}: {pair:?}");
            }
        }
        app.call("POST", &format!("/v1/schedules/{id}/pause"), Some(&app.admin_key), None).await.expect(200);
    }
    let _ = stop.send(());
    workers.await.unwrap();
}
