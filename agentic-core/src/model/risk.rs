//! How risky a run's work is, which decides whether it waits for a human.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How risky an agent's work is; `high` needs human approval by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Read-only or easily undone.
    #[default]
    Low,
    /// Changes things, reversibly.
    Medium,
    /// Changes things that matter (deployments, security findings): gated by approval.
    High,
}

impl RiskLevel {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }
}
