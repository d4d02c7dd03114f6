//! Webhook endpoints (a URL subscribed to event types), their deliveries and each delivery's attempts.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::Timestamp;
use crate::events::EventKind;
use crate::ids::{DeliveryId, EventId, TenantId, UserId, WebhookId};
use crate::webhooks::cipher::SealedSecret;

/// What an endpoint subscribes to: `*` (every type), one type (`agent.failed`) or a family (`workflow.*`). A
/// pattern must match at least one type of the catalogue, so a misspelt one is refused rather than silent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "workflow.*")]
pub struct EventPattern(String);

/// Why an event pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` matches no event type (use a type from GET /v1/events/types, `<family>.*` or `*`)")]
pub struct PatternError(pub String);

impl EventPattern {
    /// Parses a pattern, refusing one that matches no type of the catalogue.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let pattern = Self(text.trim().to_owned());
        if EventKind::ALL.iter().any(|kind| pattern.matches(*kind)) {
            Ok(pattern)
        } else {
            Err(PatternError(text.to_owned()))
        }
    }

    /// Whether events of `kind` match: the one matching rule, applied wherever events meet subscriptions.
    pub fn matches(&self, kind: EventKind) -> bool {
        let name = kind.as_str();
        match self.0.strip_suffix('*') {
            Some("") => true,
            Some(family) => family.ends_with('.') && name.starts_with(family),
            None => self.0 == name,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The types of the catalogue that any of `patterns` matches.
    pub fn kinds_matching(patterns: &[EventPattern]) -> Vec<EventKind> {
        EventKind::ALL.iter().copied().filter(|kind| patterns.iter().any(|p| p.matches(*kind))).collect()
    }
}

impl TryFrom<String> for EventPattern {
    type Error = PatternError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<EventPattern> for String {
    fn from(pattern: EventPattern) -> Self {
        pattern.0
    }
}

impl fmt::Display for EventPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret replaced by a rotation, still signing deliveries until `expires_at` (receivers move over meanwhile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousSecret {
    /// The old secret, encrypted.
    pub secret: SealedSecret,
    /// When deliveries stop carrying its signature.
    pub expires_at: Timestamp,
}

/// A URL of a tenant that receives the events it subscribes to, signed with its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Id.
    pub id: WebhookId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Where deliveries are POSTed (checked by the SSRF guard when set and at each delivery).
    pub url: String,
    /// What it is for.
    pub description: String,
    /// What it subscribes to (at least one pattern).
    pub events: Vec<EventPattern>,
    /// Whether deliveries are made; disabled endpoints keep their pending deliveries until enabled again.
    pub enabled: bool,
    /// Why the platform disabled it (410 Gone, failing too long), if it did.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed (cleared by a success).
    pub failing_since: Option<Timestamp>,
    /// The signing secret, encrypted at rest.
    pub secret: SealedSecret,
    /// The secret a rotation replaced, during its grace period.
    pub previous_secret: Option<PreviousSecret>,
    /// Who created it.
    pub created_by: UserId,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A change to an endpoint (`PATCH /v1/webhooks/{id}`, a rotation): the fields given are replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointChange {
    /// New URL (already checked).
    pub url: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New subscription.
    pub events: Option<Vec<EventPattern>>,
    /// Enable (clears `disabled_reason` and `failing_since`) or disable.
    pub enabled: Option<bool>,
    /// A new secret, and the one it replaces with its grace period.
    pub secret: Option<(SealedSecret, Option<PreviousSecret>)>,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet: due at `next_attempt_at` (again, after a failed attempt).
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every scheduled attempt failed, or the endpoint answered 410 Gone.
    Failed,
}

impl DeliveryStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// The status with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed].into_iter().find(|s| s.as_str() == name)
    }
}

/// One event to one endpoint, however many attempts it takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// Id.
    pub id: DeliveryId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The endpoint.
    pub endpoint_id: WebhookId,
    /// The event (also the `webhook-id` header of every attempt, so a receiver can drop duplicates).
    pub event_id: EventId,
    /// The event's type.
    pub event_type: EventKind,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far (all rounds: a retry or replay starts a new round of the schedule).
    pub attempts: u32,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last attempt's HTTP status, if it got an answer.
    pub last_status_code: Option<u16>,
    /// The last attempt's error, if it failed.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// One attempt of a delivery, as logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    /// Its number within the delivery, from 1.
    pub number: u32,
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// How long it took, in milliseconds.
    pub duration_ms: u32,
    /// The start of the receiver's answer (at most 4 KiB, cut on a character boundary).
    pub response_body: Option<String>,
    /// Why it failed without an answer (timeout, connection refused, SSRF guard), or why the answer is a failure.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_exact_types_families_and_everything() {
        let family = EventPattern::parse("workflow.*").unwrap();
        assert!(family.matches(EventKind::WorkflowFailed) && !family.matches(EventKind::AgentFailed));
        let exact = EventPattern::parse("agent.failed").unwrap();
        assert!(exact.matches(EventKind::AgentFailed) && !exact.matches(EventKind::AgentCompleted));
        let all = EventPattern::parse("*").unwrap();
        assert!(EventKind::ALL.iter().all(|kind| all.matches(*kind)));
        assert_eq!(EventPattern::kinds_matching(&[family, exact]).len(), 5, "four workflow.* and agent.failed");
    }

    #[test]
    fn patterns_that_match_nothing_are_refused() {
        for text in ["workflow.complete", "workflows.*", "work*", "agent.", "", "*.failed"] {
            assert!(EventPattern::parse(text).is_err(), "{text}");
        }
    }
}
