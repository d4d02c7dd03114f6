//! Signing secrets at rest: AES-256-GCM under a key from the operator's configuration.
//!
//! Deliveries must be signed with the secret itself, so it cannot be hashed like an API key; it is sealed with a
//! 256-bit key the platform is given (`PlatformBuilder::webhook_secret_key`, the server's
//! `AGENTIC_WEBHOOK_SECRET_KEY`). A seal is `1 ‖ nonce (12 random bytes) ‖ ciphertext ‖ tag`, and its associated
//! data is the tenant and endpoint ids, so a sealed secret copied onto another endpoint does not open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::signature::SigningSecret;
use crate::ids::{TenantId, WebhookId};

/// The format byte of a seal (a later format, or a key id, gets another).
const FORMAT: u8 = 1;

/// An encrypted signing secret, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(pub Vec<u8>);

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealedSecret({} bytes)", self.0.len())
    }
}

/// Why a secret cannot be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CipherError {
    /// The configured key is not 32 bytes (or not base64).
    #[error("the webhook secret key must be 32 bytes, base64-encoded")]
    BadKey,
    /// The seal is malformed, was made under another key, or belongs to another endpoint.
    #[error("a webhook secret cannot be opened (made under another key, or tampered with)")]
    Unopenable,
    /// The operating system's random generator failed.
    #[error("the random generator failed")]
    Random,
}

/// Seals and opens signing secrets with the platform's key.
pub struct SecretCipher {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCipher(redacted)")
    }
}

impl SecretCipher {
    /// A cipher under a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, CipherError> {
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| CipherError::BadKey)?;
        Ok(Self { key: LessSafeKey::new(key) })
    }

    /// A cipher under a base64-encoded 32-byte key (the configuration's form).
    pub fn from_base64(text: &str) -> Result<Self, CipherError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| CipherError::BadKey)?;
        Self::new(&bytes)
    }

    /// A cipher under a fresh random key: secrets sealed with it do not survive the process (for the memory
    /// store and tests).
    pub fn ephemeral() -> Result<Self, CipherError> {
        let mut key = [0_u8; 32];
        getrandom::fill(&mut key).map_err(|_| CipherError::Random)?;
        Self::new(&key)
    }

    /// Seals `secret` for endpoint `endpoint` of `tenant`.
    pub fn seal(
        &self,
        tenant: TenantId,
        endpoint: WebhookId,
        secret: &SigningSecret,
    ) -> Result<SealedSecret, CipherError> {
        let mut nonce = [0_u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| CipherError::Random)?;
        let mut in_out = secret.expose_bytes().to_vec();
        let aad = associated_data(tenant, endpoint);
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&aad), &mut in_out)
            .map_err(|_| CipherError::Unopenable)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(SealedSecret(sealed))
    }

    /// Opens a seal made by [`seal`](Self::seal) for the same tenant and endpoint under the same key.
    pub fn open(
        &self,
        tenant: TenantId,
        endpoint: WebhookId,
        sealed: &SealedSecret,
    ) -> Result<SigningSecret, CipherError> {
        let (format, rest) = sealed.0.split_first().ok_or(CipherError::Unopenable)?;
        if *format != FORMAT || rest.len() < NONCE_LEN {
            return Err(CipherError::Unopenable);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CipherError::Unopenable)?;
        let mut in_out = ciphertext.to_vec();
        let aad = associated_data(tenant, endpoint);
        let plain = self.key.open_in_place(nonce, Aad::from(&aad), &mut in_out).map_err(|_| CipherError::Unopenable)?;
        Ok(SigningSecret::from_bytes(plain.to_vec()))
    }
}

fn associated_data(tenant: TenantId, endpoint: WebhookId) -> [u8; 32] {
    let mut aad = [0_u8; 32];
    aad[..16].copy_from_slice(tenant.as_uuid().as_bytes());
    aad[16..].copy_from_slice(endpoint.as_uuid().as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_endpoint_under_its_key() {
        let cipher = SecretCipher::ephemeral().unwrap();
        let (tenant, endpoint) = (TenantId::new(), WebhookId::new());
        let secret = SigningSecret::generate().unwrap();
        let sealed = cipher.seal(tenant, endpoint, &secret).unwrap();
        assert!(!sealed.0.windows(secret.expose_bytes().len()).any(|w| w == secret.expose_bytes()));
        let opened = cipher.open(tenant, endpoint, &sealed).unwrap();
        assert_eq!(opened.expose_bytes(), secret.expose_bytes());
        assert_eq!(cipher.open(tenant, WebhookId::new(), &sealed).unwrap_err(), CipherError::Unopenable);
        let other = SecretCipher::ephemeral().unwrap();
        assert_eq!(other.open(tenant, endpoint, &sealed).unwrap_err(), CipherError::Unopenable);
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.0.last_mut() {
            *last ^= 1;
        }
        assert_eq!(cipher.open(tenant, endpoint, &tampered).unwrap_err(), CipherError::Unopenable);
        assert_eq!(SecretCipher::from_base64("c2hvcnQ=").unwrap_err(), CipherError::BadKey);
    }
}
