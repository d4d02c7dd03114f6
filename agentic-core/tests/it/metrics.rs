//! The metrics each capability exports, the gauges sampled from the store, and the cardinality guard.

use agentic_core::metrics::{LabelLimit, MetricsSettings};
use agentic_llm::mock::MockProvider;
use axum::body::Body;
use axum::http::Request;
use serde_json::json;

use crate::support::TestApp;

/// The value of the one sample of `series` (its name and labels exactly as rendered), if exported.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

crate::both_backends!(capabilities_export_their_metrics, runs_calls_costs_and_usage_are_exported);

async fn runs_calls_costs_and_usage_are_exported(app: TestApp) {
    let app = app.with_llm(MockProvider::echo());
    let key = app.admin_key.clone();
    // The built-in DevOps Engineer is high risk, which would hold the workflow for approval.
    let devops = include_str!("../../agents/devops_engineer.yaml").replace("risk_level: high", "risk_level: medium");
    app.put_agent("devops_engineer", &devops).await;
    let project = app
        .call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Site", "budget": "10.00"})))
        .await
        .expect(201);
    let project_id = project["id"].as_str().unwrap().to_owned();
    let tenant_id = project["tenant_id"].as_str().unwrap().to_owned();
    let execute = json!({"task": "Write hello world", "project_id": project_id});
    app.call("POST", "/v1/agents/developer/execute", Some(&key), Some(execute)).await.expect(202);
    let workflow = json!({"name": "ProjectPipelineWorkflow", "project_id": project_id,
        "args": {"goal": "Ship a landing page"}});
    app.call("POST", "/v1/workflows", Some(&key), Some(workflow)).await.expect(202);
    while app.platform.work_once("worker").await.unwrap() {}
    app.call("GET", "/v1/projects", Some("agk_not-a-real-key"), None).await.expect(401);
    app.platform.sample_usage().await;

    let text = app.platform.metrics().render().unwrap();
    let has = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(has(r#"agent_executions_total{agent_name="developer",status="completed"}"#), 1.0);
    // The echo model answers the Overseer with no plan: the workflow fails at planning, and says so.
    assert_eq!(has(r#"workflow_executions_total{status="failed",workflow="project_pipeline"}"#), 1.0);
    assert_eq!(has(r#"workflow_duration_seconds_count{workflow="project_pipeline"}"#), 1.0);
    assert!(has(r#"llm_calls_total{model="claude-sonnet-4-20250514",provider="mock",status="ok"}"#) >= 1.0);
    assert!(has(r#"llm_request_duration_seconds_count{model="claude-sonnet-4-20250514",provider="mock"}"#) >= 1.0);
    assert!(has(r#"agent_cost_usd_total{agent_name="developer"}"#) >= 0.0);
    assert!(has(&format!(r#"tenant_cost_usd_total{{tenant_id="{tenant_id}"}}"#)) >= 0.0);
    assert_eq!(has(&format!(r#"project_budget_usd{{project_id="{project_id}"}}"#)), 10.0);
    assert!(has(&format!(r#"project_cost_usd{{project_id="{project_id}"}}"#)) >= 0.0);
    assert_eq!(has(r#"auth_failures_total{reason="invalid_api_key"}"#), 1.0);
    assert_eq!(has(r#"auth_failures_total{reason="expired_token"}"#), 0.0, "every reason is exported from the start");
    assert!(has(&format!(r#"tenant_http_requests_total{{tenant_id="{tenant_id}"}}"#)) >= 4.0);
    assert_eq!(has(r#"runs{kind="agent",status="completed"}"#), 1.0);
    assert_eq!(has(r#"runs{kind="workflow",status="failed"}"#), 1.0);
    assert_eq!(has(r#"runs{kind="agent",status="queued"}"#), 0.0);
    assert_eq!(has("oldest_queued_run_age_seconds"), 0.0);
    assert_eq!(has("tenants"), 1.0);
    assert_eq!(has("active_tenants"), 1.0);
    assert_eq!(has("active_users"), 1.0);
    assert!(has(&format!(r#"tenant_storage_bytes{{tenant_id="{tenant_id}"}}"#)) > 0.0);
    assert_eq!(has(r#"rate_limit_hits_total{scope="tenant"}"#), 0.0);
    assert_eq!(has("run_lease_takeovers_total"), 0.0);

    // A budget removed leaves no stale series: each sample replaces the last.
    let path = format!("/v1/projects/{project_id}");
    app.call("PATCH", &path, Some(&key), Some(json!({"budget": null}))).await.expect(200);
    app.platform.sample_usage().await;
    let text = app.platform.metrics().render().unwrap();
    assert_eq!(sample(&text, &format!(r#"project_budget_usd{{project_id="{project_id}"}}"#)), None, "{text}");
    // The mock model is free: unlimited and nothing spent, the project is not exported at all.
    assert_eq!(sample(&text, &format!(r#"project_cost_usd{{project_id="{project_id}"}}"#)), None, "{text}");

    // A queued run's wait is measured from when it was queued.
    let execute = json!({"task": "later", "project_id": project_id});
    app.call("POST", "/v1/agents/developer/execute", Some(&key), Some(execute)).await.expect(202);
    app.clock.advance(chrono::Duration::seconds(90));
    app.platform.sample_usage().await;
    let text = app.platform.metrics().render().unwrap();
    assert_eq!(sample(&text, r#"runs{kind="agent",status="queued"}"#), Some(1.0));
    let waited = sample(&text, "oldest_queued_run_age_seconds").unwrap();
    assert!((90.0..120.0).contains(&waited), "{waited}");
}

#[tokio::test]
async fn labels_from_tenants_data_are_capped_and_what_is_folded_is_counted() {
    let settings = MetricsSettings {
        tenant_labels: LabelLimit::Capped(1),
        project_labels: LabelLimit::Capped(1),
        model_labels: LabelLimit::Capped(1),
    };
    let app = TestApp::new().await.with_llm_and(MockProvider::echo(), |b| b.metrics_settings(settings));
    let key = app.admin_key.clone();
    let (other_tenant, other_key) = app.second_tenant("globex").await;
    for bearer in [&key, &other_key] {
        app.call("GET", "/v1/projects", Some(bearer), None).await.expect(200);
    }
    let mut projects = Vec::new();
    for name in ["One", "Two"] {
        let body = json!({"name": name, "budget": "5.00"});
        let project = app.call("POST", "/v1/projects", Some(&key), Some(body)).await.expect(201);
        let id = project["id"].as_str().unwrap().to_owned();
        let execute = json!({"task": "hello", "project_id": id});
        app.call("POST", "/v1/agents/developer/execute", Some(&key), Some(execute)).await.expect(202);
        projects.push(id);
    }
    while app.platform.work_once("worker").await.unwrap() {}
    app.platform.sample_usage().await;

    let text = app.platform.metrics().render().unwrap();
    assert!(!text.contains(&other_tenant), "the second tenant is folded, not named: {text}");
    assert_eq!(sample(&text, r#"tenant_http_requests_total{tenant_id="other"}"#), Some(1.0), "{text}");
    assert!(sample(&text, r#"metric_label_values_folded_total{metric="tenant_http_requests_total"}"#) >= Some(1.0));
    // A gauge cannot sum into `other`: the second project is dropped, and counted.
    assert!(text.contains(&format!(r#"project_cost_usd{{project_id="{}"}}"#, projects[0])), "{text}");
    assert!(!text.contains(&projects[1]), "{text}");
    assert!(!text.contains(r#"project_cost_usd{project_id="other"}"#), "{text}");
    assert_eq!(sample(&text, r#"metric_label_values_folded_total{metric="project_cost_usd"}"#), Some(1.0));

    // Off: no series at all; a method outside HTTP's set is no label either.
    let off = MetricsSettings {
        tenant_labels: LabelLimit::Off,
        project_labels: LabelLimit::Off,
        model_labels: LabelLimit::Off,
    };
    let app = TestApp::new().await.with_llm_and(MockProvider::echo(), |b| b.metrics_settings(off));
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "P"}))).await;
    let project_id = project.expect(201)["id"].as_str().unwrap().to_owned();
    let execute = json!({"task": "hello", "project_id": project_id});
    app.call("POST", "/v1/agents/developer/execute", Some(&app.admin_key), Some(execute)).await.expect(202);
    while app.platform.work_once("worker").await.unwrap() {}
    app.platform.sample_usage().await;
    let odd = Request::builder().method("BREW").uri("/v1/projects").body(Body::empty()).unwrap();
    app.send(odd).await;
    let text = app.platform.metrics().render().unwrap();
    assert!(!text.contains("tenant_http_requests_total{"), "{text}");
    assert!(!text.contains(&project_id), "{text}");
    assert!(text.contains(r#"llm_calls_total{model="other",provider="mock",status="ok"}"#), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(!text.contains("BREW"), "{text}");
}
