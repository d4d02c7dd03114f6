//! The span of each request: named by method and route template, carrying the tenant once authenticated and the response's status,
//! and continuing the caller's trace when the request has a `traceparent` header.

use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use tower_http::trace::{MakeSpan, OnResponse};
use tracing::Span;
use tracing::field::Empty;

/// Makes each request's span and records its response on it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        // Named by the route template, never the raw path (ids would make every name unique).
        let name = match request.extensions().get::<MatchedPath>() {
            Some(route) => format!("{} {}", request.method(), route.as_str()),
            None => request.method().to_string(),
        };
        // The caller's trace, continued (see `telemetry::TRACEPARENT`).
        let traceparent = request.headers().get(crate::telemetry::TRACEPARENT).and_then(|value| value.to_str().ok());
        let client = request.extensions().get::<crate::http::layer::client_ip::ClientIp>().map(|c| c.0);
        tracing::info_span!(
            "request",
            otel.name = name.as_str(),
            otel.kind = "server",
            http.request.method = request.method().as_str(),
            url.path = request.uri().path(),
            client.address = client.map(tracing::field::display),
            tenant_id = Empty,
            http.response.status_code = Empty,
            traceparent,
        )
    }
}

impl<B> OnResponse<B> for RequestSpan {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        span.record("http.response.status_code", response.status().as_u16());
        tracing::debug!(status = response.status().as_u16(), latency_ms = latency.as_millis(), "answered");
    }
}
