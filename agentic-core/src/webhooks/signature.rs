//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): `webhook-signature: v1,<base64 of
//! HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>`, several space-separated while a secret is
//! rotated, and a timestamp the receiver checks against its clock to refuse replays.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use subtle::ConstantTimeEq;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The prefix of a signing secret's text form.
pub const SECRET_PREFIX: &str = "whsec_";
/// The default timestamp tolerance of [`verify`]: five minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
/// Random bytes in a generated secret.
const SECRET_BYTES: usize = 32;

/// Why a signature or a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The secret is not `whsec_` followed by base64 of 24 to 64 bytes.
    #[error("a signing secret is `whsec_` followed by base64 of 24 to 64 bytes")]
    MalformedSecret,
    /// A required header is absent or empty.
    #[error("the `{0}` header is missing")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not whole seconds since the Unix epoch.
    #[error("the `webhook-timestamp` header is not a Unix timestamp in seconds")]
    MalformedTimestamp,
    /// The timestamp is further from the receiver's clock than the tolerance (a replay, or a skewed clock).
    #[error("the message timestamp is {0} s away from now, beyond the tolerance")]
    OutsideTolerance(u64),
    /// No `v1` signature in `webhook-signature` matches the message.
    #[error("no signature matches the message")]
    NoMatchingSignature,
    /// The operating system's random generator failed.
    #[error("the random generator failed: {0}")]
    Random(String),
}

/// A webhook signing secret (the key of the HMAC). Its text form is `whsec_<base64>`; it never prints.
pub struct SigningSecret(SecretBox<[u8]>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(redacted)")
    }
}

impl Clone for SigningSecret {
    fn clone(&self) -> Self {
        Self(SecretBox::new(self.0.expose_secret().into()))
    }
}

impl SigningSecret {
    /// A fresh secret of 32 random bytes.
    pub fn generate() -> Result<Self, SignatureError> {
        let mut bytes = vec![0_u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| SignatureError::Random(e.to_string()))?;
        Ok(Self(SecretBox::new(bytes.into_boxed_slice())))
    }

    /// Reads `whsec_<base64>` (the prefix is optional, as receivers commonly accept).
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let encoded = text.trim().strip_prefix(SECRET_PREFIX).unwrap_or(text.trim());
        let bytes = STANDARD.decode(encoded).map_err(|_| SignatureError::MalformedSecret)?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(SignatureError::MalformedSecret);
        }
        Ok(Self(SecretBox::new(bytes.into_boxed_slice())))
    }

    /// The secret's bytes, for sealing it at rest ([`SecretCipher`](super::cipher::SecretCipher)).
    pub(crate) fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// A secret from bytes an opened seal gave back.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(SecretBox::new(bytes.into_boxed_slice()))
    }

    /// The text form, `whsec_<base64>`.
    pub fn to_text(&self) -> SecretString {
        SecretString::from(format!("{SECRET_PREFIX}{}", STANDARD.encode(self.0.expose_secret())))
    }

    /// The HMAC of a message; `None` only if the key were refused, which HMAC never does (any length is valid),
    /// so that such a failure could never stand for a signature.
    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Option<[u8; 32]> {
        let mut mac = HmacSha256::new_from_slice(self.0.expose_secret()).ok()?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Some(mac.finalize().into_bytes().into())
    }

    /// The `v1,<base64>` signature of a message (empty only if HMAC refused the key, which it never does).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        self.mac(id, timestamp, body).map_or_else(String::new, |mac| format!("v1,{}", STANDARD.encode(mac)))
    }
}

/// The `webhook-signature` value for `secrets` (during a rotation: the new one and the old), space-separated.
pub fn signature_header(secrets: &[&SigningSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|secret| secret.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// The three headers a delivery carries, as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookHeaders<'a> {
    /// `webhook-id`: the message (event) id, the same on every retry.
    pub id: &'a str,
    /// `webhook-timestamp`: seconds since the Unix epoch when the attempt was signed.
    pub timestamp: &'a str,
    /// `webhook-signature`: one or more `v1,<base64>`, space-separated.
    pub signature: &'a str,
}

impl<'a> WebhookHeaders<'a> {
    /// Picks the three headers out of any `(name, value)` pairs (names compared without case).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, SignatureError> {
        let (mut id, mut timestamp, mut signature) = (None, None, None);
        for (name, value) in pairs {
            match name.to_ascii_lowercase().as_str() {
                "webhook-id" => id = Some(value),
                "webhook-timestamp" => timestamp = Some(value),
                "webhook-signature" => signature = Some(value),
                _ => {}
            }
        }
        let present = |value: Option<&'a str>, name| {
            value.filter(|v| !v.trim().is_empty()).ok_or(SignatureError::MissingHeader(name))
        };
        Ok(Self {
            id: present(id, "webhook-id")?,
            timestamp: present(timestamp, "webhook-timestamp")?,
            signature: present(signature, "webhook-signature")?,
        })
    }
}

/// Checks a received delivery: its timestamp is within `tolerance` of `now` (Unix seconds) and one of its `v1`
/// signatures is `secret`'s over exactly `body` (compared in constant time).
pub fn verify(
    secret: &SigningSecret,
    headers: &WebhookHeaders<'_>,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let timestamp: i64 = headers.timestamp.trim().parse().map_err(|_| SignatureError::MalformedTimestamp)?;
    let distance = now.abs_diff(timestamp);
    if distance > tolerance.as_secs() {
        return Err(SignatureError::OutsideTolerance(distance));
    }
    let expected = secret.mac(headers.id, timestamp, body).ok_or(SignatureError::NoMatchingSignature)?;
    let matches = headers.signature.split_whitespace().filter_map(|s| s.strip_prefix("v1,")).any(|encoded| {
        STANDARD.decode(encoded).is_ok_and(|given| given.len() == expected.len() && bool::from(given.ct_eq(&expected)))
    });
    if matches { Ok(()) } else { Err(SignatureError::NoMatchingSignature) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_message_verifies_and_any_change_is_refused() {
        let secret = SigningSecret::generate().unwrap();
        let text = secret.to_text();
        assert!(text.expose_secret().starts_with("whsec_"));
        let again = SigningSecret::parse(text.expose_secret()).unwrap();
        let signature = again.sign("msg_1", 1_700_000_000, b"{\"a\":1}");
        let headers = WebhookHeaders { id: "msg_1", timestamp: "1700000000", signature: &signature };
        assert_eq!(verify(&secret, &headers, b"{\"a\":1}", 1_700_000_010, DEFAULT_TOLERANCE), Ok(()));
        assert_eq!(
            verify(&secret, &headers, b"{\"a\":2}", 1_700_000_010, DEFAULT_TOLERANCE),
            Err(SignatureError::NoMatchingSignature)
        );
        let other_id = WebhookHeaders { id: "msg_2", ..headers };
        assert!(verify(&secret, &other_id, b"{\"a\":1}", 1_700_000_010, DEFAULT_TOLERANCE).is_err());
        assert_eq!(
            verify(&secret, &headers, b"{\"a\":1}", 1_700_000_400, DEFAULT_TOLERANCE),
            Err(SignatureError::OutsideTolerance(400))
        );
        assert_eq!(format!("{secret:?}"), "SigningSecret(redacted)");
        assert_eq!(SigningSecret::parse("whsec_c2hvcnQ=").err(), Some(SignatureError::MalformedSecret));
    }

    #[test]
    fn during_a_rotation_either_secret_verifies() {
        let (old, new) = (SigningSecret::generate().unwrap(), SigningSecret::generate().unwrap());
        let header = signature_header(&[&new, &old], "msg", 10, b"x");
        assert_eq!(header.split(' ').count(), 2);
        let headers = WebhookHeaders { id: "msg", timestamp: "10", signature: &header };
        assert_eq!(verify(&old, &headers, b"x", 10, DEFAULT_TOLERANCE), Ok(()));
        assert_eq!(verify(&new, &headers, b"x", 10, DEFAULT_TOLERANCE), Ok(()));
        let third = SigningSecret::generate().unwrap();
        assert!(verify(&third, &headers, b"x", 10, DEFAULT_TOLERANCE).is_err());
        let missing = WebhookHeaders::from_pairs([("Webhook-Id", "m"), ("webhook-timestamp", "1")]);
        assert_eq!(missing, Err(SignatureError::MissingHeader("webhook-signature")));
    }
}
