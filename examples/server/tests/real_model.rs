//! The reference server with a real provider (llama.cpp serving SmolLM2 through its OpenAI-compatible API):
//! one agent run completes, and its cost record carries the model's real token counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{KEY, get, request, server, stop, wait_for_listen_line};

fn llm_url() -> Option<String> {
    match std::env::var("AGENTIC_TEST_LLM_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("AGENTIC_REQUIRE_BACKENDS").is_ok_and(|v| v == "1") => {
            panic!("AGENTIC_TEST_LLM_URL is unset but AGENTIC_REQUIRE_BACKENDS=1")
        }
        _ => {
            eprintln!("skipping: AGENTIC_TEST_LLM_URL is unset (scripts/test starts the local model)");
            None
        }
    }
}

const AGENT: &str = "name: Geographer\nrole: Helpful assistant\ngoal: Answer questions briefly\nbackstory: Knows capitals.\ntools: []\nllm:\n  provider: openai\n  model: smollm2-135m-instruct\n  temperature: 0\n  max_tokens: 48\n";

#[test]
fn an_agent_runs_on_a_real_model_and_its_costs_carry_real_tokens() {
    let Some(url) = llm_url() else { return };
    let dir = std::env::temp_dir().join(format!("agentic-real-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pricing = dir.join("pricing.toml");
    std::fs::write(&pricing, "[free]\nproviders = [\"openai\"]\n").unwrap();
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("OPENAI_BASE_URL", format!("{url}/v1"))
        .env("AGENTIC_PRICING_FILE", &pricing)
        .spawn()
        .unwrap();
    let (addr, banner) = wait_for_listen_line(&mut child);
    assert!(!banner.contains("mock"), "{banner}");

    let (status, body) = request(&addr, "PUT", "/v1/agents/geographer", KEY, "application/yaml", AGENT);
    assert_eq!(status, 201, "{body}");
    let (status, project) = request(&addr, "POST", "/v1/projects", KEY, "application/json", r#"{"name":"Geo"}"#);
    assert_eq!(status, 201, "{project}");
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let project_id = project["id"].as_str().unwrap().to_owned();
    let execute = format!(r#"{{"task":"What is the capital of France?","project_id":"{project_id}","wait":60}}"#);
    let (status, run) = request(&addr, "POST", "/v1/agents/geographer/execute", KEY, "application/json", &execute);
    assert_eq!(status, 200, "{run}");
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    assert_eq!(run["status"], "completed", "{run}");
    assert!(!run["output"]["answer"].as_str().unwrap().trim().is_empty(), "{run}");

    let (status, costs) = get(&addr, &format!("/v1/projects/{project_id}/costs?group_by=provider"), Some(KEY));
    assert_eq!(status, 200, "{costs}");
    let costs: serde_json::Value = serde_json::from_str(&costs).unwrap();
    assert_eq!(costs["total"]["calls"], 1, "{costs}");
    let usage = &run["output"]["usage"];
    assert!(costs["total"]["output_tokens"].as_u64().unwrap() > 0, "{costs}");
    assert!(
        costs["total"]["input_tokens"].as_u64().unwrap() + costs["total"]["cached_input_tokens"].as_u64().unwrap() > 0
    );
    assert_eq!(costs["total"]["output_tokens"], usage["output_tokens"], "the record holds the model's own counts");
    assert_eq!(costs["groups"][0]["key"], "openai");
    stop(&mut child);
    std::fs::remove_dir_all(&dir).unwrap();
}
