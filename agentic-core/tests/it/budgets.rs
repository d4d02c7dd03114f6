//! Budgets through the engine and the cost reports over HTTP, on both stores.

use std::sync::Arc;
use std::time::Duration;

use agentic_core::Error;
use agentic_core::engine::LlmCall;
use agentic_core::http::problem::problem_for;
use agentic_core::ids::{ProjectId, TenantId};
use agentic_core::llm::{ChatRequest, ChatResponse, Message, StopReason, Usage};
use serde_json::json;

use crate::support::TestApp;

fn request() -> ChatRequest {
    ChatRequest::new("claude-sonnet-4-20250514", vec![Message::user("Review this diff")]).with_max_tokens(1_000)
}

fn response(input: u64, output: u64) -> ChatResponse {
    ChatResponse {
        text: "LGTM".into(),
        tool_calls: vec![],
        stop_reason: StopReason::EndTurn,
        model: "claude-sonnet-4-20250514".into(),
        usage: Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: 0,
            cache_write_input_tokens: 0,
        },
        latency: Duration::from_millis(900),
        provider: None,
    }
}

crate::both_backends!(budget_flow, budgets_refuse_report_and_announce);

async fn budgets_refuse_report_and_announce(app: TestApp) {
    let key = app.admin_key.clone();
    let project = app
        .call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Audit", "budget": "0.05"})))
        .await
        .expect(201);
    let project_id: ProjectId = project["id"].as_str().unwrap().parse().unwrap();
    let tenant: TenantId = project["tenant_id"].as_str().unwrap().parse().unwrap();

    // Each reservation holds ~$0.015 (1,000 output tokens at $15/M plus the input estimate): three fit in $0.05.
    let mut held = Vec::new();
    let refusal = loop {
        match app.platform.reserve_llm_call(tenant, project_id, "anthropic", &request()).await {
            Ok(r) => held.push(r),
            Err(e) => break e,
        }
        assert!(held.len() <= 3, "reserved beyond the budget");
    };
    assert_eq!(held.len(), 3);
    let problem = problem_for(&refusal);
    assert_eq!(problem.status, 402);
    assert_eq!(problem.kind, "https://agentic.dev/problems/budget-exceeded");
    assert_eq!(problem.extensions["budget"], "0.05");
    assert_eq!(problem.extensions["spent"], "0.00");
    assert!(matches!(refusal, Error::BudgetExceeded { .. }));

    // Settle for less than reserved: spending $0.0135 each ($0.0405 = 81% after three).
    for r in &held {
        let call = LlmCall {
            provider: "anthropic",
            model: "claude-sonnet-4-20250514",
            run_id: None,
            agent: Some("qa_tester"),
            response: &response(500, 800),
        };
        let record = app.platform.settle_llm_call(r, call).await.unwrap();
        assert_eq!(record.cost.to_string(), "0.0135");
    }
    assert!(app.events_of("project.budget_warning").await.is_empty());
    // A full-size fourth call does not fit; a smaller one does, and its settlement crosses 90%.
    let fourth = app.platform.reserve_llm_call(tenant, project_id, "anthropic", &request()).await;
    let Err(Error::BudgetExceeded { status, .. }) = fourth else { panic!("$0.0095 left cannot hold $0.015") };
    assert_eq!(status.spent.to_string(), "0.0405");
    let small = request().with_max_tokens(400);
    let r = app.platform.reserve_llm_call(tenant, project_id, "anthropic", &small).await.unwrap();
    let call = LlmCall {
        provider: "anthropic",
        model: "claude-sonnet-4",
        run_id: None,
        agent: Some("developer"),
        response: &response(100, 300),
    };
    app.platform.settle_llm_call(&r, call).await.unwrap();
    let warnings = app.events_of("project.budget_warning").await;
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].data["project_id"], project_id.to_string());
    assert!(app.events_of("project.budget_exceeded").await.is_empty());

    // The report over HTTP.
    let report =
        app.call("GET", &format!("/v1/projects/{project_id}/costs?group_by=agent"), Some(&key), None).await.expect(200);
    assert_eq!(report["total"]["calls"], 4);
    assert_eq!(report["total"]["cost"], "0.0453");
    assert_eq!(report["total"]["output_tokens"], 2_700);
    assert_eq!(report["groups"][0]["key"], "developer");
    assert_eq!(report["groups"][1]["key"], "qa_tester");
    assert_eq!(report["groups"][1]["cost"], "0.0405");
    let cells = app
        .call("GET", &format!("/v1/projects/{project_id}/costs?group_by=day_agent"), Some(&key), None)
        .await
        .expect(200);
    // The records' UTC day (yesterday's, should midnight have passed since they were made) and the agent.
    let (day, agent) = cells["groups"][1]["key"].as_str().unwrap().split_once(' ').unwrap();
    let today = chrono::Utc::now().date_naive();
    assert!([today, today - chrono::Duration::days(1)].contains(&day.parse().unwrap()), "{cells}");
    assert_eq!(agent, "qa_tester");
    assert_eq!(cells["groups"][1]["cost"], "0.0405");
    assert_eq!(report["budget"]["budget"], "0.05");
    assert_eq!(report["budget"]["spent"], "0.0453");
    let by_day = app.call("GET", "/v1/costs?group_by=project", Some(&key), None).await.expect(200);
    assert_eq!(by_day["groups"][0]["key"], project_id.to_string());

    // Lowered below what is spent, the budget refuses further spending; raised, it admits again and forgets the
    // lines it no longer reaches, so they are announced again when crossed anew.
    let path = format!("/v1/projects/{project_id}");
    let lowered = app.call("PATCH", &path, Some(&key), Some(json!({"budget": "0.04", "name": "Audit 2"}))).await;
    assert_eq!(lowered.expect(200)["name"], "Audit 2");
    let refused = app.platform.reserve_llm_call(tenant, project_id, "anthropic", &small).await;
    assert!(matches!(refused, Err(Error::BudgetExceeded { .. })), "{refused:?}");
    app.call("PATCH", &path, Some(&key), Some(json!({"budget": "1.00"}))).await.expect(200);
    app.call("PATCH", &path, Some(&key), Some(json!({"budget": "0.05", "description": null}))).await.expect(200);
    let tiny = request().with_max_tokens(100);
    let again = app.platform.reserve_llm_call(tenant, project_id, "anthropic", &tiny).await.unwrap();
    let call = LlmCall {
        provider: "anthropic",
        model: "claude-sonnet-4",
        run_id: None,
        agent: Some("developer"),
        response: &response(10, 20),
    };
    app.platform.settle_llm_call(&again, call).await.unwrap();
    assert_eq!(app.events_of("project.budget_warning").await.len(), 2, "announced again after the raise");
    let bad = app.call("PATCH", &path, Some(&key), Some(json!({"budget": "-1.00"}))).await;
    assert_eq!(bad.expect(422)["errors"][0]["field"], "budget");
    let unlimited = app.call("PATCH", &path, Some(&key), Some(json!({"budget": null}))).await.expect(200);
    assert_eq!(unlimited["budget"], serde_json::Value::Null);

    // Bad queries are 400; a foreign or unknown project is 404.
    app.call("GET", &format!("/v1/projects/{project_id}/costs?group_by=colour"), Some(&key), None).await.expect(400);
    app.call("GET", &format!("/v1/projects/{project_id}/costs?from=yesterday"), Some(&key), None).await.expect(400);
    let inverted = format!("/v1/projects/{project_id}/costs?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z");
    app.call("GET", &inverted, Some(&key), None).await.expect(422);
    app.call("GET", &format!("/v1/projects/{}/costs", ProjectId::new()), Some(&key), None).await.expect(404);
    let (_, other_admin) = app.second_tenant("spender").await;
    app.call("GET", &format!("/v1/projects/{project_id}/costs"), Some(&other_admin), None).await.expect(404);
    let theirs = app.call("GET", "/v1/costs", Some(&other_admin), None).await.expect(200);
    assert_eq!(theirs["total"]["calls"], 0);
}

#[tokio::test]
async fn settlements_feed_the_metrics_and_unpriced_models_are_refused() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "M"}))).await.expect(201);
    let project_id: ProjectId = project["id"].as_str().unwrap().parse().unwrap();
    let tenant: TenantId = project["tenant_id"].as_str().unwrap().parse().unwrap();
    let r = app.platform.reserve_llm_call(tenant, project_id, "anthropic", &request()).await.unwrap();
    let call = LlmCall {
        provider: "anthropic",
        model: "claude-sonnet-4",
        run_id: None,
        agent: None,
        response: &response(10, 20),
    };
    app.platform.settle_llm_call(&r, call).await.unwrap();
    app.platform.sample_usage().await;
    let text = app.platform.metrics().render().unwrap();
    assert!(
        text.contains(r#"llm_tokens_total{model="claude-sonnet-4-20250514",provider="anthropic",type="output"} 20"#),
        "{text}"
    );
    assert!(text.contains("llm_cost_usd_total"));
    assert!(text.contains(&format!(r#"project_cost_usd{{project_id="{project_id}"}}"#)), "{text}");
    // An operator may turn project labels off.
    let unlabelled = TestApp::with(|b| {
        b.jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", crate::support::HS_SECRET).unwrap()).metrics_settings(
            agentic_core::metrics::MetricsSettings {
                project_labels: agentic_core::metrics::LabelLimit::Off,
                ..Default::default()
            },
        )
    })
    .await;
    let labelled = &unlabelled;
    let own = labelled.call("POST", "/v1/projects", Some(&labelled.admin_key), Some(json!({"name": "M"}))).await;
    let own = own.expect(201);
    let own_id: ProjectId = own["id"].as_str().unwrap().parse().unwrap();
    let own_tenant: TenantId = own["tenant_id"].as_str().unwrap().parse().unwrap();
    let r = labelled.platform.reserve_llm_call(own_tenant, own_id, "anthropic", &request()).await.unwrap();
    labelled.platform.settle_llm_call(&r, call).await.unwrap();
    labelled.platform.sample_usage().await;
    let text = labelled.platform.metrics().render().unwrap();
    assert!(!text.contains(&own_id.to_string()), "{text}");
    assert!(text.contains("llm_cost_usd_total"), "{text}");

    let unpriced = ChatRequest::new("brand-new-model", vec![Message::user("hi")]);
    let refused = app.platform.reserve_llm_call(tenant, project_id, "openai", &unpriced).await.unwrap_err();
    assert_eq!(problem_for(&refused).status, 422);
    // Self-hosted models are free and need no price.
    let local = ChatRequest::new("qwen2.5-coder:7b", vec![Message::user("hi")]);
    let r = app.platform.reserve_llm_call(tenant, project_id, "ollama", &local).await.unwrap();
    assert_eq!(r.amount.nanos(), 0);
}

/// A resolver whose calls may take 11 minutes (4 attempts of 120 s and 3 waits of 60 s).
#[derive(Debug)]
struct SlowProviders;

impl agentic_core::llm::ProviderResolver for SlowProviders {
    fn resolve(&self, name: &str) -> Result<Arc<dyn agentic_core::llm::LlmProvider>, agentic_core::llm::LlmError> {
        Err(agentic_core::llm::LlmError::NotConfigured(name.into()))
    }

    fn longest_call(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(660))
    }
}

#[tokio::test]
async fn a_reservation_outlives_the_longest_call_it_covers() {
    let app = TestApp::new().await.with_llm_and(agentic_llm::mock::MockProvider::echo(), |b| {
        b.llm_providers(Arc::new(SlowProviders)).reservation_ttl(chrono::Duration::minutes(10))
    });
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Slow"}))).await;
    let project = project.expect(201);
    let (tenant, id) = (project["tenant_id"].as_str().unwrap(), project["id"].as_str().unwrap());
    let ask = request();
    let hold = app.platform.reserve_llm_call(tenant.parse().unwrap(), id.parse().unwrap(), "anthropic", &ask);
    let hold = hold.await.unwrap();
    let ttl = hold.expires_at - agentic_core::clock::Clock::now(&app.clock);
    assert_eq!(ttl, chrono::Duration::seconds(660 + 60), "not the configured 10 minutes");
}
