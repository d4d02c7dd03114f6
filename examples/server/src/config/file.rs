//! The TOML config file. Its scalar keys are the flags' names in snake_case and reach clap as the flags'
//! defaults, so a file value goes through the same parser and range check as a flag or an environment variable
//! (and loses to both). The `[rate_limits]` section also holds what has no flag: per-principal, plan, role and
//! route quotas.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::ConfigError;

/// What a config file holds.
#[derive(Debug, Default)]
pub(super) struct FileConfig {
    /// `(flag id, file key, value as text)` for every scalar setting the file sets.
    pub(super) defaults: Vec<(String, String, String)>,
    /// The quotas of `[rate_limits]` that have no flag.
    pub(super) rate_limits: RateLimitsFile,
}

/// The `[rate_limits]` section: every quota is a rate like `100/hour`, or `unlimited`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RateLimitsFile {
    /// Feeds `--rate-limits`.
    enabled: Option<toml::Value>,
    /// Feeds `--rate-limit-fail-mode`.
    fail_mode: Option<toml::Value>,
    /// Feeds `--rate-limit-per-ip`.
    per_ip: Option<toml::Value>,
    pub(super) per_principal: Option<String>,
    pub(super) login_per_account: Option<String>,
    #[serde(default)]
    pub(super) plans: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) roles: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) routes: Vec<RouteLimitFile>,
}

/// One `[[rate_limits.routes]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteLimitFile {
    /// `"POST /v1/agents/{name}/execute"` (method optional).
    pub(super) route: String,
    /// A rate.
    pub(super) limit: String,
}

/// Flags that are set in the file's `[rate_limits]` section rather than at the top level, or not in a file.
const NOT_TOP_LEVEL: [&str; 3] = ["config", "rate_limit_fail_mode", "rate_limit_per_ip"];

/// Reads the file at `path`; `flags` are the ids of the command line's settings.
pub(super) fn read(path: &Path, flags: &[String]) -> Result<FileConfig, ConfigError> {
    let parse_error = |message: String| ConfigError::ParseFile { path: path.to_owned(), message };
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile { path: path.to_owned(), source })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| parse_error(e.to_string()))?;
    let mut file = FileConfig::default();
    for (key, value) in table {
        if key == "rate_limits" {
            file.rate_limits =
                value.try_into().map_err(|e: toml::de::Error| parse_error(format!("[rate_limits]: {e}")))?;
            continue;
        }
        if NOT_TOP_LEVEL.contains(&key.as_str()) || !flags.contains(&key) {
            return Err(parse_error(format!("unknown field `{key}`")));
        }
        let text = scalar_text(&key, &value).map_err(parse_error)?;
        file.defaults.push((key.clone(), key, text));
    }
    let section = &file.rate_limits;
    let mut nested = Vec::new();
    for (flag, key, value) in [
        ("rate_limits", "rate_limits.enabled", &section.enabled),
        ("rate_limit_fail_mode", "rate_limits.fail_mode", &section.fail_mode),
        ("rate_limit_per_ip", "rate_limits.per_ip", &section.per_ip),
    ] {
        if let Some(value) = value {
            nested.push((flag.to_owned(), key.to_owned(), scalar_text(key, value).map_err(parse_error)?));
        }
    }
    file.defaults.extend(nested);
    Ok(file)
}

/// A scalar as the text a flag would carry.
fn scalar_text(key: &str, value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(format!("`{key}` must be a string, a whole number or a boolean")),
    }
}
