//! Answers in a form: each adapter sends the form in its provider's native way and reads the answer back as the
//! form's JSON (recorded response shapes).

use agentic_core::llm::{ChatRequest, Message, OutputSchema, StopReason, ToolDefinition, collect_stream};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::shapes::all;

fn verdict() -> OutputSchema {
    OutputSchema::new(
        "review_verdict",
        json!({
            "type": "object",
            "properties": {"approved": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}}},
            "required": ["approved", "reasons"],
            "additionalProperties": false
        }),
    )
}

fn ask() -> ChatRequest {
    ChatRequest::new("test-model", vec![Message::user("Review this change.")])
        .with_max_tokens(256)
        .with_output_schema(verdict())
}

const ANSWER: &str = r#"{"approved":false,"reasons":["no tests"]}"#;

/// What each provider answers to a request with a form, as recorded.
fn recorded(provider: &str) -> Value {
    match provider {
        "anthropic" => json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "review_verdict",
                "input": {"approved": false, "reasons": ["no tests"]}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 30, "output_tokens": 12}}),
        "openai" => json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}}),
        _ => json!({"model": "llama3.2", "created_at": "2026-12-05T10:00:00Z",
            "message": {"role": "assistant", "content": ANSWER}, "done": true, "done_reason": "stop",
            "prompt_eval_count": 30, "eval_count": 12}),
    }
}

#[tokio::test]
async fn each_adapter_asks_for_the_form_natively_and_answers_in_it() {
    for shape in all() {
        let server = MockServer::start().await;
        let response = ResponseTemplate::new(200).set_body_json(recorded(shape.name));
        Mock::given(method("POST")).and(path(shape.path)).respond_with(response).mount(&server).await;
        let answer = (shape.make)(&server.uri()).chat(ask()).await.unwrap();
        assert_eq!(answer.stop_reason, StopReason::EndTurn, "{}", shape.name);
        assert!(answer.tool_calls.is_empty(), "{}: the form's tool call is the answer", shape.name);
        assert_eq!(verdict().read(&answer.text).unwrap(), json!({"approved": false, "reasons": ["no tests"]}));

        let sent: Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
        let schema = verdict().schema;
        match shape.name {
            "anthropic" => {
                let tools = sent["tools"].as_array().unwrap();
                assert_eq!(tools.len(), 1);
                assert_eq!(tools[0]["name"], "review_verdict");
                assert_eq!(tools[0]["input_schema"], schema);
                assert_eq!(sent["tool_choice"], json!({"type": "tool", "name": "review_verdict"}));
            }
            "openai" => assert_eq!(
                sent["response_format"],
                json!({"type": "json_schema", "json_schema": {"name": "review_verdict", "schema": schema, "strict": true}})
            ),
            _ => assert_eq!(sent["format"], schema, "ollama"),
        }
    }
}

#[tokio::test]
async fn beside_other_tools_anthropic_lets_the_model_use_them_and_finish_through_the_form() {
    let shape = all().into_iter().find(|shape| shape.name == "anthropic").unwrap();
    let server = MockServer::start().await;
    let response = ResponseTemplate::new(200).set_body_json(recorded("anthropic"));
    Mock::given(method("POST")).and(path(shape.path)).respond_with(response).mount(&server).await;
    let request = ask().with_tool(ToolDefinition {
        name: "read_file".into(),
        description: "Reads a file".into(),
        input_schema: json!({"type": "object"}),
    });
    let answer = (shape.make)(&server.uri()).chat(request).await.unwrap();
    assert_eq!(verdict().read(&answer.text).unwrap()["approved"], false);
    let sent: Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["tool_choice"], json!({"type": "any"}));
    let names: Vec<&str> = sent["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["read_file", "review_verdict"]);
}

#[tokio::test]
async fn a_streamed_anthropic_form_arrives_as_text() {
    let shape = all().into_iter().find(|shape| shape.name == "anthropic").unwrap();
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4", "content": [], "usage": {"input_tokens": 30, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "review_verdict", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": "{\"approved\":false,"}}),
        json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": "\"reasons\":[\"no tests\"]}"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 12}}),
        json!({"type": "message_stop"}),
    ];
    let body: String =
        events.iter().map(|event| format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap())).collect();
    let server = MockServer::start().await;
    let response = ResponseTemplate::new(200).set_body_raw(body, "text/event-stream");
    Mock::given(method("POST")).and(path(shape.path)).respond_with(response).mount(&server).await;
    let answer = collect_stream((shape.make)(&server.uri()).chat_stream(ask()).await.unwrap()).await.unwrap();
    assert!(answer.tool_calls.is_empty());
    assert_eq!(answer.stop_reason, StopReason::EndTurn);
    assert_eq!(verdict().read(&answer.text).unwrap(), json!({"approved": false, "reasons": ["no tests"]}));
}
