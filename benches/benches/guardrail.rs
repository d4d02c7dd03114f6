//! The outgoing guardrail's cost per call: `screen` with `agentic_tools::PromptGuard` over an agent's request (a
//! pasted 8 KB file and a few turns), next to what every call already pays for the same request, its encoding for
//! the OpenAI-compatible API. Clean text (the common case) and text with a key and an address to redact.
//!
//! `cargo bench -p agentic-benches --bench guardrail`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use agentic_core::llm::{ChatRequest, Message, PromptScanner, screen};
use agentic_llm::openai;
use criterion::{Criterion, criterion_group, criterion_main};

fn request(pasted: &str) -> ChatRequest {
    ChatRequest::new(
        "gpt-4.1-nano",
        vec![
            Message::user(format!("Review this file and list what to fix:\n{pasted}")),
            Message::assistant("I will start with the database layer."),
            Message::user("Go ahead, and keep it short."),
        ],
    )
    .with_system("You are Security Auditor, Application Security Specialist. Your goal: find and fix vulnerabilities.")
}

fn source(with_secrets: bool) -> String {
    let mut text = String::new();
    for n in 0..120 {
        text.push_str(&format!(
            "def handler_{n}(request):\n    return render(request, 'page_{n}.html', {{'n': {n}}})\n"
        ));
    }
    if with_secrets {
        text.push_str("AWS_KEY = 'AKIAIOSFODNN7EXAMPLE'\nOWNER = 'ops@acme.example'\n");
    }
    text
}

fn bench(c: &mut Criterion) {
    let guard = agentic_tools::PromptGuard::new();
    let clean = request(&source(false));
    let dirty = request(&source(true));
    let size = openai::encode_request(&clean).unwrap().len();
    assert!((7_000..12_000).contains(&size), "the request is {size} bytes");
    assert!(guard.scan(&source(false)).is_empty(), "the clean text has no finding");

    let mut group = c.benchmark_group("guardrail_8kb_request");
    group.bench_function("encode_openai (the baseline every call pays)", |b| {
        b.iter(|| black_box(openai::encode_request(black_box(&clean)).unwrap()))
    });
    group.bench_function("screen_clean", |b| {
        b.iter_batched(
            || clean.clone(),
            |mut r| black_box(screen(&guard, &mut r, true)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("screen_and_redact", |b| {
        b.iter_batched(
            || dirty.clone(),
            |mut r| black_box(screen(&guard, &mut r, true)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
