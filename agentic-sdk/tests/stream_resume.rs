//! The SDK's event streams over a connection that drops: a scripted SSE server (not the platform, whose streams do
//! not drop on their own) closes the first connection after one event; the stream opens a second one with
//! `Last-Event-ID` and goes on without losing or repeating an event. A refused stream ends with its typed error.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentic_core::events::{Event, EventKind};
use agentic_core::ids::{ProjectId, RunId, TenantId};
use agentic_sdk::{AgenticClient, Error, RetryPolicy};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn event(kind: EventKind, run: RunId) -> Event {
    let data = serde_json::json!({"agent": "qa_tester", "run_id": run, "project_id": ProjectId::new(), "cost": "0"});
    Event::new(TenantId::new(), kind, data, chrono::Utc::now())
}

fn frame(event: &Event) -> String {
    format!("id: {}\nevent: {}\ndata: {}\n\n", event.id, event.kind, serde_json::to_string(event).unwrap())
}

/// Serves each connection the next scripted answer (status line, headers and body), recording its request.
async fn scripted(answers: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    tokio::spawn(async move {
        for answer in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0; 8192];
            let read = socket.read(&mut buffer).await.unwrap();
            seen.lock().unwrap().push(String::from_utf8_lossy(&buffer[..read]).into_owned());
            socket.write_all(answer.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
        }
    });
    (url, requests)
}

fn sse_answer(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{body}")
}

#[tokio::test]
async fn a_dropped_stream_resumes_after_the_last_event() {
    let run = RunId::new();
    let (started, completed) = (event(EventKind::AgentStarted, run), event(EventKind::AgentCompleted, run));
    let (url, requests) = scripted(vec![sse_answer(&frame(&started)), sse_answer(&frame(&completed))]).await;
    let policy = RetryPolicy { backoff: Duration::from_millis(10), ..RetryPolicy::default() };
    let client = AgenticClient::builder(&url).api_key("agk_test").retry(policy).build().unwrap();
    let query = agentic_sdk::query::EventQuery { kind: None, run_id: Some(run), ..Default::default() };
    let events: Vec<Event> = client.events().stream(&query).take(2).map(|e| e.unwrap()).collect().await;
    assert_eq!(events, vec![started.clone(), completed]);
    let requests = requests.lock().unwrap();
    assert!(requests[0].starts_with("GET /v1/events/stream?") && requests[0].contains(&format!("run_id={run}")));
    assert!(!requests[0].to_lowercase().contains("last-event-id"));
    assert!(requests[1].to_lowercase().contains(&format!("last-event-id: {}", started.id)), "{}", requests[1]);
}

#[tokio::test]
async fn a_refused_stream_ends_with_its_typed_error_and_garbage_is_a_decode_error() {
    let problem = r#"{"type":"https://agentic.dev/problems/unauthenticated","title":"Unauthenticated","status":401,"detail":"no"}"#;
    let refused = format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{problem}",
        problem.len()
    );
    let garbage = sse_answer("id: 1\nevent: agent.started\ndata: {not json}\n\n");
    let (url, _) = scripted(vec![refused, garbage]).await;
    let client = AgenticClient::builder(&url).retry(RetryPolicy::none()).build().unwrap();
    let mut stream = client.events().stream(&Default::default());
    assert!(matches!(stream.next().await, Some(Err(Error::Unauthorized(_)))));
    assert!(stream.next().await.is_none(), "a refusal ends the stream");
    let mut stream = client.events().stream(&Default::default());
    assert!(matches!(stream.next().await, Some(Err(Error::Decode(_)))));
}
