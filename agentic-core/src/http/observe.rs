//! Request metrics by route template (bounded cardinality: never the raw path).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::Platform;

/// Counts and times each request under its matched route template.
pub(crate) async fn record_metrics(State(platform): State<Platform>, request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = platform.metrics();
    metrics
        .http_request_duration_seconds
        .with_label_values(&[method.as_str(), route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    metrics.http_requests_total.with_label_values(&[method.as_str(), route.as_str(), response.status().as_str()]).inc();
    response
}
