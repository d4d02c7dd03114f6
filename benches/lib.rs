//! Shared set-up of the benchmarks in `benches/` (run them with `cargo bench -p agentic-benches`).

use agentic_core::engine::{Bootstrap, BootstrapReport};
use agentic_core::ids::{ProjectId, TenantId, UserId};
use agentic_core::model::{Money, Plan, Project};
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

/// Inserts project `name` of `tenant` with a budget far above any bench's spending, so every budget check runs and
/// none refuses.
pub async fn project(platform: &Platform, tenant: TenantId, by: UserId, name: &str) -> Result<Project, Error> {
    let project = Project {
        id: ProjectId::new(),
        tenant_id: tenant,
        department_id: None,
        name: name.into(),
        description: None,
        budget: Money::from_usd(1_000_000_000),
        created_by: by,
        created_at: platform.clock().now(),
    };
    platform.store().tenant(tenant).insert_project(&project).await?;
    Ok(project)
}
