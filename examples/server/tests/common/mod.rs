//! Running the built server binary and talking to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

pub(crate) const KEY: &str = "agk_processtest0123456789abcdefghijklmnop";
/// The webhook secret key the tests' servers share (base64 of 32 bytes).
pub(crate) const WEBHOOK_KEY: &str = "dGVzdC13ZWJob29rLWtleS0wMTIzNDU2Nzg5YWJjZGU=";

/// The repository's root (the tests read its files: the Dockerfile, the manifests, the guides).
pub(crate) fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentic-server"));
    for (name, _) in std::env::vars() {
        let provider_var = ["ANTHROPIC_", "OPENAI_", "OLLAMA_"].iter().any(|p| name.starts_with(p));
        if name.starts_with("AGENTIC_") || name == "DATABASE_URL" || name == "REDIS_URL" || provider_var {
            command.env_remove(name);
        }
    }
    // Servers run side by side in the tests: none takes the fixed default metrics port.
    command.env("AGENTIC_METRICS_BIND", "127.0.0.1:0");
    command.env("AGENTIC_WEBHOOK_SECRET_KEY", WEBHOOK_KEY);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Raw HTTP/1.1 so the test needs no client library: returns (status, body).
pub(crate) fn get(addr: &str, path: &str, bearer: Option<&str>) -> (u16, String) {
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
pub(crate) fn wait_for_listen_line(child: &mut Child) -> (String, String) {
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

/// A stand-in for an OpenAI-compatible provider: every `POST /v1/chat/completions` gets `completion`.
pub(crate) async fn chat_upstream(completion: serde_json::Value) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    let upstream = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(completion))
        .mount(&upstream)
        .await;
    upstream
}

/// Reads the server's log (stderr) on a thread as it comes, so a chatty server never blocks on a full pipe; the
/// thread's result is the whole log, to show on a failure.
pub(crate) fn drain_log(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    })
}

/// Sends SIGTERM and asserts a clean exit within 20 s.
pub(crate) fn stop(child: &mut Child) {
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status:?}");
            return;
        }
        assert!(Instant::now() < deadline, "server did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// POST with a JSON body over raw HTTP/1.1; returns (status, body).
pub(crate) fn post(addr: &str, path: &str, bearer: &str, body: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    (status, response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

/// Any request over raw HTTP/1.1; returns (status, body).
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    bearer: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    // No credential: no Authorization header at all (a public route such as sign-in).
    let auth = if bearer.is_empty() { String::new() } else { format!("Authorization: Bearer {bearer}\r\n") };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    (status, response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An empty database on the server of `DATABASE_URL`, dropped at the end.
pub(crate) struct EmptyDatabase {
    admin_url: String,
    name: String,
}

impl EmptyDatabase {
    pub(crate) async fn create(admin_url: &str) -> Self {
        let name = format!("agentic_srv_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(admin_url).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut conn).await.unwrap();
        Self { admin_url: admin_url.to_owned(), name }
    }

    pub(crate) fn url(&self) -> String {
        let (base, _) = self.admin_url.rsplit_once('/').unwrap();
        format!("{base}/{}", self.name)
    }

    pub(crate) async fn drop_it(self) {
        let mut conn = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}
