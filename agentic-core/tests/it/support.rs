//! A platform on the memory store with a manual clock, driven in-process through its router.

use std::sync::Arc;

use agentic_core::auth::jwt::{JwtSettings, KeyPair};
use agentic_core::clock::ManualClock;
use agentic_core::engine::Bootstrap;
use agentic_core::events::MemoryEventSink;
use agentic_core::model::Plan;
use agentic_core::store::Store;
use agentic_core::{Platform, PlatformBuilder};
use agentic_store_memory::MemoryStore;
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::{TestDatabase, database_url};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const MASTER_KEY: &str = "master-key-for-tests-0123456789abcdef";
pub const ADMIN_PASSWORD: &str = "admin password 123";
pub const HS_SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

/// Which store the platform runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Postgres,
}

pub struct TestApp {
    pub platform: Platform,
    pub router: axum::Router,
    /// The memory store, when on [`Backend::Memory`] (tests inspect its state).
    pub memory: Option<MemoryStore>,
    pub clock: ManualClock,
    pub admin_key: String,
    /// Every event the platform published (each checked against its type's schema when read).
    pub events: Events,
    /// Keeps the test database alive as long as the app.
    #[allow(dead_code)]
    pub database: Option<TestDatabase>,
}

/// The events a test's platform published; reading them checks that every one matches its type's data schema.
#[derive(Clone, Debug)]
pub struct Events(MemoryEventSink);

impl Events {
    /// The events of type `kind`, after checking every event published so far against its schema.
    #[track_caller]
    pub fn of_kind(&self, kind: &str) -> Vec<agentic_core::events::Event> {
        for event in self.0.events() {
            assert!(event.kind.data_matches(&event.data), "{} does not match its schema: {}", event.kind, event.data);
        }
        self.0.of_kind(kind)
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Response {
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(|b| b.jwt_key(KeyPair::hs256("hs-1", HS_SECRET).unwrap())).await
    }

    pub async fn with(configure: impl FnOnce(PlatformBuilder) -> PlatformBuilder) -> Self {
        Self::build(true, configure).await
    }

    pub async fn build(master_key: bool, configure: impl FnOnce(PlatformBuilder) -> PlatformBuilder) -> Self {
        Self::build_on(Backend::Memory, master_key, configure).await.expect("the memory backend is always available")
    }

    /// A platform on `backend` with the default keys; `None` (test skipped, reason printed) when the backend's
    /// service is not configured.
    pub async fn on(backend: Backend) -> Option<Self> {
        Self::build_on(backend, true, |b| b.jwt_key(KeyPair::hs256("hs-1", HS_SECRET).unwrap())).await
    }

    pub async fn build_on(
        backend: Backend,
        master_key: bool,
        configure: impl FnOnce(PlatformBuilder) -> PlatformBuilder,
    ) -> Option<Self> {
        let (store, memory, database): (Arc<dyn Store>, _, _) = match backend {
            Backend::Memory => {
                let memory = MemoryStore::new();
                (Arc::new(memory.clone()), Some(memory), None)
            }
            Backend::Postgres => {
                let url = database_url()?;
                let database = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
                (Arc::new(database.store.clone()), None, Some(database))
            }
        };
        let clock = ManualClock::new(chrono::Utc::now());
        let events = Events(MemoryEventSink::new());
        let mut builder = Platform::builder()
            .store(store)
            .clock(Arc::new(clock.clone()))
            .event_sink(Arc::new(events.0.clone()))
            .tools(builtin_tools())
            .jwt_settings(JwtSettings::default());
        if master_key {
            builder = builder.master_key(MASTER_KEY.into());
        }
        let platform = configure(builder).build().unwrap();
        let report = platform
            .bootstrap(Bootstrap {
                slug: "acme".into(),
                plan: Plan::Enterprise,
                admin_email: "admin@acme.test".into(),
                admin_password: ADMIN_PASSWORD.into(),
                api_key: None,
            })
            .await
            .unwrap()
            .unwrap();
        let admin_key = secrecy::ExposeSecret::expose_secret(&report.api_key).to_owned();
        let router = platform.router();
        Some(Self { platform, router, memory, clock, admin_key, events, database })
    }

    /// The same app (store, clock, events) with `mock` as every LLM provider.
    pub fn with_llm(self, mock: impl Into<Arc<agentic_llm::mock::MockProvider>>) -> Self {
        self.with_llm_and(mock, |b| b)
    }

    /// [`with_llm`](Self::with_llm), with more builder settings.
    pub fn with_llm_and(
        self,
        mock: impl Into<Arc<agentic_llm::mock::MockProvider>>,
        configure: impl FnOnce(PlatformBuilder) -> PlatformBuilder,
    ) -> Self {
        let registry = agentic_llm::registry::ProviderRegistry::mock_only(mock.into());
        let platform = Platform::builder()
            .store(Arc::clone(self.platform.store()))
            .clock(Arc::new(self.clock.clone()))
            .llm_providers(Arc::new(registry))
            .jwt_key(KeyPair::hs256("hs-1", HS_SECRET).unwrap())
            .master_key(MASTER_KEY.into())
            .tools(builtin_tools())
            .event_sink(Arc::new(self.events.0.clone()));
        let platform = configure(platform).build().unwrap();
        Self { router: platform.router(), platform, ..self }
    }

    pub async fn call(&self, method: &str, path: &str, bearer: Option<&str>, body: Option<Value>) -> Response {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(bearer) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&body).unwrap())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{status}: {body}");
            assert_eq!(body["status"].as_u64(), Some(u64::from(status.as_u16())), "{body}");
            assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
            // Every problem is one of the catalogue's types, with the catalogue's status and title.
            let kind = body["type"].as_str().and_then(agentic_core::api::ProblemType::from_uri);
            let kind = kind.unwrap_or_else(|| panic!("uncatalogued problem type: {body}"));
            assert_eq!((kind.status(), body["title"].as_str()), (status.as_u16(), Some(kind.title())), "{body}");
        }
        Response { status, headers, body }
    }

    /// The events of type `kind` the sink got, after relaying every stored event (as the background relay would)
    /// and checking each against its type's schema.
    pub async fn events_of(&self, kind: &str) -> Vec<agentic_core::events::Event> {
        self.platform.relay_events().await.unwrap();
        self.events.of_kind(kind)
    }

    /// Adds or overrides the tenant's agent `name` from YAML, as the admin.
    pub async fn put_agent(&self, name: &str, yaml: &str) {
        let request = Request::put(format!("/v1/agents/{name}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.admin_key))
            .header(header::CONTENT_TYPE, "application/yaml")
            .body(Body::from(yaml.to_owned()))
            .unwrap();
        let response = self.send(request).await;
        assert!(matches!(response.status.as_u16(), 200 | 201), "{}: {}", response.status, response.body);
    }

    /// Creates a user with `roles` through the API (as the admin) and signs in as them.
    pub async fn user(&self, email: &str, roles: &[&str]) -> (String, String) {
        let user = self
            .call(
                "POST",
                "/v1/users",
                Some(&self.admin_key),
                Some(json!({"email": email, "password": "user password 123", "roles": roles})),
            )
            .await
            .expect(201);
        let token = self.login("acme", email, "user password 123").await;
        (user["id"].as_str().unwrap().to_owned(), token)
    }

    pub async fn login(&self, tenant: &str, email: &str, password: &str) -> String {
        let body = self
            .call("POST", "/v1/auth/login", None, Some(json!({"tenant": tenant, "email": email, "password": password})))
            .await
            .expect(200);
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates an API key as `bearer` and returns (id, text).
    pub async fn api_key(&self, bearer: &str, scopes: &[&str]) -> (String, String) {
        let body = self
            .call("POST", "/v1/api-keys", Some(bearer), Some(json!({"name": "k", "scopes": scopes})))
            .await
            .expect(201);
        (body["api_key"]["id"].as_str().unwrap().to_owned(), body["key"].as_str().unwrap().to_owned())
    }

    /// Creates a second tenant with the master key and returns (tenant id, admin token).
    pub async fn second_tenant(&self, slug: &str) -> (String, String) {
        let body = self
            .call(
                "POST",
                "/v1/tenants",
                Some(MASTER_KEY),
                Some(json!({"name": "Other", "slug": slug, "plan": "developer",
                    "admin_email": "boss@other.test", "admin_password": "other password 123"})),
            )
            .await
            .expect(201);
        let token = self.login(slug, "boss@other.test", "other password 123").await;
        (body["tenant"]["id"].as_str().unwrap().to_owned(), token)
    }
}

/// Runs an async test body once per backend: `both_backends!(name, body_fn)` makes `name::memory` and
/// `name::postgres` (which skips with a printed reason when PostgreSQL is not configured).
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                let app = $crate::support::TestApp::on($crate::support::Backend::Memory).await.unwrap();
                super::$body(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::on($crate::support::Backend::Postgres).await {
                    super::$body(app).await;
                }
            }
        }
    };
}

/// The built-in tools of `agentic-tools`, as the reference server registers them.
pub fn builtin_tools() -> agentic_core::tools::ToolRegistry {
    agentic_core::tools::ToolRegistry::new().extend(agentic_tools::builtin_tools())
}
