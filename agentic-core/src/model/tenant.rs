//! Tenants: the organisations that use the platform, each isolated from the others.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ValidationError;
use crate::ids::TenantId;
use chrono::{DateTime, Utc};

/// A tenant's subscription plan; it selects rate-limit tiers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// 100 requests/hour.
    #[default]
    Free,
    /// 1000 requests/hour.
    Developer,
    /// Unlimited.
    Enterprise,
}

impl Plan {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Developer => "developer",
            Plan::Enterprise => "enterprise",
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Plan::Free),
            "developer" => Ok(Plan::Developer),
            "enterprise" => Ok(Plan::Enterprise),
            other => Err(ValidationError::new("plan", format!("unknown plan `{other}` (free, developer, enterprise)"))),
        }
    }
}

/// A tenant's URL-safe unique handle: 2–63 characters of `a-z`, `0-9` and inner `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$")]
pub struct Slug(String);

impl Slug {
    /// Validates `value` as a slug.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok_len = (2..=63).contains(&value.len());
        let ok_chars = value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ok_ends = !value.starts_with('-') && !value.ends_with('-');
        if ok_len && ok_chars && ok_ends {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(
                "slug",
                "must be 2-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            ))
        }
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> Self {
        slug.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Unique URL-safe handle, used at login.
    pub slug: Slug,
    /// Subscription plan.
    pub plan: Plan,
    /// Free-form settings (a JSON object).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["default", "acme-corp", "a1", "x".repeat(63).as_str()] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "-acme", "acme-", "Acme", "ac me", "ac_me", "é-corp", "x".repeat(64).as_str()] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plans() {
        assert_eq!("developer".parse::<Plan>().unwrap(), Plan::Developer);
        assert!("gold".parse::<Plan>().is_err());
    }
}
