//! Webhooks: how deliveries are signed ([`signature`], the Standard Webhooks scheme, shared by the platform that
//! sends them and the SDK that verifies them) and where they may go ([`target`], the SSRF guard).

pub mod signature;
pub mod target;
