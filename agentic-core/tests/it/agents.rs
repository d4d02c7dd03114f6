//! The agent catalog over HTTP: built-ins, tenant additions and overrides, validation with locations.

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;

use crate::support::TestApp;

const REVIEWER: &str = "# Our code reviewer\nname: Reviewer\nrole: Code Reviewer\ngoal: Review pull requests\nbackstory: |\n  Careful.\ntools:\n  - secret_detector\nllm:\n  provider: ollama\n  model: llama3.2\nrisk_level: medium\n";

async fn put(app: &TestApp, name: &str, bearer: &str, content_type: &str, yaml: String) -> (u16, Value) {
    let request = Request::put(format!("/v1/agents/{name}"))
        .header("authorization", format!("Bearer {bearer}"))
        .header("content-type", content_type)
        .body(Body::from(yaml))
        .unwrap();
    let response = app.send(request).await;
    (response.status.as_u16(), response.body)
}

crate::both_backends!(agent_catalog, tenants_add_and_override_agents);

async fn tenants_add_and_override_agents(app: TestApp) {
    let key = app.admin_key.clone();
    let list = app.call("GET", "/v1/agents", Some(&key), None).await.expect(200);
    let names: Vec<&str> = list["data"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["developer", "devops_engineer", "overseer", "qa_tester", "security_auditor", "ux_designer"]);
    let qa = app.call("GET", "/v1/agents/qa_tester", Some(&key), None).await.expect(200);
    assert_eq!(qa["source"], "builtin");
    assert_eq!(
        qa["spec"]["tools"],
        serde_json::json!([
            "pytest_generator",
            "jest_generator",
            "go_test_generator",
            "playwright_generator",
            "selenium_generator",
            "integration_test_generator",
            "coverage_analyzer",
            "bug_reproducer"
        ])
    );
    assert!(qa["yaml"].as_str().unwrap().contains("Quality Assurance Engineer"));

    // A manager adds one, then replaces it.
    let (_, manager) = app.user("manager@acme.test", &["manager"]).await;
    let (status, created) = put(&app, "reviewer", &manager, "application/yaml", REVIEWER.into()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["source"], "tenant");
    assert_eq!(created["spec"]["risk_level"], "medium");
    let (status, _) =
        put(&app, "reviewer", &manager, "application/yaml", REVIEWER.replace("Careful.", "Thorough.")).await;
    assert_eq!(status, 200);
    let got = app.call("GET", "/v1/agents/reviewer", Some(&key), None).await.expect(200);
    assert!(got["yaml"].as_str().unwrap().starts_with("# Our code reviewer"), "the YAML is kept verbatim");
    assert_eq!(got["spec"]["backstory"], "Thorough.");

    // Overriding a built-in.
    let (status, _) = put(&app, "qa_tester", &manager, "text/yaml", REVIEWER.replace("Reviewer", "Our QA")).await;
    assert_eq!(status, 201);
    let qa = app.call("GET", "/v1/agents/qa_tester", Some(&key), None).await.expect(200);
    assert_eq!((qa["source"].as_str(), qa["spec"]["name"].as_str()), (Some("tenant"), Some("Our QA")));
    let list = app.call("GET", "/v1/agents", Some(&key), None).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 7);

    // Developers may read but not define; other tenants see only the built-ins.
    let (_, developer) = app.user("dev@acme.test", &["developer"]).await;
    assert_eq!(put(&app, "mine", &developer, "application/yaml", REVIEWER.into()).await.0, 403);
    let (_, other) = app.second_tenant("othercorp").await;
    app.call("GET", "/v1/agents/reviewer", Some(&other), None).await.expect(404);
    let theirs = app.call("GET", "/v1/agents/qa_tester", Some(&other), None).await.expect(200);
    assert_eq!(theirs["source"], "builtin");

    // Deleting: another tenant cannot, a developer may not; the override goes and the built-in applies again; a
    // tenant's own agent goes; a built-in itself stays (409) and an unknown name is 404.
    app.call("DELETE", "/v1/agents/reviewer", Some(&other), None).await.expect(404);
    app.call("DELETE", "/v1/agents/reviewer", Some(&developer), None).await.expect(403);
    app.call("DELETE", "/v1/agents/qa_tester", Some(&manager), None).await.expect(204);
    let qa = app.call("GET", "/v1/agents/qa_tester", Some(&key), None).await.expect(200);
    assert_eq!(qa["source"], "builtin");
    app.call("DELETE", "/v1/agents/qa_tester", Some(&manager), None).await.expect(409);
    app.call("DELETE", "/v1/agents/reviewer", Some(&manager), None).await.expect(204);
    app.call("GET", "/v1/agents/reviewer", Some(&key), None).await.expect(404);
    app.call("DELETE", "/v1/agents/reviewer", Some(&manager), None).await.expect(404);
    assert_eq!(app.call("GET", "/v1/agents", Some(&key), None).await.expect(200)["data"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn invalid_specs_are_422_with_line_column_and_field() {
    // The provider registry is what knows provider names (a platform without one accepts any).
    let app = TestApp::new().await.with_llm(agentic_llm::mock::MockProvider::echo());
    let key = app.admin_key.clone();
    let cases = [
        (
            REVIEWER.replace("secret_detector", "time_machine"),
            "tools[0]",
            "line 8, column 5: unknown tool `time_machine`",
        ),
        (
            REVIEWER.replace("provider: ollama", "provider: skynet"),
            "llm.provider",
            "line 10, column 13: unknown provider `skynet` (anthropic, claude, mock, ollama, openai)",
        ),
        (REVIEWER.replace("goal: Review pull requests", "goal: [oops"), "yaml", "line 4"),
        (format!("{REVIEWER}extra_field: 1\n"), "yaml", "extra_field"),
    ];
    for (yaml, field, detail) in cases {
        let (status, problem) = put(&app, "reviewer", &key, "application/yaml", yaml).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains(detail), "{problem}");
    }
    assert_eq!(put(&app, "Bad-Name", &key, "application/yaml", REVIEWER.into()).await.0, 422);
    assert_eq!(put(&app, "reviewer", &key, "application/json", REVIEWER.into()).await.0, 415);
    // Too big for a specification, and too big for the server.
    let (status, problem) =
        put(&app, "reviewer", &key, "application/yaml", format!("{REVIEWER}# {}\n", "x".repeat(100_000))).await;
    assert_eq!(status, 422, "{problem}");
    let started = std::time::Instant::now();
    assert_eq!(put(&app, "reviewer", &key, "application/yaml", "x".repeat(10 * 1024 * 1024)).await.0, 413);
    let deep = format!("name: {}{}\n", "[".repeat(30_000), "]".repeat(30_000));
    assert_eq!(put(&app, "reviewer", &key, "application/yaml", deep).await.0, 422);
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
    app.call("GET", "/v1/agents/reviewer", Some(&key), None).await.expect(404);
}
