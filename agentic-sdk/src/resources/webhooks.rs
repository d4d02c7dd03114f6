//! Webhook endpoints, their deliveries, replays and secret rotation (`webhooks:manage`).

use agentic_core::api::{
    CreateWebhookRequest, CreatedWebhook, DeliveryDetail, DeliveryListQuery, ReplayRequest, ReplayResponse,
    RotateSecretRequest, RotatedSecret, UpdateWebhookRequest, WebhookView,
};
use agentic_core::ids::{DeliveryId, WebhookId};
use agentic_core::model::Delivery;
use agentic_core::store::{Page, PageRequest};

use crate::client::{AgenticClient, Repeat};
use crate::error::Result;

/// `client.webhooks()`.
#[derive(Clone, Copy, Debug)]
pub struct Webhooks<'a>(pub(crate) &'a AgenticClient);

impl Webhooks<'_> {
    /// A page of endpoints.
    pub async fn list(&self, page: PageRequest) -> Result<Page<WebhookView>> {
        self.0.get("/v1/webhooks", Some(&page)).await
    }

    /// Creates an endpoint; the answer carries its signing secret, this once.
    pub async fn create(&self, request: &CreateWebhookRequest) -> Result<CreatedWebhook> {
        self.0.post("/v1/webhooks", Some(request), Repeat::Unsafe).await
    }

    /// An endpoint.
    pub async fn get(&self, id: WebhookId) -> Result<WebhookView> {
        self.0.get(&format!("/v1/webhooks/{id}"), None).await
    }

    /// Changes an endpoint.
    pub async fn update(&self, id: WebhookId, request: &UpdateWebhookRequest) -> Result<WebhookView> {
        self.0.patch(&format!("/v1/webhooks/{id}"), request).await
    }

    /// Deletes an endpoint with its deliveries.
    pub async fn delete(&self, id: WebhookId) -> Result<()> {
        self.0.delete(&format!("/v1/webhooks/{id}")).await
    }

    /// Replaces the secret; the old one keeps signing for the grace period.
    pub async fn rotate_secret(&self, id: WebhookId, request: &RotateSecretRequest) -> Result<RotatedSecret> {
        self.0.post(&format!("/v1/webhooks/{id}/rotate-secret"), Some(request), Repeat::Unsafe).await
    }

    /// A page of the endpoint's deliveries, newest first.
    pub async fn deliveries(&self, id: WebhookId, query: DeliveryListQuery) -> Result<Page<Delivery>> {
        self.0.get(&format!("/v1/webhooks/{id}/deliveries"), Some(&query)).await
    }

    /// A delivery with its attempts.
    pub async fn delivery(&self, id: DeliveryId) -> Result<DeliveryDetail> {
        self.0.get(&format!("/v1/deliveries/{id}"), None).await
    }

    /// Attempts a delivery again now.
    pub async fn retry_delivery(&self, id: DeliveryId) -> Result<DeliveryDetail> {
        self.0.post::<_, ()>(&format!("/v1/deliveries/{id}/retry"), None, Repeat::Safe).await
    }

    /// Sends the endpoint's events of a time range again.
    pub async fn replay(&self, id: WebhookId, request: &ReplayRequest) -> Result<ReplayResponse> {
        self.0.post(&format!("/v1/webhooks/{id}/replay"), Some(request), Repeat::Safe).await
    }
}
