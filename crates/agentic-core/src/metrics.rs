//! Prometheus metrics, in a registry the [`Platform`](crate::Platform) owns (never a global one).

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

use crate::error::Error;

/// The platform's metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// `http_requests_total{method,route,status}`.
    pub http_requests_total: IntCounterVec,
    /// `http_request_duration_seconds{method,route}`.
    pub http_request_duration_seconds: HistogramVec,
}

impl Metrics {
    /// A fresh registry with the platform's metrics registered.
    pub fn new() -> Result<Self, Error> {
        let registry = Registry::new();
        let http_requests_total = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests served, by route template and status"),
            &["method", "route", "status"],
        )
        .map_err(metric_error)?;
        let http_request_duration_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency, by route template")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )
        .map_err(metric_error)?;
        registry.register(Box::new(http_requests_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(http_request_duration_seconds.clone())).map_err(metric_error)?;
        Ok(Self { registry, http_requests_total, http_request_duration_seconds })
    }

    /// The registry, for host apps to register their own metrics beside ours.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every registered metric.
    pub fn render(&self) -> Result<String, Error> {
        TextEncoder::new().encode_to_string(&self.registry.gather()).map_err(metric_error)
    }
}

fn metric_error(e: prometheus::Error) -> Error {
    Error::Internal(format!("metrics: {e}"))
}
