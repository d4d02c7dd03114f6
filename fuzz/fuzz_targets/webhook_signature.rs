//! A received webhook delivery, verified as the SDK's receivers verify it. The input is split at its first three
//! newlines into the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers and the body (a secret
//! comes first when a fourth newline is present, checking `SigningSecret::parse` too).
//!
//! Never a panic; a delivery is accepted only with our signature over exactly its id, timestamp and body, and a
//! timestamp within the tolerance; a delivery we signed is always accepted.
#![no_main]

use std::time::Duration;

use agentic_sdk::webhooks::{SigningSecret, WebhookHeaders, verify};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_780_000_000;
const TOLERANCE: Duration = Duration::from_secs(300);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(5, '\n');
    let fields: Vec<&str> = parts.by_ref().collect();
    let (secret, id, timestamp, signature, body) = match fields.as_slice() {
        [secret, id, timestamp, signature, body] => match SigningSecret::parse(secret) {
            Ok(parsed) => (parsed, *id, *timestamp, *signature, *body),
            Err(_) => return,
        },
        [id, timestamp, signature, body] => (
            SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("a valid secret"),
            *id,
            *timestamp,
            *signature,
            *body,
        ),
        _ => return,
    };
    let headers = WebhookHeaders { id, timestamp, signature };
    if verify(&secret, &headers, body.as_bytes(), NOW, TOLERANCE).is_ok() {
        let at: i64 = timestamp.trim().parse().expect("an accepted timestamp parses");
        assert!(NOW.abs_diff(at) <= TOLERANCE.as_secs(), "accepted outside the tolerance");
        let ours = secret.sign(id, at, body.as_bytes());
        assert!(signature.split_whitespace().any(|s| s == ours), "accepted without our signature");
    }
    // Signed by us now, the same message always verifies.
    if let Some(at) = timestamp.trim().parse::<i64>().ok().filter(|at| NOW.abs_diff(*at) <= TOLERANCE.as_secs()) {
        let signature = secret.sign(id, at, body.as_bytes());
        let headers = WebhookHeaders { id, timestamp, signature: &signature };
        assert!(verify(&secret, &headers, body.as_bytes(), NOW, TOLERANCE).is_ok());
    }
});
