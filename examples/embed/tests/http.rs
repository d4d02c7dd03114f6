//! The embedding example over real HTTP: the host's routes and the platform's API side by side, and the host's
//! own tool named in a tenant agent's YAML and run in the tool loop.

use agentic_core::ExposeSecret;
use agentic_core::engine::BackgroundOptions;
use agentic_core::serde_json::{Value, json};
use agentic_example_embed::{app, default_tenant, platform, scripted_model};

const AGENT: &str = "name: Stock checker\nrole: Inventory assistant\ngoal: Answer stock questions\n\
                     backstory: Knows the warehouse.\ntools:\n  - inventory_lookup\nllm:\n  provider: mock\n  model: mock\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_app_serves_its_routes_beside_the_api_and_its_tool_runs_in_a_tenant_agent() {
    let model = scripted_model();
    let platform = platform(model.clone()).unwrap();
    let key = platform.bootstrap(default_tenant()).await.unwrap().unwrap().api_key.expose_secret().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let background = platform.spawn_background(BackgroundOptions::workers(1));
    assert_eq!(background.worker_names().len(), 1);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(agentic_core::http::serve(listener, app(&platform), async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();

    // The host's own /health and fallback, not the platform's.
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "host ok");
    let missing = http.get(format!("{base}/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await.unwrap(), "the host has no such page");
    let hello: Value = http.get(format!("{base}/hello")).send().await.unwrap().json().await.unwrap();
    assert_eq!(hello["hello"], "from the host app");

    // The API under the prefix, with the platform's problem documents, and an OpenAPI document that says where.
    let api = format!("{base}/agentic/v1");
    let unauthenticated = http.get(format!("{api}/me")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(unauthenticated.headers()["content-type"], "application/problem+json");
    let openapi: Value = http.get(format!("{base}/agentic/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(openapi["servers"][0]["url"], "/agentic");
    assert!(openapi["paths"]["/v1/me"].is_object() && openapi["paths"]["/health"].is_null(), "{openapi}");

    // The host's tool, named in a tenant agent's YAML, runs in the tool loop.
    let put = http
        .put(format!("{api}/agents/stock_checker"))
        .bearer_auth(&key)
        .header("content-type", "application/yaml")
        .body(AGENT)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
    let project: Value = http
        .post(format!("{api}/projects"))
        .bearer_auth(&key)
        .json(&json!({"name": "Shop"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = json!({"task": "Is SKU-1 in stock?", "project_id": project["id"], "wait": true});
    let done = http.post(format!("{api}/agents/stock_checker/execute")).bearer_auth(&key).json(&body).send().await;
    let done: Value = done.unwrap().json().await.unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output"]["answer"], "SKU-1 is in stock.");
    let step = &done["output"]["steps"][1];
    assert_eq!((step["type"].as_str(), step["name"].as_str()), (Some("tool_call"), Some("inventory_lookup")));
    assert_eq!(step["output"], json!({"sku": "SKU-1", "units": 12}), "{done}");
    assert_eq!(model.requests()[0].tools.len(), 1, "the model was offered the host's tool");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    background.shutdown().await;
}
