//! Projects' shared context in memory: one map per project behind one lock, so every write is atomic.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use agentic_core::clock::Timestamp;
use agentic_core::model::{
    ContextEntry, ContextKey, ContextRefusal, ContextWrite, Expect, append_item, check_value_size,
};
use agentic_core::store::{ContextScope, ContextStore, StoreResult};
use async_trait::async_trait;
use parking_lot::Mutex;

/// Projects' shared context, in memory. Clones share the same values.
#[derive(Clone, Debug, Default)]
pub struct MemoryContextStore {
    projects: Arc<Mutex<HashMap<ContextScope, Project>>>,
}

/// One project's keys, and the last version each key had (kept after it expires or is deleted, so versions keep
/// growing).
#[derive(Debug, Default)]
struct Project {
    entries: BTreeMap<String, ContextEntry>,
    versions: HashMap<String, u64>,
}

impl Project {
    /// The live entry of `key` at `now`.
    fn live(&self, key: &str, now: Timestamp) -> Option<&ContextEntry> {
        self.entries.get(key).filter(|e| e.expires_at > now)
    }

    /// Drops what has expired by `now`.
    fn purge(&mut self, now: Timestamp) {
        self.entries.retain(|_, e| e.expires_at > now);
    }

    /// Stores `value` under the write's key, the limits checked.
    fn write(&mut self, value: serde_json::Value, write: &ContextWrite<'_>) -> Result<ContextEntry, ContextRefusal> {
        check_value_size(&value, write.limits)?;
        self.purge(write.now);
        if !self.entries.contains_key(write.key) && self.entries.len() >= write.limits.max_keys {
            return Err(ContextRefusal::TooManyKeys { limit: write.limits.max_keys as u64 });
        }
        let version = write.next_version(self.versions.get(write.key).copied());
        let entry = ContextEntry {
            key: write.key.to_owned(),
            value,
            version,
            expires_at: write.expires_at(),
            written_by: write.provenance.clone(),
            updated_at: write.now,
        };
        self.versions.insert(write.key.to_owned(), version);
        self.entries.insert(write.key.to_owned(), entry.clone());
        Ok(entry)
    }
}

impl MemoryContextStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ContextStore for MemoryContextStore {
    async fn get(&self, scope: ContextScope, key: &str, now: Timestamp) -> StoreResult<Option<ContextEntry>> {
        Ok(self.projects.lock().get(&scope).and_then(|p| p.live(key, now)).cloned())
    }

    async fn list(&self, scope: ContextScope, now: Timestamp) -> StoreResult<Vec<ContextKey>> {
        let projects = self.projects.lock();
        let Some(project) = projects.get(&scope) else { return Ok(Vec::new()) };
        Ok(project.entries.values().filter(|e| e.expires_at > now).map(ContextEntry::listed).collect())
    }

    async fn put(
        &self,
        scope: ContextScope,
        value: &serde_json::Value,
        expect: Expect,
        write: &ContextWrite<'_>,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>> {
        let mut projects = self.projects.lock();
        let project = projects.entry(scope).or_default();
        let current = project.live(write.key, write.now).map(|e| e.version);
        if !expect.admits(current) {
            return Ok(Err(ContextRefusal::Stale { current }));
        }
        Ok(project.write(value.clone(), write))
    }

    async fn append(
        &self,
        scope: ContextScope,
        item: &serde_json::Value,
        write: &ContextWrite<'_>,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>> {
        let mut projects = self.projects.lock();
        let project = projects.entry(scope).or_default();
        let value = match append_item(project.live(write.key, write.now).map(|e| &e.value), item) {
            Ok(value) => value,
            Err(refusal) => return Ok(Err(refusal)),
        };
        Ok(project.write(value, write))
    }

    async fn delete(
        &self,
        scope: ContextScope,
        key: &str,
        expect: Expect,
        now: Timestamp,
    ) -> StoreResult<Result<bool, ContextRefusal>> {
        let mut projects = self.projects.lock();
        let Some(project) = projects.get_mut(&scope) else {
            return Ok(if expect.admits(None) { Ok(false) } else { Err(ContextRefusal::Stale { current: None }) });
        };
        let current = project.live(key, now).map(|e| e.version);
        if !expect.admits(current) {
            return Ok(Err(ContextRefusal::Stale { current }));
        }
        Ok(Ok(project.entries.remove(key).is_some() && current.is_some()))
    }
}
