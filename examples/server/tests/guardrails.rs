//! The outgoing guardrail, end to end: a prompt carrying an AWS key for a third-party provider (a wiremock
//! OpenAI-compatible upstream) is blocked or redacted as the tenant's setting says, so the key never reaches the
//! upstream; `off` and an exempt provider let it through, which shows the check can see it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{KEY, free_port, get, request, server, stop, wait_for_listen_line};
use wiremock::MockServer;

const SECRET: &str = "AKIAIOSFODNN7EXAMPLE";

const AGENT: &str = "name: Helper\nrole: Assistant\ngoal: Help\nbackstory: Helps.\ntools: []\nrisk_level: low\nllm:\n  provider: openai\n  model: gpt-4.1-nano\n  max_tokens: 32\n";

fn completion() -> serde_json::Value {
    serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4.1-nano",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Noted."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}})
}

/// What the upstream has been sent so far, as text.
async fn sent(upstream: &MockServer) -> Vec<String> {
    upstream
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

/// Runs the helper on a task carrying the key and an e-mail address; the run as the API returns it.
fn run_with_secret(addr: &str, project: &str) -> serde_json::Value {
    let task = format!("Store the key {SECRET} for ops@acme.example");
    let body = serde_json::json!({"task": task, "project_id": project, "wait": 30}).to_string();
    let (status, run) = request(addr, "POST", "/v1/agents/helper/execute", KEY, "application/json", &body);
    assert_eq!(status, 200, "{run}");
    serde_json::from_str(&run).unwrap()
}

fn set_guardrail(addr: &str, bearer: &str, outgoing: &str) -> (u16, serde_json::Value) {
    let body = format!(r#"{{"outgoing":"{outgoing}"}}"#);
    let (status, reply) = request(addr, "PUT", "/v1/settings/guardrails", bearer, "application/json", &body);
    (status, serde_json::from_str(&reply).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_a_prompt_never_reaches_a_third_party_provider_under_block_or_redact() {
    let upstream = common::chat_upstream(completion()).await;
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("OPENAI_BASE_URL", format!("{}/v1", upstream.uri()))
        .env("OPENAI_API_KEY", "sk-test")
        .env("AGENTIC_METRICS_BIND", &metrics_addr)
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let (status, body) = request(&addr, "PUT", "/v1/agents/helper", KEY, "application/yaml", AGENT);
    assert_eq!(status, 201, "{body}");
    let (_, project) = request(&addr, "POST", "/v1/projects", KEY, "application/json", r#"{"name":"Ops"}"#);
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let project = project["id"].as_str().unwrap().to_owned();

    // The default: redact. The call is made, with typed placeholders where the key and the address were.
    let (status, settings) = get(&addr, "/v1/settings/guardrails", Some(KEY));
    assert_eq!(status, 200, "{settings}");
    let settings: serde_json::Value = serde_json::from_str(&settings).unwrap();
    assert_eq!((settings["outgoing"].as_str(), settings["source"].as_str()), (Some("redact"), Some("default")));
    let run = tokio::task::block_in_place(|| run_with_secret(&addr, &project));
    assert_eq!(run["status"], "completed", "{run}");
    let bodies = sent(&upstream).await;
    assert_eq!(bodies.len(), 1);
    assert!(!bodies[0].contains(SECRET) && !bodies[0].contains("ops@acme.example"), "{}", bodies[0]);
    assert!(
        bodies[0].contains("[REDACTED:aws_access_key_id]") && bodies[0].contains("[REDACTED:email]"),
        "{}",
        bodies[0]
    );

    // Block: the run fails with the typed problem, naming kinds, never the key; the upstream hears nothing.
    let (status, reply) = set_guardrail(&addr, KEY, "block");
    assert_eq!((status, reply["source"].as_str()), (200, Some("tenant")), "{reply}");
    let run = tokio::task::block_in_place(|| run_with_secret(&addr, &project));
    assert_eq!(
        (run["status"].as_str(), run["error_code"].as_str()),
        (Some("failed"), Some("guardrail-blocked")),
        "{run}"
    );
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("aws_access_key_id") && error.contains("email") && !error.contains(SECRET), "{error}");
    assert_eq!(sent(&upstream).await.len(), 1, "a blocked call is not made");

    // Off: the prompt goes as written, so the scans above were what kept the key back.
    assert_eq!(set_guardrail(&addr, KEY, "off").0, 200);
    let run = tokio::task::block_in_place(|| run_with_secret(&addr, &project));
    assert_eq!(run["status"], "completed", "{run}");
    assert!(sent(&upstream).await[1].contains(SECRET));

    // Refusals: an unknown action and an unknown field (who may write is in the RBAC matrix).
    assert_eq!(set_guardrail(&addr, KEY, "loud").0, 422);
    let (status, _) =
        request(&addr, "PUT", "/v1/settings/guardrails", KEY, "application/json", r#"{"outgoing":"block","x":1}"#);
    assert_eq!(status, 422);

    // Every finding acted on is counted by kind and action.
    let (_, metrics) = get(&metrics_addr, "/metrics", None);
    for line in [
        r#"guardrail_findings_total{action="redact",kind="aws_access_key_id"} 1"#,
        r#"guardrail_findings_total{action="block",kind="email"} 1"#,
    ] {
        assert!(
            metrics.contains(line),
            "{line} missing from:\n{}",
            metrics.lines().filter(|l| l.starts_with("guardrail")).collect::<Vec<_>>().join("\n")
        );
    }
    stop(&mut child);

    // A provider the operator exempts (a self-hosted model) is not scanned, whatever the tenant's setting.
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("OPENAI_BASE_URL", format!("{}/v1", upstream.uri()))
        .env("OPENAI_API_KEY", "sk-test")
        .env("AGENTIC_GUARDRAIL", "block")
        .env("AGENTIC_GUARDRAIL_EXEMPT", "openai")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let (status, _) = request(&addr, "PUT", "/v1/agents/helper", KEY, "application/yaml", AGENT);
    assert_eq!(status, 201);
    let (_, project) = request(&addr, "POST", "/v1/projects", KEY, "application/json", r#"{"name":"Ops"}"#);
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let run = tokio::task::block_in_place(|| run_with_secret(&addr, project["id"].as_str().unwrap()));
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(sent(&upstream).await.len(), 3);
    stop(&mut child);
}
