//! One delivery attempt: a signed POST to a checked address, without redirects, bounded in time and in what it
//! reads back.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::target::{TargetError, TargetPolicy};

/// The most of a receiver's answer an attempt keeps (the log shows it; nothing acts on it).
pub const MAX_LOGGED_BODY: usize = 4 * 1024;

/// What an attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// A 2xx answer.
    Delivered,
    /// 410 Gone: the receiver asks never to be called again; the endpoint is disabled.
    Gone,
    /// Anything else (3xx included: redirects are not followed); tried again on the schedule.
    Failed,
}

/// The log of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// What it came to.
    pub verdict: AttemptVerdict,
    /// The receiver's status, if it answered.
    pub status_code: Option<u16>,
    /// How long the attempt took.
    pub duration: Duration,
    /// The start of the answer, at most [`MAX_LOGGED_BODY`] bytes.
    pub body: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// What a 429 or 503 asked to wait.
    pub retry_after: Option<Duration>,
}

/// The webhook HTTP client: every name is resolved through the SSRF guard (so the connection goes to the
/// addresses checked, in one lookup), proxies from the environment are ignored (they would connect elsewhere),
/// and redirects are not followed.
#[derive(Clone, Debug)]
pub struct Sender {
    client: reqwest::Client,
    policy: TargetPolicy,
}

/// Resolves names for the client, refusing any that has a forbidden address.
#[derive(Debug)]
struct GuardedResolver(TargetPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let addrs = policy.resolve_host(name.as_str(), 0).await.map_err(|e| Box::new(e) as Box<_>)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl Sender {
    /// A client that gives each attempt `timeout` in all (connect, send, answer).
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("agentic-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self { client, policy })
    }

    /// POSTs `body` (the exact bytes that were signed) to `url` with the Standard Webhooks headers.
    pub async fn send(&self, url: &str, id: &str, timestamp: i64, signature: &str, body: Vec<u8>) -> AttemptOutcome {
        let started = Instant::now();
        let failed = |error: String, started: Instant| AttemptOutcome {
            verdict: AttemptVerdict::Failed,
            status_code: None,
            duration: started.elapsed(),
            body: None,
            error: Some(error),
            retry_after: None,
        };
        // Address literals never reach the resolver: the form check covers them.
        let url = match self.policy.check_url(url) {
            Ok(url) => url,
            Err(error) => return failed(error.to_string(), started),
        };
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => return failed(describe(&error), started),
        };
        let status = response.status();
        let retry_after = if matches!(status.as_u16(), 429 | 503) {
            let headers = response.headers();
            crate::retry_after::retry_after(|name| headers.get(name).and_then(|v| v.to_str().ok()))
        } else {
            None
        };
        let mut kept = Vec::new();
        let mut read_error = None;
        while kept.len() < MAX_LOGGED_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(MAX_LOGGED_BODY - kept.len())]),
                Ok(None) => break,
                Err(error) => {
                    read_error = Some(describe(&error));
                    break;
                }
            }
        }
        let verdict = match status.as_u16() {
            200..=299 => AttemptVerdict::Delivered,
            410 => AttemptVerdict::Gone,
            _ => AttemptVerdict::Failed,
        };
        let error = match verdict {
            AttemptVerdict::Delivered => None,
            AttemptVerdict::Gone => Some("the receiver answered 410 Gone".to_owned()),
            AttemptVerdict::Failed if status.is_redirection() => Some(format!("redirects are not followed ({status})")),
            AttemptVerdict::Failed => Some(format!("the receiver answered {status}")),
        };
        AttemptOutcome {
            verdict,
            status_code: Some(status.as_u16()),
            duration: started.elapsed(),
            body: (!kept.is_empty()).then(|| utf8_prefix(&kept)),
            error: error.or(read_error.filter(|_| verdict != AttemptVerdict::Delivered)),
            retry_after,
        }
    }
}

/// A transport error in words, naming the SSRF guard's refusal when that is the cause.
fn describe(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<TargetError>() {
            return refusal.to_string();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        format!("could not connect: {}", root_cause(error))
    } else {
        root_cause(error)
    }
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn StdError = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `bytes` as text, lossily, cut back to a character boundary.
fn utf8_prefix(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(error) if error.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..error.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}
