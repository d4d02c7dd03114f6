//! Webhook endpoints and their deliveries: create, change, rotate, list, retry, replay. Every operation needs
//! `webhooks:manage`. Delivery itself is `engine/dispatch.rs`; the relay that makes deliveries is
//! `engine/relay.rs`.

use secrecy::{ExposeSecret, SecretString};

use crate::Platform;
use crate::api::{
    CreateWebhookRequest, CreatedWebhook, DeliveryDetail, DeliveryListQuery, ReplayRequest, ReplayResponse,
    RotateSecretRequest, RotatedSecret, UpdateWebhookRequest, WebhookView,
};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::{DeliveryId, EventId, WebhookId};
use crate::model::{
    EndpointChange, EventPattern, MAX_DESCRIPTION_CHARS, Permission, PreviousSecret, ValidationError, WebhookEndpoint,
    validate_optional_text,
};
use crate::store::{DeliveryQuery, EventQuery, NewDelivery, Page, PageRequest};
use crate::webhooks::signature::SigningSecret;

/// The most patterns one endpoint subscribes with.
const MAX_PATTERNS: usize = 50;
/// The longest grace period of a rotated secret (a week), and the default (a day).
const MAX_GRACE_SECS: u64 = 7 * 24 * 3600;
const DEFAULT_GRACE_SECS: u64 = 24 * 3600;
/// The most events one replay re-sends (ask again with a later `since` for more).
pub const MAX_REPLAY: usize = 10_000;

impl Platform {
    /// Creates an endpoint; the response carries its secret this once.
    pub async fn create_webhook(&self, principal: &Principal, request: CreateWebhookRequest) -> Result<CreatedWebhook> {
        principal.require(Permission::WebhooksManage)?;
        let url = self.check_webhook_url(&request.url).await?;
        let events = parse_patterns("events", &request.events)?;
        let description =
            validate_optional_text("description", request.description, MAX_DESCRIPTION_CHARS)?.unwrap_or_default();
        let secret = secret_or_generated("secret", request.secret.as_ref())?;
        let (id, now) = (WebhookId::new(), self.inner.clock.now());
        let endpoint = WebhookEndpoint {
            id,
            tenant_id: principal.tenant_id,
            url,
            description,
            events,
            enabled: request.enabled.unwrap_or(true),
            disabled_reason: None,
            failing_since: None,
            secret: self.seal(principal, id, &secret)?,
            previous_secret: None,
            created_by: principal.user_id,
            created_at: now,
            updated_at: now,
        };
        self.inner.store.tenant(principal.tenant_id).insert_endpoint(&endpoint).await?;
        Ok(CreatedWebhook {
            webhook: WebhookView::from(&endpoint),
            secret: secret.to_text().expose_secret().to_owned(),
        })
    }

    /// A page of the tenant's endpoints, oldest first.
    pub async fn list_webhooks(&self, principal: &Principal, page: PageRequest) -> Result<Page<WebhookView>> {
        principal.require(Permission::WebhooksManage)?;
        let page = self.inner.store.tenant(principal.tenant_id).list_endpoints(&page).await?;
        Ok(page.map(|endpoint| WebhookView::from(&endpoint)))
    }

    /// An endpoint.
    pub async fn get_webhook(&self, principal: &Principal, id: WebhookId) -> Result<WebhookView> {
        Ok(WebhookView::from(&self.endpoint(principal, id).await?))
    }

    /// Changes an endpoint's URL, subscription, description or state.
    pub async fn update_webhook(
        &self,
        principal: &Principal,
        id: WebhookId,
        request: UpdateWebhookRequest,
    ) -> Result<WebhookView> {
        principal.require(Permission::WebhooksManage)?;
        let url = match &request.url {
            Some(url) => Some(self.check_webhook_url(url).await?),
            None => None,
        };
        let description = match request.description {
            Some(text) => {
                Some(validate_optional_text("description", Some(text), MAX_DESCRIPTION_CHARS)?.unwrap_or_default())
            }
            None => None,
        };
        let change = EndpointChange {
            url,
            description,
            events: request.events.as_deref().map(|e| parse_patterns("events", e)).transpose()?,
            enabled: request.enabled,
            secret: None,
        };
        let updated = self.change_endpoint(principal, id, &change).await?;
        if request.enabled == Some(true) {
            self.inner.dispatch_wakeup.notify_one();
        }
        Ok(WebhookView::from(&updated))
    }

    /// Deletes an endpoint with its deliveries.
    pub async fn delete_webhook(&self, principal: &Principal, id: WebhookId) -> Result<()> {
        principal.require(Permission::WebhooksManage)?;
        if self.inner.store.tenant(principal.tenant_id).delete_endpoint(id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("webhook"))
        }
    }

    /// Replaces an endpoint's secret; the old one keeps signing deliveries (beside the new) for the grace period,
    /// so receivers can move over without losing a delivery.
    pub async fn rotate_webhook_secret(
        &self,
        principal: &Principal,
        id: WebhookId,
        request: RotateSecretRequest,
    ) -> Result<RotatedSecret> {
        let endpoint = self.endpoint(principal, id).await?;
        let grace = request.grace_seconds.unwrap_or(DEFAULT_GRACE_SECS);
        if grace > MAX_GRACE_SECS {
            return Err(ValidationError::new("grace_seconds", format!("must be at most {MAX_GRACE_SECS}")).into());
        }
        let secret = secret_or_generated("secret", request.secret.as_ref())?;
        let expires_at = self.inner.clock.now() + chrono::Duration::seconds(i64::try_from(grace).unwrap_or(0));
        let previous = PreviousSecret { secret: endpoint.secret.clone(), expires_at };
        let change =
            EndpointChange { secret: Some((self.seal(principal, id, &secret)?, Some(previous))), ..Default::default() };
        self.change_endpoint(principal, id, &change).await?;
        Ok(RotatedSecret {
            secret: secret.to_text().expose_secret().to_owned(),
            previous_secret_expires_at: expires_at,
        })
    }

    /// A page of an endpoint's deliveries, newest first.
    pub async fn list_deliveries(
        &self,
        principal: &Principal,
        id: WebhookId,
        query: DeliveryListQuery,
    ) -> Result<Page<crate::model::Delivery>> {
        self.endpoint(principal, id).await?;
        let page = PageRequest { limit: query.limit.unwrap_or(PageRequest::first().limit), after: query.after };
        let query = DeliveryQuery { status: query.status, page };
        Ok(self.inner.store.tenant(principal.tenant_id).list_deliveries(id, &query).await?)
    }

    /// A delivery with its attempts.
    pub async fn get_delivery(&self, principal: &Principal, id: DeliveryId) -> Result<DeliveryDetail> {
        principal.require(Permission::WebhooksManage)?;
        let found = self.inner.store.tenant(principal.tenant_id).get_delivery(id).await?;
        let (delivery, attempts) = found.ok_or(Error::NotFound("delivery"))?;
        Ok(DeliveryDetail { delivery, attempt_log: attempts })
    }

    /// Starts a delivery again, now, with a new round of the schedule (whatever its status).
    pub async fn retry_delivery(&self, principal: &Principal, id: DeliveryId) -> Result<DeliveryDetail> {
        let detail = self.get_delivery(principal, id).await?;
        let delivery = &detail.delivery;
        let again = NewDelivery {
            id: delivery.id,
            tenant_id: delivery.tenant_id,
            endpoint_id: delivery.endpoint_id,
            event_id: delivery.event_id,
            event_type: delivery.event_type,
            due_at: self.inner.clock.now(),
        };
        self.inner.store.tenant(principal.tenant_id).requeue_deliveries(std::slice::from_ref(&again)).await?;
        self.inner.dispatch_wakeup.notify_one();
        self.get_delivery(principal, id).await
    }

    /// Sends the endpoint's events of `[since, until)` again — those it subscribes to, of `types` when given —
    /// delivered before or not. At most [`MAX_REPLAY`] events per call, oldest first.
    pub async fn replay_webhook(
        &self,
        principal: &Principal,
        id: WebhookId,
        request: ReplayRequest,
    ) -> Result<ReplayResponse> {
        let endpoint = self.endpoint(principal, id).await?;
        let now = self.inner.clock.now();
        let until = request.until.unwrap_or(now);
        if until <= request.since {
            return Err(ValidationError::new("until", "must be after `since`").into());
        }
        let mut kinds = EventPattern::kinds_matching(&endpoint.events);
        if let Some(types) = &request.types {
            let asked = parse_patterns("types", types)?;
            kinds.retain(|kind| asked.iter().any(|p| p.matches(*kind)));
        }
        let store = self.inner.store.tenant(principal.tenant_id);
        // The range is of the events' times; ids (their storing time, in milliseconds) bound the pages read, a
        // second wider on each side for events stored a little after they happened.
        let margin = chrono::Duration::seconds(1);
        let (mut cursor, last) = (EventId::floor_at(request.since - margin), EventId::floor_at(until + margin));
        let mut due = Vec::new();
        'pages: loop {
            let query = EventQuery { after: Some(cursor), limit: 200, ..EventQuery::default() };
            let page = store.list_events(&query).await?;
            for event in &page.data {
                if event.id >= last || due.len() >= MAX_REPLAY {
                    break 'pages;
                }
                let inside = event.occurred_at >= request.since && event.occurred_at < until;
                if inside && kinds.contains(&event.kind) {
                    due.push(NewDelivery {
                        id: DeliveryId::new(),
                        tenant_id: principal.tenant_id,
                        endpoint_id: id,
                        event_id: event.id,
                        event_type: event.kind,
                        due_at: now,
                    });
                }
            }
            match page.data.last() {
                Some(last) if page.next_cursor.is_some() => cursor = last.id,
                _ => break,
            }
        }
        let mut queued = 0;
        for chunk in due.chunks(500) {
            queued += store.requeue_deliveries(chunk).await?;
        }
        self.inner.dispatch_wakeup.notify_one();
        Ok(ReplayResponse { queued })
    }

    /// The caller's endpoint `id` (`webhooks:manage`), or 404.
    async fn endpoint(&self, principal: &Principal, id: WebhookId) -> Result<WebhookEndpoint> {
        principal.require(Permission::WebhooksManage)?;
        self.inner.store.tenant(principal.tenant_id).get_endpoint(id).await?.ok_or(Error::NotFound("webhook"))
    }

    async fn change_endpoint(
        &self,
        principal: &Principal,
        id: WebhookId,
        change: &EndpointChange,
    ) -> Result<WebhookEndpoint> {
        let store = self.inner.store.tenant(principal.tenant_id);
        store.update_endpoint(id, change, self.inner.clock.now()).await?.ok_or(Error::NotFound("webhook"))
    }

    /// A URL the SSRF guard accepts: its form, and every address its host resolves to now (checked again at
    /// each delivery).
    async fn check_webhook_url(&self, text: &str) -> Result<String> {
        let refused = |e: crate::webhooks::target::TargetError| ValidationError::new("url", e.to_string());
        let policy = &self.inner.webhooks.targets;
        let url = policy.check_url(text).map_err(refused)?;
        policy.resolve(&url).await.map_err(refused)?;
        if url.as_str().len() > 2_000 {
            return Err(ValidationError::new("url", "must be at most 2000 characters").into());
        }
        Ok(url.to_string())
    }

    fn seal(
        &self,
        principal: &Principal,
        id: WebhookId,
        secret: &SigningSecret,
    ) -> Result<crate::webhooks::cipher::SealedSecret> {
        self.inner.webhook_cipher.seal(principal.tenant_id, id, secret).map_err(|e| Error::Internal(e.to_string()))
    }
}

/// Parses subscription patterns (1–[`MAX_PATTERNS`], each matching a type of the catalogue), naming the bad one.
fn parse_patterns(field: &str, texts: &[String]) -> Result<Vec<EventPattern>> {
    if texts.is_empty() || texts.len() > MAX_PATTERNS {
        return Err(
            ValidationError::new(field, format!("must name 1 to {MAX_PATTERNS} event types or patterns")).into()
        );
    }
    let mut patterns = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let pattern =
            EventPattern::parse(text).map_err(|e| ValidationError::new(format!("{field}[{i}]"), e.to_string()))?;
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    Ok(patterns)
}

/// The caller's secret, checked, or a fresh one.
fn secret_or_generated(field: &str, given: Option<&SecretString>) -> Result<SigningSecret> {
    match given {
        Some(text) => SigningSecret::parse(text.expose_secret())
            .map_err(|_| ValidationError::new(field, "must be `whsec_` and the base64 of 24 to 64 bytes").into()),
        None => SigningSecret::generate().map_err(|e| Error::Internal(e.to_string())),
    }
}
