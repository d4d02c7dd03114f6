//! Shared set-up of the benchmarks in `benches/` (run them with `cargo bench -p agentic-benches`).

use agentic_core::engine::{Bootstrap, BootstrapReport};
use agentic_core::model::Plan;
use agentic_core::{Error, Platform};

/// Bootstraps tenant `bench` (enterprise) with an admin and an API key.
pub async fn bootstrap(platform: &Platform) -> Result<BootstrapReport, Error> {
    let report = platform
        .bootstrap(Bootstrap {
            slug: "bench".into(),
            plan: Plan::Enterprise,
            admin_email: "admin@bench.test".into(),
            admin_password: "bench password 123".into(),
            api_key: None,
        })
        .await?;
    report.ok_or_else(|| Error::Conflict("the store already has tenants".into()))
}
