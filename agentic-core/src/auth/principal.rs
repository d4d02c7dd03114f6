//! The authenticated caller.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Error;
use crate::ids::{ApiKeyId, ScheduleId, TenantId, UserId};
use crate::model::{Permission, PermissionSet, Role};

/// How a principal authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Credential {
    /// A JWT access token from login.
    AccessToken,
    /// An API key.
    ApiKey {
        /// The key's id.
        id: ApiKeyId,
    },
    /// A schedule's fire, acting as the user the schedule's runs act as.
    Schedule {
        /// The schedule's id.
        id: ScheduleId,
    },
}

/// An authenticated caller: one tenant, one acting user, and the permissions in force for this request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Principal {
    /// The tenant every operation of this request is scoped to.
    pub tenant_id: TenantId,
    /// The acting user (an API key acts as its owner).
    pub user_id: UserId,
    /// How the caller authenticated.
    pub credential: Credential,
    /// The user's current roles.
    pub roles: Vec<Role>,
    /// Permissions in force: the roles' permissions, intersected with the scopes for an API key.
    #[schema(value_type = Vec<Permission>)]
    pub permissions: PermissionSet,
}

impl Principal {
    /// Whether the principal holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// `Ok` if the principal holds `permission`, else [`Error::Forbidden`].
    pub fn require(&self, permission: Permission) -> Result<(), Error> {
        if self.can(permission) { Ok(()) } else { Err(Error::MissingPermission(permission)) }
    }

    /// The API key id, when authenticated by one.
    pub fn api_key_id(&self) -> Option<ApiKeyId> {
        match self.credential {
            Credential::ApiKey { id } => Some(id),
            Credential::AccessToken | Credential::Schedule { .. } => None,
        }
    }
}
