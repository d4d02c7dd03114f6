//! Authentication hot paths: JWT verification, API key verification, and one authenticated request through the
//! full tower stack in-process (no socket).
//!
//! `cargo bench -p agentic-benches --bench auth`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use agentic_core::Platform;
use agentic_core::auth::api_key;
use agentic_core::auth::jwt::{JwtCodec, JwtSettings, KeyPair};
use agentic_core::ids::{TenantId, UserId};
use agentic_core::model::Role;
use agentic_store_memory::MemoryStore;
use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::ExposeSecret;
use tower::ServiceExt;

fn jwt_verify(c: &mut Criterion) {
    let codec = JwtCodec::new(JwtSettings::default(), KeyPair::hs256("k1", &[42; 32]).unwrap(), vec![]).unwrap();
    let now = chrono::Utc::now();
    let issued = codec.issue(TenantId::new(), UserId::new(), &[Role::Developer], now).unwrap();
    let token = issued.token.expose_secret().to_owned();
    c.bench_function("jwt_hs256_verify", |b| b.iter(|| codec.verify(black_box(&token), now).unwrap()));
}

fn api_key_verify(c: &mut Criterion) {
    let material = api_key::generate().unwrap();
    let text = material.plaintext.expose_secret().to_owned();
    c.bench_function("api_key_verify", |b| {
        b.iter(|| {
            let lookup = api_key::lookup_of(black_box(&text)).unwrap();
            assert_eq!(lookup.len(), api_key::LOOKUP_LEN);
            assert!(api_key::verify(black_box(&text), &material.hash));
        })
    });
}

fn full_stack(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (router, key) = runtime.block_on(async {
        let platform = Platform::builder().store(Arc::new(MemoryStore::new())).build().unwrap();
        let report = agentic_benches::bootstrap(&platform).await.unwrap();
        (platform.router(), report.api_key.expose_secret().to_owned())
    });
    let bearer = format!("Bearer {key}");
    c.bench_function("authenticated_request_full_stack", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = Request::get("/v1/me").header("authorization", bearer.as_str()).body(Body::empty()).unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
            black_box(response);
        })
    });
}

criterion_group!(benches, jwt_verify, api_key_verify, full_stack);
criterion_main!(benches);
