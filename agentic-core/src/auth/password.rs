//! Password hashing with argon2id (RFC 9106 defaults of the `argon2` crate: 19 MiB, 2 passes).
//!
//! Hashing costs tens of milliseconds of CPU and 19 MiB of memory by design, so the async wrappers run it on the
//! blocking pool, and the platform admits only a bounded number of hashes at once ([`HashingGate`]): a flood of
//! sign-ins would otherwise queue hundreds of them (gigabytes) on the blocking pool.

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

/// Bounds the password hashes in progress: `concurrency` run at once, up to `queue` more wait, and any beyond
/// are refused at once with [`Error::Overloaded`] (503 with `Retry-After`), so memory stays at most
/// `concurrency` × 19 MiB whatever the load.
#[derive(Debug)]
pub struct HashingGate {
    running: std::sync::Arc<tokio::sync::Semaphore>,
    admitted: std::sync::Arc<tokio::sync::Semaphore>,
}

/// How long a refused caller is asked to wait before trying again.
const HASHING_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

impl HashingGate {
    /// A gate running `concurrency` hashes at once (at least 1) with `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            running: std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency)),
            admitted: std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency.saturating_add(queue))),
        }
    }

    /// The default: one hash per core (at least two), and four times that waiting.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get).max(2);
        Self::new(cores, cores * 4)
    }

    /// Runs `work` (a blocking hash) once a slot is free; [`Error::Overloaded`] if too many already wait.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let Ok(_admitted) = self.admitted.try_acquire() else {
            return Err(Error::Overloaded { retry_after: HASHING_RETRY_AFTER });
        };
        let _running = self.running.acquire().await.map_err(|_| Error::Internal("the hashing gate closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))
    }

    /// Hashes a new password through the gate.
    pub async fn hash(&self, password: SecretString) -> Result<PasswordHash, Error> {
        self.run(move || hash_password_blocking(&password)).await?
    }

    /// Verifies a password through the gate.
    pub async fn verify(&self, password: SecretString, hash: PasswordHash) -> Result<bool, Error> {
        self.run(move || verify_password_blocking(&password, &hash)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gate_runs_a_bounded_number_and_refuses_beyond_its_queue() {
        let gate = std::sync::Arc::new(HashingGate::new(1, 1));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let running = tokio::spawn({
            let gate = std::sync::Arc::clone(&gate);
            async move { gate.run(move || released.recv().is_ok()).await }
        });
        // Wait on the gate's own state, not on the clock: the first hash holds the one running slot.
        while gate.running.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let waiting = tokio::spawn({
            let gate = std::sync::Arc::clone(&gate);
            async move { gate.run(|| 2).await }
        });
        // ...and the second is admitted, waiting for it.
        while gate.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        // One runs, one waits: a third is refused at once, without queueing.
        let refused = gate.run(|| 3).await;
        assert!(matches!(refused, Err(Error::Overloaded { .. })), "{refused:?}");
        release.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        assert_eq!(waiting.await.unwrap().unwrap(), 2);
        assert_eq!(gate.run(|| 4).await.unwrap(), 4, "slots are given back");
    }

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
