//! Users: people who sign in to a tenant, with roles.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PermissionSet, Role, ValidationError};
use crate::ids::{TenantId, UserId};
use chrono::{DateTime, Utc};

/// An e-mail address, trimmed and lower-cased so that uniqueness per tenant is case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, format = "email")]
pub struct Email(String);

impl Email {
    /// Validates and normalises `value`.
    ///
    /// The check is deliberately structural (one `@`, a non-empty local part, a dotted domain without spaces, at most
    /// 254 bytes): deliverability is decided by sending mail, not by a regex.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim().to_lowercase();
        let invalid = |why: &str| ValidationError::new("email", format!("`{value}` is not an e-mail address: {why}"));
        if value.len() > 254 {
            return Err(ValidationError::new("email", "must be at most 254 characters"));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(invalid("missing '@'"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("the part before '@' must be 1-64 characters"));
        }
        if domain.contains('@') {
            return Err(invalid("more than one '@'"));
        }
        let labels_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(invalid("the domain must be dotted labels of letters, digits and '-'"));
        }
        if local.chars().any(|c| c.is_whitespace() || c.is_control() || "\"(),:;<>[\\]".contains(c)) {
            return Err(invalid("the part before '@' has a forbidden character"));
        }
        Ok(Self(value))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An argon2id password hash in PHC string format. Never serialised, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by [`crate::auth::password`].
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// A user, as the API shows it (no credentials).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Tenant the user belongs to.
    pub tenant_id: TenantId,
    /// Normalised e-mail, unique within the tenant.
    pub email: Email,
    /// Roles; the user's permissions are their union.
    pub roles: Vec<Role>,
    /// Inactive users cannot sign in, and their tokens and API keys stop working.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The union of the user's roles' permissions.
    pub fn permissions(&self) -> PermissionSet {
        Role::permissions_of(&self.roles)
    }
}

/// A user with their password hash, as stores keep it.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    /// The user.
    pub user: User,
    /// Their password hash.
    pub password_hash: PasswordHash,
}

/// A partial update of a user; `None` fields are left as they are.
#[derive(Clone, Debug, PartialEq)]
pub struct UserPatch {
    /// When the change is made (becomes `updated_at`).
    pub at: DateTime<Utc>,
    /// New roles.
    pub roles: Option<Vec<Role>>,
    /// New active flag.
    pub active: Option<bool>,
    /// New password hash.
    pub password_hash: Option<PasswordHash>,
}

/// Sorts and de-duplicates roles; at least one is required.
pub(crate) fn normalize_roles(mut roles: Vec<Role>) -> Result<Vec<Role>, ValidationError> {
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(ValidationError::new("roles", "at least one role is required (admin, manager, developer, viewer)"));
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let check = |input: &str, expected: Option<&str>| {
            assert_eq!(Email::parse(input).ok().as_ref().map(Email::as_str), expected, "{input}");
        };
        check("Ada@Example.COM ", Some("ada@example.com"));
        check("a.b+tag@sub.example.org", Some("a.b+tag@sub.example.org"));
        check("no-at-sign", None);
        check("@example.com", None);
        check("a@b", None);
        check("a@@b.com", None);
        check("a b@c.com", None);
        check("a@-b.com", None);
        check("a@b..com", None);
        check(&format!("{}@b.com", "x".repeat(65)), None);
    }

    #[test]
    fn password_hash_debug_hides_the_hash() {
        let hash = PasswordHash::from_phc("$argon2id$v=19$secret".into());
        assert_eq!(format!("{hash:?}"), "PasswordHash(..)");
    }

    #[test]
    fn roles_are_normalised() {
        assert_eq!(
            normalize_roles(vec![Role::Viewer, Role::Admin, Role::Viewer]).unwrap(),
            vec![Role::Admin, Role::Viewer]
        );
        assert!(normalize_roles(vec![]).is_err());
    }
}
