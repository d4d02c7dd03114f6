//! Durable runs over HTTP, on both stores: queue, work, long-poll, take over an interrupted run.

use std::sync::Arc;
use std::time::Duration;

use agentic_core::testing::faults::{Faults, FaultyStore, Op};
use agentic_llm::mock::MockProvider;
use serde_json::json;

use crate::support::TestApp;

/// A lease short enough to wait out: PostgreSQL measures leases on its own clock, so a lapse takes real time.
pub const SHORT_LEASE: chrono::Duration = chrono::Duration::milliseconds(600);

/// Waits out [`SHORT_LEASE`] on the clocks that measure it: the platform's (manual) and, on PostgreSQL, the
/// database's (real time; the memory store measures leases on the platform's clock, so it needs no real wait).
pub async fn outlast_lease(app: &TestApp) {
    if app.memory.is_none() {
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    app.clock.advance(chrono::Duration::milliseconds(800));
}

crate::both_backends!(run_lifecycle, runs_are_queued_worked_and_polled);

async fn runs_are_queued_worked_and_polled(app: TestApp) {
    let app = app.with_llm(MockProvider::echo());
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Site"}))).await.expect(201);
    let project_id = project["id"].as_str().unwrap().to_owned();
    let (_, developer) = app.user("dev@acme.test", &["developer"]).await;

    let queued = app
        .call(
            "POST",
            "/v1/agents/developer/execute",
            Some(&developer),
            Some(json!({"task": "Write hello world", "project_id": project_id})),
        )
        .await
        .expect(202);
    assert_eq!(queued["status"], "queued");
    let run_id = queued["id"].as_str().unwrap().to_owned();
    // No worker yet: a short long-poll comes back 202 with the run as it stands.
    let polled = app.call("GET", &format!("/v1/runs/{run_id}/result?wait=1"), Some(&developer), None).await.expect(202);
    assert_eq!(polled["status"], "queued");

    assert!(app.platform.work_once("worker-1").await.unwrap());
    assert!(!app.platform.work_once("worker-1").await.unwrap(), "the queue is empty");
    let done = app.call("GET", &format!("/v1/runs/{run_id}/result"), Some(&developer), None).await.expect(200);
    assert_eq!(done["status"], "completed");
    assert_eq!(done["attempts"], 1);
    assert_eq!(done["output"]["answer"], "mock reply to: Write hello world");

    // With a worker running, `wait` returns the finished run.
    let platform = app.platform.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(async move {
        platform
            .run_worker("worker-2".into(), Duration::from_millis(20), async {
                let _ = stopped.await;
            })
            .await;
    });
    let waited = app
        .call(
            "POST",
            "/v1/agents/qa_tester/execute",
            Some(&developer),
            Some(json!({"task": "Test it", "project_id": project_id, "wait": 10})),
        )
        .await
        .expect(200);
    assert_eq!(waited["status"], "completed");
    let _ = stop.send(());
    worker.await.unwrap();

    // Refusals.
    let (_, viewer) = app.user("viewer@acme.test", &["viewer"]).await;
    app.call(
        "POST",
        "/v1/agents/developer/execute",
        Some(&viewer),
        Some(json!({"task": "x", "project_id": project_id})),
    )
    .await
    .expect(403);
    app.call(
        "POST",
        "/v1/agents/nobody/execute",
        Some(&developer),
        Some(json!({"task": "x", "project_id": project_id})),
    )
    .await
    .expect(404);
    let unknown_project = agentic_core::ids::ProjectId::new();
    app.call(
        "POST",
        "/v1/agents/developer/execute",
        Some(&developer),
        Some(json!({"task": "x", "project_id": unknown_project})),
    )
    .await
    .expect(404);
    app.call(
        "POST",
        "/v1/agents/developer/execute",
        Some(&developer),
        Some(json!({"task": "x", "project_id": project_id, "wait": 61})),
    )
    .await
    .expect(422);
    app.call("GET", &format!("/v1/runs/{run_id}/result?wait=61"), Some(&developer), None).await.expect(422);
    let (_, other) = app.second_tenant("rivals").await;
    app.call("GET", &format!("/v1/runs/{run_id}"), Some(&other), None).await.expect(404);
}

crate::both_backends!(interrupted_runs, an_interrupted_run_is_taken_over_after_its_lease);

async fn an_interrupted_run_is_taken_over_after_its_lease(app: TestApp) {
    let app = app.with_llm_and(MockProvider::echo(), |b| b.run_lease(SHORT_LEASE));
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Ops"}))).await.expect(201);
    let queued = app
        .call(
            "POST",
            "/v1/agents/developer/execute",
            Some(&key),
            Some(json!({"task": "Fix it", "project_id": project["id"]})),
        )
        .await
        .expect(202);
    let run_id = queued["id"].as_str().unwrap().to_owned();

    // A worker claims the run and dies without finishing it.
    let now = app.platform.clock().now();
    let claimed = app.platform.store().system().claim_runs("doomed", now, SHORT_LEASE, 1).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(!app.platform.work_once("rescuer").await.unwrap(), "the lease still holds");
    let running = app.call("GET", &format!("/v1/runs/{run_id}"), Some(&key), None).await.expect(200);
    assert_eq!(running["status"], "running");

    // Past the lease, another worker takes it over and completes it.
    outlast_lease(&app).await;
    assert!(app.platform.work_once("rescuer").await.unwrap());
    let done = app.call("GET", &format!("/v1/runs/{run_id}"), Some(&key), None).await.expect(200);
    assert_eq!((done["status"].as_str(), done["attempts"].as_u64()), (Some("completed"), Some(2)));
}

#[tokio::test]
async fn a_failed_run_tells_its_tenant_what_failed_without_internal_details() {
    use agentic_core::llm::LlmError;
    let internal = "tcp connect error: 10.0.3.7:11434 (ollama.corp.internal) refused";
    let app = TestApp::new().await.with_llm(MockProvider::new().error(move || LlmError::Transport(internal.into())));
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Site"}))).await.expect(201);
    let body = json!({"task": "Fix it", "project_id": project["id"]});
    let queued = app.call("POST", "/v1/agents/qa_tester/execute", Some(&key), Some(body)).await.expect(202);
    assert!(app.platform.work_once("w").await.unwrap());
    let run = app.call("GET", &format!("/v1/runs/{}", queued["id"].as_str().unwrap()), Some(&key), None).await;
    let run = run.expect(200);
    assert_eq!(run["status"], "failed");
    assert_eq!(run["error"], "LLM provider failed: could not reach the provider");
    assert_eq!(run["error_code"], "llm-failed", "a client branches on the code, not the words");
}

/// An app whose store fails on demand, with `mock` as every LLM and a project; returns (app, faults, project).
async fn faulty_app(app: TestApp, mock: MockProvider) -> (TestApp, Faults, String) {
    let (store, faults) = FaultyStore::wrap(Arc::clone(app.platform.store()));
    let app = app.with_llm_and(mock, |b| b.store(Arc::new(store)));
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Ops"}))).await;
    let project = project.expect(201)["id"].as_str().unwrap().to_owned();
    (app, faults, project)
}

async fn queue(app: &TestApp, project: &str) -> String {
    let body = json!({"task": "Fix it", "project_id": project});
    let queued = app.call("POST", "/v1/agents/qa_tester/execute", Some(&app.admin_key), Some(body)).await.expect(202);
    queued["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_event_the_store_refuses_still_reaches_the_sink_and_is_counted() {
    let (app, faults, project) = faulty_app(TestApp::new().await, MockProvider::echo()).await;
    let id = queue(&app, &project).await;
    faults.fail(Op::AppendEvents, u32::MAX);
    assert!(app.platform.work_once("w").await.unwrap());
    let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(run["status"], "completed", "the run does not depend on its start event being stored");
    assert_eq!(app.events_of("agent.started").await.len(), 1, "the sink still got the refused one");
    assert_eq!(app.events_of("agent.completed").await.len(), 1);
    let (_, metrics) = crate::validation::scrape(&app.platform.metrics_router(), None).await;
    assert!(metrics.contains("event_store_failures_total 1"), "agent.started: {metrics}");
    // The end event is stored with the run's end and `run.llm_call` with the call's settlement (the outbox), not
    // by the failing standalone append.
    let stored = app.call("GET", &format!("/v1/events?run_id={id}"), Some(&app.admin_key), None).await.expect(200);
    let kinds: Vec<_> = stored["data"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, vec![json!("agent.completed"), json!("run.llm_call")], "{stored}");
}

#[tokio::test]
async fn an_event_refused_once_is_stored_on_its_next_attempt() {
    let (app, faults, project) = faulty_app(TestApp::new().await, MockProvider::echo()).await;
    let id = queue(&app, &project).await;
    faults.fail(Op::AppendEvents, 1);
    assert!(app.platform.work_once("w").await.unwrap());
    let stored = app.call("GET", &format!("/v1/events?run_id={id}"), Some(&app.admin_key), None).await.expect(200);
    let kinds: Vec<_> = stored["data"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, vec![json!("agent.completed"), json!("run.llm_call"), json!("agent.started")], "{stored}");
    let (_, metrics) = crate::validation::scrape(&app.platform.metrics_router(), None).await;
    assert!(metrics.contains("event_store_failures_total 0"), "{metrics}");
}

crate::both_backends!(finish_retry, a_transient_store_failure_does_not_discard_a_finished_result);

async fn a_transient_store_failure_does_not_discard_a_finished_result(app: TestApp) {
    let (app, faults, project) = faulty_app(app, MockProvider::echo()).await;
    let id = queue(&app, &project).await;
    faults.fail(Op::FinishRun, 2);
    assert!(app.platform.work_once("w").await.unwrap());
    assert_eq!(faults.calls(Op::FinishRun), 3, "retried until the store took it");
    let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((run["status"].as_str(), run["attempts"].as_u64()), (Some("completed"), Some(1)), "{run}");
}

crate::both_backends!(shutdown_release, a_worker_shutting_down_gives_its_run_back_at_once);

async fn a_worker_shutting_down_gives_its_run_back_at_once(app: TestApp) {
    let slow = MockProvider::new()
        .then(agentic_llm::mock::MockReply::text("too late").with_delay(Duration::from_secs(30)))
        .reply("done");
    let (app, faults, project) = faulty_app(app, slow).await;
    let id = queue(&app, &project).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let platform = app.platform.clone();
    let worker = tokio::spawn(async move {
        platform
            .run_worker("leaving".into(), Duration::from_millis(20), async {
                let _ = stopped.await;
            })
            .await;
    });
    for _ in 0..200 {
        let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
        if run["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), worker).await.expect("the worker stops at once").unwrap();
    assert_eq!(faults.calls(Op::ReleaseRun), 1);
    let back = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((back["status"].as_str(), back["attempts"].as_u64()), (Some("queued"), Some(0)), "{back}");
    // Another worker starts it at once, without waiting out a lease, as its first attempt.
    assert!(app.platform.work_once("next").await.unwrap());
    let done = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((done["status"].as_str(), done["attempts"].as_u64()), (Some("completed"), Some(1)), "{done}");
}

#[tokio::test]
async fn a_run_failed_by_the_store_tells_its_tenant_only_a_code() {
    let (app, faults, project) = faulty_app(TestApp::new().await, MockProvider::echo()).await;
    let id = queue(&app, &project).await;
    faults.fail(Op::Reserve, 1);
    assert!(app.platform.work_once("w").await.unwrap());
    let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(run["status"], "failed");
    let error = run["error"].as_str().unwrap();
    assert_eq!(error, format!("a backing service is unavailable; retry later (code: unavailable, run {id})"));
    assert!(!error.contains("injected"), "the cause stays in the log");
}

#[tokio::test]
async fn a_task_may_carry_a_pasted_file_and_wait_may_be_true() {
    let app = TestApp::new().await.with_llm(MockProvider::echo());
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Site"}))).await.expect(201);
    let platform = app.platform.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(async move {
        platform
            .run_worker("w".into(), Duration::from_millis(20), async {
                let _ = stopped.await;
            })
            .await;
    });
    let task = "Audit this file:\n\n```python\ndef login(user):\n\treturn db.query(f\"SELECT * FROM users WHERE name = '{user}'\")\n```\n";
    let body = json!({"task": task, "project_id": project["id"], "wait": true});
    let done = app.call("POST", "/v1/agents/qa_tester/execute", Some(&key), Some(body)).await.expect(200);
    assert_eq!(done["status"], "completed", "`wait: true` waited for the result");
    assert_eq!(done["input"]["task"], task.trim(), "line breaks and tabs are kept");
    let id = done["id"].as_str().unwrap();
    app.call("GET", &format!("/v1/runs/{id}/result?wait=true"), Some(&key), None).await.expect(200);
    let _ = stop.send(());
    worker.await.unwrap();

    // `false` is no wait; names stay on one line, and no text takes a NUL.
    let body = json!({"task": "Later", "project_id": project["id"], "wait": false});
    let queued = app.call("POST", "/v1/agents/qa_tester/execute", Some(&key), Some(body)).await.expect(202);
    assert_eq!(queued["status"], "queued");
    let body = json!({"task": "bad\u{0}byte", "project_id": project["id"]});
    let refused = app.call("POST", "/v1/agents/qa_tester/execute", Some(&key), Some(body)).await.expect(422);
    assert!(refused["detail"].as_str().unwrap().contains("control characters"), "{refused}");
    app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "two\nlines"}))).await.expect(422);
    let body = json!({"task": "x", "project_id": project["id"], "wait": "soon"});
    app.call("POST", "/v1/agents/qa_tester/execute", Some(&key), Some(body)).await.expect(422);
}
