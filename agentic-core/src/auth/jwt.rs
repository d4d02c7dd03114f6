//! JWT access tokens.
//!
//! Tokens carry the tenant (`tid`), the user (`sub`) and their roles at issue time, signed with the current
//! [`KeyPair`] and labelled with its `kid`. Verification looks the `kid` up among the verification keys and accepts
//! only the algorithm bound to that key, which closes algorithm-confusion attacks (an HS256 token "signed" with an
//! RS256 public key) and `alg: none`. Several verification keys may be live at once, so keys rotate without
//! logging anyone out: add the new pair, keep the old public key for one token lifetime, then drop it.
//!
//! `exp` and `nbf` are checked against the platform's [`Clock`](crate::clock::Clock) with a small leeway; `iss` and
//! `aud` must match exactly.
//!
//! ```
//! use agentic_core::auth::jwt::{JwtCodec, JwtSettings, KeyPair};
//! use agentic_core::ids::{TenantId, UserId};
//! use agentic_core::model::Role;
//!
//! let codec = JwtCodec::new(JwtSettings::default(), KeyPair::hs256("k1", &[7; 32]).unwrap(), vec![]).unwrap();
//! let now = chrono::Utc::now();
//! let issued = codec.issue(TenantId::new(), UserId::new(), &[Role::Viewer], now).unwrap();
//! let claims = codec.verify(secrecy::ExposeSecret::expose_secret(&issued.token), now).unwrap();
//! assert_eq!(claims.roles, vec![Role::Viewer]);
//! ```

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::clock::Timestamp;
use crate::error::Error;
use crate::ids::{TenantId, UserId};
use crate::model::Role;

/// Shortest accepted HS256 secret, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS256_SECRET: usize = 32;

/// Issuer, audience and lifetimes.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// `iss` of issued tokens; the only accepted issuer.
    pub issuer: String,
    /// `aud` of issued tokens; the only accepted audience.
    pub audience: String,
    /// Lifetime of issued tokens.
    pub ttl: Duration,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            issuer: "agentic".into(),
            audience: "agentic-api".into(),
            ttl: Duration::from_secs(15 * 60),
            leeway: Duration::from_secs(10),
        }
    }
}

/// A key that verifies tokens, bound to one algorithm.
#[derive(Clone)]
pub struct VerificationKey {
    kid: String,
    algorithm: Algorithm,
    key: DecodingKey,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey").field("kid", &self.kid).field("algorithm", &self.algorithm).finish()
    }
}

impl VerificationKey {
    /// An HS256 shared secret (at least [`MIN_HS256_SECRET`] bytes).
    pub fn hs256(kid: impl Into<String>, secret: &[u8]) -> Result<Self, Error> {
        check_hs256_secret(secret)?;
        Ok(Self { kid: kid.into(), algorithm: Algorithm::HS256, key: DecodingKey::from_secret(secret) })
    }

    /// An RS256 public key in PEM.
    pub fn rs256_pem(kid: impl Into<String>, public_pem: &[u8]) -> Result<Self, Error> {
        let key = DecodingKey::from_rsa_pem(public_pem).map_err(|e| key_error("RS256 public", e))?;
        Ok(Self { kid: kid.into(), algorithm: Algorithm::RS256, key })
    }

    /// An Ed25519 (EdDSA) public key in PEM.
    pub fn ed25519_pem(kid: impl Into<String>, public_pem: &[u8]) -> Result<Self, Error> {
        let key = DecodingKey::from_ed_pem(public_pem).map_err(|e| key_error("Ed25519 public", e))?;
        Ok(Self { kid: kid.into(), algorithm: Algorithm::EdDSA, key })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// The key that signs new tokens, with its verification half.
#[derive(Clone)]
pub struct KeyPair {
    signing: EncodingKey,
    verification: VerificationKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair").field("verification", &self.verification).finish_non_exhaustive()
    }
}

impl KeyPair {
    /// HS256 with a shared secret (at least [`MIN_HS256_SECRET`] bytes).
    pub fn hs256(kid: impl Into<String>, secret: &[u8]) -> Result<Self, Error> {
        let verification = VerificationKey::hs256(kid, secret)?;
        Ok(Self { signing: EncodingKey::from_secret(secret), verification })
    }

    /// RS256 from a PEM private key and its PEM public key.
    pub fn rs256_pem(kid: impl Into<String>, private_pem: &[u8], public_pem: &[u8]) -> Result<Self, Error> {
        let signing = EncodingKey::from_rsa_pem(private_pem).map_err(|e| key_error("RS256 private", e))?;
        Ok(Self { signing, verification: VerificationKey::rs256_pem(kid, public_pem)? })
    }

    /// EdDSA (Ed25519) from a PEM private key and its PEM public key.
    pub fn ed25519_pem(kid: impl Into<String>, private_pem: &[u8], public_pem: &[u8]) -> Result<Self, Error> {
        let signing = EncodingKey::from_ed_pem(private_pem).map_err(|e| key_error("Ed25519 private", e))?;
        Ok(Self { signing, verification: VerificationKey::ed25519_pem(kid, public_pem)? })
    }
}

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user.
    pub sub: UserId,
    /// The tenant.
    pub tid: TenantId,
    /// The user's roles when the token was issued (informational: permissions come from the current roles).
    pub roles: Vec<Role>,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
}

/// A freshly issued token.
#[derive(Debug)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: SecretString,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// Issues and verifies access tokens.
#[derive(Debug)]
pub struct JwtCodec {
    settings: JwtSettings,
    signing_kid: String,
    signing_algorithm: Algorithm,
    signing: EncodingKey,
    verifiers: HashMap<String, (VerificationKey, Validation)>,
}

impl JwtCodec {
    /// A codec signing with `current`, and verifying with it plus `previous` (older keys still in rotation).
    ///
    /// Two keys with the same `kid` are a configuration error.
    pub fn new(settings: JwtSettings, current: KeyPair, previous: Vec<VerificationKey>) -> Result<Self, Error> {
        let signing_kid = current.verification.kid.clone();
        let signing_algorithm = current.verification.algorithm;
        let mut verifiers = HashMap::new();
        for key in std::iter::once(current.verification).chain(previous) {
            let mut validation = Validation::new(key.algorithm);
            validation.set_issuer(&[&settings.issuer]);
            validation.set_audience(&[&settings.audience]);
            validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
            // Time claims are checked against the platform clock in `verify`.
            validation.validate_exp = false;
            validation.validate_nbf = false;
            validation.leeway = 0;
            let kid = key.kid.clone();
            if verifiers.insert(kid.clone(), (key, validation)).is_some() {
                return Err(Error::Config(format!("two JWT keys share the kid `{kid}`")));
            }
        }
        Ok(Self { settings, signing_kid, signing_algorithm, signing: current.signing, verifiers })
    }

    /// The settings in force.
    pub fn settings(&self) -> &JwtSettings {
        &self.settings
    }

    /// Issues a token for `user` of `tenant` at `now`.
    pub fn issue(&self, tenant: TenantId, user: UserId, roles: &[Role], now: Timestamp) -> Result<IssuedToken, Error> {
        let ttl = i64::try_from(self.settings.ttl.as_secs()).unwrap_or(i64::MAX);
        let iat = now.timestamp();
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: user,
            tid: tenant,
            roles: roles.to_vec(),
            iat,
            nbf: iat,
            exp: iat.saturating_add(ttl),
            jti: uuid::Uuid::now_v7().to_string(),
        };
        let mut header = Header::new(self.signing_algorithm);
        header.kid = Some(self.signing_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| Error::Internal(format!("signing a token failed: {e}")))?;
        Ok(IssuedToken { token: SecretString::from(token), expires_in: self.settings.ttl.as_secs() })
    }

    /// Verifies a token's signature, algorithm, issuer, audience and validity window at `now`.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<AccessClaims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::InvalidToken)?;
        let kid = header.kid.as_deref().ok_or(AuthError::UnknownKey)?;
        let (key, validation) = self.verifiers.get(kid).ok_or(AuthError::UnknownKey)?;
        if header.alg != key.algorithm {
            return Err(AuthError::InvalidToken);
        }
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &key.key, validation).map_err(|_| AuthError::InvalidToken)?;
        let claims = data.claims;
        let leeway = i64::try_from(self.settings.leeway.as_secs()).unwrap_or(0);
        let now = now.timestamp();
        if now > claims.exp.saturating_add(leeway) {
            return Err(AuthError::ExpiredToken);
        }
        if now < claims.nbf.saturating_sub(leeway) {
            return Err(AuthError::TokenNotYetValid);
        }
        Ok(claims)
    }
}

fn check_hs256_secret(secret: &[u8]) -> Result<(), Error> {
    if secret.len() < MIN_HS256_SECRET {
        return Err(Error::Config(format!("an HS256 secret must be at least {MIN_HS256_SECRET} bytes")));
    }
    Ok(())
}

fn key_error(what: &str, e: jsonwebtoken::errors::Error) -> Error {
    Error::Config(format!("invalid {what} key: {e}"))
}
