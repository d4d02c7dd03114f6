//! Recorded response shapes of each provider, and how to build each adapter against a test server.

use std::sync::Arc;

use agentic_core::llm::{LlmProvider, Usage};
use agentic_llm::{anthropic, ollama, openai};
use serde_json::{Value, json};

pub struct Shape {
    pub name: &'static str,
    pub path: &'static str,
    pub make: fn(&str) -> Arc<dyn LlmProvider>,
    pub plain: Value,
    pub plain_usage: Usage,
    pub tool: Value,
    pub stream: String,
    pub stream_content_type: &'static str,
    pub stream_usage: Usage,
    /// Checks the encoded tool round-trip request.
    pub check_tool_request: fn(&Value),
}

fn sse(events: &[(&str, Value)]) -> String {
    events.iter().map(|(event, data)| format!("event: {event}\ndata: {data}\n\n")).collect()
}

pub fn all() -> Vec<Shape> {
    vec![anthropic_shape(), openai_shape(), ollama_shape()]
}

fn anthropic_shape() -> Shape {
    let model = "claude-sonnet-4-20250514";
    Shape {
        name: "anthropic",
        path: "/v1/messages",
        make: |url| Arc::new(anthropic::Client::builder().api_key("sk-ant-test").base_url(url).build().unwrap()),
        plain: json!({"id": "msg_01", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "Paris is the capital of France."}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 25, "output_tokens": 9, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0}}),
        plain_usage: Usage {
            input_tokens: 25,
            output_tokens: 9,
            cached_input_tokens: 100,
            cache_write_input_tokens: 0,
        },
        tool: json!({"id": "msg_02", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "Let me check."},
                        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 40, "output_tokens": 20}}),
        stream: sse(&[
            (
                "message_start",
                json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "model": model, "content": [], "stop_reason": null,
                "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 100}}}),
            ),
            (
                "content_block_start",
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ),
            ("ping", json!({"type": "ping"})),
            (
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Paris is"}}),
            ),
            (
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " the capital."}}),
            ),
            ("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
            (
                "content_block_start",
                json!({"type": "content_block_start", "index": 1,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}}),
            ),
            (
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": \"Pa"}}),
            ),
            (
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "ris\"}"}}),
            ),
            ("content_block_stop", json!({"type": "content_block_stop", "index": 1})),
            (
                "message_delta",
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 15}}),
            ),
            ("message_stop", json!({"type": "message_stop"})),
        ]),
        stream_content_type: "text/event-stream",
        stream_usage: Usage {
            input_tokens: 25,
            output_tokens: 15,
            cached_input_tokens: 100,
            cache_write_input_tokens: 0,
        },
        check_tool_request: |body| {
            assert_eq!(body["messages"][1]["content"][0]["type"], "tool_use");
            assert_eq!(
                body["messages"][2]["content"][0],
                json!({"type": "tool_result", "tool_use_id": "toolu_01A", "content": "{\"temp_c\":18}"})
            );
            assert_eq!(body["tools"][0]["name"], "get_weather");
            assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
        },
    }
}

fn openai_shape() -> Shape {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": null})
    };
    let stream: String = [
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Paris is"}), Value::Null),
        chunk(json!({"content": " the capital."}), Value::Null),
        chunk(json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}), Value::Null),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": \"Pa"}}]}), Value::Null),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "ris\"}"}}]}), Value::Null),
        chunk(json!({}), json!("tool_calls")),
        json!({"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o-2024-08-06", "choices": [],
            "usage": {"prompt_tokens": 125, "completion_tokens": 15, "total_tokens": 140, "prompt_tokens_details": {"cached_tokens": 100}}}),
    ]
    .iter()
    .map(|c| format!("data: {c}\n\n"))
    .chain(std::iter::once("data: [DONE]\n\n".to_owned()))
    .collect();
    Shape {
        name: "openai",
        path: "/v1/chat/completions",
        make: |url| {
            Arc::new(openai::Client::builder().api_key("sk-test").base_url(format!("{url}/v1")).build().unwrap())
        },
        plain: json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris is the capital of France.", "refusal": null},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 125, "completion_tokens": 9, "total_tokens": 134, "prompt_tokens_details": {"cached_tokens": 100}},
            "system_fingerprint": "fp_x"}),
        plain_usage: Usage {
            input_tokens: 25,
            output_tokens: 9,
            cached_input_tokens: 100,
            cache_write_input_tokens: 0,
        },
        tool: json!({"id": "chatcmpl-2", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Let me check.",
                "tool_calls": [{"id": "toolu_01A", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 20}}),
        stream,
        stream_content_type: "text/event-stream",
        stream_usage: Usage {
            input_tokens: 25,
            output_tokens: 15,
            cached_input_tokens: 100,
            cache_write_input_tokens: 0,
        },
        check_tool_request: |body| {
            assert_eq!(body["messages"][0], json!({"role": "system", "content": "You check the weather."}));
            assert_eq!(body["messages"][2]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Paris\"}");
            assert_eq!(
                body["messages"][3],
                json!({"role": "tool", "tool_call_id": "toolu_01A", "content": "{\"temp_c\":18}"})
            );
            assert_eq!(body["tools"][0]["type"], "function");
            assert_eq!(body["tools"][0]["function"]["parameters"]["type"], "object");
        },
    }
}

fn ollama_shape() -> Shape {
    let line = |v: Value| format!("{v}\n");
    let stream: String = [
        json!({"model": "llama3.2", "created_at": "2025-01-01T00:00:00Z", "message": {"role": "assistant", "content": "Paris is"}, "done": false}),
        json!({"model": "llama3.2", "created_at": "2025-01-01T00:00:00Z", "message": {"role": "assistant", "content": " the capital."}, "done": false}),
        json!({"model": "llama3.2", "message": {"role": "assistant", "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}, "done": false}),
        json!({"model": "llama3.2", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop",
            "total_duration": 5_000_000, "prompt_eval_count": 25, "eval_count": 15}),
    ]
    .into_iter()
    .map(line)
    .collect();
    Shape {
        name: "ollama",
        path: "/api/chat",
        make: |url| Arc::new(ollama::Client::builder().host(url).build().unwrap()),
        plain: json!({"model": "llama3.2", "created_at": "2025-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": "Paris is the capital of France."},
            "done": true, "done_reason": "stop", "total_duration": 1_000_000, "load_duration": 10,
            "prompt_eval_count": 25, "prompt_eval_duration": 5, "eval_count": 9, "eval_duration": 7}),
        plain_usage: Usage { input_tokens: 25, output_tokens: 9, cached_input_tokens: 0, cache_write_input_tokens: 0 },
        tool: json!({"model": "llama3.2", "message": {"role": "assistant", "content": "Let me check.",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
            "done": true, "done_reason": "stop", "prompt_eval_count": 40, "eval_count": 20}),
        stream,
        stream_content_type: "application/x-ndjson",
        stream_usage: Usage {
            input_tokens: 25,
            output_tokens: 15,
            cached_input_tokens: 0,
            cache_write_input_tokens: 0,
        },
        check_tool_request: |body| {
            assert_eq!(
                body["messages"][2]["tool_calls"][0]["function"],
                json!({"name": "get_weather", "arguments": {"city": "Paris"}})
            );
            assert_eq!(
                body["messages"][3],
                json!({"role": "tool", "content": "{\"temp_c\":18}", "tool_name": "get_weather"})
            );
            assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
            assert_eq!(body["stream"], false);
            assert_eq!(body["options"]["num_predict"], 256);
        },
    }
}
