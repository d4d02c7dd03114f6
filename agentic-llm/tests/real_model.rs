//! The OpenAI and Anthropic adapters against a real model: llama.cpp serving SmolLM2-135M-Instruct
//! (`scripts/llm-server`, started by `scripts/test` and CI, which export `AGENTIC_TEST_LLM_URL`).
//!
//! Skips with a printed reason when the server is not configured, unless `AGENTIC_REQUIRE_BACKENDS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use agentic_core::llm::{ChatRequest, ChatResponse, LlmProvider, Message, StopReason, collect_stream};
use agentic_llm::{anthropic, openai};

fn server_url() -> Option<String> {
    match std::env::var("AGENTIC_TEST_LLM_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("AGENTIC_REQUIRE_BACKENDS").is_ok_and(|v| v == "1") => {
            panic!("AGENTIC_TEST_LLM_URL is unset but AGENTIC_REQUIRE_BACKENDS=1: start scripts/llm-server")
        }
        _ => {
            eprintln!("skipping: AGENTIC_TEST_LLM_URL is unset (run scripts/test to start the local model)");
            None
        }
    }
}

fn providers(url: &str) -> Vec<Arc<dyn LlmProvider>> {
    vec![
        Arc::new(openai::Client::builder().base_url(format!("{url}/v1")).name("llama.cpp").build().unwrap()),
        Arc::new(anthropic::Client::builder().base_url(url).build().unwrap()),
    ]
}

fn capital_question() -> ChatRequest {
    ChatRequest::new("smollm2-135m-instruct", vec![Message::user("What is the capital of France?")])
        .with_system("You are a helpful assistant.")
        .with_temperature(0.0)
        .with_max_tokens(48)
}

fn check(provider: &str, mode: &str, answer: &ChatResponse) {
    let what = format!("{provider} {mode}");
    assert!(!answer.text.trim().is_empty(), "{what}: empty text");
    assert!(answer.usage.output_tokens > 0, "{what}: {:?}", answer.usage);
    assert!(answer.usage.input_tokens + answer.usage.cached_input_tokens > 0, "{what}: {:?}", answer.usage);
    assert!(
        matches!(answer.stop_reason, StopReason::EndTurn | StopReason::MaxTokens | StopReason::StopSequence),
        "{what}: {:?}",
        answer.stop_reason
    );
    assert!(answer.text.contains("Paris"), "{what}: {:?}", answer.text);
}

#[tokio::test]
async fn openai_and_anthropic_adapters_talk_to_a_real_model() {
    let Some(url) = server_url() else { return };
    for provider in providers(&url) {
        let plain = provider.chat(capital_question()).await.unwrap();
        check(provider.name(), "plain", &plain);
        let streamed = collect_stream(provider.chat_stream(capital_question()).await.unwrap()).await.unwrap();
        check(provider.name(), "streaming", &streamed);
        // Greedy decoding is deterministic: both modes say the same thing.
        assert_eq!(plain.text.trim(), streamed.text.trim(), "{}", provider.name());
    }
}

#[tokio::test]
async fn max_tokens_is_respected_by_a_real_model() {
    let Some(url) = server_url() else { return };
    for provider in providers(&url) {
        let request =
            ChatRequest::new("any", vec![Message::user("Write a long story about the sea.")]).with_max_tokens(5);
        let answer = provider.chat(request).await.unwrap();
        assert_eq!(answer.stop_reason, StopReason::MaxTokens, "{}", provider.name());
        assert!(answer.usage.output_tokens <= 5, "{}: {:?}", provider.name(), answer.usage);
    }
}
