//! An OpenAI-compatible chat completions server that answers at once, for the run-path harness
//! (`scripts/run-path-bench`): every `POST /v1/chat/completions` gets a short final answer naming the model it was
//! asked for, with token usage, so the platform prices and settles it as it would a real provider's.
//!
//! `mock-upstream 127.0.0.1:0` prints `listening on <addr>` once it accepts connections.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The answer to any chat request: the model echoed, a fixed text, fixed usage.
async fn complete(Json(request): Json<Value>) -> Json<Value> {
    let model = request.get("model").and_then(Value::as_str).unwrap_or("mock");
    Json(json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Done: the change is reviewed and nothing needs fixing."},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 120, "completion_tokens": 14, "total_tokens": 134}
    }))
}

fn main() -> ExitCode {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mock-upstream: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&addr).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("mock-upstream: cannot listen on {addr}: {error}");
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(local) => println!("listening on {local}"),
            Err(error) => {
                eprintln!("mock-upstream: {error}");
                return ExitCode::FAILURE;
            }
        }
        let app = axum::Router::new().route("/v1/chat/completions", post(complete));
        match axum::serve(listener, app).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("mock-upstream: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
