//! Durable runs over HTTP, on both stores: queue, work, long-poll, take over an interrupted run.

use std::time::Duration;

use agentic_llm::mock::MockProvider;
use serde_json::json;

use crate::support::TestApp;

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
    let app = app.with_llm(MockProvider::echo());
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
    let claimed =
        app.platform.store().system().claim_runs("doomed", now, now + agentic_core::engine::LEASE, 1).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(!app.platform.work_once("rescuer").await.unwrap(), "the lease still holds");
    let running = app.call("GET", &format!("/v1/runs/{run_id}"), Some(&key), None).await.expect(200);
    assert_eq!(running["status"], "running");

    // Past the lease, another worker takes it over and completes it.
    app.clock.advance(agentic_core::engine::LEASE + chrono::Duration::seconds(1));
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
}
