//! The API docs UI at `/docs`: Swagger UI, whose files are compiled into the binary (utoipa-swagger-ui's `vendored`
//! feature takes them from a crate, with nothing downloaded at build time) and served under a
//! Content-Security-Policy that lets a page load only from our own origin, so the docs work offline and behind a
//! strict proxy. `/docs` redirects to `/docs/`; the UI reads the document at `/openapi.json`.

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// The policy of every docs response: scripts, styles, fonts and requests ("Try it out") from our origin only;
/// images also as `data:` URLs, which Swagger UI's stylesheet draws its icons with (inline, not a remote load); no
/// plugins, frames, forms or `<base>`. Swagger UI adds one `<style>` element of its own at run time: it is allowed
/// by its hash, so no other inline style is (`tests/browser.rs` in the reference server sees the browser refuse
/// nothing, and would fail if a new Swagger UI changed it).
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/docs`, `/docs/` and the UI's files, describing the document at `openapi_url`.
pub(super) fn docs_routes<S: Clone + Send + Sync + 'static>(openapi_url: &'static str) -> Router<S> {
    // No validator: Swagger UI would otherwise show a badge fetched from validator.swagger.io.
    let config = Config::new([openapi_url]).validator_url("none").try_it_out_enabled(true);
    Router::from(SwaggerUi::new("/docs").config(config)).layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
    ))
}
