//! Tenants: the caller's own, and, for a client whose credential is the platform master key, creating tenants and
//! changing their plan tier.

use agentic_core::api::{CreateTenantRequest, CreateTenantResponse, UpdateTenantRequest};
use agentic_core::ids::TenantId;
use agentic_core::model::Tenant;

use crate::client::{AgenticClient, Repeat};
use crate::error::Result;

/// `client.tenants()`.
#[derive(Clone, Copy, Debug)]
pub struct Tenants<'a>(pub(crate) &'a AgenticClient);

impl Tenants<'_> {
    /// The caller's own tenant (any other id is [`Error::NotFound`](crate::Error::NotFound)).
    pub async fn get(&self, id: TenantId) -> Result<Tenant> {
        self.0.get(&format!("/v1/tenants/{id}"), None).await
    }

    /// Creates a tenant and its first admin (the client's credential must be the platform master key).
    pub async fn create(&self, request: &CreateTenantRequest) -> Result<CreateTenantResponse> {
        self.0.post("/v1/tenants", Some(request), Repeat::Unsafe).await
    }

    /// Renames a tenant or changes its plan tier (the client's credential must be the platform master key).
    pub async fn update(&self, id: TenantId, request: &UpdateTenantRequest) -> Result<Tenant> {
        self.0.patch(&format!("/v1/tenants/{id}"), request).await
    }
}
