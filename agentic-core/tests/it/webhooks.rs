//! Webhooks end to end: endpoints over the API, the relay, dispatchers and a receiver on loopback — signatures,
//! a flaky receiver, 410, replay, rotation, redirects, the SSRF guard and tenant isolation.

use std::sync::Arc;
use std::time::Duration;

use agentic_core::clock::SystemClock;
use agentic_core::engine::BackgroundOptions;
use agentic_core::events::{Event, EventKind};
use agentic_core::ids::TenantId;
use agentic_core::testing::receiver::{Receiver, Reply};
use agentic_core::webhooks::WebhookSettings;
use agentic_core::webhooks::schedule::RetrySchedule;
use agentic_core::webhooks::signature::{SigningSecret, WebhookHeaders, verify};
use agentic_core::webhooks::target::TargetPolicy;
use serde_json::{Value, json};

use crate::support::{Backend, TestApp};

/// Receivers on loopback are allowed; attempts time out after 300 ms and are retried every 50 ms.
fn settings() -> WebhookSettings {
    let targets = TargetPolicy { allow_http: true, allowed: vec!["127.0.0.0/8".parse().unwrap()] };
    let mut settings = WebhookSettings::with_targets(targets);
    settings.schedule = RetrySchedule {
        delays: vec![Duration::ZERO; 1].into_iter().chain(vec![Duration::from_millis(50); 14]).collect(),
        ..RetrySchedule::default()
    };
    settings.attempt_timeout = Duration::from_millis(300);
    settings
}

async fn app_on(backend: Backend, settings: WebhookSettings) -> Option<TestApp> {
    TestApp::build_on(backend, true, move |b| {
        b.jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", crate::support::HS_SECRET).unwrap())
            .clock(Arc::new(SystemClock))
            .webhooks(settings)
    })
    .await
}

macro_rules! on_both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                super::$body(crate::support::Backend::Memory).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(crate::support::Backend::Postgres).await;
            }
        }
    };
}

async fn tenant_of(app: &TestApp, key: &str) -> TenantId {
    let me = app.call("GET", "/v1/me", Some(key), None).await.expect(200);
    me["user"]["tenant_id"].as_str().unwrap().parse().unwrap()
}

/// Stores `n` `project.budget_warning` events in `tenant` (as a settlement would) and wakes nobody: the relay
/// finds them by polling, as it finds other replicas'.
async fn store_events(app: &TestApp, tenant: TenantId, n: usize) -> Vec<Event> {
    let events: Vec<Event> = (0..n)
        .map(|i| {
            let data = json!({"project_id": uuid::Uuid::now_v7(), "budget": "10.00", "spent": format!("9.{i:02}")});
            Event::new(tenant, EventKind::ProjectBudgetWarning, data, chrono::Utc::now())
        })
        .collect();
    for chunk in events.chunks(100) {
        app.platform.store().tenant(tenant).append_events(chunk).await.unwrap();
    }
    events
}

async fn create_endpoint(app: &TestApp, url: &str, events: Value) -> Value {
    let body = json!({"url": url, "events": events, "description": "test receiver"});
    app.call("POST", "/v1/webhooks", Some(&app.admin_key), Some(body)).await.expect(201)
}

fn only_deliveries() -> BackgroundOptions {
    let mut options = BackgroundOptions::workers(0);
    options.upkeep = false;
    options.idle_poll = Duration::from_millis(50);
    options
}

/// Checks a received request's signature with the secret, as a receiver would.
fn signed_by(secret: &SigningSecret, r: &agentic_core::testing::receiver::Received) -> bool {
    let headers = WebhookHeaders { id: &r.id, timestamp: &r.timestamp, signature: &r.signature };
    verify(secret, &headers, &r.body, chrono::Utc::now().timestamp(), Duration::from_secs(300)).is_ok()
}

on_both!(flaky_receiver, a_flaky_receiver_gets_every_event_signed_at_least_once);

async fn a_flaky_receiver_gets_every_event_signed_at_least_once(backend: Backend) {
    let Some(app) = app_on(backend, settings()).await else { return };
    // The first request is a 429 asking for 2 s; then about 30% are 500s and 10% answer after the timeout.
    let receiver = Receiver::start(|seq, _| match seq {
        0 => Reply::status(429).header("retry-after", "2"),
        _ => match (seq * 7919) % 10 {
            0..=2 => Reply::status(500),
            // Answered after the sender gave up (its disconnect ends the attempt at the receiver too).
            3 => Reply::status(200).after(Duration::from_millis(600)),
            _ => Reply::status(200).after(Duration::from_millis(20)),
        },
    })
    .await
    .unwrap();
    let endpoint = create_endpoint(&app, &receiver.url, json!(["project.*"])).await;
    let secret = SigningSecret::parse(endpoint["secret"].as_str().unwrap()).unwrap();
    let tenant = tenant_of(&app, &app.admin_key).await;
    let background = app.platform.spawn_background(only_deliveries());
    let events = store_events(&app, tenant, 60).await;
    let ids: std::collections::HashSet<String> = events.iter().map(|e| e.id.to_string()).collect();
    let all = receiver.wait_until(Duration::from_secs(60), |r| r.delivered_ids().len() == ids.len()).await;
    background.shutdown().await;
    assert!(all, "delivered {} of {}", receiver.delivered_ids().len(), ids.len());

    let received = receiver.received();
    assert!(received.len() > ids.len(), "some were retried: {} requests", received.len());
    for request in &received {
        assert!(ids.contains(&request.id), "a retry carries its event's id as webhook-id: {}", request.id);
        assert!(signed_by(&secret, request), "signed with the endpoint's secret");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["id"].as_str(), Some(request.id.as_str()), "the body is the event");
    }
    assert_eq!(receiver.most_in_flight(), 1, "no delivery is attempted twice at once");
    let first = received.iter().min_by_key(|r| r.seq).unwrap();
    let again = received.iter().filter(|r| r.id == first.id && r.seq > first.seq).map(|r| r.at).min().unwrap();
    assert!(again - first.at >= Duration::from_secs(2), "the 429's Retry-After was honoured: {:?}", again - first.at);

    // The delivery log shows the attempts; the metrics count them.
    let path = format!("/v1/webhooks/{}/deliveries?status=succeeded&limit=200", endpoint["id"].as_str().unwrap());
    let page = app.call("GET", &path, Some(&app.admin_key), None).await.expect(200);
    assert_eq!(page["data"].as_array().unwrap().len(), ids.len());
    let retried = page["data"].as_array().unwrap().iter().find(|d| d["attempts"].as_u64() > Some(1)).unwrap();
    let path = format!("/v1/deliveries/{}", retried["id"].as_str().unwrap());
    let detail = app.call("GET", &path, Some(&app.admin_key), None).await.expect(200);
    let attempts = detail["attempt_log"].as_array().unwrap();
    assert_eq!(attempts.len() as u64, retried["attempts"].as_u64().unwrap());
    assert!(attempts.iter().take(attempts.len() - 1).all(|a| a["error"].is_string()), "{detail}");
    let (_, metrics) = crate::validation::scrape(&app.platform.metrics_router(), None).await;
    assert!(metrics.contains(&format!("webhook_deliveries_total{{status=\"succeeded\"}} {}", ids.len())), "{metrics}");
    assert!(metrics.contains("webhook_deliveries_total{status=\"retrying\"}"), "{metrics}");
    assert!(metrics.contains("webhook_attempt_duration_seconds_count"), "{metrics}");
}

on_both!(gone_and_replay, a_410_disables_the_endpoint_and_a_replay_resends_exactly_the_range);

async fn a_410_disables_the_endpoint_and_a_replay_resends_exactly_the_range(backend: Backend) {
    let Some(app) = app_on(backend, settings()).await else { return };
    let gone = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answer = std::sync::Arc::clone(&gone);
    let receiver = Receiver::start(move |_, _| {
        Reply::status(if answer.load(std::sync::atomic::Ordering::SeqCst) { 410 } else { 204 })
    })
    .await
    .unwrap();
    let endpoint = create_endpoint(&app, &receiver.url, json!(["project.budget_warning"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let tenant = tenant_of(&app, &app.admin_key).await;
    let worker = "test-dispatcher";
    let deliver_all = || async {
        app.platform.relay_events().await.unwrap();
        while app.platform.dispatch_once(worker).await.unwrap() > 0 {}
    };

    let early = store_events(&app, tenant, 3).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let since = chrono::Utc::now();
    let middle = store_events(&app, tenant, 4).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let until = chrono::Utc::now();
    store_events(&app, tenant, 2).await;
    deliver_all().await;
    assert_eq!(receiver.received().len(), 9);

    // Replay sends the middle four again, and only them.
    let body = json!({"since": since, "until": until});
    let replay = app.call("POST", &format!("/v1/webhooks/{id}/replay"), Some(&app.admin_key), Some(body)).await;
    assert_eq!(replay.expect(202)["queued"], 4);
    deliver_all().await;
    let again: Vec<String> = receiver.received()[9..].iter().map(|r| r.id.clone()).collect();
    let mut expected: Vec<String> = middle.iter().map(|e| e.id.to_string()).collect();
    let mut got = again.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    assert!(early.iter().all(|e| !again.contains(&e.id.to_string())));
    let bad = json!({"since": until, "until": since});
    let refused = app.call("POST", &format!("/v1/webhooks/{id}/replay"), Some(&app.admin_key), Some(bad)).await;
    assert_eq!(refused.expect(422)["errors"][0]["field"], "until");

    // 410 Gone disables the endpoint at once, with its event; later events wait for it to be enabled again.
    gone.store(true, std::sync::atomic::Ordering::SeqCst);
    store_events(&app, tenant, 1).await;
    deliver_all().await;
    let disabled = app.call("GET", &format!("/v1/webhooks/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(
        (disabled["enabled"].as_bool(), disabled["disabled_reason"].as_str()),
        (Some(false), Some("the receiver answered 410 Gone")),
        "{disabled}"
    );
    let announced = app.events_of("webhook.endpoint_disabled").await;
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].data["endpoint_id"], id);
    let gone_one =
        app.call("GET", &format!("/v1/webhooks/{id}/deliveries?status=failed"), Some(&app.admin_key), None).await;
    assert_eq!(gone_one.expect(200)["data"][0]["last_status_code"], 410);
    let count = receiver.received().len();
    gone.store(false, std::sync::atomic::Ordering::SeqCst);
    let disabled_at = chrono::Utc::now();
    let missed = store_events(&app, tenant, 1).await;
    deliver_all().await;
    assert_eq!(receiver.received().len(), count, "a disabled endpoint gets nothing");
    let enable = json!({"enabled": true});
    let enabled = app.call("PATCH", &format!("/v1/webhooks/{id}"), Some(&app.admin_key), Some(enable)).await;
    assert_eq!(enabled.expect(200)["disabled_reason"], Value::Null);
    deliver_all().await;
    assert_eq!(receiver.received().len(), count, "what happened while it was disabled is not sent by enabling");
    let body = json!({"since": disabled_at});
    let replay = app.call("POST", &format!("/v1/webhooks/{id}/replay"), Some(&app.admin_key), Some(body)).await;
    assert_eq!(replay.expect(202)["queued"], 1);
    deliver_all().await;
    assert_eq!(receiver.received().last().map(|r| r.id.clone()), Some(missed[0].id.to_string()), "a replay sends it");

    // A failed delivery can be retried by hand.
    let failed =
        app.call("GET", &format!("/v1/webhooks/{id}/deliveries?status=failed"), Some(&app.admin_key), None).await;
    let failed = failed.expect(200)["data"][0]["id"].as_str().unwrap().to_owned();
    let retried = app.call("POST", &format!("/v1/deliveries/{failed}/retry"), Some(&app.admin_key), None).await;
    assert_eq!(retried.expect(202)["status"], "pending");
    deliver_all().await;
    let done = app.call("GET", &format!("/v1/deliveries/{failed}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(done["status"], "succeeded", "{done}");
}

on_both!(failing_too_long, an_endpoint_failing_for_too_long_is_disabled_and_its_pending_deliveries_are_counted);

async fn an_endpoint_failing_for_too_long_is_disabled_and_its_pending_deliveries_are_counted(backend: Backend) {
    let mut settings = settings();
    settings.disable_after = chrono::Duration::milliseconds(300);
    let Some(app) = app_on(backend, settings).await else { return };
    let receiver = Receiver::start(|_, _| Reply::status(500)).await.unwrap();
    let endpoint = create_endpoint(&app, &receiver.url, json!(["*"])).await;
    let path = format!("/v1/webhooks/{}", endpoint["id"].as_str().unwrap());
    let tenant = tenant_of(&app, &app.admin_key).await;
    store_events(&app, tenant, 3).await;
    let background = app.platform.spawn_background(only_deliveries());
    let mut view = Value::Null;
    for _ in 0..200 {
        view = app.call("GET", &path, Some(&app.admin_key), None).await.expect(200);
        if view["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    background.shutdown().await;
    assert_eq!(view["enabled"], false, "{view}");
    assert_eq!(view["disabled_reason"], "every attempt failed for 300 ms");
    assert!(view["failing_since"].is_string(), "{view}");
    assert_eq!(app.events_of("webhook.endpoint_disabled").await.len(), 1, "announced once");
    assert!(receiver.received().len() > 3, "retried before it was disabled");

    // Its deliveries wait, counted by the gauge the upkeep samples.
    let pending = app.call("GET", &format!("{path}/deliveries?status=pending"), Some(&app.admin_key), None).await;
    let pending = pending.expect(200)["data"].as_array().unwrap().len();
    assert!(pending > 0);
    app.platform.sample_pending_deliveries().await;
    let (_, metrics) = crate::validation::scrape(&app.platform.metrics_router(), None).await;
    assert!(metrics.contains(&format!("webhook_deliveries_pending {pending}")), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_signs_with_both_secrets_during_its_grace_period() {
    let app = app_on(Backend::Memory, settings()).await.unwrap();
    let receiver = Receiver::accepting().await.unwrap();
    let endpoint = create_endpoint(&app, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let old = SigningSecret::parse(endpoint["secret"].as_str().unwrap()).unwrap();
    let tenant = tenant_of(&app, &app.admin_key).await;
    let deliver = || async {
        app.platform.relay_events().await.unwrap();
        while app.platform.dispatch_once("w").await.unwrap() > 0 {}
    };
    let given = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = json!({"secret": given, "grace_seconds": 3600});
    let rotated = app.call("POST", &format!("/v1/webhooks/{id}/rotate-secret"), Some(&app.admin_key), Some(body)).await;
    let rotated = rotated.expect(200);
    assert_eq!(rotated["secret"], given);
    let new = SigningSecret::parse(given).unwrap();
    store_events(&app, tenant, 1).await;
    deliver().await;
    let during = receiver.received().pop().unwrap();
    assert_eq!(during.signature.split(' ').count(), 2, "both signatures: {}", during.signature);
    assert!(signed_by(&old, &during) && signed_by(&new, &during));

    // Without a grace period the old secret stops at once.
    let rotated = app
        .call(
            "POST",
            &format!("/v1/webhooks/{id}/rotate-secret"),
            Some(&app.admin_key),
            Some(json!({"grace_seconds": 0})),
        )
        .await;
    let newest = SigningSecret::parse(rotated.expect(200)["secret"].as_str().unwrap()).unwrap();
    store_events(&app, tenant, 1).await;
    deliver().await;
    let after = receiver.received().pop().unwrap();
    assert_eq!(after.signature.split(' ').count(), 1);
    assert!(signed_by(&newest, &after) && !signed_by(&new, &after));
    let view = app.call("GET", &format!("/v1/webhooks/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert!(view.get("secret").is_none(), "the secret is never shown again: {view}");
    let bad = json!({"secret": "whsec_c2hvcnQ="});
    let refused = app.call("POST", &format!("/v1/webhooks/{id}/rotate-secret"), Some(&app.admin_key), Some(bad)).await;
    assert_eq!(refused.expect(422)["errors"][0]["field"], "secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_the_guard_forbids_are_refused_with_a_reason_and_redirects_are_not_followed() {
    // http allowed, but no private range: every refusal below is the address's.
    let policy = TargetPolicy { allow_http: true, allowed: Vec::new() };
    let app = app_on(Backend::Memory, WebhookSettings::with_targets(policy)).await.unwrap();
    let cases = [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local (cloud metadata)"),
        ("http://10.0.0.1/hook", "private (RFC 1918)"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://localhost:9/hook", "loopback"),
        ("ftp://93.184.215.14/hook", "must use https"),
        ("https://user:pw@93.184.215.14/hook", "credentials"),
    ];
    for (url, reason) in cases {
        let body = json!({"url": url, "events": ["*"]});
        let refused = app.call("POST", "/v1/webhooks", Some(&app.admin_key), Some(body)).await.expect(422);
        let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
        assert_eq!(refused["errors"][0]["field"], "url", "{url}: {refused}");
        assert!(message.contains(reason), "{url}: {message}");
    }
    let https_only = app_on(Backend::Memory, WebhookSettings::default()).await.unwrap();
    let body = json!({"url": "http://93.184.215.14/hook", "events": ["*"]});
    let refused = https_only.call("POST", "/v1/webhooks", Some(&https_only.admin_key), Some(body)).await.expect(422);
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("https"), "{refused}");
    for events in [json!([]), json!(["agent.exploded"]), json!(["agents.*"])] {
        let body = json!({"url": "https://93.184.215.14/hook", "events": events});
        let refused =
            https_only.call("POST", "/v1/webhooks", Some(&https_only.admin_key), Some(body)).await.expect(422);
        assert!(refused["errors"][0]["field"].as_str().unwrap().starts_with("events"), "{refused}");
    }

    // A receiver allowed on loopback that redirects to a private address: the redirect is not followed.
    let app = app_on(Backend::Memory, settings()).await.unwrap();
    let receiver =
        Receiver::start(|_, _| Reply::status(302).header("location", "http://10.0.0.1/internal")).await.unwrap();
    let endpoint = create_endpoint(&app, &receiver.url, json!(["*"])).await;
    let tenant = tenant_of(&app, &app.admin_key).await;
    store_events(&app, tenant, 1).await;
    app.platform.relay_events().await.unwrap();
    assert_eq!(app.platform.dispatch_once("w").await.unwrap(), 1);
    let path = format!("/v1/webhooks/{}/deliveries", endpoint["id"].as_str().unwrap());
    let delivery = app.call("GET", &path, Some(&app.admin_key), None).await.expect(200)["data"][0].clone();
    assert_eq!((delivery["status"].as_str(), delivery["last_status_code"].as_u64()), (Some("pending"), Some(302)));
    assert!(delivery["last_error"].as_str().unwrap().contains("redirects are not followed"), "{delivery}");
    assert_eq!(receiver.received().len(), 1);
}

on_both!(foreign_webhooks, another_tenants_webhooks_and_deliveries_are_not_found);

async fn another_tenants_webhooks_and_deliveries_are_not_found(backend: Backend) {
    let Some(app) = app_on(backend, settings()).await else { return };
    let receiver = Receiver::accepting().await.unwrap();
    let (_, b_admin) = app.second_tenant("beta").await;
    let body = json!({"url": receiver.url, "events": ["*"]});
    let b_hook = app.call("POST", "/v1/webhooks", Some(&b_admin), Some(body)).await.expect(201);
    let b_id = b_hook["id"].as_str().unwrap().to_owned();
    let b_tenant = tenant_of(&app, &b_admin).await;
    store_events(&app, b_tenant, 1).await;
    app.platform.relay_events().await.unwrap();
    let b_deliveries = app.call("GET", &format!("/v1/webhooks/{b_id}/deliveries"), Some(&b_admin), None).await;
    let b_delivery = b_deliveries.expect(200)["data"][0]["id"].as_str().unwrap().to_owned();

    let a = app.admin_key.clone();
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/v1/webhooks/{b_id}"), None),
        ("PATCH", format!("/v1/webhooks/{b_id}"), Some(json!({"url": "http://127.0.0.1:9/stolen"}))),
        ("DELETE", format!("/v1/webhooks/{b_id}"), None),
        ("POST", format!("/v1/webhooks/{b_id}/rotate-secret"), None),
        ("GET", format!("/v1/webhooks/{b_id}/deliveries"), None),
        ("POST", format!("/v1/webhooks/{b_id}/replay"), Some(json!({"since": "2020-01-01T00:00:00Z"}))),
        ("GET", format!("/v1/deliveries/{b_delivery}"), None),
        ("POST", format!("/v1/deliveries/{b_delivery}/retry"), None),
    ];
    for (method, path, body) in attempts {
        let response = app.call(method, &path, Some(&a), body).await;
        assert_eq!(response.status.as_u16(), 404, "{method} {path}: {}", response.body);
    }
    let listed = app.call("GET", "/v1/webhooks", Some(&a), None).await.expect(200);
    assert_eq!(listed["data"], json!([]));
    // B's endpoint is untouched, and A's events never reach it.
    let still = app.call("GET", &format!("/v1/webhooks/{b_id}"), Some(&b_admin), None).await.expect(200);
    assert_eq!(
        (still["url"].as_str(), still["previous_secret_expires_at"].is_null()),
        (Some(receiver.url.as_str()), true)
    );
    let a_tenant = tenant_of(&app, &a).await;
    store_events(&app, a_tenant, 2).await;
    app.platform.relay_events().await.unwrap();
    while app.platform.dispatch_once("w").await.unwrap() > 0 {}
    let got: std::collections::HashSet<_> = receiver.received().iter().map(|r| r.id.clone()).collect();
    assert_eq!(got.len(), 1, "only B's event reached B's endpoint");
}
