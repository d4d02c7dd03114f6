//! The README's first command, run as written (`scripts/serve`: the local real model, then the server on it), and
//! the quickstart driven against it: an agent run and a `ProjectPipelineWorkflow`, approved by the admin, both to
//! `completed`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{request, stop};
use serde_json::{Value, json};

/// The README's first command: the first line of its first `sh` block, without its comment.
fn first_readme_command(root: &Path) -> String {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = readme.split("```sh\n").nth(1).expect("README starts with a sh block");
    let line = block.lines().next().unwrap();
    line.split('#').next().unwrap().trim().to_owned()
}

fn call(addr: &str, method: &str, path: &str, bearer: &str, body: Value) -> (u16, Value) {
    let body = if body.is_null() { String::new() } else { body.to_string() };
    let (status, reply) = request(addr, method, path, bearer, "application/json", &body);
    (status, serde_json::from_str(&reply).unwrap_or(Value::Null))
}

#[test]
fn the_first_readme_command_serves_a_real_model_and_the_quickstart_completes_a_workflow() {
    // scripts/serve installs the model itself; where the suite has no model (no scripts/test), this is skipped.
    if std::env::var("AGENTIC_TEST_LLM_URL").is_err() {
        assert_ne!(std::env::var("AGENTIC_REQUIRE_BACKENDS").as_deref(), Ok("1"), "AGENTIC_TEST_LLM_URL is required");
        eprintln!("skipping: no local model (scripts/test starts it)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let command = first_readme_command(&root);
    assert_eq!(command, "scripts/serve");

    // As written, from the repository's root; the test's own ports, and the binary cargo already built (a nested
    // `cargo run` would wait on the lock this test run holds).
    let mut shell = Command::new("bash");
    shell.arg("-c").arg(&command).current_dir(&root);
    for (name, _) in std::env::vars() {
        if name.starts_with("AGENTIC_")
            || ["DATABASE_URL", "REDIS_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY"].contains(&name.as_str())
        {
            shell.env_remove(name);
        }
    }
    let mut child = shell
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_METRICS_BIND", "127.0.0.1:0")
        .env("AGENTIC_SERVER_BIN", env!("CARGO_BIN_EXE_agentic-server"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut admin_key, mut addr, mut banner) = (None, None, String::new());
    let deadline = Instant::now() + Duration::from_secs(120);
    while addr.is_none() {
        assert!(Instant::now() < deadline, "scripts/serve did not start listening:\n{banner}");
        let line = lines.next().expect("scripts/serve exited before listening").unwrap();
        if let Some(key) = line.split("admin API key (shown once):").nth(1) {
            admin_key = Some(key.trim().to_owned());
        }
        addr = line.strip_prefix("agentic-server listening on http://").map(|a| a.trim().to_owned());
        banner.push_str(&line);
        banner.push('\n');
    }
    assert!(banner.contains("local model (SmolLM2-135M-Instruct, llama.cpp)") && !banner.contains("mock"), "{banner}");
    let (admin, addr) = (admin_key.expect("the admin's key is printed"), addr.unwrap());

    // The quickstart: a developer, their token, a project.
    let user = json!({"email": "dev@example.com", "password": "a long password", "roles": ["developer"]});
    assert_eq!(call(&addr, "POST", "/v1/users", &admin, user).0, 201);
    let login = json!({"tenant": "default", "email": "dev@example.com", "password": "a long password"});
    let (status, session) = call(&addr, "POST", "/v1/auth/login", "", login);
    assert_eq!(status, 200, "{session}");
    let token = session["access_token"].as_str().unwrap().to_owned();
    let (status, project) = call(&addr, "POST", "/v1/projects", &admin, json!({"name": "Signup", "budget": "25.00"}));
    assert_eq!(status, 201, "{project}");
    let project = project["id"].as_str().unwrap().to_owned();

    // An agent run, on the real model.
    let task = json!({"task": "Write tests for the signup form", "project_id": project, "wait": 60});
    let (status, run) = call(&addr, "POST", "/v1/agents/qa_tester/execute", &admin, task);
    assert_eq!((status, run["status"].as_str()), (200, Some("completed")), "{run}");
    assert!(!run["output"]["answer"].as_str().unwrap().trim().is_empty(), "{run}");

    // The workflow: started by the developer, gated, approved by the admin, then run to its end.
    let workflow = json!({"name": "ProjectPipelineWorkflow", "project_id": project,
        "args": {"goal": "Add a signup page", "max_tasks": 2}});
    let (status, run) = call(&addr, "POST", "/v1/workflows", &token, workflow);
    assert_eq!((status, run["status"].as_str()), (202, Some("awaiting_approval")), "{run}");
    let run_id = run["id"].as_str().unwrap().to_owned();
    let (_, pending) = call(&addr, "GET", "/v1/approvals?status=pending", &admin, Value::Null);
    let approval = pending["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, decided) =
        call(&addr, "POST", &format!("/v1/approvals/{approval}/approve"), &admin, json!({"comment": "go"}));
    assert_eq!(status, 200, "{decided}");
    // Usually well under a minute; but SmolLM2 sometimes repeats itself up to the agents' 1,024-token limit at
    // every turn, ~30 s a turn on a loaded CI core, and a workflow is about ten turns.
    let deadline = Instant::now() + Duration::from_secs(600);
    let result = loop {
        let (status, result) = call(&addr, "GET", &format!("/v1/runs/{run_id}/result?wait=60"), &admin, Value::Null);
        if status == 200 {
            break result;
        }
        assert!(Instant::now() < deadline, "the workflow did not end: {result}");
    };
    // What each step did (shown with --nocapture): its agent, model turns and tool calls.
    for step in result["output"]["steps"].as_array().into_iter().flatten() {
        let turns = step["steps"].as_array().map_or(0, |s| s.iter().filter(|t| t["type"] == "llm_call").count());
        let tools: Vec<&str> =
            step["steps"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect();
        eprintln!("{} {}: {turns} model turns, tools {tools:?}", step["phase"], step["agent"]);
    }
    // The cause first: a failed step's error says which step and why, before the whole (long) result.
    assert_eq!(result["status"], "completed", "{}: {}\n{result}", result["error_code"], result["error"]);
    let phases: Vec<&str> =
        result["output"]["steps"].as_array().unwrap().iter().map(|s| s["phase"].as_str().unwrap()).collect();
    assert_eq!(phases.first(), Some(&"plan"));
    assert_eq!(phases.last(), Some(&"review"));
    assert!(phases.contains(&"task"), "{phases:?}");
    assert!(["approve", "request_changes"].contains(&result["output"]["verdict"]["verdict"].as_str().unwrap()));

    // Ctrl-C's sibling: SIGTERM stops the server and the model.
    stop(&mut child);
}
