//! Request and response bodies of HTTP API v1.
//!
//! They live outside the `http` feature so that the SDK and host apps can use them without axum. Requests reject
//! unknown fields: a misspelt field is an error, not a silently ignored default.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Credential;
use crate::ids::DepartmentId;
use crate::model::{ApiKey, Money, Permission, Plan, Role, Tenant, User};
use chrono::{DateTime, Utc};

mod context;
mod events;
mod handoffs;
mod knowledge;
mod problem;
mod schedules;
mod webhooks;
pub use context::{AppendContextRequest, ContextKeyList, PutContextRequest};
pub use events::{EventFrame, EventTypeList, EventTypeView};
pub use handoffs::{HandoffList, HandoffView};
pub use knowledge::{
    CreateKnowledgeBaseRequest, DocumentWithChunks, SearchKnowledgeRequest, SearchResults, UploadDocumentRequest,
    UploadedDocument,
};
pub use problem::{PROBLEM_TYPE_BASE, Problem, ProblemType};
pub use schedules::{
    BackfillReport, BackfillRequest, CreateScheduleRequest, FireOutcome, FireReport, PauseRequest, TriggerRequest,
    UpcomingFire, UpcomingFires, UpcomingQuery, UpdateScheduleRequest,
};
pub use webhooks::{
    CreateWebhookRequest, CreatedWebhook, DeliveryDetail, DeliveryListQuery, ReplayRequest, ReplayResponse,
    RotateSecretRequest, RotatedSecret, UpdateWebhookRequest, WebhookView,
};

/// `POST /v1/auth/login`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The tenant's slug.
    pub tenant: String,
    /// E-mail.
    pub email: String,
    /// Password.
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "crate::api::expose_secret")]
    pub password: SecretString,
}

/// An access token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// `GET /v1/me`: the caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    /// The acting user.
    pub user: User,
    /// How the caller authenticated.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// Permissions in force for this request.
    pub permissions: Vec<Permission>,
}

impl MeResponse {
    /// Assembles the response.
    pub fn new(user: User, credential: Credential, permissions: Vec<Permission>) -> Self {
        let credential = serde_json::to_value(credential).unwrap_or(serde_json::Value::Null);
        Self { user, credential, permissions }
    }
}

/// `GET /v1/settings/guardrails`: the tenant's outgoing guardrail, as it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GuardrailSettings {
    /// What happens to a call to a third-party provider whose prompt holds a credential or personal data.
    pub outgoing: crate::llm::GuardrailAction,
    /// `tenant` when the tenant chose it, `default` when it is the platform's default.
    pub source: String,
    /// Whether this platform scans outgoing prompts at all (`false`: the setting is kept but nothing is scanned).
    pub installed: bool,
    /// Providers whose calls are not scanned (self-hosted models).
    pub exempt_providers: Vec<String>,
}

/// `PUT /v1/settings/guardrails` (needs `users:manage`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGuardrailSettings {
    /// `block`, `redact` or `off`.
    pub outgoing: crate::llm::GuardrailAction,
}

/// `PATCH /v1/tenants/{id}` (master key): what to change; absent fields stay.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenantRequest {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New plan tier (its rate limits apply within a minute: replicas cache plans that long).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::model::Plan>,
}

/// `POST /v1/tenants`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantRequest {
    /// Display name.
    #[schema(min_length = 1)]
    pub name: String,
    /// Unique URL-safe handle.
    pub slug: String,
    /// Plan (default `free`).
    #[serde(default)]
    pub plan: Plan,
    /// Settings object (default `{}`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: Option<serde_json::Value>,
    /// E-mail of the first admin.
    pub admin_email: String,
    /// Password of the first admin.
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "crate::api::expose_secret")]
    pub admin_password: SecretString,
}

/// A created tenant and its first admin.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateTenantResponse {
    /// The tenant.
    pub tenant: Tenant,
    /// Its admin.
    pub admin: User,
}

/// `POST /v1/users`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// E-mail, unique within the tenant (case-insensitive).
    pub email: String,
    /// Password (at least 12 characters).
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "crate::api::expose_secret")]
    pub password: SecretString,
    /// Roles (at least one).
    pub roles: Vec<Role>,
}

/// `PATCH /v1/users/{id}`; absent fields are unchanged.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New roles.
    pub roles: Option<Vec<Role>>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// New password.
    #[schema(value_type = Option<String>, format = Password)]
    #[serde(serialize_with = "crate::api::expose_optional_secret", skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretString>,
}

/// `POST /v1/api-keys`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// Human label.
    #[schema(min_length = 1)]
    pub name: String,
    /// Permissions to grant; each must be one the creator holds. Empty means read-only.
    #[serde(default)]
    pub scopes: Vec<Permission>,
    /// Optional expiry (must be in the future).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created API key: the only time its text is shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateApiKeyResponse {
    /// The full key text. Store it now: it cannot be shown again.
    pub key: String,
    /// The key's metadata.
    pub api_key: ApiKey,
}

/// `POST /v1/departments`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartmentRequest {
    /// Name, unique within the tenant.
    #[schema(min_length = 1)]
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
}

/// `POST /v1/projects`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// Name.
    #[schema(min_length = 1)]
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Department, which must belong to the caller's tenant.
    pub department_id: Option<DepartmentId>,
    /// Budget in USD as a decimal string, e.g. `"250.00"`.
    pub budget: Option<Money>,
}

/// `PATCH /v1/departments/{id}`: the fields given are replaced; `"description": null` removes it.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDepartmentRequest {
    /// New name, unique within the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description, or `null` to remove it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// `PATCH /v1/projects/{id}`: the fields given are replaced; `"description": null` removes it, `"budget": null`
/// makes the project unlimited. A budget below what is spent is allowed and blocks further spending.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectRequest {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description, or `null` to remove it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New budget in USD as a decimal string, or `null` for none.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub budget: Option<Option<Money>>,
}

/// Reads a field that is present (its value may be `null`), so that absent and `null` differ.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// `GET /health` and `GET /ready`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`, or `unavailable` when a dependency is down.
    pub status: String,
}

/// Query of the cost reports.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CostQuery {
    /// Group by `project`, `agent`, `model`, `provider` or `day` (UTC); absent: totals only.
    pub group_by: Option<crate::model::CostGroupBy>,
    /// From this instant (inclusive, RFC 3339).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Until this instant (exclusive, RFC 3339).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// A cost report: totals, optional groups, and for a project its budget.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CostReport {
    /// The project, for a project report.
    pub project_id: Option<crate::ids::ProjectId>,
    /// The grouping.
    pub group_by: Option<crate::model::CostGroupBy>,
    /// Window start.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Window end.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// Totals over the window.
    pub total: crate::model::CostTotals,
    /// Per-group totals, sorted by key.
    pub groups: Vec<crate::model::CostTotals>,
    /// For a project: where its budget stands now.
    pub budget: Option<crate::model::BudgetStatus>,
}

/// Where an agent's definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentSource {
    /// Shipped with the platform.
    Builtin,
    /// Defined by the tenant (adding or overriding).
    Tenant,
}

/// An agent as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentView {
    /// Its name in URLs, e.g. `qa_tester`.
    pub name: crate::agents::AgentKey,
    /// Built in, or the tenant's.
    pub source: AgentSource,
    /// The parsed specification.
    pub spec: crate::agents::AgentSpec,
    /// The YAML it was defined with.
    pub yaml: String,
    /// Who last wrote it (tenant agents).
    pub updated_by: Option<crate::ids::UserId>,
    /// When (tenant agents).
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /v1/agents`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgentList {
    /// Every agent the tenant can run, by name.
    pub data: Vec<AgentView>,
}

/// `POST /v1/agents/{name}/execute`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// The task, in words.
    #[schema(min_length = 1)]
    pub task: String,
    /// Extra context for the agent.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// The project charged.
    pub project_id: crate::ids::ProjectId,
    /// Risk of this run: may raise the agent's own risk level, never lower it (default: the agent's).
    #[serde(default)]
    pub risk_level: Option<crate::model::RiskLevel>,
    /// Seconds to wait for the result (0–60, default 0: answer at once with the queued run); `true` waits the
    /// longest allowed (60 s), `false` not at all.
    #[serde(default, deserialize_with = "wait_seconds")]
    #[schema(value_type = Option<u64>)]
    pub wait: Option<u64>,
    /// The most tokens (input and output, over every model call) the run may use; each call's `max_tokens` is
    /// clipped to what is left, and a call that cannot fit fails the run with the `budget-exceeded` problem type
    /// before it is made. `context.budget_tokens` is read too (the smaller applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u64>,
}

impl ExecuteRequest {
    /// A request for `task`, charged to `project`, with everything else at its default (no context, the agent's
    /// risk, no waiting, no token cap).
    pub fn new(task: impl Into<String>, project_id: crate::ids::ProjectId) -> Self {
        Self { task: task.into(), context: None, project_id, risk_level: None, wait: None, budget_tokens: None }
    }
}

/// `POST /v1/workflows`: starts a named workflow as one durable run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowRequest {
    /// The workflow: `ProjectPipelineWorkflow` (or `project_pipeline`).
    pub name: String,
    /// The workflow's arguments; for the project pipeline `{"goal": "...", "context": {...}?, "max_tasks": 1..10?}`
    /// (`max_tasks` bounds the plan, and with it the run's cost).
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// The project charged.
    pub project_id: crate::ids::ProjectId,
    /// Risk of this run: may raise it above the highest risk of the agents the workflow may run, never lower
    /// it (default: that highest risk).
    #[serde(default)]
    pub risk_level: Option<crate::model::RiskLevel>,
    /// Seconds to wait for the result (0–60, default 0: answer at once with the queued run); `true` waits the
    /// longest allowed (60 s), `false` not at all.
    #[serde(default, deserialize_with = "wait_seconds")]
    #[schema(value_type = Option<u64>)]
    pub wait: Option<u64>,
    /// The most tokens (input and output, over every model call) the run may use; each call's `max_tokens` is
    /// clipped to what is left, and a call that cannot fit fails the run with the `budget-exceeded` problem type
    /// before it is made. `context.budget_tokens` is read too (the smaller applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u64>,
}

/// `GET /v1/runs/{id}/result?wait=SECONDS`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// Seconds to wait for the run to finish (0–60); `true` waits the longest allowed (60 s), `false` not at all.
    #[serde(default, deserialize_with = "wait_seconds")]
    pub wait: Option<u64>,
}

/// `GET /v1/approvals?status=`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApprovalQuery {
    /// Only requests with this status.
    pub status: Option<crate::model::ApprovalStatus>,
}

/// The optional body of `POST /v1/approvals/{id}/approve|deny`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Why.
    pub comment: Option<String>,
}

/// `GET /v1/approvals`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApprovalList {
    /// The requests, oldest first (at most 200).
    pub data: Vec<crate::model::Approval>,
}

/// Writes a secret of a request body (a client sends it; the server only reads requests).
pub(crate) fn expose_secret<S: serde::Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    serializer.serialize_str(secret.expose_secret())
}

/// [`expose_secret`] for an optional secret.
pub(crate) fn expose_optional_secret<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => expose_secret(secret, serializer),
        None => serializer.serialize_none(),
    }
}

/// The longest `wait` in seconds, which `"wait": true` stands for.
pub const MAX_WAIT_SECS: u64 = 60;

/// Reads a `wait`: seconds, or `true` (the longest allowed) / `false` (none), in JSON or in a query string.
fn wait_seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct Wait;

    impl serde::de::Visitor<'_> for Wait {
        type Value = Option<u64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number of seconds, true or false")
        }

        fn visit_u64<E: serde::de::Error>(self, seconds: u64) -> Result<Self::Value, E> {
            Ok(Some(seconds))
        }

        fn visit_i64<E: serde::de::Error>(self, seconds: i64) -> Result<Self::Value, E> {
            u64::try_from(seconds).map(Some).map_err(|_| E::custom("wait must not be negative"))
        }

        fn visit_bool<E: serde::de::Error>(self, wait: bool) -> Result<Self::Value, E> {
            Ok(Some(if wait { MAX_WAIT_SECS } else { 0 }))
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            match text {
                "true" => self.visit_bool(true),
                "false" => self.visit_bool(false),
                digits => {
                    digits.parse().map(Some).map_err(|_| E::custom("expected a number of seconds, true or false"))
                }
            }
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    deserializer.deserialize_any(Wait)
}
