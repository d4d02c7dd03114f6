//! The outgoing guardrail on both stores: the tenant's setting (kept beside its other settings) decides whether a
//! prompt with a credential is redacted, blocked or sent as written.

use std::sync::Arc;

use agentic_core::llm::Guardrails;
use agentic_llm::mock::MockProvider;
use serde_json::json;

use crate::support::TestApp;

crate::both_backends!(outgoing_guardrail, the_tenants_setting_decides_what_leaves);

async fn the_tenants_setting_decides_what_leaves(app: TestApp) {
    let mock = Arc::new(MockProvider::echo());
    let app = app.with_llm_and(Arc::clone(&mock), |b| {
        b.guardrails(Guardrails::new(Arc::new(agentic_tools::PromptGuard::new())))
    });
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Ops"}))).await.expect(201);
    let project = project["id"].as_str().unwrap().to_owned();

    // Redact, the default: the model is asked with placeholders.
    let done = run(&app, &key, &project).await;
    assert_eq!(done["status"], "completed", "{done}");
    let asked = serde_json::to_string(&mock.requests()[0].messages).unwrap();
    assert!(!asked.contains("AKIAIOSFODNN7EXAMPLE") && !asked.contains("jane@acme.example"), "{asked}");
    assert!(asked.contains("[REDACTED:aws_access_key_id]") && asked.contains("[REDACTED:email]"), "{asked}");

    // Block: the run fails before any call, naming what was found.
    let settings =
        app.call("PUT", "/v1/settings/guardrails", Some(&key), Some(json!({"outgoing": "block"}))).await.expect(200);
    assert_eq!((settings["outgoing"].as_str(), settings["source"].as_str()), (Some("block"), Some("tenant")));
    assert_eq!(settings["installed"], true);
    let done = run(&app, &key, &project).await;
    assert_eq!((done["status"].as_str(), done["error_code"].as_str()), (Some("failed"), Some("guardrail-blocked")));
    assert!(!done["error"].as_str().unwrap().contains("AKIA"), "{done}");
    assert_eq!(mock.requests().len(), 1, "no call was made");

    // Off: as written.
    app.call("PUT", "/v1/settings/guardrails", Some(&key), Some(json!({"outgoing": "off"}))).await.expect(200);
    assert_eq!(run(&app, &key, &project).await["status"], "completed");
    assert!(serde_json::to_string(&mock.requests()[1].messages).unwrap().contains("AKIAIOSFODNN7EXAMPLE"));

    // The setting sits beside the tenant's other settings; writing one key keeps the others.
    let tenant = app.platform.store().tenant(settings_tenant(&app, &key).await);
    let mut other = serde_json::Map::new();
    other.insert("locale".into(), json!("fr"));
    let after = tenant.merge_tenant_settings(&other, chrono::Utc::now()).await.unwrap().unwrap();
    assert_eq!(after.settings, json!({"guardrails": {"outgoing": "off"}, "locale": "fr"}));
}

/// Runs the developer on a task carrying a key and an e-mail address; the run when it has ended.
async fn run(app: &TestApp, key: &str, project: &str) -> serde_json::Value {
    let body = json!({"task": "Rotate AKIAIOSFODNN7EXAMPLE and tell jane@acme.example", "project_id": project});
    let queued = app.call("POST", "/v1/agents/developer/execute", Some(key), Some(body)).await.expect(202);
    assert!(app.platform.work_once("w").await.unwrap());
    let id = queued["id"].as_str().unwrap().to_owned();
    app.call("GET", &format!("/v1/runs/{id}"), Some(key), None).await.expect(200)
}

async fn settings_tenant(app: &TestApp, key: &str) -> agentic_core::ids::TenantId {
    let me = app.call("GET", "/v1/me", Some(key), None).await.expect(200);
    me["user"]["tenant_id"].as_str().unwrap().parse().unwrap()
}
