//! Bodies of the webhooks API: endpoints, their secrets, deliveries and replays.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{UserId, WebhookId};
use crate::model::{Delivery, DeliveryAttempt, DeliveryStatus, EventPattern, WebhookEndpoint};

/// `POST /v1/webhooks`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where deliveries go: https (http only where the operator allows it), to a public address.
    pub url: String,
    /// What it subscribes to: types (`agent.failed`), families (`workflow.*`) or `*`; at least one.
    pub events: Vec<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Deliver at once (default true).
    pub enabled: Option<bool>,
    /// The signing secret, `whsec_<base64 of 24–64 bytes>`; one is generated when absent.
    #[schema(value_type = Option<String>, format = Password)]
    #[serde(serialize_with = "crate::api::expose_optional_secret", skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretString>,
}

/// `PATCH /v1/webhooks/{id}`: the fields given are replaced. Enabling a disabled endpoint resumes its pending
/// deliveries (use a replay for what happened meanwhile).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    /// New URL.
    pub url: Option<String>,
    /// New subscription.
    pub events: Option<Vec<String>>,
    /// New description.
    pub description: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// An endpoint, as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    /// Id.
    pub id: WebhookId,
    /// Where deliveries go.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// What it subscribes to.
    pub events: Vec<EventPattern>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why the platform disabled it, if it did.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed, if they have.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret a rotation replaced still signs deliveries, during a rotation.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: UserId,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&WebhookEndpoint> for WebhookView {
    fn from(endpoint: &WebhookEndpoint) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            events: endpoint.events.clone(),
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason.clone(),
            failing_since: endpoint.failing_since,
            previous_secret_expires_at: endpoint.previous_secret.as_ref().map(|p| p.expires_at),
            created_by: endpoint.created_by,
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

/// A created endpoint with its secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    /// The endpoint.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The signing secret (`whsec_…`): keep it, it is not shown again.
    pub secret: String,
}

/// `POST /v1/webhooks/{id}/rotate-secret`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// The new secret; one is generated when absent.
    #[schema(value_type = Option<String>, format = Password)]
    #[serde(serialize_with = "crate::api::expose_optional_secret", skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretString>,
    /// How long the old secret keeps signing deliveries beside the new one, in seconds (0–604800, default 86400).
    pub grace_seconds: Option<u64>,
}

/// A rotated secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret.
    pub secret: String,
    /// Until when deliveries also carry the old secret's signature.
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// `GET /v1/webhooks/{id}/deliveries`'s query.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryListQuery {
    /// Only this status.
    pub status: Option<DeliveryStatus>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
    /// Deliveries older than this one (the previous page's `next_cursor`).
    pub after: Option<uuid::Uuid>,
}

/// A delivery with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryDetail {
    /// The delivery.
    #[serde(flatten)]
    pub delivery: Delivery,
    /// Its attempts, oldest first (named apart from the delivery's own `attempts`, their count, which the
    /// flattened delivery already carries: one key each, so typed clients can read both).
    pub attempt_log: Vec<DeliveryAttempt>,
}

/// `POST /v1/webhooks/{id}/replay`: send the endpoint's events of a time range again (the ones it subscribes
/// to, optionally only some types), whether they were delivered or not.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// From this time (inclusive).
    pub since: DateTime<Utc>,
    /// Up to this time (exclusive; default now).
    pub until: Option<DateTime<Utc>>,
    /// Only these types or patterns (default: all the endpoint subscribes to).
    pub types: Option<Vec<String>>,
}

/// What a replay queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplayResponse {
    /// Deliveries queued (new ones and ones started again).
    pub queued: u64,
}
