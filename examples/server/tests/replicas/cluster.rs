//! The suite's cluster: a Redis of its own, the three servers' settings, and the clients' view of them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::common::{KEY, free_port, server, wait_for_listen_line};

/// The servers.
pub(crate) const REPLICAS: usize = 3;

/// Whether a missing backend fails the test instead of skipping it.
fn required() -> bool {
    std::env::var("AGENTIC_REQUIRE_BACKENDS").is_ok_and(|v| v == "1")
}

/// A Redis server of the suite's own, so that restarting it disturbs nothing else on the machine.
pub(crate) struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn spawn(port: u16) -> std::io::Result<Child> {
        let port = port.to_string();
        Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    pub(crate) fn start() -> Option<Redis> {
        let port = free_port();
        match Self::spawn(port) {
            Ok(child) => {
                let redis = Redis { port, child };
                redis.wait_until_ready();
                Some(redis)
            }
            Err(error) if !required() => {
                eprintln!("skipping the fault suite: cannot start redis-server ({error})");
                None
            }
            Err(error) => panic!("cannot start redis-server: {error}"),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pong = TcpStream::connect(("127.0.0.1", self.port)).ok().and_then(|mut stream| {
                stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
                stream.write_all(b"PING\r\n").ok()?;
                let mut answer = [0u8; 7];
                stream.read_exact(&mut answer).ok()?;
                Some(answer == *b"+PONG\r\n")
            });
            if pong == Some(true) {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not answer PING on port {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills Redis (all its keys go with it), waits `down`, and starts it again on the same port.
    pub(crate) fn restart(&mut self, down: Duration) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::thread::sleep(down);
        self.child = Self::spawn(self.port).unwrap();
        self.wait_until_ready();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every server of the suite is started with.
#[derive(Clone)]
pub(crate) struct Cluster {
    pub(crate) database_url: String,
    pub(crate) redis_url: String,
    pub(crate) upstream: String,
    pub(crate) limits: PathBuf,
    pub(crate) logs: PathBuf,
}

impl Cluster {
    /// Starts a server in `slot`; its log goes to `<logs>/replica-<slot>-<generation>.log`.
    pub(crate) fn start(&self, slot: usize, generation: usize) -> (Child, String) {
        let log = std::fs::File::create(self.logs.join(format!("replica-{slot}-{generation}.log"))).unwrap();
        let mut child = server()
            .env("AGENTIC_BIND", "127.0.0.1:0")
            .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
            .env("DATABASE_URL", &self.database_url)
            .env("AGENTIC_DB_MIGRATE", "true")
            .env("AGENTIC_DB_POOL_SIZE", "8")
            .env("REDIS_URL", &self.redis_url)
            .env("AGENTIC_CONFIG", &self.limits)
            // A run whose server died is taken over three seconds later.
            .env("AGENTIC_RUN_LEASE_SECS", "3")
            .env("OPENAI_BASE_URL", format!("{}/v1", self.upstream))
            .env("OPENAI_API_KEY", "fault-suite")
            .env("AGENTIC_LLM_DEFAULT_PROVIDER", "openai")
            .env("AGENTIC_GUARDRAIL_EXEMPT", "openai")
            .env("AGENTIC_WEBHOOK_ALLOW_HTTP", "on")
            .env("AGENTIC_WEBHOOK_ALLOWED_RANGES", "127.0.0.0/8")
            .env("AGENTIC_WEBHOOK_TIMEOUT_SECS", "2")
            .env("AGENTIC_WEBHOOK_RETRY_SCHEDULE", "0,0.5,0.5,0.5,0.5,0.5,1,1,1,1,1,1,1,1,1,1")
            .env("AGENTIC_LOG", "warn")
            .stderr(log)
            .spawn()
            .unwrap();
        let (addr, _) = wait_for_listen_line(&mut child);
        (child, addr)
    }
}

/// Rate limits too high to refuse anything but the route under test.
pub(crate) fn write_limits(path: &std::path::Path, quota: usize) {
    let lots = "100000000/minute";
    std::fs::write(
        path,
        format!(
            "[rate_limits]\nper_ip = \"{lots}\"\nper_principal = \"{lots}\"\n\
             [rate_limits.plans]\nfree = \"{lots}\"\ndeveloper = \"{lots}\"\nenterprise = \"{lots}\"\n\
             [[rate_limits.routes]]\nroute = \"POST /v1/agents/{{name}}/execute\"\nlimit = \"{lots}\"\n\
             [[rate_limits.routes]]\nroute = \"POST /v1/departments\"\nlimit = \"{quota}/hour\"\n"
        ),
    )
    .unwrap();
}

/// The clients' view of the three servers: whichever address each slot has now.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) addrs: Arc<Mutex<Vec<String>>>,
    /// Requests a client sent again to the next server because one did not answer or answered 5xx.
    pub(crate) retries: Arc<AtomicUsize>,
}

impl Api {
    /// One request to the server in `slot`: its status and JSON body, or why there was none.
    pub(crate) async fn once(
        &self,
        slot: usize,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, Value), String> {
        let addr = self.addrs.lock().unwrap()[slot % REPLICAS].clone();
        let mut request =
            self.http.request(method, format!("http://{addr}{path}")).bearer_auth(KEY).timeout(Duration::from_secs(90));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// Tries the servers in turn from `slot` until one answers below 500 (a client's retry: safe for reads and
    /// for requests with an idempotency key), for up to a minute.
    pub(crate) async fn call(
        &self,
        slot: usize,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> (u16, Value) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut slot = slot;
        loop {
            let last = match self.once(slot, method.clone(), path, body, idempotency_key).await {
                Ok((status, body)) if status < 500 => return (status, body),
                other => format!("{other:?}"),
            };
            assert!(Instant::now() < deadline, "no server answered {method} {path}: {last}");
            slot += 1;
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(0, Method::GET, path, None, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Value {
        let (status, answer) = self.call(0, Method::POST, path, Some(body), None).await;
        assert!(status == 200 || status == 201, "POST {path}: {status} {answer}");
        answer
    }

    /// Every item of a paged list (`path` has a query already), oldest first from `after` when given, following
    /// `next_cursor`.
    pub(crate) async fn all(&self, path: &str, after: Option<&str>) -> Vec<Value> {
        let mut items = Vec::new();
        let mut after = after.map(str::to_owned);
        loop {
            let page = match &after {
                None => self.get(&format!("{path}&limit=200")).await,
                Some(cursor) => self.get(&format!("{path}&limit=200&after={cursor}")).await,
            };
            items.extend(page["data"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => after = Some(cursor.to_owned()),
                None => return items,
            }
        }
    }
}
