//! Departments: the parts of a company that agents work for.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{DepartmentId, TenantId};
use chrono::{DateTime, Utc};

/// A department of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Department {
    /// Id.
    pub id: DepartmentId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Name, unique within the tenant.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A change to a department (validated): the fields given are replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DepartmentPatch {
    /// New name (unique within the tenant, ignoring case).
    pub name: Option<String>,
    /// New description (`Some(None)` removes it).
    pub description: Option<Option<String>>,
}
