//! Authentication as a tower [`Layer`](tower::Layer).
//!
//! [`AuthLayer`] reads `Authorization: Bearer …`, asks an [`Authenticator`](crate::auth::Authenticator) for a
//! [`Principal`](crate::auth::Principal), and puts it in the request's extensions for the inner service (axum
//! handlers take it as an extractor). A refused credential is answered with a 401 problem response — not an
//! error, which would drop the connection — and never reaches the inner service.
//!
//! ```
//! use agentic_core::auth::Principal;
//! use agentic_core::http::layer::auth::AuthLayer;
//! use agentic_core::Platform;
//! use axum::{Router, routing::get};
//!
//! fn host_routes(platform: &Platform) -> Router {
//!     Router::new()
//!         .route("/reports", get(|principal: Principal| async move { principal.tenant_id.to_string() }))
//!         .layer(AuthLayer::new(platform.authenticator()))
//! }
//! ```

mod layer;
mod service;

pub use layer::AuthLayer;
pub use service::{Authenticate, bearer_token};
