//! HTTP requests and authentication.

use prometheus::{HistogramVec, IntCounterVec};

use super::guard::BoundedLabel;
use super::{Bounds, FAST_BUCKETS, Registrar};
use crate::auth::AuthError;
use crate::error::Error;
use crate::ids::TenantId;

/// HTTP requests, by route template, and refused credentials.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    /// `http_requests_total{method,route,status}`.
    pub requests_total: IntCounterVec,
    /// `http_request_duration_seconds{method,route}`.
    pub request_duration_seconds: HistogramVec,
    /// `auth_failures_total{reason}`: credentials refused, by [`AuthError::reason`].
    pub auth_failures_total: IntCounterVec,
    /// `tenant_http_requests_total{tenant_id}`: authenticated requests per tenant (bounded).
    tenant_requests_total: IntCounterVec,
    tenants: std::sync::Arc<BoundedLabel>,
}

impl HttpMetrics {
    pub(super) fn register(r: &Registrar<'_>, bounds: &Bounds) -> Result<Self, Error> {
        let auth_failures_total = r.int_counter_vec(
            "auth_failures_total",
            "Credentials refused (tokens, API keys, sign-ins, master key, metrics token), by reason",
            &["reason"],
        )?;
        // Every reason is exported from the start, so that a ratio over them sees 0 rather than no series.
        for refusal in AuthError::ALL {
            auth_failures_total.with_label_values(&[refusal.reason()]);
        }
        Ok(Self {
            requests_total: r.int_counter_vec(
                "http_requests_total",
                "HTTP requests served, by route template and status",
                &["method", "route", "status"],
            )?,
            request_duration_seconds: r.histogram_vec(
                "http_request_duration_seconds",
                "HTTP request latency, by route template",
                &["method", "route"],
                FAST_BUCKETS,
            )?,
            auth_failures_total,
            tenant_requests_total: r.int_counter_vec(
                "tenant_http_requests_total",
                "Authenticated HTTP requests, by tenant",
                &["tenant_id"],
            )?,
            tenants: std::sync::Arc::new(bounds.tenant("tenant_http_requests_total")),
        })
    }

    /// Counts and times one request. `route` is the matched template; a method outside HTTP's standard set is
    /// counted as `other` (it is raw request input).
    pub fn observe_request(&self, method: &http::Method, route: &str, status: http::StatusCode, seconds: f64) {
        let method = standard_method(method);
        self.request_duration_seconds.with_label_values(&[method, route]).observe(seconds);
        self.requests_total.with_label_values(&[method, route, status.as_str()]).inc();
    }

    /// Counts a refused credential.
    pub fn auth_failed(&self, refusal: &AuthError) {
        self.auth_failures_total.with_label_values(&[refusal.reason()]).inc();
    }

    /// Counts an authenticated request of `tenant`.
    pub fn tenant_request(&self, tenant: TenantId) {
        if let Some(label) = self.tenants.admit(&tenant.to_string()) {
            self.tenant_requests_total.with_label_values(&[label]).inc();
        }
    }
}

fn standard_method(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => super::OTHER,
    }
}
