//! A project's shared context: keyed JSON values that agents and people of the project read and write, each with
//! a version (for compare-and-set), a time to live and who wrote it last.
//!
//! The rules every backend applies are here: what a key may be ([`validate_context_key`]), how big a value may
//! be and how many keys a project may hold ([`ContextLimits`]), how versions grow ([`next_version`]) and how an
//! append changes a value ([`append_item`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ValidationError;
use crate::clock::Timestamp;
use crate::ids::{RunId, UserId};

/// How long a value lives when the writer names no time (the plan's hour).
pub const DEFAULT_CONTEXT_TTL: std::time::Duration = std::time::Duration::from_secs(3600);
/// The longest time to live a writer may ask for (30 days).
pub const MAX_CONTEXT_TTL: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);
/// The longest key, in bytes.
pub const MAX_CONTEXT_KEY_LEN: usize = 200;

/// Who wrote a value last.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Provenance {
    /// The user (for an agent, the user its run acts as).
    pub user_id: Option<UserId>,
    /// The agent, when an agent wrote it.
    pub agent: Option<String>,
    /// The run, when a run wrote it.
    pub run_id: Option<RunId>,
}

/// One key of a project's context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextEntry {
    /// The key.
    pub key: String,
    /// The value: any JSON.
    #[schema(value_type = Value)]
    pub value: serde_json::Value,
    /// Grows with every write (also across the key's expiry and re-creation), so a stale `If-Match` never
    /// matches a newer value.
    pub version: u64,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// Who wrote it last.
    pub written_by: Provenance,
    /// When it was written last.
    pub updated_at: DateTime<Utc>,
}

/// A key as listed: everything but the value, and the value's size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContextKey {
    /// The key.
    pub key: String,
    /// Its version.
    pub version: u64,
    /// The value's size, in bytes of JSON.
    pub size: u64,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// Who wrote it last.
    pub written_by: Provenance,
    /// When it was written last.
    pub updated_at: DateTime<Utc>,
}

impl ContextEntry {
    /// The entry as listed.
    pub fn listed(&self) -> ContextKey {
        ContextKey {
            key: self.key.clone(),
            version: self.version,
            size: value_size(&self.value),
            expires_at: self.expires_at,
            written_by: self.written_by.clone(),
            updated_at: self.updated_at,
        }
    }
}

/// What a write expects to find.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expect {
    /// Anything (no precondition).
    #[default]
    Any,
    /// The key at this version (`If-Match: "<version>"`).
    Version(u64),
    /// A live value, whatever its version (`If-Match: *`).
    Present,
    /// No live value (`If-None-Match: *`).
    Absent,
}

impl Expect {
    /// Whether the key's current version (`None`: no live value) meets the expectation.
    pub fn admits(self, current: Option<u64>) -> bool {
        match self {
            Expect::Any => true,
            Expect::Version(version) => current == Some(version),
            Expect::Present => current.is_some(),
            Expect::Absent => current.is_none(),
        }
    }
}

/// Bounds on a project's context, checked by the store in the write itself (so concurrent writers cannot pass
/// them together).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextLimits {
    /// The largest value, in bytes of JSON.
    pub max_value_bytes: usize,
    /// The most live keys one project holds.
    pub max_keys: usize,
}

impl Default for ContextLimits {
    fn default() -> Self {
        Self { max_value_bytes: 256 * 1024, max_keys: 1_000 }
    }
}

/// Why a store refused a write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContextRefusal {
    /// The key was not at the expected version (`current`: its version, `None` when it has no live value).
    #[error("the key is at version {current:?}, not the one expected")]
    Stale {
        /// The key's version now.
        current: Option<u64>,
    },
    /// The value would be larger than the limit.
    #[error("the value would be {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The project holds as many keys as allowed.
    #[error("the project holds {limit} keys, the most allowed; delete one or let it expire")]
    TooManyKeys {
        /// The limit.
        limit: u64,
    },
    /// An append to a value that is not a list.
    #[error("the value is not a list, so nothing can be appended to it")]
    NotAList,
}

/// A write to a project's context: what it writes, as whom, for how long.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextWrite<'a> {
    /// The key.
    pub key: &'a str,
    /// Who writes.
    pub provenance: &'a Provenance,
    /// How long the value lives from `now`.
    pub ttl: std::time::Duration,
    /// Now.
    pub now: Timestamp,
    /// The limits.
    pub limits: ContextLimits,
}

impl ContextWrite<'_> {
    /// When the written value expires.
    pub fn expires_at(&self) -> Timestamp {
        self.now + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::MAX)
    }

    /// The version after a write to a key at `previous` (`None`: it never existed, or the store forgot it).
    pub fn next_version(&self, previous: Option<u64>) -> u64 {
        next_version(previous, self.now)
    }
}

/// A value's size: the bytes of its compact JSON.
pub fn value_size(value: &serde_json::Value) -> u64 {
    serde_json::to_vec(value).map_or(u64::MAX, |bytes| bytes.len() as u64)
}

/// The version after a write at `now` to a key at `previous`: one more, and at least the time in microseconds,
/// so a key that expired and was written again (a store may forget it entirely) still gets a version no earlier
/// holder saw.
pub fn next_version(previous: Option<u64>, now: Timestamp) -> u64 {
    let clock = u64::try_from(now.timestamp_micros()).unwrap_or(0);
    previous.map_or(0, |v| v.saturating_add(1)).max(clock)
}

/// `value` with `item` appended: an absent value becomes `[item]`; a list gets `item` at its end; anything else
/// is [`ContextRefusal::NotAList`].
pub fn append_item(
    value: Option<&serde_json::Value>,
    item: &serde_json::Value,
) -> Result<serde_json::Value, ContextRefusal> {
    match value {
        None => Ok(serde_json::Value::Array(vec![item.clone()])),
        Some(serde_json::Value::Array(items)) => {
            let mut items = items.clone();
            items.push(item.clone());
            Ok(serde_json::Value::Array(items))
        }
        Some(_) => Err(ContextRefusal::NotAList),
    }
}

/// Refuses a value larger than the limit.
pub fn check_value_size(value: &serde_json::Value, limits: ContextLimits) -> Result<(), ContextRefusal> {
    let size = value_size(value);
    if size > limits.max_value_bytes as u64 {
        return Err(ContextRefusal::TooLarge { size, limit: limits.max_value_bytes as u64 });
    }
    Ok(())
}

/// Checks a context key: 1 to [`MAX_CONTEXT_KEY_LEN`] characters of `A–Z a–z 0–9 . _ - :` (so it is one path
/// segment and one Redis key part, as it is).
pub fn validate_context_key(key: &str) -> Result<String, ValidationError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if key.is_empty() || key.len() > MAX_CONTEXT_KEY_LEN || !key.chars().all(allowed) {
        let reason = format!("must be 1 to {MAX_CONTEXT_KEY_LEN} characters of A-Z a-z 0-9 . _ - :");
        return Err(ValidationError::new("key", reason));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_grow_across_expiry_and_appends_need_a_list() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let first = next_version(None, now);
        assert!(next_version(Some(first), now) > first);
        let forgotten = next_version(None, now + chrono::Duration::seconds(1));
        assert!(forgotten > next_version(Some(first), now), "a re-created key outgrows the old one");
        assert_eq!(append_item(None, &json!(1)).unwrap(), json!([1]));
        assert_eq!(append_item(Some(&json!([1])), &json!({"a": 2})).unwrap(), json!([1, {"a": 2}]));
        assert_eq!(append_item(Some(&json!({"a": 1})), &json!(2)), Err(ContextRefusal::NotAList));
        assert!(Expect::Version(3).admits(Some(3)) && !Expect::Version(3).admits(Some(4)));
        assert!(Expect::Absent.admits(None) && !Expect::Absent.admits(Some(1)) && Expect::Any.admits(Some(9)));
    }

    #[test]
    fn keys_are_one_path_segment_and_values_are_bounded() {
        for good in ["plan", "step.1.result", "qa:review", "a-b_c"] {
            assert_eq!(validate_context_key(good).unwrap(), good);
        }
        for bad in ["", "a/b", "a b", "ключ", &"k".repeat(201)] {
            assert!(validate_context_key(bad).is_err(), "{bad}");
        }
        let limits = ContextLimits { max_value_bytes: 10, max_keys: 1 };
        assert!(check_value_size(&json!("12345678"), limits).is_ok(), "10 bytes with the quotes");
        assert_eq!(
            check_value_size(&json!("123456789"), limits),
            Err(ContextRefusal::TooLarge { size: 11, limit: 10 })
        );
    }
}
