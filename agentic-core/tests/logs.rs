//! With logging at TRACE, no password, access token or API key text reaches the log.
//!
//! Its own test binary: `tracing` caches per-callsite interest process-wide, so tests running in parallel
//! without a subscriber would silence this one's thread-local subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs, unreachable_pub, dead_code)]

#[path = "it/support.rs"]
mod support;

use agentic_core::testing::LogCapture;
use serde_json::json;

use support::{ADMIN_PASSWORD, TestApp};

#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_the_log() {
    let buffer = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buffer.make_writer())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::new().await;
    let mut secrets = vec![app.admin_key.clone(), ADMIN_PASSWORD.to_owned()];
    let admin_token = app.login("acme", "admin@acme.test", ADMIN_PASSWORD).await;
    secrets.push(admin_token.clone());
    let user_password = "a user's secret password";
    app.call(
        "POST",
        "/v1/users",
        Some(&admin_token),
        Some(json!({"email": "dev@acme.test", "password": user_password, "roles": ["developer"]})),
    )
    .await
    .expect(201);
    secrets.push(user_password.to_owned());
    let dev_token = app.login("acme", "dev@acme.test", user_password).await;
    secrets.push(dev_token.clone());
    let (_, key) = app.api_key(&dev_token, &["agents:execute"]).await;
    secrets.push(key.clone());
    app.call("GET", "/v1/me", Some(&key), None).await.expect(200);
    // Failures log too: wrong password, bad key, a forged token.
    let wrong = "definitely the wrong password";
    secrets.push(wrong.to_owned());
    app.call(
        "POST",
        "/v1/auth/login",
        None,
        Some(json!({"tenant": "acme", "email": "dev@acme.test", "password": wrong})),
    )
    .await
    .expect(401);
    // The key with its last character changed (to another one: a key may already end in `x`).
    let last = if key.ends_with('x') { 'y' } else { 'x' };
    let bad_key = format!("{}{last}", &key[..key.len() - 1]);
    secrets.push(bad_key.clone());
    app.call("GET", "/v1/me", Some(&bad_key), None).await.expect(401);
    let new_password = "the replacement password";
    secrets.push(new_password.to_owned());
    let me = app.call("GET", "/v1/me", Some(&dev_token), None).await.expect(200);
    app.call(
        "PATCH",
        &format!("/v1/users/{}", me["user"]["id"].as_str().unwrap()),
        Some(&admin_token),
        Some(json!({"password": new_password})),
    )
    .await
    .expect(200);

    let log = buffer.text();
    // The flow was really logged at TRACE (so the assertion below is not vacuous).
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "nothing was logged:\n{log}");
    assert!(log.contains("/v1/me"), "requests were not traced:\n{log}");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret leaked into the log: {}…", &secret[..8]);
    }
    // Nor the distinctive secret part of keys and tokens.
    assert!(!log.contains(&key[16..]));
    assert!(!log.contains(admin_token.rsplit('.').next().unwrap()));
}

/// The request's log lines name its client: behind a trusted proxy the forwarded one, otherwise the peer.
#[tokio::test(flavor = "current_thread")]
async fn request_logs_name_the_client_behind_a_trusted_proxy() {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    let buffer = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(buffer.make_writer())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::with(|b| b.trusted_proxies(vec!["10.0.0.0/8".parse().unwrap()])).await;
    for (peer, forwarded) in [([10, 0, 0, 5], "198.51.100.23"), ([203, 0, 113, 9], "198.51.100.77")] {
        let mut request = Request::get("/health").header("x-forwarded-for", forwarded).body(Body::empty()).unwrap();
        request.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from((peer, 40000))));
        assert_eq!(app.send(request).await.status.as_u16(), 200);
    }
    let text = buffer.text();
    assert!(text.contains("client.address=198.51.100.23"), "{text}");
    assert!(text.contains("client.address=203.0.113.9"), "the untrusted peer itself: {text}");
    assert!(!text.contains("198.51.100.77"), "an untrusted peer's header is not believed: {text}");
}
