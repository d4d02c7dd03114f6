//! The reference server with a real provider (llama.cpp serving SmolLM2 through its OpenAI-compatible API):
//! one agent run completes, and its cost record carries the model's real token counts; a `ProjectPipelineWorkflow`
//! gets a plan it can use (asked for in its form, which llama.cpp decodes under a grammar) and runs every step.
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

/// The reference server on the local model (its OpenAI-compatible API, priced as free), in a directory of its own
/// named by `test`; returns the process, its address and the directory.
fn local_server(url: &str, test: &str) -> (std::process::Child, String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("agentic-real-{test}-{}", std::process::id()));
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
    (child, addr, dir)
}

#[test]
fn an_agent_runs_on_a_real_model_and_its_costs_carry_real_tokens() {
    let Some(url) = llm_url() else { return };
    let (mut child, addr, dir) = local_server(&url, "agent");

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

/// The built-in agents, rewritten for the local model: every agent of the roster may be planned, so all of them
/// must be able to answer. They run without tools, with two turns at most and short answers (the Overseer and the
/// QA Tester, whose answers are the plan and the review, get room for them), which keeps the run to a minute or
/// two on this machine; what is under test is the plan and the review, asked for in their forms.
fn local_team() -> Vec<(String, String)> {
    let agents = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../agentic-core/agents");
    ["overseer", "developer", "devops_engineer", "qa_tester", "security_auditor", "ux_designer"]
        .iter()
        .map(|name| {
            let yaml = std::fs::read_to_string(agents.join(format!("{name}.yaml"))).unwrap();
            let mut spec: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
            let max_tokens = match *name {
                "overseer" => 512,
                "qa_tester" => 1024,
                _ => 96,
            };
            spec["llm"] = serde_json::json!({"provider": "openai", "model": "smollm2-135m-instruct",
                "temperature": 0, "max_tokens": max_tokens});
            spec["tools"] = serde_json::json!([]);
            spec["max_iterations"] = serde_json::json!(2);
            spec["risk_level"] = serde_json::json!("low");
            spec.as_object_mut().unwrap().remove("handoffs");
            ((*name).to_owned(), spec.to_string())
        })
        .collect()
}

#[test]
fn a_project_pipeline_on_a_real_model_plans_in_its_form_and_runs_every_step() {
    let Some(url) = llm_url() else { return };
    let (mut child, addr, dir) = local_server(&url, "pipeline");
    for (name, spec) in local_team() {
        // JSON is YAML: the specification goes in as the agents API takes it.
        let (status, body) = request(&addr, "PUT", &format!("/v1/agents/{name}"), KEY, "application/yaml", &spec);
        assert!(status == 200 || status == 201, "{name}: {status} {body}");
    }
    let (status, project) = request(&addr, "POST", "/v1/projects", KEY, "application/json", r#"{"name":"Notes"}"#);
    assert_eq!(status, 201, "{project}");
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let workflow = serde_json::json!({"name": "ProjectPipelineWorkflow", "project_id": project["id"],
        "args": {"goal": "A command-line tool that saves short notes to a file", "max_tasks": 3}});
    let (status, run) = request(&addr, "POST", "/v1/workflows", KEY, "application/json", &workflow.to_string());
    assert_eq!(status, 202, "{run}");
    let id = serde_json::from_str::<serde_json::Value>(&run).unwrap()["id"].as_str().unwrap().to_owned();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let run = loop {
        let (status, run) = get(&addr, &format!("/v1/runs/{id}"), Some(KEY));
        assert_eq!(status, 200, "{run}");
        let run: serde_json::Value = serde_json::from_str(&run).unwrap();
        if !["queued", "running"].contains(&run["status"].as_str().unwrap()) {
            break run;
        }
        assert!(std::time::Instant::now() < deadline, "the pipeline is still {} after 10 minutes", run["status"]);
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    stop(&mut child);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(run["status"], "completed", "{run:#}");
    let output = &run["output"];
    let plan = output["plan"].as_array().unwrap();
    assert!(!plan.is_empty() && plan.len() <= 3, "{output:#}");
    let team: Vec<String> = local_team().into_iter().map(|(name, _)| name).collect();
    for task in plan {
        assert!(team.contains(&task["agent"].as_str().unwrap().to_owned()), "{task}");
        assert!(!task["task"].as_str().unwrap().trim().is_empty(), "{task}");
    }
    let phases: Vec<&str> = output["steps"].as_array().unwrap().iter().map(|s| s["phase"].as_str().unwrap()).collect();
    let tasks = phases.iter().filter(|p| **p == "task").count();
    assert_eq!(tasks, plan.len(), "every planned task ran: {phases:?}");
    assert!(["approve", "request_changes"].contains(&output["verdict"]["verdict"].as_str().unwrap()), "{output:#}");
    eprintln!(
        "the local model planned {} tasks in {} planning round(s) and reviewed in {}: {phases:?}",
        plan.len(),
        phases.iter().filter(|p| **p == "plan").count(),
        phases.iter().filter(|p| **p == "review").count()
    );
}

/// The Security Auditor's own YAML on the local model, without model-called tools: what is under test is what its
/// `auto_tools` find before the model's turn, which a model this small never finds itself.
#[test]
fn the_security_auditor_reports_the_key_and_the_injection_whatever_the_model_answers() {
    let Some(url) = llm_url() else { return };
    let (mut child, addr, dir) = local_server(&url, "auditor");
    let auditor = local_team().into_iter().find(|(name, _)| name == "security_auditor").unwrap().1;
    let (status, body) = request(&addr, "PUT", "/v1/agents/security_auditor", KEY, "application/yaml", &auditor);
    assert!(status == 200 || status == 201, "{body}");
    let (_, project) = request(&addr, "POST", "/v1/projects", KEY, "application/json", r#"{"name":"Audit"}"#);
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let source = "import sqlite3\n\nAWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'\n\n\
                  def find_user(cur, name):\n    cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\n    return cur.fetchone()\n";
    let body = serde_json::json!({
        "task": "Audit this file for security problems.",
        "project_id": project["id"],
        "wait": 60,
        "context": {"files": [{"path": "app/users.py", "content": source}]},
    });
    let (status, run) =
        request(&addr, "POST", "/v1/agents/security_auditor/execute", KEY, "application/json", &body.to_string());
    assert_eq!(status, 200, "{run}");
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    assert_eq!(run["status"], "completed", "{run}");
    let findings: Vec<(&str, &str)> = run["output"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["location"].as_str().unwrap_or("")))
        .collect();
    assert!(findings.contains(&("aws_access_key_id", "app/users.py:3")), "{findings:?}");
    assert!(findings.contains(&("sql-string-formatting", "app/users.py:6")), "{findings:?}");
    assert!(!run["output"]["findings"].to_string().contains("AKIAIOSFODNN7EXAMPLE"), "findings never repeat a secret");
    stop(&mut child);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The plan's test on the local model: a document uploaded to a knowledge base, a question about it, and an
/// answer that cites it (its words or a `[n]` marker), with a snippet that is in the document.
#[test]
fn the_local_model_answers_from_an_uploaded_document_with_a_citation() {
    let Some(url) = llm_url() else { return };
    let (mut child, addr, dir) = local_server(&url, "knowledge");
    let librarian = "name: Librarian\nrole: Helpful assistant\ngoal: Answer questions from the company handbook\n\
                     backstory: Quotes the handbook.\ntools: []\nknowledge: [Handbook]\nmax_iterations: 3\n\
                     llm:\n  provider: openai\n  model: smollm2-135m-instruct\n  temperature: 0\n  max_tokens: 96\n";
    let (status, body) = request(&addr, "PUT", "/v1/agents/librarian", KEY, "application/yaml", librarian);
    assert_eq!(status, 201, "{body}");
    let (status, base) = request(&addr, "POST", "/v1/knowledge", KEY, "application/json", r#"{"name":"Handbook"}"#);
    assert_eq!(status, 201, "{base}");
    let base: serde_json::Value = serde_json::from_str(&base).unwrap();
    let documents = format!("/v1/knowledge/{}/documents", base["id"].as_str().unwrap());
    let handbook = "# Office hours\n\nThe Lisbon office is open from nine in the morning to five in the afternoon \
                    on weekdays.\n\n# Parking\n\nVisitors park in the garage under the building.";
    let (status, document) = request(&addr, "POST", &documents, KEY, "text/markdown", handbook);
    assert_eq!(status, 201, "{document}");
    let (_, project) = request(&addr, "POST", "/v1/projects", KEY, "application/json", r#"{"name":"Desk"}"#);
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let body = serde_json::json!({"task": "When is the Lisbon office open?", "project_id": project["id"], "wait": 60});
    let (status, run) =
        request(&addr, "POST", "/v1/agents/librarian/execute", KEY, "application/json", &body.to_string());
    assert_eq!(status, 200, "{run}");
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    assert_eq!(run["status"], "completed", "{run}");
    let citations = run["output"]["citations"].as_array().unwrap_or_else(|| panic!("no citations: {run:#}"));
    assert!(!citations.is_empty(), "{run:#}");
    let snippet = citations[0]["snippet"].as_str().unwrap();
    assert!(handbook.contains(snippet), "the snippet is the document's: {snippet}");
    eprintln!("the local model answered {:?}, citing {snippet:?}", run["output"]["answer"]);
    stop(&mut child);
    std::fs::remove_dir_all(dir).unwrap();
}
