//! Receiving the platform's webhooks: check that a delivery is authentic and fresh before acting on it.
//!
//! ```
//! use agentic_sdk::webhooks::{SigningSecret, WebhookHeaders, verify_now, DEFAULT_TOLERANCE};
//!
//! let secret = SigningSecret::generate().unwrap();
//! let body = br#"{"type":"agent.completed"}"#;
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
//! let signature = secret.sign("01J...", now, body);
//! let timestamp = now.to_string();
//! let headers = WebhookHeaders::from_pairs([
//!     ("webhook-id", "01J..."),
//!     ("webhook-timestamp", timestamp.as_str()),
//!     ("webhook-signature", signature.as_str()),
//! ])
//! .unwrap();
//! assert!(verify_now(&secret, &headers, body, DEFAULT_TOLERANCE).is_ok());
//! ```

pub use agentic_core::webhooks::signature::{
    DEFAULT_TOLERANCE, SECRET_PREFIX, SignatureError, SigningSecret, WebhookHeaders, signature_header, verify,
};

/// [`verify`] against this machine's clock.
pub fn verify_now(
    secret: &SigningSecret,
    headers: &WebhookHeaders<'_>,
    body: &[u8],
    tolerance: std::time::Duration,
) -> Result<(), SignatureError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    verify(secret, headers, body, now, tolerance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_delivery_verifies_and_a_stale_or_forged_one_does_not() {
        let secret = SigningSecret::generate().unwrap();
        let body = br#"{"type":"agent.completed"}"#;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let check = |at: i64, body: &[u8]| {
            let (signature, timestamp) = (secret.sign("msg_1", at, body), at.to_string());
            let pairs = [
                ("webhook-id", "msg_1"),
                ("webhook-timestamp", timestamp.as_str()),
                ("webhook-signature", signature.as_str()),
            ];
            let headers = WebhookHeaders::from_pairs(pairs).unwrap();
            verify_now(&secret, &headers, br#"{"type":"agent.completed"}"#, DEFAULT_TOLERANCE)
        };
        assert!(check(now, body).is_ok());
        assert!(check(now - 3_600, body).is_err(), "an hour old is stale");
        assert!(check(now, b"forged").is_err(), "another body's signature");
    }
}
