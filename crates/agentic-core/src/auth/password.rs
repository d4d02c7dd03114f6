//! Password hashing with argon2id (RFC 9106 defaults of the `argon2` crate: 19 MiB, 2 passes).
//!
//! Hashing costs tens of milliseconds of CPU by design, so the async wrappers run it on the blocking pool.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;
use crate::model::{PasswordHash, ValidationError};

/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password (bounds hashing work per request).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks a new password against the length policy.
pub fn validate_new_password(password: &SecretString) -> Result<(), ValidationError> {
    let text = password.expose_secret();
    if text.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new("password", format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if text.len() > MAX_PASSWORD_BYTES {
        return Err(ValidationError::new("password", format!("must be at most {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

/// Hashes `password` with a fresh random salt (blocking; see [`hash_password`]).
pub fn hash_password_blocking(password: &SecretString) -> Result<PasswordHash, Error> {
    let hash = Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))?;
    Ok(PasswordHash::from_phc(hash.to_string()))
}

/// Whether `password` matches `hash` (blocking; see [`verify_password`]). A malformed stored hash never matches.
pub fn verify_password_blocking(password: &SecretString, hash: &PasswordHash) -> bool {
    let Ok(parsed) = PhcHash::new(hash.as_phc()) else {
        return false;
    };
    Argon2::default().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok()
}

/// Hashes `password` on the blocking thread pool.
pub async fn hash_password(password: SecretString) -> Result<PasswordHash, Error> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
}

/// Verifies `password` against `hash` on the blocking thread pool.
pub async fn verify_password(password: SecretString, hash: PasswordHash) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || verify_password_blocking(&password, &hash))
        .await
        .map_err(|e| Error::Internal(format!("password verification task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let pw = SecretString::from("correct horse battery staple");
        let hash = hash_password_blocking(&pw).unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$"));
        assert!(verify_password_blocking(&pw, &hash));
        assert!(!verify_password_blocking(&SecretString::from("wrong password!!"), &hash));
        assert!(!verify_password_blocking(&pw, &PasswordHash::from_phc("garbage".into())));
    }

    #[test]
    fn policy() {
        assert!(validate_new_password(&SecretString::from("short")).is_err());
        assert!(validate_new_password(&SecretString::from("x".repeat(2000))).is_err());
        assert!(validate_new_password(&SecretString::from("twelve chars")).is_ok());
    }
}
