//! The server's pages in a real browser: headless Chromium (Debian's `chromium`) driven by PyPI playwright, both
//! installed by `scripts/browser-tools`. Python scripts under `tests/browser/` drive a page and report what they
//! saw as JSON; the checks are here. Each saves a screenshot under the target folder's `screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{root, server, stop, wait_for_listen_line};
use serde_json::{Value, json};

/// The venv's Python with playwright, or `None` (skipped, unless backends are required).
fn browser_python() -> Option<PathBuf> {
    let venv = std::env::var("AGENTIC_BROWSER_VENV").unwrap_or_else(|_| "/var/tmp/agentic-browser-venv".into());
    let python = Path::new(&venv).join("bin/python");
    let ready = Path::new("/usr/bin/chromium").exists()
        && Command::new(&python).args(["-c", "import playwright"]).output().is_ok_and(|o| o.status.success());
    if ready {
        return Some(python);
    }
    assert_ne!(
        std::env::var("AGENTIC_REQUIRE_BACKENDS").as_deref(),
        Ok("1"),
        "chromium or playwright is missing but AGENTIC_REQUIRE_BACKENDS=1 (scripts/browser-tools installs them)"
    );
    eprintln!("skipping: chromium or playwright is missing (scripts/browser-tools)");
    None
}

/// Runs `tests/browser/<script>` against `base` with a screenshot path; returns its report.
fn drive(python: &Path, script: &str, base: &str, screenshot: &str) -> Value {
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join(screenshot);
    let output = Command::new(python)
        .arg(root().join("examples/server/tests/browser").join(script))
        .args([base, shot.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n{stderr}");
    assert!(shot.exists(), "{script} saved no screenshot");
    eprintln!("screenshot: {}", shot.display());
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{script} printed no report ({e}):\n{stderr}"))
}

/// `/docs` works offline and under its Content-Security-Policy: the page renders every operation, loads nothing
/// from anywhere but the server, and the browser refuses nothing.
#[test]
fn the_api_docs_render_in_a_browser_with_nothing_from_elsewhere() {
    let Some(python) = browser_python() else { return };
    let mut child = server().env("AGENTIC_BIND", "127.0.0.1:0").spawn().unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let report = drive(&python, "docs_page.py", &format!("http://{addr}"), "api-docs.png");
    stop(&mut child);
    eprintln!("{report}");
    assert!(report["title"].as_str().unwrap().contains("agentic platform API"), "{report}");
    assert!(report["operations"].as_u64().unwrap() >= 50, "{report}");
    assert_eq!(report["foreign_requests"], json!([]), "{report}");
    assert_eq!(report["csp_violations"], json!([]), "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
}

/// The chat completions upstream of the console test: every answer is plain text (no tool call, so a run ends in
/// one turn) and 1,200 tokens in, 300 out, which the test's price makes $0.0048.
fn completion() -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "console-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Done: the checks pass."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}})
}

/// `request` with a JSON body and the admin's key, asserting the status is one of `expected`; returns the body.
fn call(addr: &str, method: &str, path: &str, body: &str, expected: &[u16]) -> Value {
    let content_type = if body.starts_with('{') { "application/json" } else { "application/yaml" };
    let (status, reply) = common::request(addr, method, path, common::KEY, content_type, body);
    assert!(expected.contains(&status), "{method} {path}: {status} {reply}");
    serde_json::from_str(&reply).unwrap_or(Value::Null)
}

/// The web console end to end in Chromium, on a server whose agents call a priced model (a local stand-in for
/// OpenAI): a viewer sees the pending high-risk run with no Approve button and a POST they forge is refused; a
/// manager's POST without the page's CSRF token is refused; the manager approves it with a comment, by keyboard alone, and watches its page until it completes; the cost chart draws the day's
/// spending by agent; the runs, schedules and webhooks pages load. No page loads anything from elsewhere or
/// breaks its Content-Security-Policy. Each page is saved as a screenshot (the README shows them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_approves_a_high_risk_run_in_the_console_and_a_viewer_cannot() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let Some(python) = browser_python() else { return };
    let upstream = common::chat_upstream(completion()).await;
    // The webhook receiver: takes every delivery.
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/agentic"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let hook_url = format!("{}/hooks/agentic", receiver.uri());
    let dir = std::env::temp_dir().join(format!("agentic-console-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pricing = dir.join("pricing.toml");
    std::fs::write(&pricing, "[models.\"console-model\"]\ninput = \"2.00\"\noutput = \"8.00\"\n").unwrap();
    let password = "a console test password";
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", common::KEY)
        .env("AGENTIC_BOOTSTRAP_ADMIN_PASSWORD", password)
        .env("OPENAI_BASE_URL", format!("{}/v1", upstream.uri()))
        .env("OPENAI_API_KEY", "sk-test")
        .env("AGENTIC_PRICING_FILE", &pricing)
        .env("AGENTIC_WEBHOOK_ALLOW_HTTP", "on")
        .env("AGENTIC_WEBHOOK_ALLOWED_RANGES", "127.0.0.0/8")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let log = common::drain_log(&mut child);

    let seed = tokio::task::spawn_blocking(move || {
        // The agent as shipped, on the test's model.
        let on_the_test_model = |yaml: &str| {
            let lines = yaml.lines().map(|line| match line {
                _ if line.starts_with("  provider:") => "  provider: openai",
                _ if line.starts_with("  model:") => "  model: console-model",
                _ => line,
            });
            lines.collect::<Vec<_>>().join("\n")
        };
        for agent in ["qa_tester", "devops_engineer"] {
            let yaml = std::fs::read_to_string(root().join(format!("agentic-core/agents/{agent}.yaml"))).unwrap();
            call(&addr, "PUT", &format!("/v1/agents/{agent}"), &on_the_test_model(&yaml), &[200, 201]);
        }
        for (email, role) in [("manager@example.com", "manager"), ("viewer@example.com", "viewer")] {
            let user = json!({"email": email, "password": "a console test password", "roles": [role]});
            call(&addr, "POST", "/v1/users", &user.to_string(), &[201]);
        }
        let project = call(&addr, "POST", "/v1/projects", r#"{"name":"Checkout","budget":"0.10"}"#, &[201]);
        let project_id = project["id"].as_str().unwrap().to_owned();
        for task in ["Test the checkout form", "Test the payment retry", "Test the receipt e-mail"] {
            let body = json!({"task": task, "project_id": project_id, "wait": 30});
            let run = call(&addr, "POST", "/v1/agents/qa_tester/execute", &body.to_string(), &[200]);
            assert_eq!(run["status"], "completed", "{run}");
        }
        // An earlier DevOps run, asked for by the manager and approved by the admin, gives the card an estimate.
        let login = json!({"tenant": "default", "email": "manager@example.com", "password": "a console test password"});
        let (status, token) =
            common::request(&addr, "POST", "/v1/auth/login", "", "application/json", &login.to_string());
        assert_eq!(status, 200, "{token}");
        let token: Value = serde_json::from_str(&token).unwrap();
        let staging = json!({"task": "Roll out the checkout service to staging", "project_id": project_id});
        let path = "/v1/agents/devops_engineer/execute";
        let bearer = token["access_token"].as_str().unwrap();
        let (status, earlier) = common::request(&addr, "POST", path, bearer, "application/json", &staging.to_string());
        assert!([200, 201, 202].contains(&status), "{earlier}");
        let earlier: Value = serde_json::from_str(&earlier).unwrap();
        let pending = call(&addr, "GET", "/v1/approvals?status=pending", "", &[200]);
        call(
            &addr,
            "POST",
            &format!("/v1/approvals/{}/approve", pending["data"][0]["id"].as_str().unwrap()),
            "{}",
            &[200],
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while call(&addr, "GET", &format!("/v1/runs/{}", earlier["id"].as_str().unwrap()), "", &[200])["status"]
            != "completed"
        {
            assert!(std::time::Instant::now() < deadline, "the approved staging run did not complete");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let task = "Roll out the checkout service to production";
        let body = json!({"task": task, "project_id": project_id, "context": {"environment": "production"}});
        let run = call(&addr, "POST", "/v1/agents/devops_engineer/execute", &body.to_string(), &[200, 201, 202]);
        assert_eq!(run["status"], "awaiting_approval", "{run}");
        let approvals = call(&addr, "GET", "/v1/approvals?status=pending", "", &[200]);
        let schedule = json!({"name": "Nightly checkout regression", "project_id": project_id,
            "target": {"agent": "qa_tester", "task": "Run the checkout regression suite"},
            "spec": {"cron": "0 2 * * *", "timezone": "Europe/Berlin"}});
        call(&addr, "POST", "/v1/schedules", &schedule.to_string(), &[201]);
        let webhook = json!({"url": hook_url, "events": ["agent.*", "approval.*"],
            "description": "Release bot"});
        call(&addr, "POST", "/v1/webhooks", &webhook.to_string(), &[201]);
        let seed = json!({"tenant": "default", "password": "a console test password", "viewer": "viewer@example.com",
            "manager": "manager@example.com", "admin": "admin@example.com", "task": task,
            "approval_id": approvals["data"][0]["id"], "run_id": run["id"], "project_id": project_id});
        (addr, seed)
    })
    .await
    .unwrap();
    let (addr, seed) = seed;
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let base = format!("http://{addr}");
    let (script, shots_arg, seed_arg) =
        (root().join("examples/server/tests/browser/console_flow.py"), shots.clone(), seed.to_string());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).args([base.as_str(), shots_arg.to_str().unwrap(), seed_arg.as_str()]).output()
    })
    .await
    .unwrap()
    .unwrap();
    let run_id = seed["run_id"].as_str().unwrap().to_owned();
    let run = call(&addr, "GET", &format!("/v1/runs/{run_id}"), "", &[200]);
    let approvals = call(&addr, "GET", "/v1/approvals?status=approved", "", &[200]);
    stop(&mut child);
    let log = log.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "console_flow.py failed:\n{stderr}\nserver log:\n{log}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    eprintln!("{report}");

    // The viewer: sent to sign in and back, sees the run, is offered nothing, and both forgeries are refused.
    assert_eq!(report["viewer_landed_on"], "/console/approvals", "{report}");
    assert_eq!(report["viewer_sees_task"], true, "{report}");
    assert_eq!(report["viewer_approve_buttons"], 0, "{report}");
    assert_eq!(report["viewer_forged_with_token"], 403, "{report}");
    // The manager: approves with a comment, and sees the run complete on its page.
    assert_eq!(report["manager_cards"], 1, "{report}");
    assert_eq!(report["manager_forged_without_token"], 403, "{report}");
    let card = report["manager_card"].as_str().unwrap();
    assert!(card.contains("about $0.0048 (what the one completed devops_engineer run cost)"), "{report}");
    // By keyboard alone: the skip link first, the comment reached by Tab, the Approve button next, Enter submits.
    assert_eq!(report["first_tab_stop"], "A Skip to the content", "{report}");
    assert_eq!(report["comment_reached_by_tab"], true, "{report}");
    assert!(
        report["after_comment_tab"].as_str().unwrap().starts_with("BUTTON Approve the devops_engineer run"),
        "{report}"
    );
    assert_eq!(report["after_approval"], "/console/approvals", "{report}");
    assert_eq!(report["nothing_waiting"], true, "{report}");
    assert_eq!(report["viewer_page_updated_live"], true, "{report}");
    assert_eq!(report["run_status_seen"], "completed", "{report}");
    assert_eq!(report["run_answer_shown"], true, "{report}");
    assert_eq!(run["status"], "completed", "{run}");
    let decided = approvals["data"].as_array().unwrap().iter().find(|a| a["run_id"] == run["id"]).unwrap();
    assert_eq!(decided["comment"], "Reviewed the plan: go ahead.", "{approvals}");
    // The cost chart: one day, two agents (three QA runs at $0.0048 each, two DevOps runs).
    assert_eq!(report["chart_segments"], 2, "{report}");
    assert_eq!(report["chart_name"], "Cost per day of Checkout", "{report}");
    let legend = report["legend"].to_string();
    assert!(legend.contains("qa_tester · $0.0144") && legend.contains("devops_engineer · $0.0096"), "{report}");
    assert!(report["chart_drawn_px"][0].as_u64().unwrap() > 600, "{report}");
    assert_eq!(report["runs_listed"], 5, "{report}");
    assert_eq!(report["schedules_listed"], 1, "{report}");
    assert_eq!(report["webhooks_listed"], 1, "{report}");
    assert_eq!(report["webhook_health"], "healthy", "{report}");
    assert_eq!(report["foreign_requests"], json!([]), "{report}");
    assert_eq!(report["csp_violations"], json!([]), "{report}");
    assert_eq!(report["failed_loads"], json!([]), "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
    for shot in ["approvals", "approvals-viewer", "run", "runs", "costs", "schedules", "webhooks"] {
        let file = shots.join(format!("console-{shot}.png"));
        assert!(std::fs::metadata(&file).is_ok_and(|m| m.len() > 10_000), "no screenshot {}", file.display());
    }
    eprintln!("screenshots: {}", shots.display());
    std::fs::remove_dir_all(&dir).unwrap();
}
