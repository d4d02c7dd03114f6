//! Tower layers that host apps can mount on any axum/tower service.

pub mod auth;
pub mod client_ip;
pub mod rate_limit;
