//! A value read from each tenant's record and cached for a while: a tenant's plan, its guardrail setting.
//! Reading the tenant on every request or every model call would double the store's load; a change made on
//! another replica applies within the cache's time to live.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use super::{Store, StoreError};
use crate::ids::TenantId;
use crate::model::Tenant;

/// Past this many tenants, expired entries are swept before another is added.
const SWEEP_ABOVE: usize = 100_000;

/// A value per tenant, read from its record by `read` (which gets `None` for a tenant that does not exist) and
/// re-read after `ttl`.
pub struct TenantCache<T> {
    store: Arc<dyn Store>,
    ttl: Duration,
    read: fn(Option<&Tenant>) -> T,
    values: Arc<RwLock<HashMap<TenantId, (T, Instant)>>>,
    /// Moves on each `forget`: a read that began before one does not put its older value back.
    forgets: Arc<std::sync::atomic::AtomicU64>,
}

impl<T> Clone for TenantCache<T> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            ttl: self.ttl,
            read: self.read,
            values: Arc::clone(&self.values),
            forgets: Arc::clone(&self.forgets),
        }
    }
}

impl<T> std::fmt::Debug for TenantCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCache").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl<T: Clone> TenantCache<T> {
    /// A cache over `store` of what `read` takes from a tenant's record.
    pub fn reading(store: Arc<dyn Store>, ttl: Duration, read: fn(Option<&Tenant>) -> T) -> Self {
        Self { store, ttl, read, values: Arc::default(), forgets: Arc::default() }
    }

    /// The tenant's value, from the cache while it is fresh.
    pub async fn get(&self, tenant: TenantId) -> Result<T, StoreError> {
        if let Some((value, at)) = self.values.read().get(&tenant)
            && at.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let began = self.forgets.load(std::sync::atomic::Ordering::Acquire);
        let record = self.store.tenant(tenant).get_tenant().await?;
        let value = (self.read)(record.as_ref());
        let mut values = self.values.write();
        // A change was made while this read was on its way: what it read may predate it, so it is not kept.
        if self.forgets.load(std::sync::atomic::Ordering::Acquire) != began {
            return Ok(value);
        }
        if values.len() > SWEEP_ABOVE {
            values.retain(|_, (_, at)| at.elapsed() < self.ttl);
        }
        values.insert(tenant, (value.clone(), Instant::now()));
        Ok(value)
    }

    /// Drops the tenant's value, so the next read sees a change this replica just made.
    pub fn forget(&self, tenant: TenantId) {
        let mut values = self.values.write();
        self.forgets.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        values.remove(&tenant);
    }
}
