//! Users and API keys.

use agentic_core::api::{
    CreateApiKeyRequest, CreateApiKeyResponse, CreateUserRequest, LoginRequest, MeResponse, TokenResponse,
    UpdateUserRequest,
};
use agentic_core::ids::{ApiKeyId, UserId};
use agentic_core::model::{ApiKey, User};
use agentic_core::store::{Page, PageRequest};

use crate::client::{AgenticClient, Repeat};
use crate::error::Result;

/// `client.users()`.
#[derive(Clone, Copy, Debug)]
pub struct Users<'a>(pub(crate) &'a AgenticClient);

impl Users<'_> {
    /// A page of users (`users:manage`).
    pub async fn list(&self, page: PageRequest) -> Result<Page<User>> {
        self.0.get("/v1/users", Some(&page)).await
    }

    /// Creates a user (`users:manage`).
    pub async fn create(&self, request: &CreateUserRequest) -> Result<User> {
        self.0.post("/v1/users", Some(request), Repeat::Unsafe).await
    }

    /// A user.
    pub async fn get(&self, id: UserId) -> Result<User> {
        self.0.get(&format!("/v1/users/{id}"), None).await
    }

    /// Changes a user's roles, state or password.
    pub async fn update(&self, id: UserId, request: &UpdateUserRequest) -> Result<User> {
        self.0.patch(&format!("/v1/users/{id}"), request).await
    }
}

/// `client.api_keys()`.
#[derive(Clone, Copy, Debug)]
pub struct ApiKeys<'a>(pub(crate) &'a AgenticClient);

impl ApiKeys<'_> {
    /// A page of API keys (one's own; every key with `users:manage`).
    pub async fn list(&self, page: PageRequest) -> Result<Page<ApiKey>> {
        self.0.get("/v1/api-keys", Some(&page)).await
    }

    /// Creates a key; its text is in the answer, this once.
    pub async fn create(&self, request: &CreateApiKeyRequest) -> Result<CreateApiKeyResponse> {
        self.0.post("/v1/api-keys", Some(request), Repeat::Unsafe).await
    }

    /// Revokes a key.
    pub async fn revoke(&self, id: ApiKeyId) -> Result<ApiKey> {
        self.0.delete(&format!("/v1/api-keys/{id}")).await
    }
}

/// `client.auth()`.
#[derive(Clone, Copy, Debug)]
pub struct Auth<'a>(pub(crate) &'a AgenticClient);

impl Auth<'_> {
    /// Signs in with the tenant's slug, an e-mail and a password; build a client with the token
    /// ([`ClientBuilder::token`](crate::ClientBuilder::token)).
    pub async fn login(&self, request: &LoginRequest) -> Result<TokenResponse> {
        self.0.post("/v1/auth/login", Some(request), Repeat::Safe).await
    }

    /// The caller: user, credential and permissions.
    pub async fn me(&self) -> Result<MeResponse> {
        self.0.get("/v1/me", None).await
    }
}
