//! Turning a bearer credential into a [`Principal`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;

use super::jwt::JwtCodec;
use super::{AuthError, Credential, Principal, api_key};
use crate::clock::Clock;
use crate::error::Error;
use crate::store::Store;

/// Resolves a bearer credential (the text after `Bearer `) to a principal.
///
/// Errors are [`Error::Unauthenticated`] for refused credentials and a store error when the decision could not be
/// made (which is not the caller's fault, so it must not read as a 401).
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// Authenticates `bearer`.
    async fn authenticate(&self, bearer: &str) -> Result<Principal, Error>;
}

/// How stale `last_used_at` may get before a successful use rewrites it (bounds write load on hot keys).
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// The platform's authenticator: JWT access tokens and `agk_` API keys, checked against the store so that
/// deactivation, role changes and revocation take effect on the next request.
#[derive(Clone)]
pub struct PlatformAuthenticator {
    store: Arc<dyn Store>,
    jwt: Arc<JwtCodec>,
    clock: Arc<dyn Clock>,
}

impl PlatformAuthenticator {
    /// An authenticator over `store`.
    pub fn new(store: Arc<dyn Store>, jwt: Arc<JwtCodec>, clock: Arc<dyn Clock>) -> Self {
        Self { store, jwt, clock }
    }

    async fn api_key(&self, presented: &str) -> Result<Principal, Error> {
        let lookup = api_key::lookup_of(presented).ok_or(AuthError::InvalidApiKey)?;
        let (stored, owner) = self.store.system().api_key_by_lookup(lookup).await?.ok_or(AuthError::InvalidApiKey)?;
        if !api_key::verify(presented, &stored.hash) {
            return Err(AuthError::InvalidApiKey.into());
        }
        let key = stored.key;
        let now = self.clock.now();
        if key.revoked_at.is_some() {
            return Err(AuthError::RevokedApiKey.into());
        }
        if key.expires_at.is_some_and(|at| now >= at) {
            return Err(AuthError::ExpiredApiKey.into());
        }
        if !owner.active || owner.tenant_id != key.tenant_id {
            return Err(AuthError::InactiveUser.into());
        }
        if key.last_used_at.is_none_or(|at| now - at >= TOUCH_INTERVAL) {
            // Best effort: failing to record use must not fail the request.
            if let Err(error) = self.store.tenant(key.tenant_id).touch_api_key(key.id, now).await {
                tracing::warn!(api_key_id = %key.id, %error, "could not record API key use");
            }
        }
        Ok(Principal {
            tenant_id: key.tenant_id,
            user_id: owner.id,
            credential: Credential::ApiKey { id: key.id },
            permissions: owner.permissions().intersection(key.scopes),
            roles: owner.roles,
        })
    }

    async fn access_token(&self, token: &str) -> Result<Principal, Error> {
        let claims = self.jwt.verify(token, self.clock.now())?;
        let user = self.store.tenant(claims.tid).get_user(claims.sub).await?;
        let user = user.filter(|u| u.active).ok_or(AuthError::InactiveUser)?;
        Ok(Principal {
            tenant_id: user.tenant_id,
            user_id: user.id,
            credential: Credential::AccessToken,
            permissions: user.permissions(),
            roles: user.roles,
        })
    }
}

#[async_trait]
impl Authenticator for PlatformAuthenticator {
    async fn authenticate(&self, bearer: &str) -> Result<Principal, Error> {
        if bearer.starts_with(api_key::PREFIX) { self.api_key(bearer).await } else { self.access_token(bearer).await }
    }
}
