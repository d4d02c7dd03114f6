//! API keys: shown once, stored hashed, scoped within their creator, refused at once when revoked or expired.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::TestApp;

#[tokio::test]
async fn revoked_keys_are_refused_at_once() {
    let app = TestApp::new().await;
    let (id, key) = app.api_key(&app.admin_key, &["users:manage"]).await;
    app.call("GET", "/v1/users", Some(&key), None).await.expect(200);
    let revoked = app.call("DELETE", &format!("/v1/api-keys/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert!(revoked["revoked_at"].is_string());
    let response = app.call("GET", "/v1/me", Some(&key), None).await;
    assert_eq!(response.status.as_u16(), 401);
    assert!(response.body["detail"].as_str().unwrap().contains("revoked"));
    // Revoking again is harmless and keeps the first time.
    let again = app.call("DELETE", &format!("/v1/api-keys/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
}

#[tokio::test]
async fn expired_keys_are_refused_at_once() {
    let app = TestApp::new().await;
    let expires_at = app.platform.clock().now() + chrono::Duration::seconds(60);
    let body = app
        .call("POST", "/v1/api-keys", Some(&app.admin_key), Some(json!({"name": "short", "expires_at": expires_at})))
        .await
        .expect(201);
    let key = body["key"].as_str().unwrap();
    app.call("GET", "/v1/me", Some(key), None).await.expect(200);
    app.clock.advance(chrono::Duration::seconds(60));
    let response = app.call("GET", "/v1/me", Some(key), None).await;
    assert_eq!(response.status.as_u16(), 401);
    assert!(response.body["detail"].as_str().unwrap().contains("expired"));

    let past = app.platform.clock().now() - chrono::Duration::seconds(1);
    app.call("POST", "/v1/api-keys", Some(&app.admin_key), Some(json!({"name": "old", "expires_at": past})))
        .await
        .expect(422);
}

#[tokio::test]
async fn scopes_beyond_the_creator_are_rejected() {
    let app = TestApp::new().await;
    let (_, dev) = app.user("dev@acme.test", &["developer"]).await;
    let response = app
        .call(
            "POST",
            "/v1/api-keys",
            Some(&dev),
            Some(json!({"name": "x", "scopes": ["agents:execute", "users:manage"]})),
        )
        .await;
    assert_eq!(response.status.as_u16(), 403, "{}", response.body);
    assert!(response.body["detail"].as_str().unwrap().contains("users:manage"));
    // A key cannot mint a key with more than it has either.
    let (_, narrow) = app.api_key(&app.admin_key, &["departments:manage"]).await;
    app.call("POST", "/v1/api-keys", Some(&narrow), Some(json!({"name": "y", "scopes": ["users:manage"]})))
        .await
        .expect(403);
    app.call("POST", "/v1/api-keys", Some(&narrow), Some(json!({"name": "y", "scopes": ["departments:manage"]})))
        .await
        .expect(201);
    // Unknown scopes are a validation error.
    app.call("POST", "/v1/api-keys", Some(&dev), Some(json!({"name": "z", "scopes": ["agents:*"]}))).await.expect(422);
}

#[tokio::test]
async fn scopes_limit_what_a_key_may_do() {
    let app = TestApp::new().await;
    let (_, read_only) = app.api_key(&app.admin_key, &[]).await;
    app.call("GET", "/v1/projects", Some(&read_only), None).await.expect(200);
    app.call("POST", "/v1/departments", Some(&read_only), Some(json!({"name": "D"}))).await.expect(403);
    let me = app.call("GET", "/v1/me", Some(&read_only), None).await.expect(200);
    assert_eq!(me["permissions"], json!([]));
    assert_eq!(me["credential"]["type"], "api_key");
}

#[tokio::test]
async fn plaintext_is_shown_once_and_never_stored() {
    let app = TestApp::new().await;
    let created = app
        .call("POST", "/v1/api-keys", Some(&app.admin_key), Some(json!({"name": "ci", "scopes": ["agents:execute"]})))
        .await
        .expect(201);
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("agk_") && key.len() == 4 + 12 + 43, "{key}");
    let secret_part = &key[4 + 12..];
    let id = created["api_key"]["id"].as_str().unwrap();

    // Never again over the API.
    let list = app.call("GET", "/v1/api-keys", Some(&app.admin_key), None).await.expect(200);
    assert!(!list.to_string().contains(secret_part));
    assert!(list["data"].as_array().unwrap().iter().any(|k| k["id"] == id && k["prefix"] == key[..16]));

    // Not in the store: neither the text nor the secret, anywhere in its state; only the SHA-256.
    let dump = format!("{:?}", app.memory.as_ref().unwrap());
    assert!(dump.contains(&key[..16]), "the dump should show the non-secret prefix");
    assert!(!dump.contains(&key) && !dump.contains(secret_part));
    assert!(!dump.contains(&app.admin_key[16..]));
    let (stored, _) = app.platform.store().system().api_key_by_lookup(&key[4..16]).await.unwrap().unwrap();
    assert_eq!(stored.hash.as_slice(), Sha256::digest(key.as_bytes()).as_slice());
    // Passwords are argon2id hashes, never plaintext.
    assert!(!dump.contains(crate::support::ADMIN_PASSWORD));
}

#[tokio::test]
async fn last_used_at_is_recorded() {
    let app = TestApp::new().await;
    let (id, key) = app.api_key(&app.admin_key, &[]).await;
    let before = app.call("GET", "/v1/api-keys", Some(&app.admin_key), None).await.expect(200);
    let entry = |list: &serde_json::Value| {
        list["data"].as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).unwrap().clone()
    };
    assert!(entry(&before)["last_used_at"].is_null());
    app.call("GET", "/v1/me", Some(&key), None).await.expect(200);
    let after = app.call("GET", "/v1/api-keys", Some(&app.admin_key), None).await.expect(200);
    assert!(entry(&after)["last_used_at"].is_string());
}

#[tokio::test]
async fn non_managers_list_only_their_own_keys() {
    let app = TestApp::new().await;
    let (_, dev) = app.user("dev@acme.test", &["developer"]).await;
    let (own, _) = app.api_key(&dev, &[]).await;
    let list = app.call("GET", "/v1/api-keys", Some(&dev), None).await.expect(200);
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![own.as_str()]);
    let all = app.call("GET", "/v1/api-keys", Some(&app.admin_key), None).await.expect(200);
    assert!(all["data"].as_array().unwrap().len() >= 2);
}
