//! Projects' shared context in Redis: each key a hash that Redis expires itself (`PEXPIREAT`), a sorted set per
//! project indexing its keys by expiry, and every write one Lua script (`context.lua`): the compare-and-set, the
//! append (string surgery on the stored compact JSON, so numbers are kept exactly as written), the limits and
//! the new version happen atomically, so concurrent writers on any number of replicas lose nothing.

use std::time::Duration;

use agentic_core::clock::Timestamp;
use agentic_core::model::{ContextEntry, ContextKey, ContextRefusal, ContextWrite, Expect, Provenance};
use agentic_core::store::{ContextScope, ContextStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::Script;
use redis::aio::ConnectionManager;

use crate::RedisStoreError;

/// Connection settings of the context store.
#[derive(Clone, Debug)]
pub struct RedisContextOptions {
    /// Longest an operation may take before it fails as unavailable (default 1 s).
    pub timeout: Duration,
    /// Prefix of every key (default `agentic:ctx:`).
    pub prefix: String,
}

impl Default for RedisContextOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(1), prefix: "agentic:ctx:".into() }
    }
}

/// Projects' shared context in Redis (≥ 7: the script reads `PEXPIRETIME`).
#[derive(Clone)]
pub struct RedisContextStore {
    connection: ConnectionManager,
    script: Script,
    options: RedisContextOptions,
}

impl std::fmt::Debug for RedisContextStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisContextStore").field("options", &self.options).finish_non_exhaustive()
    }
}

/// The fields of a stored key.
type Fields = (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

impl RedisContextStore {
    /// Connects to `url` (failing within a few timeouts if Redis is unreachable).
    pub async fn connect(url: &str, options: RedisContextOptions) -> Result<Self, RedisStoreError> {
        let connection = crate::connect(url, options.timeout).await?;
        Ok(Self { connection, script: Script::new(include_str!("context.lua")), options })
    }

    /// The project's keys share a hash tag, so a cluster keeps them (and the index) in one slot, as the script
    /// needs.
    fn project_key(&self, scope: ContextScope) -> String {
        format!("{}{{{}:{}}}", self.options.prefix, scope.tenant, scope.project)
    }

    fn value_key(&self, scope: ContextScope, key: &str) -> String {
        format!("{}:v:{key}", self.project_key(scope))
    }

    fn index_key(&self, scope: ContextScope) -> String {
        format!("{}:keys", self.project_key(scope))
    }

    async fn timed<T>(&self, call: impl std::future::Future<Output = redis::RedisResult<T>>) -> StoreResult<T> {
        tokio::time::timeout(self.options.timeout, call)
            .await
            .map_err(|_| unavailable(format!("Redis did not answer within {:?}", self.options.timeout)))?
            .map_err(|e| unavailable(format!("Redis error: {e}")))
    }

    /// Runs the script for one write.
    async fn run(
        &self,
        scope: ContextScope,
        mode: &str,
        payload: &str,
        expect: Expect,
        write: &ContextWrite<'_>,
    ) -> StoreResult<Vec<String>> {
        let (kind, version) = match expect {
            Expect::Any => ("any", String::new()),
            Expect::Version(v) => ("version", v.to_string()),
            Expect::Absent => ("absent", String::new()),
            Expect::Present => ("present", String::new()),
        };
        let provenance = serde_json::to_string(write.provenance).map_err(|e| backend(e.to_string()))?;
        let mut invocation = self.script.prepare_invoke();
        invocation.key(self.value_key(scope, write.key)).key(self.index_key(scope));
        invocation
            .arg(mode)
            .arg(payload)
            .arg(kind)
            .arg(version)
            .arg(write.now.timestamp_millis())
            .arg(write.now.timestamp_micros())
            .arg(write.expires_at().timestamp_millis())
            .arg(provenance)
            .arg(write.limits.max_value_bytes)
            .arg(write.limits.max_keys)
            .arg(write.key);
        let mut connection = self.connection.clone();
        self.timed(invocation.invoke_async(&mut connection)).await
    }

    /// A script's answer to a put or an append, as the entry written or the refusal.
    fn written(
        reply: &[String],
        write: &ContextWrite<'_>,
        limit: u64,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>> {
        match reply {
            [ok, value, version] if ok == "ok" => Ok(Ok(ContextEntry {
                key: write.key.to_owned(),
                value: serde_json::from_str(value).map_err(|e| backend(format!("a stored value: {e}")))?,
                version: version.parse().map_err(|_| backend(format!("a stored version `{version}`")))?,
                expires_at: millis(write.expires_at().timestamp_millis()),
                written_by: write.provenance.clone(),
                updated_at: millis(write.now.timestamp_millis()),
            })),
            other => refusal(other, limit).map(Err),
        }
    }

    fn entry(key: &str, fields: Fields) -> StoreResult<Option<ContextEntry>> {
        let (Some(value), Some(version), Some(expires), Some(by), Some(updated)) = fields else { return Ok(None) };
        let number = |text: &str| text.parse::<i64>().map_err(|_| backend(format!("a stored number `{text}`")));
        let written_by: Provenance =
            serde_json::from_str(&by).map_err(|e| backend(format!("a stored provenance: {e}")))?;
        Ok(Some(ContextEntry {
            key: key.to_owned(),
            value: serde_json::from_str(&value).map_err(|e| backend(format!("a stored value: {e}")))?,
            version: version.parse().map_err(|_| backend(format!("a stored version `{version}`")))?,
            expires_at: millis(number(&expires)?),
            written_by,
            updated_at: millis(number(&updated)?),
        }))
    }

    async fn read(&self, scope: ContextScope, key: &str) -> StoreResult<Option<ContextEntry>> {
        let mut connection = self.connection.clone();
        let fields: Fields = self
            .timed(
                redis::cmd("HMGET")
                    .arg(self.value_key(scope, key))
                    .arg(&["value", "version", "expires", "by", "updated"])
                    .query_async(&mut connection),
            )
            .await?;
        Self::entry(key, fields)
    }
}

/// A script's refusal.
fn refusal(reply: &[String], limit: u64) -> StoreResult<ContextRefusal> {
    match reply {
        [stale, current] if stale == "stale" => Ok(ContextRefusal::Stale { current: current.parse().ok() }),
        [large, size] if large == "too_large" => {
            Ok(ContextRefusal::TooLarge { size: size.parse().unwrap_or(u64::MAX), limit })
        }
        [many] if many == "too_many" => Ok(ContextRefusal::TooManyKeys { limit }),
        [list] if list == "not_a_list" => Ok(ContextRefusal::NotAList),
        other => Err(backend(format!("unexpected reply from the context script: {other:?}"))),
    }
}

fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn unavailable(message: String) -> StoreError {
    StoreError::Unavailable(message.into())
}

fn backend(message: String) -> StoreError {
    StoreError::Backend(message.into())
}

fn compact(value: &serde_json::Value) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| backend(e.to_string()))
}

#[async_trait]
impl ContextStore for RedisContextStore {
    async fn get(&self, scope: ContextScope, key: &str, now: Timestamp) -> StoreResult<Option<ContextEntry>> {
        Ok(self.read(scope, key).await?.filter(|e| e.expires_at > now))
    }

    async fn list(&self, scope: ContextScope, now: Timestamp) -> StoreResult<Vec<ContextKey>> {
        let mut connection = self.connection.clone();
        let mut keys: Vec<String> = self
            .timed(
                redis::cmd("ZRANGE")
                    .arg(self.index_key(scope))
                    .arg(format!("({}", now.timestamp_millis()))
                    .arg("+inf")
                    .arg("BYSCORE")
                    .query_async(&mut connection),
            )
            .await?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        keys.sort();
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("HMGET").arg(self.value_key(scope, key)).arg(&["value", "version", "expires", "by", "updated"]);
        }
        let rows: Vec<Fields> = self.timed(pipe.query_async(&mut connection)).await?;
        let mut listed = Vec::with_capacity(keys.len());
        for (key, fields) in keys.iter().zip(rows) {
            if let Some(entry) = Self::entry(key, fields)?.filter(|e| e.expires_at > now) {
                listed.push(entry.listed());
            }
        }
        Ok(listed)
    }

    async fn put(
        &self,
        scope: ContextScope,
        value: &serde_json::Value,
        expect: Expect,
        write: &ContextWrite<'_>,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>> {
        let reply = self.run(scope, "put", &compact(value)?, expect, write).await?;
        let limit = limit_of(&reply, write);
        Self::written(&reply, write, limit)
    }

    async fn append(
        &self,
        scope: ContextScope,
        item: &serde_json::Value,
        write: &ContextWrite<'_>,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>> {
        let reply = self.run(scope, "append", &compact(item)?, Expect::Any, write).await?;
        let limit = limit_of(&reply, write);
        Self::written(&reply, write, limit)
    }

    async fn delete(
        &self,
        scope: ContextScope,
        key: &str,
        expect: Expect,
        now: Timestamp,
    ) -> StoreResult<Result<bool, ContextRefusal>> {
        let provenance = Provenance::default();
        let write = ContextWrite {
            key,
            provenance: &provenance,
            ttl: Duration::ZERO,
            now,
            limits: agentic_core::model::ContextLimits::default(),
        };
        let reply = self.run(scope, "delete", "", expect, &write).await?;
        match &reply[..] {
            [ok, existed] if ok == "ok" => Ok(Ok(existed == "1")),
            other => refusal(other, 0).map(Err),
        }
    }
}

/// The limit a refusal names: the key limit for `too_many`, else the value limit.
fn limit_of(reply: &[String], write: &ContextWrite<'_>) -> u64 {
    match reply.first().map(String::as_str) {
        Some("too_many") => write.limits.max_keys as u64,
        _ => write.limits.max_value_bytes as u64,
    }
}
