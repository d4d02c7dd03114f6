//! The context tools: `context_get`, `context_set` and `context_append` read and write the run's project context
//! (see `engine/context.rs`) through the [`ProjectContext`] the engine puts in the [`ToolContext`], each write
//! recorded as the calling agent's. Every platform has them; an agent gets them by listing them in its `tools`.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError};
use crate::model::ContextEntry;

/// The run's project context as an agent's tools see it.
#[async_trait]
pub trait ProjectContext: Send + Sync + std::fmt::Debug {
    /// A live key, or `None`.
    async fn get(&self, key: &str) -> Result<Option<ContextEntry>, ToolError>;

    /// Writes a key (for `ttl_seconds`, default an hour).
    async fn set(&self, key: &str, value: &Value, ttl_seconds: Option<u64>) -> Result<ContextEntry, ToolError>;

    /// Appends to the list under a key.
    async fn append(&self, key: &str, item: &Value, ttl_seconds: Option<u64>) -> Result<ContextEntry, ToolError>;
}

/// The three context tools.
pub fn context_tools() -> Vec<Arc<dyn Tool>> {
    vec![Arc::new(ContextGet), Arc::new(ContextSet), Arc::new(ContextAppend)]
}

fn project(context: &ToolContext) -> Result<&dyn ProjectContext, ToolError> {
    context.project_context.as_deref().ok_or_else(|| ToolError::Failed("no project context outside a run".into()))
}

fn key(input: &Value) -> Result<&str, ToolError> {
    input["key"].as_str().ok_or_else(|| ToolError::InvalidInput("`key` (a string) is required".into()))
}

fn ttl(input: &Value) -> Result<Option<u64>, ToolError> {
    match &input["ttl_seconds"] {
        Value::Null => Ok(None),
        value => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| ToolError::InvalidInput("`ttl_seconds` must be a whole number of seconds".into())),
    }
}

fn written(entry: &ContextEntry) -> Value {
    json!({"key": entry.key, "version": entry.version, "expires_at": entry.expires_at})
}

const KEY_SCHEMA: &str = "A key: 1 to 200 characters of A-Z a-z 0-9 . _ - :";

/// `context_get`.
#[derive(Debug)]
struct ContextGet;

#[async_trait]
impl Tool for ContextGet {
    fn name(&self) -> &str {
        "context_get"
    }

    fn description(&self) -> &str {
        "Reads a value from the project's shared context (what other agents and earlier runs left there)."
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {"key": {"type": "string", "description": KEY_SCHEMA}},
            "required": ["key"]})
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<Value, ToolError> {
        match project(context)?.get(key(&input)?).await? {
            Some(entry) => Ok(json!({"found": true, "value": entry.value, "version": entry.version,
                "written_by": entry.written_by})),
            None => Ok(json!({"found": false})),
        }
    }
}

/// `context_set`.
#[derive(Debug)]
struct ContextSet;

#[async_trait]
impl Tool for ContextSet {
    fn name(&self) -> &str {
        "context_set"
    }

    fn description(&self) -> &str {
        "Writes a value to the project's shared context, for other agents and later runs (kept an hour unless \
         ttl_seconds says otherwise)."
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "key": {"type": "string", "description": KEY_SCHEMA},
            "value": {"description": "Any JSON value"},
            "ttl_seconds": {"type": "integer", "minimum": 1}},
            "required": ["key", "value"]})
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<Value, ToolError> {
        let value = input.get("value").ok_or_else(|| ToolError::InvalidInput("`value` is required".into()))?;
        Ok(written(&project(context)?.set(key(&input)?, value, ttl(&input)?).await?))
    }
}

/// `context_append`.
#[derive(Debug)]
struct ContextAppend;

#[async_trait]
impl Tool for ContextAppend {
    fn name(&self) -> &str {
        "context_append"
    }

    fn description(&self) -> &str {
        "Appends an item to a list in the project's shared context (created if absent); appends by several agents \
         at once are all kept."
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "key": {"type": "string", "description": KEY_SCHEMA},
            "item": {"description": "Any JSON value"},
            "ttl_seconds": {"type": "integer", "minimum": 1}},
            "required": ["key", "item"]})
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<Value, ToolError> {
        let item = input.get("item").ok_or_else(|| ToolError::InvalidInput("`item` is required".into()))?;
        Ok(written(&project(context)?.append(key(&input)?, item, ttl(&input)?).await?))
    }
}
