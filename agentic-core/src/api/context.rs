//! Bodies of the project context API.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::ContextKey;

/// `PUT /v1/projects/{id}/context/{key}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutContextRequest {
    /// The value (any JSON, at most 256 KiB by default).
    #[schema(value_type = Value)]
    pub value: serde_json::Value,
    /// How long it lives, in seconds (default 3,600; at most 30 days).
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// `POST /v1/projects/{id}/context/{key}/append`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendContextRequest {
    /// The item to append to the list under the key (an absent key becomes a list of this one item).
    #[schema(value_type = Value)]
    pub item: serde_json::Value,
    /// How long the list lives from now, in seconds (default 3,600; at most 30 days).
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// `GET /v1/projects/{id}/context`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContextKeyList {
    /// The project's live keys, sorted.
    pub data: Vec<ContextKey>,
}
