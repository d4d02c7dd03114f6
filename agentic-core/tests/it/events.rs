//! Stored events over HTTP: the catalogue, the listing with its filters and cursors, their schemas, and tenants.

use agentic_core::events::EventKind;
use agentic_llm::mock::MockProvider;
use serde_json::{Value, json};

use crate::support::TestApp;

/// A project and one agent run on the echo mock, worked to the end; returns (project id, run id).
async fn one_run(app: &TestApp, bearer: &str) -> (String, String) {
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

    // Newest first by default; filtered by run, the run's own two events.
    let all = app.call("GET", "/v1/events", Some(&key), None).await.expect(200);
    assert_eq!(types(&all), ["agent.completed", "agent.started", "agent.completed", "agent.started"]);
    let of_run = app.call("GET", &format!("/v1/events?run_id={run}"), Some(&key), None).await.expect(200);
    assert_eq!(types(&of_run), ["agent.completed", "agent.started"]);
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
    let first = all["data"][3]["id"].as_str().unwrap();
    let after = app.call("GET", &format!("/v1/events?after={first}"), Some(&key), None).await.expect(200);
    assert_eq!(types(&after), ["agent.completed", "agent.started", "agent.completed"]);

    // A viewer reads them too; a misspelt type or filter is a 400 naming it.
    let (_, viewer) = app.user("viewer@acme.test", &["viewer"]).await;
    assert_eq!(types(&app.call("GET", "/v1/events", Some(&viewer), None).await.expect(200)).len(), 4);
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
