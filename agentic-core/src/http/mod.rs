//! HTTP API v1 (feature `http`): axum handlers over the engine, with an OpenAPI 3.1 document.
//!
//! [`router`] assembles everything a standalone server serves; [`api_router`] is only the `/v1` API, for a host
//! app to merge into its own router (described by [`api_openapi`]); [`serve`] serves either with the peer address
//! the per-IP limit needs. [`router`] holds: public routes (health, login, tenant creation), routes behind the
//! [`AuthLayer`](crate::http::layer::auth::AuthLayer), `/openapi.json`, the docs UI at `/docs` (Swagger UI served
//! from the binary under [`DOCS_CONTENT_SECURITY_POLICY`]), `/metrics`, and the cross-cutting layers (body limit,
//! request id, tracing, metrics, panic catching). [`layer`] holds the tower layers of our own (authentication, rate
//! limits), which render their refusals with [`problem`].

mod docs;
mod document;
pub mod extract;
pub mod layer;
mod observe;
pub mod problem;
mod router;
mod serve;
mod trace;
mod v1;

pub use docs::DOCS_CONTENT_SECURITY_POLICY;
pub use router::{api_openapi, api_router, metrics_router, openapi, platform_layers, router};
pub use serve::serve;
