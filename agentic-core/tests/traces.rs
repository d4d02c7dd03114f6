//! Traces, through an in-memory OpenTelemetry exporter: every run has its own span with its model calls and tool
//! calls beneath it, carrying tenant, run and agent ids and the GenAI attribute names, and a run started by a
//! request that carries a `traceparent` continues the caller's trace. Its own binary: the subscriber is global.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "it/support.rs"]
#[allow(dead_code, unreachable_pub)]
mod support;

use std::collections::HashMap;

use agentic_llm::mock::{MockProvider, MockReply};
use axum::body::Body;
use axum::http::Request;
use opentelemetry::trace::{SpanId, SpanKind, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

use support::TestApp;

const AGENT: &str = "name: Builder\nrole: DevOps\ngoal: Optimise images\nbackstory: Knows Docker\ntools:\n  - dockerfile_optimizer\nllm:\n  provider: claude\n  model: claude-sonnet-4\n  max_tokens: 500\nrisk_level: low\n";
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
}

/// Whether `ancestor` is `span` or on its chain of parents.
fn descends_from(span: &SpanData, ancestor: &SpanData, by_id: &HashMap<SpanId, &SpanData>) -> bool {
    let mut current = span;
    loop {
        if current.span_context.span_id() == ancestor.span_context.span_id() {
            return true;
        }
        match by_id.get(&current.parent_span_id) {
            Some(parent) => current = parent,
            None => return false,
        }
    }
}

#[tokio::test]
async fn every_run_has_a_span_with_its_model_and_tool_calls_and_continues_its_callers_trace() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let subscriber = tracing_subscriber::registry().with(agentic_core::telemetry::span_layer(provider.tracer("test")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    // Each run: the model calls the tool, then answers.
    let answered = |request: &agentic_core::llm::ChatRequest| {
        matches!(request.messages.last(), Some(agentic_core::llm::Message::Tool { .. }))
    };
    let mock = MockProvider::new()
        .when(answered, MockReply::text("Pinned the base image."))
        .when(|_| true, MockReply::tool_call("dockerfile_optimizer", json!({"dockerfile": "FROM alpine:3.20"})));
    let app = TestApp::new().await.with_llm(mock);
    app.put_agent("builder", AGENT).await;
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Images"}))).await;
    let project_id = project.expect(201)["id"].as_str().unwrap().to_owned();
    let body = json!({"task": "Optimise the Dockerfile", "project_id": project_id}).to_string();
    let mut runs = Vec::new();
    for i in 0..6 {
        let mut request = Request::builder()
            .method("POST")
            .uri("/v1/agents/builder/execute")
            .header("authorization", format!("Bearer {}", app.admin_key))
            .header("content-type", "application/json");
        if i == 5 {
            request = request.header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"));
        }
        let run = app.send(request.body(Body::from(body.clone())).unwrap()).await.expect(202);
        runs.push(run["id"].as_str().unwrap().to_owned());
    }
    while app.platform.work_once("worker").await.unwrap() {}
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let by_id: HashMap<SpanId, &SpanData> = spans.iter().map(|s| (s.span_context.span_id(), s)).collect();
    for (i, run_id) in runs.iter().enumerate() {
        let run_spans: Vec<&SpanData> = spans
            .iter()
            .filter(|s| s.name == "invoke_agent builder" && attribute(s, "run_id").as_deref() == Some(run_id.as_str()))
            .collect();
        assert_eq!(run_spans.len(), 1, "run {run_id}: {run_spans:?}");
        let run = run_spans[0];
        assert_eq!(attribute(run, "agent").as_deref(), Some("builder"));
        assert!(attribute(run, "tenant_id").is_some());
        assert_eq!(attribute(run, "status").as_deref(), Some("completed"));

        // Its parent is the request that created it, in the same trace.
        let request = by_id.get(&run.parent_span_id).expect("the run's parent span was exported");
        assert_eq!(request.name, "POST /v1/agents/{name}/execute", "named by the route template");
        assert_eq!(request.span_kind, SpanKind::Server);
        assert_eq!(request.span_context.trace_id(), run.span_context.trace_id());
        assert!(attribute(request, "tenant_id").is_some(), "the request span names its tenant");
        assert_eq!(attribute(request, "http.response.status_code").as_deref(), Some("202"));

        let under = |name: &str| -> Vec<&SpanData> {
            spans.iter().filter(|s| s.name.starts_with(name) && descends_from(s, run, &by_id)).collect()
        };
        let chats = under("chat ");
        assert_eq!(chats.len(), 2, "run {run_id}: two model calls");
        for chat in &chats {
            assert_eq!(chat.span_context.trace_id(), run.span_context.trace_id());
            assert_eq!(attribute(chat, "gen_ai.operation.name").as_deref(), Some("chat"));
            assert_eq!(chat.span_kind, SpanKind::Client);
            assert!(attribute(chat, "gen_ai.system").is_some());
            assert_eq!(attribute(chat, "gen_ai.request.model").as_deref(), Some("claude-sonnet-4"));
            assert!(attribute(chat, "gen_ai.usage.input_tokens").is_some());
            assert!(attribute(chat, "gen_ai.usage.output_tokens").is_some());
            assert_eq!(attribute(chat, "run_id").as_deref(), Some(run_id.as_str()));
            assert_eq!(attribute(chat, "agent").as_deref(), Some("builder"));
        }
        let tools = under("execute_tool dockerfile_optimizer");
        assert_eq!(tools.len(), 1, "run {run_id}: one tool call");
        assert_eq!(attribute(tools[0], "gen_ai.tool.name").as_deref(), Some("dockerfile_optimizer"));
        assert_eq!(under("invoke_agent builder").len(), 1, "an agent run's span is its agent's invocation");
        assert_eq!(attribute(run, "gen_ai.operation.name").as_deref(), Some("invoke_agent"));
        assert_eq!(attribute(run, "gen_ai.agent.name").as_deref(), Some("builder"));

        let continued = i == 5;
        let trace = run.span_context.trace_id();
        assert_eq!(trace == TraceId::from_hex(CALLER_TRACE).unwrap(), continued, "run {run_id}");
        if continued {
            assert_eq!(request.parent_span_id, SpanId::from_hex(CALLER_SPAN).unwrap());
        }
    }
    // The run stores the trace context it continues, and the API shows it.
    let last = app.call("GET", &format!("/v1/runs/{}", runs[5]), Some(&app.admin_key), None).await.expect(200);
    assert!(last["traceparent"].as_str().unwrap().starts_with(&format!("00-{CALLER_TRACE}-")), "{last}");
}
