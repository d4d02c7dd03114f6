//! A project's shared context over HTTP: versions as ETags with compare-and-set, create-only writes, appends from
//! three clients at once that lose nothing, expiry, limits, an agent's context tools, and tenant isolation.

use std::sync::Arc;

use agentic_core::model::ContextLimits;
use agentic_llm::mock::{MockProvider, MockReply};
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};

use crate::support::TestApp;

async fn project(app: &TestApp) -> String {
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Site"}))).await;
    project.expect(201)["id"].as_str().unwrap().to_owned()
}

/// A request with extra headers; returns (status, ETag, body).
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut request =
        Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {}", app.admin_key));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(body) => request.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app.send(request).await;
    let etag = response.headers.get(header::ETAG).map(|v| v.to_str().unwrap().to_owned());
    (response.status.as_u16(), etag, response.body)
}

#[tokio::test]
async fn versions_are_etags_and_writes_compare_and_set() {
    let app = TestApp::new().await;
    let project = project(&app).await;
    let key = format!("/v1/projects/{project}/context/plan");
    let (status, etag, created) =
        send(&app, "PUT", &key, &[("If-None-Match", "*")], Some(json!({"value": {"v": 1}}))).await;
    assert_eq!(status, 200, "{created}");
    let etag = etag.unwrap();
    assert_eq!(etag, format!("\"{}\"", created["version"]));
    assert!(created["written_by"]["user_id"].is_string());
    let (status, _, problem) = send(&app, "PUT", &key, &[("If-None-Match", "*")], Some(json!({"value": 2}))).await;
    assert_eq!((status, problem["type"].as_str()), (412, Some("https://agentic.dev/problems/precondition-failed")));

    let (status, read_tag, read) = send(&app, "GET", &key, &[], None).await;
    assert_eq!((status, read_tag.as_deref(), &read["value"]), (200, Some(etag.as_str()), &json!({"v": 1})));
    let (status, newer, _) = send(&app, "PUT", &key, &[("If-Match", &etag)], Some(json!({"value": {"v": 2}}))).await;
    assert_eq!(status, 200);
    let (status, _, _) = send(&app, "PUT", &key, &[("If-Match", &etag)], Some(json!({"value": {"v": 3}}))).await;
    assert_eq!(status, 412, "a stale If-Match is refused");
    let (_, _, read) = send(&app, "GET", &key, &[], None).await;
    assert_eq!(read["value"], json!({"v": 2}), "and changed nothing");
    let (status, _, problem) = send(&app, "PUT", &key, &[("If-Match", "soon")], Some(json!({"value": 1}))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("If-Match")));

    let (status, _, _) = send(&app, "DELETE", &key, &[("If-Match", &etag)], None).await;
    assert_eq!(status, 412);
    let (status, _, _) = send(&app, "DELETE", &key, &[("If-Match", newer.as_deref().unwrap())], None).await;
    assert_eq!(status, 204);
    assert_eq!(send(&app, "GET", &key, &[], None).await.0, 404);
    assert_eq!(send(&app, "DELETE", &key, &[], None).await.0, 404);
    assert_eq!(
        send(&app, "PUT", &key, &[("If-Match", "*")], Some(json!({"value": 1}))).await.0,
        412,
        "* needs a value"
    );

    // Expiry: a value lives for its time to live.
    let brief = format!("/v1/projects/{project}/context/brief");
    assert_eq!(send(&app, "PUT", &brief, &[], Some(json!({"value": "x", "ttl_seconds": 60}))).await.0, 200);
    app.clock.advance(chrono::Duration::seconds(59));
    assert_eq!(send(&app, "GET", &brief, &[], None).await.0, 200);
    app.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(send(&app, "GET", &brief, &[], None).await.0, 404);
    let (status, _, problem) = send(&app, "PUT", &brief, &[], Some(json!({"value": 1, "ttl_seconds": 0}))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("ttl_seconds")));
    let bad_key = format!("/v1/projects/{project}/context/not%20a%20key");
    assert_eq!(send(&app, "GET", &bad_key, &[], None).await.0, 422);
}

crate::both_backends!(concurrent_appends, fifty_appends_from_three_clients_lose_nothing);

async fn fifty_appends_from_three_clients_lose_nothing(app: TestApp) {
    let app = Arc::new(app);
    let project = project(&app).await;
    let mut tokens = Vec::new();
    for i in 0..3 {
        tokens.push(app.user(&format!("client{i}@acme.test"), &["developer"]).await.1);
    }
    let path = format!("/v1/projects/{project}/context/findings/append");
    let appends: Vec<_> = (0..50)
        .map(|n| {
            let (app, path, token) = (Arc::clone(&app), path.clone(), tokens[n % 3].clone());
            tokio::spawn(async move {
                let body = json!({"item": {"n": n}});
                app.call("POST", &path, Some(&token), Some(body)).await.expect(200);
            })
        })
        .collect();
    for append in appends {
        append.await.unwrap();
    }
    let list = app.call("GET", &format!("/v1/projects/{project}/context/findings"), Some(&tokens[0]), None).await;
    let list = list.expect(200);
    let mut seen: Vec<u64> = list["value"].as_array().unwrap().iter().map(|i| i["n"].as_u64().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    let keys = app.call("GET", &format!("/v1/projects/{project}/context"), Some(&tokens[1]), None).await.expect(200);
    assert_eq!(keys["data"][0]["key"], "findings");
}

#[tokio::test]
async fn limits_answer_413_and_422() {
    let app = TestApp::with(|b| {
        b.jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", crate::support::HS_SECRET).unwrap())
            .context_limits(ContextLimits { max_value_bytes: 1_000, max_keys: 2 })
    })
    .await;
    let project = project(&app).await;
    let path = |key: &str| format!("/v1/projects/{project}/context/{key}");
    let (status, _, problem) = send(&app, "PUT", &path("big"), &[], Some(json!({"value": "x".repeat(2_000)}))).await;
    assert_eq!((status, problem["type"].as_str()), (413, Some("https://agentic.dev/problems/payload-too-large")));
    assert_eq!(send(&app, "PUT", &path("a"), &[], Some(json!({"value": {"k": 1}}))).await.0, 200);
    assert_eq!(send(&app, "PUT", &path("b"), &[], Some(json!({"value": 2}))).await.0, 200);
    let (status, _, problem) = send(&app, "PUT", &path("c"), &[], Some(json!({"value": 3}))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("key")));
    let (status, _, problem) =
        send(&app, "POST", &format!("{}/append", path("a")), &[], Some(json!({"item": 1}))).await;
    assert_eq!(status, 422, "not a list: {problem}");
}

#[tokio::test]
async fn an_agent_reads_and_writes_the_context_through_its_tools() {
    let mock = MockProvider::new()
        .then(MockReply::tool_call("context_get", json!({"key": "brief"})))
        .then(MockReply::tool_call("context_set", json!({"key": "decision", "value": {"db": "postgres"}})))
        .then(MockReply::tool_call("context_append", json!({"key": "log", "item": "chose postgres"})))
        .reply("Done");
    let mock = Arc::new(mock);
    let app = TestApp::new().await.with_llm(Arc::clone(&mock));
    let project = project(&app).await;
    let yaml = "name: Architect\nrole: Architect\ngoal: Decide\nbackstory: Careful.\n\
                tools: [context_get, context_set, context_append]\nllm:\n  provider: mock\n  model: mock\n";
    app.put_agent("architect", yaml).await;
    let body = json!({"value": "Pick a database", "ttl_seconds": 600});
    app.call("PUT", &format!("/v1/projects/{project}/context/brief"), Some(&app.admin_key), Some(body))
        .await
        .expect(200);
    let run = app
        .call(
            "POST",
            "/v1/agents/architect/execute",
            Some(&app.admin_key),
            Some(json!({"task": "Decide", "project_id": project})),
        )
        .await
        .expect(202);
    assert!(app.platform.work_once("w").await.unwrap());
    let run_id = run["id"].as_str().unwrap();
    let done = app.call("GET", &format!("/v1/runs/{run_id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(done["status"], "completed", "{done}");
    let read = &done["output"]["steps"][1];
    assert_eq!(
        (read["name"].as_str(), read["output"]["value"].as_str()),
        (Some("context_get"), Some("Pick a database"))
    );
    let decision = app
        .call("GET", &format!("/v1/projects/{project}/context/decision"), Some(&app.admin_key), None)
        .await
        .expect(200);
    assert_eq!(decision["value"], json!({"db": "postgres"}));
    assert_eq!(
        (decision["written_by"]["agent"].as_str(), decision["written_by"]["run_id"].as_str()),
        (Some("architect"), Some(run_id))
    );
    let log =
        app.call("GET", &format!("/v1/projects/{project}/context/log"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(log["value"], json!(["chose postgres"]));
}

#[tokio::test]
async fn another_tenants_project_context_is_not_found_and_viewers_only_read() {
    let app = TestApp::new().await;
    let project = project(&app).await;
    let key = format!("/v1/projects/{project}/context/plan");
    assert_eq!(send(&app, "PUT", &key, &[], Some(json!({"value": 1}))).await.0, 200);
    let (_, other) = app.second_tenant("globex").await;
    for (method, path, body) in [
        ("GET", format!("/v1/projects/{project}/context"), None),
        ("GET", key.clone(), None),
        ("PUT", key.clone(), Some(json!({"value": 2}))),
        ("DELETE", key.clone(), None),
        ("POST", format!("{key}/append"), Some(json!({"item": 2}))),
    ] {
        let response = app.call(method, &path, Some(&other), body).await;
        assert_eq!(response.status.as_u16(), 404, "{method} {path}: {}", response.body);
    }
    let (_, viewer) = app.user("viewer@acme.test", &["viewer"]).await;
    app.call("GET", &key, Some(&viewer), None).await.expect(200);
    app.call("PUT", &key, Some(&viewer), Some(json!({"value": 3}))).await.expect(403);
    assert_eq!(send(&app, "GET", &key, &[], None).await.2["value"], 1, "unchanged");
}
