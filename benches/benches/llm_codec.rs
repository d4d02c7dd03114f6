//! Request encoding + response decoding per LLM adapter, for a ~1 KB exchange (target ≤ 20 µs).
//!
//! `cargo bench -p agentic-benches --bench llm_codec`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use agentic_core::llm::{ChatRequest, Message, ToolDefinition};
use agentic_llm::{anthropic, ollama, openai};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn request() -> ChatRequest {
    let report = "The checkout page times out when the cart has more than 50 items. ".repeat(8);
    ChatRequest::new(
        "claude-sonnet-4-20250514",
        vec![
            Message::user(format!("Triage this report and propose a fix:\n{report}")),
            Message::assistant("I will look at the cart service first."),
            Message::user("Go ahead."),
        ],
    )
    .with_system("You are a senior developer. Be concise.")
    .with_max_tokens(512)
    .with_temperature(0.2)
    .with_tool(ToolDefinition {
        name: "read_file".into(),
        description: "Read a file of the repository".into(),
        input_schema: json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
    })
}

fn answer_text() -> String {
    "The timeout comes from loading each cart item with its own query; batch them into one. ".repeat(11)
}

fn bench(c: &mut Criterion) {
    let request = request();
    let text = answer_text();
    let encoded = anthropic::encode_request(&request).unwrap();
    assert!((900..2000).contains(&encoded.len()), "request is {} bytes", encoded.len());

    let anthropic_body = serde_json::to_vec(&json!({"id": "msg_1", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-20250514", "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "usage": {"input_tokens": 310, "output_tokens": 240, "cache_read_input_tokens": 0}}))
    .unwrap();
    let openai_body = serde_json::to_vec(&json!({"id": "c1", "object": "chat.completion", "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 310, "completion_tokens": 240}}))
    .unwrap();
    let ollama_body =
        serde_json::to_vec(&json!({"model": "llama3.2", "message": {"role": "assistant", "content": text},
        "done": true, "done_reason": "stop", "prompt_eval_count": 310, "eval_count": 240}))
        .unwrap();

    let mut group = c.benchmark_group("llm_codec_1kb");
    group.bench_function("anthropic", |b| {
        b.iter(|| {
            black_box(anthropic::encode_request(black_box(&request)).unwrap());
            black_box(anthropic::decode_response(black_box(&anthropic_body)).unwrap());
        })
    });
    group.bench_function("openai", |b| {
        b.iter(|| {
            black_box(openai::encode_request(black_box(&request)).unwrap());
            black_box(openai::decode_response(black_box(&openai_body)).unwrap());
        })
    });
    group.bench_function("ollama", |b| {
        b.iter(|| {
            black_box(ollama::encode_request(black_box(&request)).unwrap());
            black_box(ollama::decode_response(black_box(&ollama_body)).unwrap());
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
