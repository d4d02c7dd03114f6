//! # A host app that embeds the agentic platform
//!
//! The pattern to copy when the platform is one part of a bigger axum app:
//!
//! 1. Build a [`Platform`] with a store, one LLM provider
//!    ([`PlatformBuilder::llm`](agentic_core::PlatformBuilder::llm)) and the host's own tool
//!    ([`PlatformBuilder::tool`](agentic_core::PlatformBuilder::tool)); a tenant's agent YAML can then name that tool.
//! 2. Merge the platform's `/v1` API into the host's router under a prefix ([`Platform::api_router`]; it has no
//!    root routes and no fallback, so the host keeps its own `/health` and 404s), and serve its OpenAPI document
//!    with the prefix as its server ([`Platform::api_openapi`]).
//! 3. Start the workers and upkeep with [`Platform::spawn_background`], serve with [`agentic_core::http::serve`]
//!    (which passes the peer address the per-IP limit needs), and shut the background down after the server.
//!
//! `src/main.rs` runs it (`cargo run -p agentic-example-embed`); `tests/http.rs` drives it over HTTP.

use std::sync::Arc;

use agentic_core::axum::routing::get;
use agentic_core::axum::{Json, Router};
use agentic_core::engine::Bootstrap;
use agentic_core::llm::{ChatRequest, LlmProvider, Message};
use agentic_core::model::Plan;
use agentic_core::serde_json::{Value, json};
use agentic_core::tools::{Tool, ToolContext, ToolError};
use agentic_core::{Platform, SecretString};
use agentic_llm::mock::{MockProvider, MockReply};
use agentic_store_memory::MemoryStore;

/// Where the host mounts the platform's API.
pub const API_PREFIX: &str = "/agentic";

/// The host's own tool: looks up stock in the host's inventory (a fixed table here).
#[derive(Debug)]
pub struct InventoryLookup;

#[agentic_core::async_trait]
impl Tool for InventoryLookup {
    fn name(&self) -> &str {
        "inventory_lookup"
    }

    fn description(&self) -> &str {
        "Returns how many units of a product (by SKU) are in stock."
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]})
    }

    async fn call(&self, _context: &ToolContext, input: Value) -> Result<Value, ToolError> {
        let sku = input["sku"].as_str().ok_or_else(|| ToolError::InvalidInput("`sku` is required".into()))?;
        let units = match sku {
            "SKU-1" => 12,
            "SKU-2" => 0,
            _ => return Err(ToolError::InvalidInput(format!("no product `{sku}`"))),
        };
        Ok(json!({"sku": sku, "units": units}))
    }
}

/// A stand-in for a real model: it looks up `SKU-1` first, and answers once it has the tool's result. A host app
/// passes its provider instead (e.g. `agentic_llm::providers::OpenAiCompatible`).
pub fn scripted_model() -> Arc<MockProvider> {
    let has_tool_result = |request: &ChatRequest| request.messages.iter().any(|m| matches!(m, Message::Tool { .. }));
    Arc::new(
        MockProvider::new()
            .when(has_tool_result, MockReply::text("SKU-1 is in stock."))
            .when(|_| true, MockReply::tool_call("inventory_lookup", json!({"sku": "SKU-1"}))),
    )
}

/// The platform: memory store, one model for every agent, and the host's tool besides the built-in ones it
/// chooses (none here).
pub fn platform(model: Arc<dyn LlmProvider>) -> Result<Platform, agentic_core::Error> {
    Platform::builder().store(Arc::new(MemoryStore::new())).llm(model).tool(Arc::new(InventoryLookup)).build()
}

/// Tenant `default` with its admin, for an empty store (the admin's API key is generated and returned once).
pub fn default_tenant() -> Bootstrap {
    Bootstrap {
        slug: "default".into(),
        plan: Plan::Enterprise,
        admin_email: "admin@example.com".into(),
        admin_password: SecretString::from("embedded admin password"),
        api_key: None,
    }
}

/// The host's router: its own routes, the platform's API under [`API_PREFIX`] with its OpenAPI document there,
/// and the host's own fallback.
pub fn app(platform: &Platform) -> Router {
    let openapi = Json(platform.api_openapi(API_PREFIX));
    let api = platform.api_router().route("/openapi.json", get(move || async move { openapi.clone() }));
    Router::new()
        .route("/health", get(|| async { "host ok" }))
        .route("/hello", get(|| async { Json(json!({"hello": "from the host app"})) }))
        .nest(API_PREFIX, api)
        .fallback(|| async { (agentic_core::axum::http::StatusCode::NOT_FOUND, "the host has no such page") })
}
