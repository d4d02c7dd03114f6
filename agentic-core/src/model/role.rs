//! Roles and permissions (RBAC).
//!
//! Four roles grant seven permissions (webhooks:manage also guards reading webhooks); reading a tenant's data needs only membership of it. API keys carry a
//! subset of their creator's permissions as scopes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A write permission. Reads need only membership of the tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum Permission {
    /// Execute agents.
    #[serde(rename = "agents:execute")]
    AgentsExecute,
    /// Start workflows.
    #[serde(rename = "workflows:create")]
    WorkflowsCreate,
    /// Approve or deny gated runs.
    #[serde(rename = "approvals:approve")]
    ApprovalsApprove,
    /// Create and change departments.
    #[serde(rename = "departments:manage")]
    DepartmentsManage,
    /// Create and change users, and manage every API key of the tenant.
    #[serde(rename = "users:manage")]
    UsersManage,
    /// Create, read and change webhook endpoints and their deliveries (they send the tenant's events out, so
    /// reading them is guarded too: URLs and delivery logs are the admin's).
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Create and delete knowledge bases, and upload and delete their documents (which agents then read and cite).
    #[serde(rename = "knowledge:manage")]
    KnowledgeManage,
}

impl Permission {
    /// Every permission, in a stable order.
    pub const ALL: [Permission; 7] = [
        Permission::AgentsExecute,
        Permission::WorkflowsCreate,
        Permission::ApprovalsApprove,
        Permission::DepartmentsManage,
        Permission::UsersManage,
        Permission::WebhooksManage,
        Permission::KnowledgeManage,
    ];

    /// The wire name, e.g. `agents:execute`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::AgentsExecute => "agents:execute",
            Permission::WorkflowsCreate => "workflows:create",
            Permission::ApprovalsApprove => "approvals:approve",
            Permission::DepartmentsManage => "departments:manage",
            Permission::UsersManage => "users:manage",
            Permission::WebhooksManage => "webhooks:manage",
            Permission::KnowledgeManage => "knowledge:manage",
        }
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a known permission or role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`")]
pub struct UnknownName {
    /// `permission` or `role`.
    pub kind: &'static str,
    /// What was given.
    pub name: String,
}

impl FromStr for Permission {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownName { kind: "permission", name: s.to_owned() })
    }
}

/// A set of permissions, as a bit set (cheap to copy and intersect on every request).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u8);

impl PermissionSet {
    /// No permissions: read-only.
    pub const EMPTY: PermissionSet = PermissionSet(0);

    /// Whether `permission` is in the set.
    pub const fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// Whether every permission of `other` is in this set.
    pub const fn is_superset_of(self, other: PermissionSet) -> bool {
        other.0 & !self.0 == 0
    }

    /// The permissions in both sets.
    pub const fn intersection(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 & other.0)
    }

    /// The permissions in either set.
    pub const fn union(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 | other.0)
    }

    /// This set plus `permission`.
    pub const fn with(self, permission: Permission) -> PermissionSet {
        PermissionSet(self.0 | permission.bit())
    }

    /// The permissions `other` has that this set lacks.
    pub fn missing_from(self, other: PermissionSet) -> Vec<Permission> {
        other.iter().filter(|p| !self.contains(*p)).collect()
    }

    /// The permissions in the set, in [`Permission::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// The permissions as a vector (for serialisation).
    pub fn to_vec(self) -> Vec<Permission> {
        self.iter().collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter().fold(PermissionSet::EMPTY, PermissionSet::with)
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Permission::as_str)).finish()
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Permission>::deserialize(deserializer)?.into_iter().collect())
    }
}

/// A role: a named bundle of permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Departments, workflows and approvals.
    Manager,
    /// Agent execution and workflows.
    Developer,
    /// Read-only.
    Viewer,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Developer, Role::Viewer];

    /// The wire name, e.g. `admin`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Developer => "developer",
            Role::Viewer => "viewer",
        }
    }

    /// The permissions this role grants.
    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            Role::Admin => Permission::ALL.into_iter().collect(),
            Role::Manager => [AgentsExecute, WorkflowsCreate, ApprovalsApprove, DepartmentsManage, KnowledgeManage]
                .into_iter()
                .collect(),
            Role::Developer => [AgentsExecute, WorkflowsCreate, KnowledgeManage].into_iter().collect(),
            Role::Viewer => PermissionSet::EMPTY,
        }
    }

    /// The union of the permissions of `roles`.
    pub fn permissions_of(roles: &[Role]) -> PermissionSet {
        roles.iter().fold(PermissionSet::EMPTY, |set, role| set.union(role.permissions()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownName { kind: "role", name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    #[test]
    fn role_matrix_matches_the_plan() {
        let check = |role: Role, expected: &[Permission]| {
            assert_eq!(role.permissions().to_vec(), expected, "{role}");
        };
        check(Role::Admin, &Permission::ALL);
        // The plan's matrix, with `knowledge:manage` (not in the plan) for everyone who runs agents.
        check(Role::Manager, &[AgentsExecute, WorkflowsCreate, ApprovalsApprove, DepartmentsManage, KnowledgeManage]);
        check(Role::Developer, &[AgentsExecute, WorkflowsCreate, KnowledgeManage]);
        check(Role::Viewer, &[]);
    }

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), p);
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
        assert!("agents:*".parse::<Permission>().is_err());
    }

    #[test]
    fn set_algebra() {
        let dev = Role::Developer.permissions();
        let admin = Role::Admin.permissions();
        assert!(admin.is_superset_of(dev));
        assert!(!dev.is_superset_of(admin));
        assert_eq!(dev.missing_from(PermissionSet::EMPTY.with(UsersManage).with(AgentsExecute)), vec![UsersManage]);
        assert_eq!(admin.intersection(dev), dev);
        let json = serde_json::to_string(&dev).unwrap();
        assert_eq!(json, r#"["agents:execute","workflows:create","knowledge:manage"]"#);
        assert_eq!(serde_json::from_str::<PermissionSet>(&json).unwrap(), dev);
    }
}
