//! Tenant plans for rate limiting, cached: the tenant's quota depends on its plan, and reading the tenant on
//! every request would double the store's load.

use std::sync::Arc;
use std::time::Duration;

use crate::ids::TenantId;
use crate::model::Plan;
use crate::store::{Store, StoreError, TenantCache};

/// Plans by tenant, each re-read after `ttl` (so a plan change applies within a minute by default).
pub type PlanCache = TenantCache<Plan>;

impl TenantCache<Plan> {
    /// A cache of plans over `store` (`free` for a tenant that does not exist: the most restrictive).
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Self::reading(store, ttl, |tenant| tenant.map_or(Plan::Free, |t| t.plan))
    }

    /// The tenant's plan.
    pub async fn plan(&self, tenant: TenantId) -> Result<Plan, StoreError> {
        self.get(tenant).await
    }
}
