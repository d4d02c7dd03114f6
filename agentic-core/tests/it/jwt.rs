//! Forged, expired and malformed tokens are all refused with 401, and nothing panics.

use agentic_core::auth::jwt::{KeyPair, VerificationKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::TestApp;

const RSA_PRIVATE: &[u8] = include_bytes!("fixtures/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("fixtures/rsa_public.pem");
const ED_PRIVATE: &[u8] = include_bytes!("fixtures/ed25519_private.pem");
const ED_PUBLIC: &[u8] = include_bytes!("fixtures/ed25519_public.pem");
const OLD_HS: &[u8] = b"an-older-hs256-secret-still-in-rotation";

async fn rsa_app() -> TestApp {
    TestApp::with(|b| {
        b.jwt_key(KeyPair::rs256_pem("rsa-1", RSA_PRIVATE, RSA_PUBLIC).unwrap())
            .jwt_previous_key(VerificationKey::hs256("hs-old", OLD_HS).unwrap())
            .jwt_previous_key(VerificationKey::ed25519_pem("ed-1", ED_PUBLIC).unwrap())
    })
    .await
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn claims_for(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

fn with_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], B64.encode(serde_json::to_vec(payload).unwrap()), parts[2])
}

#[tokio::test]
async fn valid_tokens_of_every_supported_algorithm_are_accepted() {
    let app = rsa_app().await;
    let (_, token) = app.user("dev@acme.test", &["developer"]).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!((header.alg, header.kid.as_deref()), (Algorithm::RS256, Some("rsa-1")));
    app.call("GET", "/v1/me", Some(&token), None).await.expect(200);

    // Tokens from keys still in rotation verify too.
    let claims = claims_for(&token);
    let old = sign(Algorithm::HS256, Some("hs-old"), &EncodingKey::from_secret(OLD_HS), &claims);
    app.call("GET", "/v1/me", Some(&old), None).await.expect(200);
    let ed = sign(Algorithm::EdDSA, Some("ed-1"), &EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(), &claims);
    app.call("GET", "/v1/me", Some(&ed), None).await.expect(200);
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_get_401() {
    let app = rsa_app().await;
    let (_, token) = app.user("dev@acme.test", &["developer"]).await;
    let claims = claims_for(&token);
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
    let now = chrono::Utc::now().timestamp();
    let with = |changes: Value| {
        let mut c = claims.clone();
        for (k, v) in changes.as_object().unwrap() {
            c[k] = v.clone();
        }
        sign(Algorithm::RS256, Some("rsa-1"), &rsa, &c)
    };
    let header_none = B64.encode(br#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#);
    let payload = token.split('.').nth(1).unwrap();
    let mut tampered_claims = claims.clone();
    tampered_claims["roles"] = json!(["admin"]);
    tampered_claims["sub"] = json!(uuid::Uuid::now_v7().to_string());
    let mut bad_signature = token.clone();
    let last = bad_signature.pop().unwrap();
    bad_signature.push(if last == 'A' { 'B' } else { 'A' });
    let huge = "a".repeat(64 * 1024);

    let cases: Vec<(&str, String)> = vec![
        ("alg none", format!("{header_none}.{payload}.")),
        ("alg none without signature part", format!("{header_none}.{payload}")),
        // Algorithm confusion: HS256 keyed with the RS256 public key, under the RSA kid.
        (
            "HS256 signed with the RSA public key",
            sign(Algorithm::HS256, Some("rsa-1"), &EncodingKey::from_secret(RSA_PUBLIC), &claims),
        ),
        (
            "HS256 signed with the RSA public key, no kid",
            sign(Algorithm::HS256, None, &EncodingKey::from_secret(RSA_PUBLIC), &claims),
        ),
        ("expired", with(json!({"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}))),
        ("not yet valid", with(json!({"nbf": now + 3600, "exp": now + 7200}))),
        ("wrong iss", with(json!({"iss": "someone-else"}))),
        ("wrong aud", with(json!({"aud": "another-api"}))),
        ("missing exp", {
            let mut c = claims.clone();
            c.as_object_mut().unwrap().remove("exp");
            sign(Algorithm::RS256, Some("rsa-1"), &rsa, &c)
        }),
        ("unknown role claim", with(json!({"roles": ["root"]}))),
        ("tampered payload", with_payload(&token, &tampered_claims)),
        ("tampered signature", bad_signature),
        ("unknown kid", sign(Algorithm::RS256, Some("rsa-9"), &rsa, &claims)),
        ("no kid", sign(Algorithm::RS256, None, &rsa, &claims)),
        ("kid of another algorithm", sign(Algorithm::RS256, Some("hs-old"), &rsa, &claims)),
        ("truncated", token[..token.len() / 2].to_owned()),
        ("two segments", token.rsplit_once('.').unwrap().0.to_owned()),
        ("garbage", "not-a-token".into()),
        ("dots", "...".into()),
        ("empty segments", "..".into()),
        ("bad base64", "!!!.@@@.###".into()),
        ("json header that is not an object", format!("{}.{payload}.sig", B64.encode(b"[1,2,3]"))),
        ("huge", huge),
        ("api-key lookalike", "agk_".into()),
    ];
    for (name, bad) in cases {
        let response = app.call("GET", "/v1/me", Some(&bad), None).await;
        assert_eq!(response.status.as_u16(), 401, "{name}: {}", response.body);
        assert_eq!(response.body["type"], "https://agentic.dev/problems/unauthenticated", "{name}");
    }
}

#[tokio::test]
async fn malformed_authorization_headers_get_401() {
    let app = TestApp::new().await;
    for value in ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", &app.admin_key] {
        let request = axum::http::Request::builder()
            .uri("/v1/me")
            .header("authorization", value)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status.as_u16(), 401, "{value:?}");
    }
    let request = axum::http::Request::builder()
        .uri("/v1/me")
        .header("authorization", axum::http::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap())
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.status.as_u16(), 401);
}

#[tokio::test]
async fn tokens_expire_on_the_platform_clock() {
    let app = TestApp::new().await;
    let (_, token) = app.user("dev@acme.test", &["developer"]).await;
    app.call("GET", "/v1/me", Some(&token), None).await.expect(200);
    // Default lifetime 15 minutes, leeway 10 seconds.
    app.clock.advance(chrono::Duration::seconds(15 * 60 + 11));
    let response = app.call("GET", "/v1/me", Some(&token), None).await;
    assert_eq!(response.status.as_u16(), 401);
    assert!(response.body["detail"].as_str().unwrap().contains("expired"));
}
