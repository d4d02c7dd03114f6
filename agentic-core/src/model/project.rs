//! Projects: the unit of work and of cost accounting, with an optional budget.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Money;
use crate::ids::{DepartmentId, ProjectId, TenantId, UserId};
use chrono::{DateTime, Utc};

/// A project of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Project {
    /// Id.
    pub id: ProjectId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Department it belongs to, if any.
    pub department_id: Option<DepartmentId>,
    /// Name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Spending limit in USD; `None` is unlimited.
    pub budget: Option<Money>,
    /// Who created it.
    pub created_by: UserId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A change to a project (validated): the fields given are replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectPatch {
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` removes it).
    pub description: Option<Option<String>>,
    /// New budget (`Some(None)`: unlimited). Lowering it below what is spent is allowed: further spending is
    /// refused until it is raised.
    pub budget: Option<Option<Money>>,
}
