//! Redis for tests: the shared one from `REDIS_URL`, or a private server this test starts and stops.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `REDIS_URL`, or `None` with a printed reason; panics if unset while `AGENTIC_REQUIRE_BACKENDS=1`.
pub(crate) fn redis_url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("AGENTIC_REQUIRE_BACKENDS").is_ok_and(|v| v == "1") => {
            panic!("REDIS_URL is unset but AGENTIC_REQUIRE_BACKENDS=1")
        }
        _ => {
            eprintln!("skipping: REDIS_URL is unset (Redis tests need a server)");
            None
        }
    }
}

/// A `redis-server` of our own on a free port, so a test can stop it without disturbing others.
pub(crate) struct PrivateRedis {
    child: Option<Child>,
    port: u16,
}

impl PrivateRedis {
    pub(crate) fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "private redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child: Some(child), port }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
