//! API key text: generation, parsing and hashing.
//!
//! A key is `agk_` + a 12-character lookup id + a secret (43 base62 characters, 256 bits, when generated). Stores
//! index keys by the lookup id and keep only the SHA-256 of the whole text; verification recomputes the hash and
//! compares in constant time. SHA-256 (not argon2) is right here: the secret has 256 bits of entropy, so there is
//! nothing for a slow hash to protect, and every request pays for the check.

use secrecy::SecretString;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::model::ValidationError;

/// Every API key starts with this.
pub const PREFIX: &str = "agk_";
/// Length of the lookup id that follows the prefix.
pub const LOOKUP_LEN: usize = 12;
/// Length of a generated secret.
pub const SECRET_LEN: usize = 43;
/// Shortest acceptable key body (lookup + secret) for keys supplied from outside, e.g. a bootstrap key.
pub const MIN_BODY_LEN: usize = 32;
/// Longest acceptable key text.
pub const MAX_LEN: usize = 256;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A newly generated or imported key: the plaintext (to show once) and what stores keep.
pub struct NewKeyMaterial {
    /// The full key text. Show it to the creator once; never store or log it.
    pub plaintext: SecretString,
    /// Lookup id (not secret).
    pub lookup: String,
    /// SHA-256 of the full text.
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKeyMaterial").field("lookup", &self.lookup).finish_non_exhaustive()
    }
}

/// Generates a key with a 256-bit secret from the operating system's CSPRNG.
pub fn generate() -> Result<NewKeyMaterial, Error> {
    let text = format!("{PREFIX}{}{}", random_base62(LOOKUP_LEN)?, random_base62(SECRET_LEN)?);
    Ok(material(text))
}

/// Accepts a key chosen outside the platform (e.g. `AGENTIC_BOOTSTRAP_API_KEY`): `agk_` followed by at least 32
/// characters of `A-Z a-z 0-9 _ -`.
pub fn import(text: &str) -> Result<NewKeyMaterial, ValidationError> {
    let body = text.strip_prefix(PREFIX).ok_or_else(|| ValidationError::new("api_key", "must start with `agk_`"))?;
    let charset_ok = body.bytes().all(is_key_byte);
    if body.len() < MIN_BODY_LEN || text.len() > MAX_LEN || !charset_ok {
        return Err(ValidationError::new(
            "api_key",
            format!(
                "must be `agk_` followed by {MIN_BODY_LEN}-{} characters of A-Z, a-z, 0-9, '_' or '-'",
                MAX_LEN - PREFIX.len()
            ),
        ));
    }
    Ok(material(text.to_owned()))
}

/// The lookup id of a presented key, or `None` if the text cannot be a key.
pub fn lookup_of(text: &str) -> Option<&str> {
    let body = text.strip_prefix(PREFIX)?;
    if text.len() > MAX_LEN || body.len() < LOOKUP_LEN + 1 {
        return None;
    }
    let lookup = body.get(..LOOKUP_LEN)?;
    lookup.bytes().all(is_key_byte).then_some(lookup)
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The display prefix (`agk_` + lookup id) of a key's lookup id.
pub fn display_prefix(lookup: &str) -> String {
    format!("{PREFIX}{lookup}")
}

/// SHA-256 of a key's text.
pub fn hash(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Whether `presented` hashes to `stored`, compared in constant time.
pub fn verify(presented: &str, stored: &[u8; 32]) -> bool {
    hash(presented).ct_eq(stored).into()
}

fn material(text: String) -> NewKeyMaterial {
    let lookup = text[PREFIX.len()..PREFIX.len() + LOOKUP_LEN].to_owned();
    let hash = hash(&text);
    NewKeyMaterial { plaintext: SecretString::from(text), lookup, hash }
}

/// `len` characters drawn uniformly from base62 (rejection sampling avoids modulo bias).
fn random_base62(len: usize) -> Result<String, Error> {
    let mut out = String::with_capacity(len);
    let mut buf = [0_u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(|e| Error::Internal(format!("operating system RNG failed: {e}")))?;
        for &b in &buf {
            // 248 = 4 × 62: bytes at or above it would bias the first characters.
            if b < 248 && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        let text = a.plaintext.expose_secret();
        assert_eq!(text.len(), PREFIX.len() + LOOKUP_LEN + SECRET_LEN);
        assert!(text.starts_with("agk_"));
        assert_eq!(lookup_of(text), Some(a.lookup.as_str()));
        assert!(verify(text, &a.hash));
        assert!(!verify(b.plaintext.expose_secret(), &a.hash));
        assert_ne!(a.lookup, b.lookup);
    }

    #[test]
    fn imported_keys_are_checked() {
        assert!(import("agk_0123456789abcdef0123456789abcdef").is_ok());
        assert!(import("agk_short").is_err());
        assert!(import("xyz_0123456789abcdef0123456789abcdef").is_err());
        assert!(import("agk_0123456789abcdef0123456789abcde!").is_err());
    }

    #[test]
    fn lookup_rejects_non_keys() {
        assert_eq!(lookup_of("eyJhbGciOi.x.y"), None);
        assert_eq!(lookup_of("agk_short"), None);
        assert_eq!(lookup_of(&format!("agk_{}", "a".repeat(400))), None);
        assert_eq!(lookup_of("agk_éééééééééééééé"), None);
    }
}
