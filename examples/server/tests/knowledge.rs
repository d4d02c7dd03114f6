//! Knowledge bases on the reference server: HTML and PDF are read (its `DocumentReaders`), and with
//! `AGENTIC_EMBEDDINGS_URL` (a wiremock OpenAI-compatible `/v1/embeddings`) uploads are embedded and searches
//! are hybrid; an upload past `AGENTIC_MAX_DOCUMENT_BYTES` is a 413.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{KEY, request, server, stop, wait_for_listen_line};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// One vector per input: the first component counts the input's `battery`, the second the rest (so texts about
/// batteries are near a query about them).
fn embeddings(request: &Request) -> ResponseTemplate {
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    let data: Vec<serde_json::Value> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let text = text.as_str().unwrap().to_lowercase();
            let battery = text.matches("battery").count() as f64;
            serde_json::json!({"object": "embedding", "index": index, "embedding": [battery, 1.0]})
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(serde_json::json!({"object": "list", "data": data, "model": "m"}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_reads_html_embeds_uploads_and_searches_both_ways() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST")).and(path("/v1/embeddings")).respond_with(embeddings).mount(&upstream).await;
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("AGENTIC_EMBEDDINGS_URL", format!("{}/v1", upstream.uri()))
        .env("AGENTIC_EMBEDDINGS_MODEL", "tiny")
        .env("AGENTIC_MAX_DOCUMENT_BYTES", "4096")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);

    let (status, base) = request(&addr, "POST", "/v1/knowledge", KEY, "application/json", r#"{"name":"Robots"}"#);
    assert_eq!(status, 201, "{base}");
    let base: serde_json::Value = serde_json::from_str(&base).unwrap();
    let documents = format!("/v1/knowledge/{}/documents", base["id"].as_str().unwrap());
    let html = "<html><head><title>Batteries</title></head><body><main><h1>Batteries</h1>\
                <p>Swap the battery when it reads below ten percent.</p></main></body></html>";
    let (status, page) = request(&addr, "POST", &documents, KEY, "text/html", html);
    assert_eq!(status, 201, "{page}");
    let page: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!((page["title"].as_str(), page["media_type"].as_str()), (Some("Batteries"), Some("text/html")));
    let (status, other) = request(&addr, "POST", &documents, KEY, "text/markdown", "# Parking\n\nVisitors park below.");
    assert_eq!(status, 201, "{other}");
    let embedded = upstream.received_requests().await.unwrap();
    assert_eq!(embedded.len(), 2, "one embedding request per upload");
    assert!(String::from_utf8_lossy(&embedded[0].body).contains("\"model\":\"tiny\""));

    // Both rankings put the battery page first: its fused score is 1/61 + 1/61.
    let search = format!("/v1/knowledge/{}/search", base["id"].as_str().unwrap());
    let (status, hits) = request(&addr, "POST", &search, KEY, "application/json", r#"{"query":"battery swap"}"#);
    assert_eq!(status, 200, "{hits}");
    let hits: serde_json::Value = serde_json::from_str(&hits).unwrap();
    assert_eq!(hits["data"][0]["document_id"], page["id"], "{hits}");
    assert!((hits["data"][0]["score"].as_f64().unwrap() - 2.0 / 61.0).abs() < 1e-9, "{hits}");
    assert_eq!(upstream.received_requests().await.unwrap().len(), 3, "the query was embedded");

    let (status, refused) = request(&addr, "POST", &documents, KEY, "text/plain", &"x".repeat(5000));
    assert_eq!(status, 413, "{refused}");
    stop(&mut child);
}
