//! Tools agents call: the [`Tool`] trait, the context a call runs in, and the [`ToolRegistry`].
//!
//! The analyzers and generators agents ship with live in `agentic-tools` (`agentic_tools::builtin_tools()`); a
//! host app adds its own beside them.
//!
//! ```
//! use std::sync::Arc;
//! use agentic_core::tools::{Tool, ToolContext, ToolError, ToolRegistry};
//! use async_trait::async_trait;
//! use serde_json::{Value, json};
//!
//! #[derive(Debug)]
//! struct Shout;
//!
//! #[async_trait]
//! impl Tool for Shout {
//!     fn name(&self) -> &str { "shout" }
//!     fn description(&self) -> &str { "Upper-cases `text`." }
//!     fn input_schema(&self) -> Value {
//!         json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})
//!     }
//!     async fn call(&self, _: &ToolContext, input: Value) -> Result<Value, ToolError> {
//!         let text = input["text"].as_str().ok_or_else(|| ToolError::InvalidInput("`text` is required".into()))?;
//!         Ok(json!({"text": text.to_uppercase()}))
//!     }
//! }
//!
//! let registry = ToolRegistry::new().with(Arc::new(Shout));
//! assert!(registry.contains("shout"));
//! let definitions = registry.definitions(&["shout".to_owned()]);
//! assert_eq!(definitions[0].name, "shout");
//! ```

mod context;
mod findings;
mod knowledge;
mod severity;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use context::{ProjectContext, context_tools};
pub use findings::{Analyzer, Finding, InputFile};
pub(crate) use knowledge::KnowledgeSearchTool;
pub use knowledge::{KNOWLEDGE_SEARCH_TOOL, KnowledgeSearch, MAX_TOOL_RESULTS, source_view};
pub use severity::{SarifLevel, Severity};

use async_trait::async_trait;

use crate::ids::{ProjectId, RunId, TenantId};
use crate::llm::ToolDefinition;

/// The calling agent's model, for tools that ask it something: the engine answers through the same budget
/// reservation and cost accounting as the agent's own turns, and adds what the questions cost to the run.
#[async_trait]
pub trait ToolModel: Send + Sync + std::fmt::Debug {
    /// Asks one question (a system prompt and a user prompt) and returns the answer's text. A budget refusal or
    /// a provider failure is a [`ToolError::Failed`] the agent sees.
    async fn ask(&self, system: &str, prompt: &str) -> Result<String, ToolError>;

    /// Asks for an answer in `form`, which providers that can constrain their output are held to; the caller reads
    /// the text with [`OutputSchema::read`](crate::llm::OutputSchema::read). By default the question is asked
    /// as [`ask`](Self::ask) does, and the system prompt is left to describe the form.
    async fn ask_in_form(
        &self,
        system: &str,
        prompt: &str,
        form: &crate::llm::OutputSchema,
    ) -> Result<String, ToolError> {
        let _ = form;
        self.ask(system, prompt).await
    }
}

/// What a tool call runs for.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ToolContext {
    /// The calling agent's model, for tools that ask it something (none outside a run's agent loop).
    pub model: Option<Arc<dyn ToolModel>>,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Project charged for any LLM work the tool does.
    pub project_id: ProjectId,
    /// The run, when in one.
    pub run_id: Option<RunId>,
    /// The calling agent.
    pub agent: String,
    /// The run's project context, for the context tools (none outside a run's agent loop).
    pub project_context: Option<Arc<dyn ProjectContext>>,
    /// The knowledge bases the run may search, for `knowledge_search` (none when it reads no knowledge).
    pub knowledge: Option<Arc<dyn KnowledgeSearch>>,
}

impl ToolContext {
    /// A call by `agent` for a project, with no model and no run (what a tool's own tests need).
    pub fn new(tenant_id: TenantId, project_id: ProjectId, agent: impl Into<String>) -> Self {
        Self {
            model: None,
            tenant_id,
            project_id,
            run_id: None,
            agent: agent.into(),
            project_context: None,
            knowledge: None,
        }
    }

    /// With the model tools may ask.
    pub fn with_model(mut self, model: Arc<dyn ToolModel>) -> Self {
        self.model = Some(model);
        self
    }

    /// With the project context the context tools read and write.
    pub fn with_project_context(mut self, context: Arc<dyn ProjectContext>) -> Self {
        self.project_context = Some(context);
        self
    }

    /// With the knowledge `knowledge_search` reads.
    pub fn with_knowledge(mut self, knowledge: Arc<dyn KnowledgeSearch>) -> Self {
        self.knowledge = Some(knowledge);
        self
    }

    /// Within a run.
    pub fn with_run(mut self, run_id: RunId) -> Self {
        self.run_id = Some(run_id);
        self
    }
}

/// Why a tool call failed. The message goes back to the model, which may correct its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The input does not match the tool's schema or makes no sense.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The tool ran and failed.
    #[error("{0}")]
    Failed(String),
}

/// A capability an agent can call by name with JSON input.
#[async_trait]
pub trait Tool: Send + Sync + std::fmt::Debug {
    /// The name the model uses.
    fn name(&self) -> &str;

    /// What it does, for the model.
    fn description(&self) -> &str;

    /// JSON Schema of its input.
    fn input_schema(&self) -> serde_json::Value;

    /// Runs it.
    async fn call(&self, context: &ToolContext, input: serde_json::Value) -> Result<serde_json::Value, ToolError>;

    /// The tool as an [`Analyzer`] of a run's input files, when it can run without the model (an agent may then
    /// name it in `auto_tools`). `None` by default.
    fn analyzer(&self) -> Option<&dyn Analyzer> {
        None
    }
}

/// Tools by name.
#[derive(Clone, Debug, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl ToolRegistry {
    /// No tools.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a tool.
    pub fn with(self, tool: Arc<dyn Tool>) -> Self {
        self.extend([tool])
    }

    /// Adds (or replaces) every tool of `tools`.
    pub fn extend(mut self, tools: impl IntoIterator<Item = Arc<dyn Tool>>) -> Self {
        for tool in tools {
            self.tools.insert(tool.name().to_owned(), tool);
        }
        self
    }

    /// Whether a tool of this name is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.tools.contains_key(name)
    }

    /// A tool by name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.get(name)
    }

    /// The definitions of the named tools that exist, for an LLM request.
    pub fn definitions(&self, names: &[String]) -> Vec<ToolDefinition> {
        names
            .iter()
            .filter_map(|name| self.tools.get(name))
            .map(|tool| ToolDefinition {
                name: tool.name().to_owned(),
                description: tool.description().to_owned(),
                input_schema: tool.input_schema(),
            })
            .collect()
    }

    /// Names of the registered tools.
    pub fn names(&self) -> Vec<&str> {
        self.tools.keys().map(String::as_str).collect()
    }

    /// Names of the registered tools that are [`Analyzer`]s (what `auto_tools` may name).
    pub fn analyzer_names(&self) -> Vec<&str> {
        self.tools.iter().filter(|(_, tool)| tool.analyzer().is_some()).map(|(name, _)| name.as_str()).collect()
    }
}
