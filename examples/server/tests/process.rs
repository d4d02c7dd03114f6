//! The built binary: starts on defaults, serves, and exits 0 on SIGTERM; refuses malformed configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "agk_processtest0123456789abcdefghijklmnop";

fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentic-server"));
    for (name, _) in std::env::vars() {
        let provider_var = ["ANTHROPIC_", "OPENAI_", "OLLAMA_"].iter().any(|p| name.starts_with(p));
        if name.starts_with("AGENTIC_") || name == "DATABASE_URL" || name == "REDIS_URL" || provider_var {
            command.env_remove(name);
        }
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Raw HTTP/1.1 so the test needs no client library: returns (status, body).
fn get(addr: &str, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = bearer.map(|b| format!("Authorization: Bearer {b}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// Reads stdout up to the listen line; returns the address and everything printed before it.
fn wait_for_listen_line(child: &mut Child) -> (String, String) {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut banner = String::new();
    while Instant::now() < deadline {
        let line = lines.next().expect("server exited before listening").unwrap();
        if let Some(addr) = line.strip_prefix("agentic-server listening on http://") {
            return (addr.trim().to_owned(), banner);
        }
        banner.push_str(&line);
        banner.push('\n');
    }
    panic!("server did not start listening in time");
}

#[test]
fn serves_on_defaults_and_exits_cleanly_on_sigterm() {
    let mut child = server().env("AGENTIC_BIND", "127.0.0.1:0").env("AGENTIC_BOOTSTRAP_API_KEY", KEY).spawn().unwrap();
    let (addr, banner) = wait_for_listen_line(&mut child);
    assert!(banner.contains("scripted mock provider"), "{banner}");

    let (status, body) = get(&addr, "/health", None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&addr, "/v1/me", Some(KEY));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("admin@example.com"), "{body}");
    let (status, _) = get(&addr, "/v1/me", None);
    assert_eq!(status, 401);

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!stderr.contains(KEY), "the API key reached the log");
}

#[test]
fn malformed_configuration_stops_start_up_with_a_clear_message() {
    for (name, value, expected) in [
        ("AGENTIC_BIND", "not-an-address", "AGENTIC_BIND"),
        ("AGENTIC_MASTER_KEY", "too-short", "AGENTIC_MASTER_KEY"),
        ("AGENTIC_BOOTSTRAP_API_KEY", "sk_live_abc", "AGENTIC_BOOTSTRAP_API_KEY"),
        ("AGENTIC_LLM_DEFAULT_PROVIDER", "gemini", "AGENTIC_LLM_DEFAULT_PROVIDER"),
        ("OPENAI_BASE_URL", "localhost:8080", "OPENAI_BASE_URL"),
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
