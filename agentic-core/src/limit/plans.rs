//! Tenant plans for rate limiting, cached: the tenant's quota depends on its plan, and reading the tenant on
//! every request would double the store's load.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use crate::ids::TenantId;
use crate::model::Plan;
use crate::store::{Store, StoreError};

/// Plans by tenant, each re-read after `ttl` (so a plan change applies within a minute by default).
#[derive(Clone)]
pub struct PlanCache {
    store: Arc<dyn Store>,
    ttl: Duration,
    plans: Arc<RwLock<HashMap<TenantId, (Plan, Instant)>>>,
}

impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanCache").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl PlanCache {
    /// A cache over `store`.
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Self { store, ttl, plans: Arc::default() }
    }

    /// The tenant's plan (`free` for a tenant that does not exist: the most restrictive).
    pub async fn plan(&self, tenant: TenantId) -> Result<Plan, StoreError> {
        if let Some((plan, at)) = self.plans.read().get(&tenant)
            && at.elapsed() < self.ttl
        {
            return Ok(*plan);
        }
        let plan = self.store.tenant(tenant).get_tenant().await?.map_or(Plan::Free, |t| t.plan);
        let mut plans = self.plans.write();
        if plans.len() > 100_000 {
            plans.retain(|_, (_, at)| at.elapsed() < self.ttl);
        }
        plans.insert(tenant, (plan, Instant::now()));
        Ok(plan)
    }
}
