//! Stored events over HTTP: the catalogue, the listing with its filters and cursors, their schemas, and tenants.

use agentic_core::events::EventKind;
use agentic_llm::mock::MockProvider;
use serde_json::{Value, json};

use crate::support::TestApp;

/// A project and one agent run on the echo mock, worked to the end; returns (project id, run id).
pub(crate) async fn one_run(app: &TestApp, bearer: &str) -> (String, String) {
    let project = app.call("POST", "/v1/projects", Some(bearer), Some(json!({"name": "Site"}))).await.expect(201);
    let body = json!({"task": "Say hello", "project_id": project["id"]});
    let run = app.call("POST", "/v1/agents/qa_tester/execute", Some(bearer), Some(body)).await.expect(202);
    assert!(app.platform.work_once("w").await.unwrap());
    (project["id"].as_str().unwrap().to_owned(), run["id"].as_str().unwrap().to_owned())
}

fn types(page: &Value) -> Vec<&str> {
    page["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect()
}

crate::both_backends!(events_listed, a_runs_events_are_stored_listed_and_match_their_schemas);

async fn a_runs_events_are_stored_listed_and_match_their_schemas(app: TestApp) {
    let app = app.with_llm(MockProvider::echo());
    let key = app.admin_key.clone();
    let (project, run) = one_run(&app, &key).await;
    let (_, other_run) = one_run(&app, &key).await;

    // Newest first by default; filtered by run, the run's own three events (its model call between start and end).
    let all = app.call("GET", "/v1/events", Some(&key), None).await.expect(200);
    let one_run_events = ["agent.completed", "run.llm_call", "agent.started"];
    assert_eq!(types(&all), [one_run_events, one_run_events].concat());
    let of_run = app.call("GET", &format!("/v1/events?run_id={run}"), Some(&key), None).await.expect(200);
    assert_eq!(types(&of_run), one_run_events);
    for event in of_run["data"].as_array().unwrap() {
        assert_eq!(
            (event["run_id"].as_str(), event["project_id"].as_str()),
            (Some(run.as_str()), Some(project.as_str()))
        );
        let kind = EventKind::parse(event["type"].as_str().unwrap()).unwrap();
        assert!(kind.data_matches(&event["data"]), "{kind} data does not match its schema: {event}");
    }
    let completed = app.call("GET", "/v1/events?type=agent.completed&limit=1", Some(&key), None).await.expect(200);
    assert_eq!(completed["data"][0]["run_id"], other_run.as_str(), "the newest first");
    let cursor = completed["next_cursor"].as_str().unwrap();
    let older = app.call("GET", &format!("/v1/events?type=agent.completed&before={cursor}"), Some(&key), None).await;
    let older = older.expect(200);
    assert_eq!((older["data"][0]["run_id"].as_str(), &older["next_cursor"]), (Some(run.as_str()), &Value::Null));
    // Following: oldest first after a cursor.
    let first = all["data"][5]["id"].as_str().unwrap();
    let after = app.call("GET", &format!("/v1/events?after={first}"), Some(&key), None).await.expect(200);
    let rest = ["run.llm_call", "agent.completed", "agent.started", "run.llm_call", "agent.completed"];
    assert_eq!(types(&after), rest);

    // Counted by type on the metrics listener, as they are relayed.
    app.platform.relay_events().await.unwrap();
    let (_, metrics) = crate::validation::scrape(&app.platform.metrics_router(), None).await;
    assert!(metrics.contains(r#"events_stored_total{type="agent.completed"} 2"#), "{metrics}");
    assert!(metrics.contains("event_store_failures_total 0"), "{metrics}");

    // A viewer reads them too; a misspelt type or filter is a 400 naming it.
    let (_, viewer) = app.user("viewer@acme.test", &["viewer"]).await;
    assert_eq!(types(&app.call("GET", "/v1/events", Some(&viewer), None).await.expect(200)).len(), 6);
    let bad = app.call("GET", "/v1/events?type=agent.exploded", Some(&key), None).await.expect(400);
    assert_eq!(bad["type"], "https://agentic.dev/problems/bad-query");
    app.call("GET", "/v1/events?kind=agent.started", Some(&key), None).await.expect(400);

    // Another tenant sees none of them, not even by run id.
    let (_, b_admin) = app.second_tenant("beta").await;
    let theirs = app.call("GET", "/v1/events", Some(&b_admin), None).await.expect(200);
    assert_eq!(theirs["data"], json!([]));
    let by_id = app.call("GET", &format!("/v1/events?run_id={run}"), Some(&b_admin), None).await.expect(200);
    assert_eq!(by_id["data"], json!([]));
}

#[tokio::test]
async fn the_catalogue_lists_every_type_with_its_schema() {
    let app = TestApp::new().await;
    let catalogue = app.call("GET", "/v1/events/types", Some(&app.admin_key), None).await.expect(200);
    let entries = catalogue["data"].as_array().unwrap();
    assert_eq!(entries.len(), EventKind::ALL.len());
    for (entry, kind) in entries.iter().zip(EventKind::ALL) {
        assert_eq!(entry["type"], kind.as_str());
        assert_eq!(entry["schema"], kind.data_schema());
        assert!(entry["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    for plan_type in ["workflow.started", "agent.failed", "approval.denied", "project.budget_exceeded"] {
        assert!(entries.iter().any(|e| e["type"] == plan_type), "{plan_type} missing");
    }
    app.call("GET", "/v1/events/types", None, None).await.expect(401);
}

/// Reads Server-Sent Events from `body` until `n` events arrived (5 s at most); returns (id, type) of each.
async fn read_events(body: &mut axum::body::BodyDataStream, buffer: &mut String, n: usize) -> Vec<(String, String)> {
    use futures_util::StreamExt;
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while events.len() < n {
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| frame.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned());
            if let (Some(id), Some(kind)) = (field("id:"), field("event:")) {
                let data: Value = serde_json::from_str(&field("data:").unwrap()).unwrap();
                assert_eq!((data["id"].as_str(), data["type"].as_str()), (Some(id.as_str()), Some(kind.as_str())));
                events.push((id, kind));
            }
        }
        if events.len() >= n {
            break;
        }
        let chunk = tokio::time::timeout_at(deadline, body.next()).await;
        let chunk = chunk.unwrap_or_else(|_| panic!("only {} of {n} events arrived: {events:?}", events.len()));
        buffer.push_str(std::str::from_utf8(&chunk.unwrap().unwrap()).unwrap());
    }
    events
}

crate::both_backends!(events_streamed, the_stream_resumes_after_last_event_id_and_follows_new_events);

async fn the_stream_resumes_after_last_event_id_and_follows_new_events(app: TestApp) {
    use tower::ServiceExt;
    let app = app.with_llm(MockProvider::echo());
    let key = app.admin_key.clone();
    one_run(&app, &key).await;
    let all = app.call("GET", "/v1/events", Some(&key), None).await.expect(200);
    let (oldest, newest) = (all["data"][1]["id"].as_str().unwrap(), all["data"][0]["id"].as_str().unwrap());

    let open = |query: &str, resume: Option<&str>| {
        let mut request = axum::http::Request::get(format!("/v1/events/stream{query}"))
            .header("authorization", format!("Bearer {key}"));
        if let Some(resume) = resume {
            request = request.header("last-event-id", resume);
        }
        app.router.clone().oneshot(request.body(axum::body::Body::empty()).unwrap())
    };
    let response = open("", Some(oldest)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body().into_data_stream();
    let mut buffer = String::new();
    // Resumed: what came after the given id, then what happens next.
    assert_eq!(read_events(&mut body, &mut buffer, 1).await, vec![(newest.to_owned(), "agent.completed".to_owned())]);
    let completed_only = open("?type=agent.completed", None).await.unwrap();
    let mut completed_body = completed_only.into_body().into_data_stream();
    let (_, run) = one_run(&app, &key).await;
    let next = read_events(&mut body, &mut buffer, 3).await;
    let kinds: Vec<_> = next.iter().map(|(_, kind)| kind.as_str()).collect();
    assert_eq!(kinds, ["agent.started", "run.llm_call", "agent.completed"]);
    // From now on, filtered: only the new run's completion.
    let mut other = String::new();
    let completed = read_events(&mut completed_body, &mut other, 1).await;
    let stored = app.call("GET", &format!("/v1/events?run_id={run}&type=agent.completed"), Some(&key), None).await;
    assert_eq!(completed[0].0, stored.expect(200)["data"][0]["id"].as_str().unwrap());

    let bad = app
        .send(
            axum::http::Request::get("/v1/events/stream")
                .header("authorization", format!("Bearer {key}"))
                .header("last-event-id", "yesterday")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422, "{}", bad.body);
}
