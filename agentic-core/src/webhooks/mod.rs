//! Webhooks: how deliveries are signed ([`signature`], the Standard Webhooks scheme, shared by the platform that
//! sends them and the SDK that verifies them), where they may go ([`target`], the SSRF guard), how secrets are
//! kept ([`cipher`]), when a failed one is tried again ([`schedule`]) and how one attempt is made ([`sender`]).

pub mod cipher;
pub mod schedule;
pub mod sender;
pub mod signature;
pub mod target;

use std::time::Duration;

/// How a platform delivers webhooks (`PlatformBuilder::webhooks`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct WebhookSettings {
    /// Where deliveries may go (the SSRF guard).
    pub targets: target::TargetPolicy,
    /// When failed deliveries are tried again.
    pub schedule: schedule::RetrySchedule,
    /// The most one attempt may take (connect, send, answer). A dispatcher's lease on a delivery is longer, so
    /// no delivery is in flight twice.
    pub attempt_timeout: Duration,
    /// An endpoint whose every attempt has failed for this long is disabled (`webhook.endpoint_disabled`).
    pub disable_after: chrono::Duration,
    /// Attempts one replica makes at once.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    /// https only to public addresses, the default schedule, 15 s per attempt, disabled after 5 days of failing,
    /// 64 attempts at once.
    fn default() -> Self {
        Self {
            targets: target::TargetPolicy::default(),
            schedule: schedule::RetrySchedule::default(),
            attempt_timeout: Duration::from_secs(15),
            disable_after: chrono::Duration::days(5),
            concurrency: 64,
        }
    }
}

impl WebhookSettings {
    /// The defaults with `targets` as the SSRF policy.
    pub fn with_targets(targets: target::TargetPolicy) -> Self {
        Self { targets, ..Self::default() }
    }

    /// How long a dispatcher holds a delivery it claimed: twice the attempt timeout and 5 s, so an attempt always
    /// ends (recorded or not) before another dispatcher may take the delivery.
    pub fn delivery_lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.attempt_timeout * 2 + Duration::from_secs(5))
            .unwrap_or(chrono::Duration::minutes(1))
    }
}
