//! What a caller controls while a run works, on both stores: cancelling (queued, gated, running), the run's
//! progress stream (`GET /v1/runs/{id}/events`), its cost records, and the per-run token cap (`budget_tokens`).

use std::time::Duration;

use agentic_core::ids::{ProjectId, TenantId};
use agentic_llm::mock::{MockProvider, MockReply};
use serde_json::{Value, json};

use crate::support::TestApp;

/// The event types of a run's stream, read to its end (the stream closes after the run's end event).
async fn streamed_types(router: &axum::Router, run_id: &str, key: &str) -> Vec<String> {
    use tower::ServiceExt;
    let request = axum::http::Request::get(format!("/v1/runs/{run_id}/events"))
        .header("authorization", format!("Bearer {key}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = tokio::time::timeout(Duration::from_secs(20), axum::body::to_bytes(response.into_body(), usize::MAX))
        .await
        .expect("the run's stream ends after its end event")
        .unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    text.lines().filter_map(|line| line.strip_prefix("event: ")).map(str::to_owned).collect()
}

/// A tool input for the per-file scanners.
fn files() -> Value {
    json!({"files": [{"path": "app.py", "content": "print('hello')"}]})
}

async fn project(app: &TestApp, key: &str, name: &str) -> String {
    let project = app.call("POST", "/v1/projects", Some(key), Some(json!({"name": name}))).await.expect(201);
    project["id"].as_str().unwrap().to_owned()
}

async fn execute(app: &TestApp, key: &str, agent: &str, body: Value) -> Value {
    app.call("POST", &format!("/v1/agents/{agent}/execute"), Some(key), Some(body)).await.expect(202)
}

/// The events of `kind` stored for `run_id`.
async fn stored(app: &TestApp, key: &str, kind: &str, run_id: &str) -> Vec<Value> {
    let page = app.call("GET", &format!("/v1/events?type={kind}&run_id={run_id}"), Some(key), None).await.expect(200);
    page["data"].as_array().unwrap().clone()
}

crate::both_backends!(cancel_before_start, queued_and_gated_runs_are_cancelled_at_once);

async fn queued_and_gated_runs_are_cancelled_at_once(app: TestApp) {
    let app = app.with_llm(MockProvider::echo());
    let admin = app.admin_key.clone();
    let project = project(&app, &admin, "Site").await;
    let (_, developer) = app.user("dev@acme.test", &["developer"]).await;
    let (_, manager) = app.user("boss@acme.test", &["manager"]).await;

    // A queued run ends at once, with its event; nobody works it afterwards.
    let queued = execute(&app, &developer, "qa_tester", json!({"task": "Check it", "project_id": project})).await;
    let id = queued["id"].as_str().unwrap();
    let cancelled = app.call("POST", &format!("/v1/runs/{id}/cancel"), Some(&developer), None).await.expect(200);
    assert_eq!((cancelled["status"].as_str(), cancelled["error"].as_str()), (Some("cancelled"), Some("cancelled")));
    assert_eq!(stored(&app, &admin, "agent.cancelled", id).await.len(), 1);
    assert!(!app.platform.work_once("w").await.unwrap(), "a cancelled run is never claimed");
    let again = app.call("POST", &format!("/v1/runs/{id}/cancel"), Some(&developer), None).await.expect(200);
    assert_eq!(again["status"], "cancelled", "cancelling again answers the same");
    assert_eq!(streamed_types(&app.router, id, &developer).await, ["agent.cancelled"]);
    let waited = app.call("GET", &format!("/v1/runs/{id}/result?wait=5"), Some(&developer), None).await;
    assert_eq!(waited.expect(200)["status"], "cancelled", "a waiter sees the end at once");

    // Somebody else's run: a developer may not cancel it, a manager (who approves runs) may.
    let other = execute(&app, &admin, "qa_tester", json!({"task": "Check more", "project_id": project})).await;
    let other_id = other["id"].as_str().unwrap();
    app.call("POST", &format!("/v1/runs/{other_id}/cancel"), Some(&developer), None).await.expect(403);
    app.call("POST", &format!("/v1/runs/{other_id}/cancel"), Some(&manager), None).await.expect(200);

    // A gated run: its pending request is withdrawn with it, and can no longer be decided.
    let body = json!({"task": "Rotate the keys", "project_id": project, "risk_level": "high"});
    let gated = execute(&app, &developer, "devops_engineer", body).await;
    assert_eq!(gated["status"], "awaiting_approval");
    let gated_id = gated["id"].as_str().unwrap();
    let pending = app.call("GET", "/v1/approvals?status=pending", Some(&manager), None).await.expect(200);
    let approval = pending["data"].as_array().unwrap().iter().find(|a| a["run_id"] == gated["id"]).unwrap().clone();
    app.call("POST", &format!("/v1/runs/{gated_id}/cancel"), Some(&developer), None).await.expect(200);
    let approval_path = format!("/v1/approvals/{}", approval["id"].as_str().unwrap());
    let withdrawn = app.call("GET", "/v1/approvals?status=cancelled", Some(&manager), None).await.expect(200);
    assert_eq!(withdrawn["data"].as_array().unwrap().iter().filter(|a| a["id"] == approval["id"]).count(), 1);
    app.call("POST", &format!("{approval_path}/approve"), Some(&manager), Some(json!({}))).await.expect(409);
    let run = app.call("GET", &format!("/v1/runs/{gated_id}"), Some(&admin), None).await.expect(200);
    assert_eq!(run["status"], "cancelled", "approving afterwards changes nothing");

    // Viewers cancel nothing; an unknown run is 404.
    let (_, viewer) = app.user("eve@acme.test", &["viewer"]).await;
    let fresh = execute(&app, &admin, "qa_tester", json!({"task": "Last", "project_id": project})).await;
    app.call("POST", &format!("/v1/runs/{}/cancel", fresh["id"].as_str().unwrap()), Some(&viewer), None)
        .await
        .expect(403);
    app.call("POST", "/v1/runs/0190f5f5-0000-7000-8000-000000000000/cancel", Some(&admin), None).await.expect(404);
}

crate::both_backends!(cancel_while_running, a_running_run_stops_at_its_next_step_and_keeps_no_hold);

async fn a_running_run_stops_at_its_next_step_and_keeps_no_hold(app: TestApp) {
    // The first model turn takes a while and asks for a tool; the cancel arrives during it.
    let slow = MockReply::tool_call("secret_detector", files()).with_delay(Duration::from_millis(700));
    let mock = std::sync::Arc::new(MockProvider::new().then(slow).reply("never asked"));
    let app = app.with_llm(std::sync::Arc::clone(&mock));
    let admin = app.admin_key.clone();
    let project = project(&app, &admin, "Audit").await;
    let run = execute(&app, &admin, "security_auditor", json!({"task": "Audit it", "project_id": project})).await;
    let id = run["id"].as_str().unwrap().to_owned();
    let platform = app.platform.clone();
    let worker = tokio::spawn(async move { platform.work_once("w").await.unwrap() });
    // Cancelled while its first model call is in flight.
    for _ in 0..200 {
        if !mock.requests().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(mock.requests().len(), 1, "the first call is in flight");
    let asked = app.call("POST", &format!("/v1/runs/{id}/cancel"), Some(&admin), None).await.expect(202);
    assert_eq!(asked["status"], "running");
    assert!(asked["cancel_requested_at"].is_string(), "{asked}");
    assert!(tokio::time::timeout(Duration::from_secs(10), worker).await.unwrap().unwrap());

    let done = app.call("GET", &format!("/v1/runs/{id}"), Some(&admin), None).await.expect(200);
    assert_eq!(done["status"], "cancelled", "{done}");
    // The call in flight finished and was settled (one cost record); no tool ran and no second call was made.
    let costs = app.call("GET", &format!("/v1/runs/{id}/costs"), Some(&admin), None).await.expect(200);
    assert_eq!(costs.as_array().unwrap().len(), 1, "{costs}");
    assert_eq!(costs[0]["run_id"].as_str(), Some(id.as_str()));
    assert_eq!(streamed_types(&app.router, &id, &admin).await, ["agent.started", "run.llm_call", "agent.cancelled"]);
    let tenant: TenantId = app.call("GET", "/v1/me", Some(&admin), None).await.expect(200)["user"]["tenant_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let project: ProjectId = project.parse().unwrap();
    let status = app.platform.store().tenant(tenant).budget_status(project, app.platform.clock().now()).await;
    assert_eq!(status.unwrap().unwrap().reserved, agentic_core::model::Money::ZERO, "no hold stays behind");
}

crate::both_backends!(run_progress, the_run_stream_follows_a_run_from_its_start_to_its_end);

async fn the_run_stream_follows_a_run_from_its_start_to_its_end(app: TestApp) {
    let mock = MockProvider::new().tool_call("secret_detector", files()).reply("No secrets found.");
    let app = app.with_llm(mock);
    let admin = app.admin_key.clone();
    let project = project(&app, &admin, "Audit").await;
    let run = execute(&app, &admin, "security_auditor", json!({"task": "Audit it", "project_id": project})).await;
    let id = run["id"].as_str().unwrap().to_owned();

    // A stream opened before the run starts follows it live and closes after its end.
    let follower = {
        let (router, id, admin) = (app.router.clone(), id.clone(), admin.clone());
        tokio::spawn(async move { streamed_types(&router, &id, &admin).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(app.platform.work_once("w").await.unwrap());
    let live = follower.await.unwrap();
    let expected = ["agent.started", "run.llm_call", "run.tool_call", "run.llm_call", "agent.completed"];
    assert_eq!(live, expected);
    // Read again after the end, the same; each step event carries what a progress display needs.
    assert_eq!(streamed_types(&app.router, &id, &admin).await, expected);
    let calls = stored(&app, &admin, "run.llm_call", &id).await;
    assert!(calls.iter().all(|e| e["data"]["input_tokens"].is_u64() && e["data"]["cost"].is_string()), "{calls:?}");
    let tools = stored(&app, &admin, "run.tool_call", &id).await;
    assert_eq!(
        (tools[0]["data"]["tool"].as_str(), tools[0]["data"]["ok"].as_bool()),
        (Some("secret_detector"), Some(true))
    );
    let costs = app.call("GET", &format!("/v1/runs/{id}/costs"), Some(&admin), None).await.expect(200);
    assert_eq!(costs.as_array().unwrap().len(), 2);
    // A malformed resume id is refused before streaming.
    let request = axum::http::Request::get(format!("/v1/runs/{id}/events"))
        .header("authorization", format!("Bearer {admin}"))
        .header("last-event-id", "yesterday")
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(request).await.expect(422);
}

crate::both_backends!(token_cap, a_run_over_its_token_cap_fails_on_its_budget_before_calling);

async fn a_run_over_its_token_cap_fails_on_its_budget_before_calling(app: TestApp) {
    let mock = std::sync::Arc::new(MockProvider::echo());
    let app = app.with_llm(std::sync::Arc::clone(&mock));
    let admin = app.admin_key.clone();
    let project = project(&app, &admin, "Tokens").await;

    // The plan's test: `context={"budget_tokens": 100}` must end in a budget error, not a model call.
    let body = json!({"task": "Review the login form", "project_id": project, "context": {"budget_tokens": 100}});
    let run = execute(&app, &admin, "qa_tester", body).await;
    assert!(app.platform.work_once("w").await.unwrap());
    let done = app.call("GET", &format!("/v1/runs/{}", run["id"].as_str().unwrap()), Some(&admin), None).await;
    let done = done.expect(200);
    assert_eq!((done["status"].as_str(), done["error_code"].as_str()), (Some("failed"), Some("budget-exceeded")));
    assert!(done["error"].as_str().unwrap().contains("token budget"), "{done}");
    assert!(mock.requests().is_empty(), "no model call was made");

    // A cap that fits clips the call's output to what is left (the developer: its one tool's definition leaves
    // room for a clipped answer under this cap).
    let body = json!({"task": "Review the login form", "project_id": project, "budget_tokens": 1500});
    execute(&app, &admin, "developer", body).await;
    assert!(app.platform.work_once("w").await.unwrap());
    let asked = mock.requests();
    let request = asked.first().unwrap();
    let input = agentic_core::engine::estimate_input_tokens(request);
    assert_eq!(u64::from(request.max_tokens), 1500 - input, "the agent's own max_tokens is 1024");

    for bad in [json!({"budget_tokens": 0}), json!({"context": {"budget_tokens": "lots"}})] {
        let mut body = json!({"task": "Review", "project_id": project});
        body.as_object_mut().unwrap().extend(bad.as_object().unwrap().clone());
        let refused = app.call("POST", "/v1/agents/qa_tester/execute", Some(&admin), Some(body)).await.expect(422);
        assert!(refused["errors"][0]["field"].as_str().unwrap().ends_with("budget_tokens"), "{refused}");
    }
}

/// `POST path` with an `Idempotency-Key`.
async fn post_keyed(app: &TestApp, path: &str, bearer: &str, key: &str, body: &Value) -> crate::support::Response {
    let request = axum::http::Request::post(path)
        .header("authorization", format!("Bearer {bearer}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(axum::body::Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    app.send(request).await
}

crate::both_backends!(idempotency, the_same_idempotency_key_returns_the_same_run_for_a_day);

async fn the_same_idempotency_key_returns_the_same_run_for_a_day(app: TestApp) {
    let app = app.with_llm(MockProvider::echo());
    let admin = app.admin_key.clone();
    let project = project(&app, &admin, "Orders").await;
    let execute = "/v1/agents/qa_tester/execute";
    let body = json!({"task": "Check order 1", "project_id": project});
    let first = post_keyed(&app, execute, &admin, "order-1", &body).await.expect(202);
    let again = post_keyed(&app, execute, &admin, "order-1", &body).await.expect(202);
    assert_eq!((again["id"].clone(), again["idempotency_key"].as_str()), (first["id"].clone(), Some("order-1")));

    // Racing requests with one key start one run between them.
    let racing: Vec<_> = (0..8)
        .map(|_| {
            let body = json!({"task": "Check order 2", "project_id": project});
            let (router, admin) = (app.router.clone(), admin.clone());
            tokio::spawn(async move {
                use tower::ServiceExt;
                let request = axum::http::Request::post(execute)
                    .header("authorization", format!("Bearer {admin}"))
                    .header("content-type", "application/json")
                    .header("idempotency-key", "order-2")
                    .body(axum::body::Body::from(serde_json::to_vec(&body).unwrap()))
                    .unwrap();
                let response = router.oneshot(request).await.unwrap();
                assert_eq!(response.status(), 202);
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
                serde_json::from_slice::<Value>(&bytes).unwrap()["id"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for handle in racing {
        ids.insert(handle.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "one run for eight racing requests: {ids:?}");
    let listed = app.call("GET", &format!("/v1/runs?project_id={project}"), Some(&admin), None).await.expect(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);

    // The key with another request is refused, naming the header; keys are checked.
    let other = json!({"task": "Something else", "project_id": project});
    let refused = post_keyed(&app, execute, &admin, "order-1", &other).await.expect(422);
    assert_eq!(refused["errors"][0]["field"], "Idempotency-Key");
    let (_, developer) = app.user("dev@acme.test", &["developer"]).await;
    post_keyed(&app, execute, &developer, "order-1", &body).await.expect(422);
    post_keyed(&app, execute, &admin, &"k".repeat(256), &body).await.expect(422);
    post_keyed(&app, execute, &admin, "two words", &body).await.expect(422);

    // Workflows take keys too.
    let workflow = json!({"name": "ProjectPipelineWorkflow", "args": {"goal": "Ship"}, "project_id": project});
    let started = post_keyed(&app, "/v1/workflows", &admin, "ship-1", &workflow).await.expect(202);
    let repeated = post_keyed(&app, "/v1/workflows", &admin, "ship-1", &workflow).await.expect(202);
    assert_eq!(started["id"], repeated["id"]);

    // A day later the key starts a new run.
    app.clock.advance(chrono::Duration::hours(25));
    let later = post_keyed(&app, execute, &admin, "order-1", &body).await.expect(202);
    assert_ne!(later["id"], first["id"]);
    let old = app.call("GET", &format!("/v1/runs/{}", first["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!(old.expect(200)["idempotency_key"], Value::Null, "the old run gave its key up");
}

crate::both_backends!(cancel_racing_approval, a_cancel_racing_an_approval_never_fails_and_the_run_ends_cancelled);

async fn a_cancel_racing_an_approval_never_fails_and_the_run_ends_cancelled(app: TestApp) {
    let app = app.with_llm(MockProvider::echo());
    let admin = app.admin_key.clone();
    let project = project(&app, &admin, "Races").await;
    let (_, developer) = app.user("dev@acme.test", &["developer"]).await;
    let (_, manager) = app.user("boss@acme.test", &["manager"]).await;
    let mut runs = Vec::new();
    for i in 0..12 {
        let body = json!({"task": format!("Rotate key {i}"), "project_id": project, "risk_level": "high"});
        runs.push(execute(&app, &developer, "devops_engineer", body).await["id"].as_str().unwrap().to_owned());
    }
    let pending = app.call("GET", "/v1/approvals?status=pending", Some(&manager), None).await.expect(200);
    let mut races = Vec::new();
    for run in &runs {
        let approval = pending["data"].as_array().unwrap().iter().find(|a| a["run_id"] == run.as_str()).unwrap();
        let approve = format!("/v1/approvals/{}/approve", approval["id"].as_str().unwrap());
        let cancel = format!("/v1/runs/{run}/cancel");
        let send = |method: &'static str, path: String, bearer: String, body: Option<Value>| {
            let router = app.router.clone();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let mut request = axum::http::Request::builder()
                    .method(method)
                    .uri(path)
                    .header("authorization", format!("Bearer {bearer}"));
                let body = match body {
                    Some(body) => {
                        request = request.header("content-type", "application/json");
                        axum::body::Body::from(serde_json::to_vec(&body).unwrap())
                    }
                    None => axum::body::Body::empty(),
                };
                router.oneshot(request.body(body).unwrap()).await.unwrap().status().as_u16()
            })
        };
        races.push(send("POST", approve, manager.clone(), Some(json!({}))));
        races.push(send("POST", cancel, developer.clone(), None));
    }
    for race in races {
        let status = race.await.unwrap();
        assert!(matches!(status, 200 | 202 | 409), "a race answered {status}");
    }
    for run in &runs {
        let read = app.call("GET", &format!("/v1/runs/{run}"), Some(&admin), None).await.expect(200);
        assert_eq!(read["status"], "cancelled", "approved first then cancelled, or cancelled first: {read}");
    }
}

#[tokio::test]
async fn an_abandoned_attempts_failure_does_not_end_the_runs_stream() {
    use crate::runs::{SHORT_LEASE, outlast_lease};
    use agentic_core::events::{Event, EventKind};
    let app = TestApp::new().await.with_llm_and(MockProvider::echo(), |b| b.run_lease(SHORT_LEASE));
    let admin = app.admin_key.clone();
    let project = project(&app, &admin, "Retries").await;
    let run = execute(&app, &admin, "qa_tester", json!({"task": "Check it", "project_id": project})).await;
    let id = run["id"].as_str().unwrap().to_owned();
    // A worker claims the run and stops midway: its attempt's `agent.failed` is stored, the run is not over.
    let now = app.platform.clock().now();
    let claimed = app.platform.store().system().claim_runs("doomed", now, SHORT_LEASE, 1).await.unwrap();
    let tenant = claimed[0].tenant_id;
    let data =
        json!({"agent": "qa_tester", "run_id": id, "project_id": project, "reason": "abandoned before it finished"});
    let abandoned = Event::new(tenant, EventKind::AgentFailed, data, now);
    app.platform.store().tenant(tenant).append_events(&[abandoned]).await.unwrap();
    let follower = {
        let (router, id, admin) = (app.router.clone(), id.clone(), admin.clone());
        tokio::spawn(async move { streamed_types(&router, &id, &admin).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    outlast_lease(&app).await;
    assert!(app.platform.work_once("rescuer").await.unwrap());
    let streamed = follower.await.unwrap();
    assert_eq!(
        streamed,
        ["agent.failed", "agent.started", "run.llm_call", "agent.completed"],
        "followed to the real end"
    );
}
