//! Runs the embedding example on 127.0.0.1:9100 (or the address given as the first argument) until Ctrl-C.

use agentic_core::ExposeSecret;
use agentic_core::engine::BackgroundOptions;
use agentic_example_embed::{API_PREFIX, app, default_tenant, platform, scripted_model};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let platform = platform(scripted_model())?;
    if let Some(report) = platform.bootstrap(default_tenant()).await? {
        println!("admin API key (shown once): {}", report.api_key.expose_secret());
    }
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9100".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("host app on http://{}; the platform's API under {API_PREFIX}/v1", listener.local_addr()?);
    let background = platform.spawn_background(BackgroundOptions::default());
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let served = agentic_core::http::serve(listener, app(&platform), shutdown).await;
    background.shutdown().await;
    Ok(served?)
}
