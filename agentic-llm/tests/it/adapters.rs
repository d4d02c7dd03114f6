//! Each adapter: plain reply, tool round trip, streaming, 429/500 retried, 401 not retried, malformed JSON.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentic_core::llm::{
    ChatRequest, LlmError, LlmProvider, Message, StopReason, ToolCall, ToolDefinition, collect_stream,
};
use agentic_llm::retry::{Retry, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::shapes::{Shape, all};

fn question() -> ChatRequest {
    ChatRequest::new("test-model", vec![Message::user("What is the capital of France?")]).with_max_tokens(256)
}

async fn server_with(shape: &Shape, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(shape.path)).respond_with(response).mount(&server).await;
    server
}

fn retrying(provider: Arc<dyn LlmProvider>, max_retry_after: Duration) -> Retry {
    Retry::new(
        provider,
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_retry_after,
        },
    )
}

#[tokio::test]
async fn plain_replies_parse_text_stop_reason_and_exact_usage() {
    for shape in all() {
        let server = server_with(&shape, ResponseTemplate::new(200).set_body_json(&shape.plain)).await;
        let answer = (shape.make)(&server.uri()).chat(question()).await.unwrap();
        assert_eq!(answer.text, "Paris is the capital of France.", "{}", shape.name);
        assert_eq!(answer.stop_reason, StopReason::EndTurn, "{}", shape.name);
        assert_eq!(answer.usage, shape.plain_usage, "{}", shape.name);
        assert!(answer.tool_calls.is_empty());
        assert!(!answer.model.is_empty());
    }
}

#[tokio::test]
async fn tool_calls_round_trip() {
    let call = ToolCall { id: "toolu_01A".into(), name: "get_weather".into(), arguments: json!({"city": "Paris"}) };
    let request = ChatRequest::new(
        "test-model",
        vec![
            Message::user("Weather in Paris?"),
            Message::Assistant { content: String::new(), tool_calls: vec![call.clone()] },
            Message::tool_result(&call, "{\"temp_c\":18}"),
        ],
    )
    .with_system("You check the weather.")
    .with_max_tokens(256)
    .with_tool(ToolDefinition {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        input_schema: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    });
    for shape in all() {
        let server = server_with(&shape, ResponseTemplate::new(200).set_body_json(&shape.tool)).await;
        let answer = (shape.make)(&server.uri()).chat(request.clone()).await.unwrap();
        assert_eq!(answer.stop_reason, StopReason::ToolUse, "{}", shape.name);
        assert_eq!(answer.tool_calls.len(), 1, "{}", shape.name);
        assert_eq!(answer.tool_calls[0].name, "get_weather");
        assert_eq!(answer.tool_calls[0].arguments, json!({"city": "Paris"}), "{}", shape.name);
        assert_eq!(answer.text, "Let me check.");
        let sent: Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
        (shape.check_tool_request)(&sent);
    }
}

#[tokio::test]
async fn streams_reassemble_text_tool_calls_and_final_usage() {
    for shape in all() {
        let response = ResponseTemplate::new(200).set_body_raw(shape.stream.clone(), shape.stream_content_type);
        let server = server_with(&shape, response).await;
        let stream = (shape.make)(&server.uri()).chat_stream(question()).await.unwrap();
        let answer = collect_stream(stream).await.unwrap();
        assert_eq!(answer.text, "Paris is the capital.", "{}", shape.name);
        assert_eq!(answer.tool_calls.len(), 1, "{}", shape.name);
        assert_eq!(answer.tool_calls[0].arguments, json!({"city": "Paris"}), "{}", shape.name);
        assert_eq!(answer.stop_reason, StopReason::ToolUse, "{}", shape.name);
        assert_eq!(answer.usage, shape.stream_usage, "{}", shape.name);
        let sent: Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
        assert_eq!(sent["stream"], true, "{}", shape.name);
        if shape.name == "openai" {
            assert_eq!(sent["stream_options"]["include_usage"], true);
        }
    }
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_asked_wait() {
    for shape in all() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(shape.path))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "1")
                    .set_body_json(json!({"error": {"message": "slow down"}})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(shape.path))
            .respond_with(ResponseTemplate::new(200).set_body_json(&shape.plain))
            .mount(&server)
            .await;
        let started = Instant::now();
        let answer = retrying((shape.make)(&server.uri()), Duration::from_secs(5)).chat(question()).await.unwrap();
        let waited = started.elapsed();
        assert_eq!(answer.usage, shape.plain_usage);
        assert!(waited >= Duration::from_secs(1), "{}: Retry-After not honoured ({waited:?})", shape.name);
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn a_huge_retry_after_is_bounded() {
    let shape = &all()[0];
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(shape.path))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(shape.path))
        .respond_with(ResponseTemplate::new(200).set_body_json(&shape.plain))
        .mount(&server)
        .await;
    let started = Instant::now();
    retrying((shape.make)(&server.uri()), Duration::from_millis(200)).chat(question()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn server_errors_are_retried() {
    for shape in all() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(shape.path))
            .respond_with(ResponseTemplate::new(500).set_body_string("internal error"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(shape.path))
            .respond_with(ResponseTemplate::new(200).set_body_json(&shape.plain))
            .mount(&server)
            .await;
        let answer = retrying((shape.make)(&server.uri()), Duration::from_secs(1)).chat(question()).await.unwrap();
        assert_eq!(answer.text, "Paris is the capital of France.", "{}", shape.name);
        assert_eq!(server.received_requests().await.unwrap().len(), 2, "{}", shape.name);
    }
}

#[tokio::test]
async fn refused_credentials_are_not_retried() {
    for shape in all() {
        let body = json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}});
        let server = server_with(&shape, ResponseTemplate::new(401).set_body_json(body)).await;
        let error = retrying((shape.make)(&server.uri()), Duration::from_secs(1)).chat(question()).await.unwrap_err();
        match error {
            LlmError::Auth { status: 401, message } => assert_eq!(message, "invalid x-api-key", "{}", shape.name),
            other => panic!("{}: expected Auth, got {other:?}", shape.name),
        }
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{}", shape.name);
    }
}

#[tokio::test]
async fn malformed_json_is_a_bad_response_with_an_excerpt() {
    for shape in all() {
        let server =
            server_with(&shape, ResponseTemplate::new(200).set_body_raw("{\"content\": [oops", "application/json"))
                .await;
        match (shape.make)(&server.uri()).chat(question()).await.unwrap_err() {
            LlmError::BadResponse { excerpt, .. } => assert!(excerpt.contains("[oops"), "{}: {excerpt}", shape.name),
            other => panic!("{}: expected BadResponse, got {other:?}", shape.name),
        }
    }
}

#[tokio::test]
async fn harmless_omissions_are_tolerated() {
    // No finish_reason, no usage, extra fields: still a valid answer.
    let body = json!({"choices": [{"message": {"content": "ok", "extra": 1}}], "something_new": true});
    let shape = &all()[1];
    let server = server_with(shape, ResponseTemplate::new(200).set_body_json(body)).await;
    let answer = (shape.make)(&server.uri()).chat(question()).await.unwrap();
    assert_eq!(answer.text, "ok");
    assert_eq!(answer.stop_reason, StopReason::EndTurn);
    assert_eq!(answer.usage.output_tokens, 0);
    // But an answer with no choice at all is not.
    let server = server_with(shape, ResponseTemplate::new(200).set_body_json(json!({"choices": []}))).await;
    assert!(matches!((shape.make)(&server.uri()).chat(question()).await, Err(LlmError::BadResponse { .. })));
}

#[tokio::test]
async fn context_overflow_is_typed() {
    let shape = &all()[0];
    let body = json!({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 250000 tokens > 200000 maximum"}});
    let server = server_with(shape, ResponseTemplate::new(400).set_body_json(body)).await;
    assert!(matches!((shape.make)(&server.uri()).chat(question()).await, Err(LlmError::ContextTooLong { .. })));
}

#[tokio::test]
async fn anthropic_sends_its_headers() {
    let shape = &all()[0];
    let server = server_with(shape, ResponseTemplate::new(200).set_body_json(&shape.plain)).await;
    (shape.make)(&server.uri()).chat(question()).await.unwrap();
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.headers.get("x-api-key").unwrap(), "sk-ant-test");
    assert_eq!(request.headers.get("anthropic-version").unwrap(), "2023-06-01");
}
