//! A webhook receiver on loopback for tests and benchmarks: it records every request (headers, body, when) and
//! answers as a test's script says, counting how many attempts of one message are in flight at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// Its number, from 0, in arrival order.
    pub seq: usize,
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    /// The body.
    pub body: Vec<u8>,
    /// The status it was answered with.
    pub status: u16,
}

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Reply {
    /// An immediate answer with `status`.
    pub fn status(status: u16) -> Self {
        Self { status, headers: Vec::new(), delay: Duration::ZERO }
    }

    /// The answer, with a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The answer, after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Script = Arc<dyn Fn(usize, &str) -> Reply + Send + Sync>;

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    in_flight: HashMap<String, usize>,
    most_in_flight: usize,
}

#[derive(Clone)]
struct Shared {
    log: Arc<Mutex<Log>>,
    script: Script,
    started: Arc<std::sync::atomic::AtomicUsize>,
}

/// The receiver; dropping it stops the server.
pub struct Receiver {
    /// Its URL (`http://127.0.0.1:<port>/hook`).
    pub url: String,
    log: Arc<Mutex<Log>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// A receiver that answers each request as `script(seq, webhook_id)` says.
    pub async fn start(script: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = Shared { log: Arc::clone(&log), script: Arc::new(script), started: Arc::default() };
        let router = axum::Router::new().fallback(receive).with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { url, log, task })
    }

    /// A receiver that answers 200 to everything.
    pub async fn accepting() -> std::io::Result<Self> {
        Self::start(|_, _| Reply::status(200)).await
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().received.clone()
    }

    /// The distinct `webhook-id`s answered 2xx so far.
    pub fn delivered_ids(&self) -> std::collections::HashSet<String> {
        self.log.lock().received.iter().filter(|r| (200..300).contains(&r.status)).map(|r| r.id.clone()).collect()
    }

    /// The most attempts of one `webhook-id` that were ever in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.log.lock().most_in_flight
    }

    /// Waits until `done` holds for the requests so far, up to `timeout`; whether it did.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&Receiver) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if done(self) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        done(self)
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let at = Instant::now();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let id = header("webhook-id");
    let seq = shared.started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let reply = (shared.script)(seq, &id);
    // Counted out when the handler ends or is dropped (a sender that disconnects cancels it midway).
    let _in_flight = InFlight::enter(&shared.log, &id);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    shared.log.lock().received.push(Received {
        at,
        seq,
        id,
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
        status: reply.status,
    });
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, "ok").into_response();
    for (name, value) in reply.headers {
        if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// One attempt of a message in flight at the receiver, for as long as it lives.
struct InFlight {
    log: Arc<Mutex<Log>>,
    id: String,
}

impl InFlight {
    fn enter(log: &Arc<Mutex<Log>>, id: &str) -> Self {
        let mut entered = log.lock();
        let count = entered.in_flight.entry(id.to_owned()).or_default();
        *count += 1;
        let count = *count;
        entered.most_in_flight = entered.most_in_flight.max(count);
        Self { log: Arc::clone(log), id: id.to_owned() }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(count) = self.log.lock().in_flight.get_mut(&self.id) {
            *count = count.saturating_sub(1);
        }
    }
}
