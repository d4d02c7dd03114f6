//! # agentic-core
//!
//! The heart of the agentic platform: domain types, the store and authentication traits, the engine that enforces
//! tenant scope and RBAC, tower layers, and (feature `http`, on by default) the axum HTTP API with its OpenAPI
//! document. Backends live in their own crates (`agentic-store-memory`, `agentic-store-postgres`); a host app picks
//! one, builds a [`Platform`], and serves [`Platform::router`] or calls the engine directly.
//!
//! ```
//! use std::sync::Arc;
//! use agentic_core::{Platform, engine::Bootstrap, model::Plan};
//! use agentic_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), agentic_core::Error> {
//! let platform = Platform::builder().store(Arc::new(MemoryStore::new())).build()?;
//! let created = platform
//!     .bootstrap(Bootstrap {
//!         slug: "default".into(),
//!         plan: Plan::Enterprise,
//!         admin_email: "admin@example.com".into(),
//!         admin_password: "a long enough password".into(),
//!         api_key: None,
//!     })
//!     .await?
//!     .expect("an empty store is bootstrapped");
//! assert_eq!(created.tenant.slug.as_str(), "default");
//! # #[cfg(feature = "http")]
//! let _app: axum::Router = platform.router(); // serve with axum::serve
//! # Ok(())
//! # }
//! ```
//!
//! Map of the crate: [`model`] (domain types), [`store`] (backend traits), [`auth`] (credentials → [`auth::Principal`]),
//! [`engine`] (the operations, as methods on [`Platform`]), [`pricing`] (prices per model), [`api`]
//! (request/response bodies), [`http`] (feature `http`: the tower layers and the axum API), `testing` (feature
//! `testing`: the backend conformance suite).

pub mod agents;
pub mod api;
pub mod auth;
pub mod clock;
pub mod engine;
mod error;
pub mod events;
pub mod framing;
pub mod ids;
pub mod knowledge;
pub mod limit;
pub mod llm;
pub mod metrics;
pub mod model;
mod platform;
pub mod pricing;
pub mod retry_after;
pub mod store;
pub mod telemetry;
pub mod tools;
pub mod webhooks;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result};

/// Re-exported so a host app's `Cargo.toml` needs only our crates and tokio: `#[agentic_core::async_trait]` on
/// its own tools and stores.
pub use async_trait::async_trait;
/// Re-exported for host apps that serve the platform's routers (the version our routers are built with).
#[cfg(feature = "http")]
pub use axum;
pub use platform::{HttpLimits, MIN_MASTER_KEY_LEN, Platform, PlatformBuilder};
/// The secret types our APIs take and return (API keys, passwords): `.expose_secret()` reads one.
pub use secrecy::{ExposeSecret, SecretString};
/// Re-exported: tools take and return JSON values.
pub use serde_json;
/// Re-exported for the OpenAPI document types ([`http::api_openapi`] with feature `http`).
pub use utoipa;

#[cfg(feature = "http")]
impl Platform {
    /// The complete HTTP API of this platform (see [`http::router`]).
    pub fn router(&self) -> axum::Router {
        http::router(self.clone())
    }

    /// Only the `/v1` API, to merge into a host app's router (see [`http::api_router`]).
    pub fn api_router(&self) -> axum::Router {
        http::api_router(self.clone())
    }

    /// The OpenAPI document of [`api_router`](Self::api_router) mounted under `prefix` (see [`http::api_openapi`]).
    pub fn api_openapi(&self, prefix: &str) -> utoipa::openapi::OpenApi {
        http::api_openapi(self, prefix)
    }

    /// `/metrics` on its own router, to serve on a separate (private) address (see [`http::metrics_router`]).
    pub fn metrics_router(&self) -> axum::Router {
        http::metrics_router(self.clone())
    }
}

/// `docs/testing.md`'s Rust snippets, compiled and run with the doctests so that the testing guide stays true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/testing.md")]
pub struct TestingGuide;
