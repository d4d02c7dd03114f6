//! The built binary: starts on defaults, serves, and exits 0 on SIGTERM; refuses malformed configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

mod common;

use common::{KEY, free_port, get, post, server, stop, wait_for_listen_line};

#[test]
fn serves_on_defaults_and_exits_cleanly_on_sigterm() {
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("AGENTIC_METRICS_BIND", &metrics_addr)
        .spawn()
        .unwrap();
    let (addr, banner) = wait_for_listen_line(&mut child);
    assert!(banner.contains("scripted mock provider"), "{banner}");

    let (status, body) = get(&addr, "/health", None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&addr, "/v1/me", Some(KEY));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("admin@example.com"), "{body}");
    let (status, _) = get(&addr, "/v1/me", None);
    assert_eq!(status, 401);
    // Metrics are on their own listener, not on the API's.
    assert_eq!(get(&addr, "/metrics", Some(KEY)).0, 404);
    let (status, body) = get(&metrics_addr, "/metrics", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("http_requests_total"), "{body}");

    stop(&mut child);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!stderr.contains(KEY), "the API key reached the log");
}

/// An event stream never ends by itself: on SIGTERM the server still exits, closing it at the drain limit (30 s),
/// and its workers stop at once rather than after the drain.
#[test]
fn an_open_event_stream_does_not_hold_the_shutdown_past_the_drain_limit() {
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("AGENTIC_LOG", "info")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(stream, "GET /v1/events/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {KEY}\r\n\r\n").unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200", "the stream is open");

    let signalled = std::time::Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(signalled.elapsed() < Duration::from_secs(45), "the server did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let waited = signalled.elapsed();
    assert!(waited >= Duration::from_secs(29), "the drain ended before its limit: {waited:?}");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let (stopped, closed) =
        (stderr.find("background work stopped"), stderr.find("requests still open at the drain limit"));
    assert!(closed.is_some(), "{stderr}");
    assert!(stopped.is_some_and(|stopped| Some(stopped) < closed), "workers stop before the drain ends: {stderr}");
}

#[test]
fn malformed_configuration_stops_start_up_with_a_clear_message() {
    for (name, value, expected) in [
        ("AGENTIC_BIND", "not-an-address", "AGENTIC_BIND"),
        ("AGENTIC_MASTER_KEY", "too-short", "AGENTIC_MASTER_KEY"),
        ("AGENTIC_BOOTSTRAP_API_KEY", "sk_live_abc", "AGENTIC_BOOTSTRAP_API_KEY"),
        ("AGENTIC_LLM_DEFAULT_PROVIDER", "gemini", "AGENTIC_LLM_DEFAULT_PROVIDER"),
        ("OPENAI_BASE_URL", "localhost:8080", "OPENAI_BASE_URL"),
        ("AGENTIC_METRICS_BIND", "everywhere", "AGENTIC_METRICS_BIND"),
        ("AGENTIC_METRICS_TOKEN", "short", "AGENTIC_METRICS_TOKEN"),
        ("AGENTIC_GUARDRAIL", "loud", "AGENTIC_GUARDRAIL"),
        ("AGENTIC_GUARDRAIL_EXEMPT", "ollama,gemini", "AGENTIC_GUARDRAIL_EXEMPT"),
    ] {
        let output = server().env(name, value).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{name}={value}: {stderr}");
    }
}

#[test]
fn help_explains_every_option() {
    let output = server().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for option in [
        "--bind",
        "AGENTIC_BIND",
        "--master-key",
        "AGENTIC_MASTER_KEY",
        "--bootstrap-api-key",
        "DATABASE_URL",
        "--config",
        "AGENTIC_METRICS_BIND",
        "AGENTIC_METRICS_TOKEN",
    ] {
        assert!(help.contains(option), "--help does not mention {option}");
    }
}

#[test]
fn a_configured_provider_replaces_the_mock() {
    let mut child =
        server().env("AGENTIC_BIND", "127.0.0.1:0").env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1").spawn().unwrap();
    let (_, banner) = wait_for_listen_line(&mut child);
    assert!(!banner.contains("mock"), "{banner}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn rate_limits_run_on_redis_when_configured() {
    let output = server().env("AGENTIC_BIND", "127.0.0.1:0").env("REDIS_URL", "redis://127.0.0.1:1").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot connect to Redis"), "{stderr}");

    let Ok(url) = std::env::var("REDIS_URL") else {
        assert_ne!(std::env::var("AGENTIC_REQUIRE_BACKENDS").as_deref(), Ok("1"), "REDIS_URL is required");
        eprintln!("skipping the Redis half: REDIS_URL is unset");
        return;
    };
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("REDIS_URL", url)
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let (status, _) = get(&addr, "/v1/me", Some(KEY));
    assert_eq!(status, 200);
    stop(&mut child);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("rate limits: Redis"), "{stderr}");
}

#[test]
fn the_server_runs_an_agent_end_to_end_on_the_mock() {
    let mut child = server().env("AGENTIC_BIND", "127.0.0.1:0").env("AGENTIC_BOOTSTRAP_API_KEY", KEY).spawn().unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let (status, project) = post(&addr, "/v1/projects", KEY, r#"{"name":"Demo"}"#);
    assert_eq!(status, 201, "{project}");
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let body = format!(r#"{{"task":"Say hello","project_id":"{}","wait":20}}"#, project["id"].as_str().unwrap());
    let (status, run) = post(&addr, "/v1/agents/developer/execute", KEY, &body);
    assert_eq!(status, 200, "{run}");
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    assert_eq!(run["status"], "completed");
    assert_eq!(run["output"]["answer"], "mock reply to: Say hello");
    stop(&mut child);
}

/// Runs the security auditor on one `requirements.txt` and returns the rules of its automatic findings.
fn dependency_findings(addr: &str, project: &str, requirements: &str) -> Vec<String> {
    let files = serde_json::json!([{"path": "requirements.txt", "content": requirements}]);
    let body = serde_json::json!({"task": "Audit", "project_id": project, "wait": 20, "context": {"files": files}});
    let (status, run) = post(addr, "/v1/agents/security_auditor/execute", KEY, &body.to_string());
    assert_eq!(status, 200, "{run}");
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    assert_eq!(run["status"], "completed", "{run}");
    // No findings at all: the result carries none.
    let findings = run["output"].get("findings").and_then(|f| f.as_array()).cloned().unwrap_or_default();
    findings
        .iter()
        .filter(|f| f["tool"] == "dependency_checker")
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_operators_advisory_directory_is_read_at_start_and_again_when_it_changes() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../agentic-tools/fixtures/osv");
    let dir = std::env::temp_dir().join(format!("agentic-advisories-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixtures.join("npm/GHSA-35jh-r3h4-6jhm.json"), dir.join("GHSA-35jh-r3h4-6jhm.json")).unwrap();

    // Without a directory, the checker says that it checked nothing.
    let mut child = server().env("AGENTIC_BIND", "127.0.0.1:0").env("AGENTIC_BOOTSTRAP_API_KEY", KEY).spawn().unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let (_, project) = post(&addr, "/v1/projects", KEY, r#"{"name":"Audit"}"#);
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let project = project["id"].as_str().unwrap().to_owned();
    assert_eq!(dependency_findings(&addr, &project, "requests==2.19.0\n"), ["advisories-not-configured"]);
    stop(&mut child);

    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("AGENTIC_ADVISORIES", &dir)
        .env("AGENTIC_ADVISORIES_RELOAD_SECS", "1")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let (_, project) = post(&addr, "/v1/projects", KEY, r#"{"name":"Audit"}"#);
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let project = project["id"].as_str().unwrap().to_owned();
    assert!(dependency_findings(&addr, &project, "requests==2.19.0\n").is_empty(), "no advisory for requests yet");

    // The operator adds an advisory: within a reload interval, runs find it.
    std::fs::copy(fixtures.join("PyPI/GHSA-j8r2-6x86-q33q.json"), dir.join("GHSA-j8r2-6x86-q33q.json")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let found = dependency_findings(&addr, &project, "requests==2.19.0\n");
        if found == ["GHSA-j8r2-6x86-q33q"] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the new advisory was not loaded: {found:?}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    stop(&mut child);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("advisories loaded") && stderr.contains("advisories reloaded"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();

    let output =
        server().env("AGENTIC_BIND", "127.0.0.1:0").env("AGENTIC_ADVISORIES", "/nonexistent/osv").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("AGENTIC_ADVISORIES"));
}
