//! Tools agents call: the [`Tool`] trait, the context a call runs in, and the [`ToolRegistry`].
//!
//! ```
//! use agentic_core::tools::ToolRegistry;
//!
//! let registry = ToolRegistry::builtin();
//! assert!(registry.get("secret_detector").is_some());
//! let definitions = registry.definitions(&["secret_detector".to_owned()]);
//! assert_eq!(definitions[0].name, "secret_detector");
//! ```

mod accessibility;
mod coverage;
mod dependencies;
mod dockerfile;
mod generators;
mod llm;
mod owasp;
mod report;
mod secrets;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

pub use accessibility::{A11yFinding, AccessibilityChecker, contrast_ratio};
pub use coverage::{CoverageAnalyzer, FileCoverage, parse_cobertura, parse_lcov};
pub use dependencies::{
    Advisory, Affected, Dependency, DependencyChecker, OsvPackage, OsvRange, VulnerableDependency, compare_versions,
    parse_lockfile,
};
pub use dockerfile::{DockerFinding, DockerfileOptimizer};
pub use generators::{Generator, extract_code, generators};
pub use llm::ToolLlm;
pub use owasp::{OwaspFinding, OwaspScanner};
pub use report::{ReportFinding, SecurityReportGenerator};
pub use secrets::{SecretDetector, SecretFinding};

use crate::ids::{ProjectId, TenantId};
use crate::llm::ToolDefinition;

/// What a tool call runs for.
#[derive(Clone, Debug)]
pub struct ToolContext {
    /// The model LLM-backed tools use (the calling agent's), with budget and cost accounting.
    pub llm: Option<ToolLlm>,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Project charged for any LLM work the tool does.
    pub project_id: ProjectId,
    /// The run, when in one.
    pub run_id: Option<crate::ids::RunId>,
    /// The calling agent.
    pub agent: String,
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
}

/// A file handed to an analyzer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceFile {
    pub(crate) path: String,
    pub(crate) content: String,
}

/// The `{"files": [{"path", "content"}]}` input several analyzers share.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilesInput {
    pub(crate) files: Vec<SourceFile>,
}

impl FilesInput {
    pub(crate) fn parse(input: serde_json::Value) -> Result<Self, ToolError> {
        serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))
    }
}

/// The JSON schema of an array of `{path, content}` files.
pub(crate) fn files_schema() -> serde_json::Value {
    serde_json::json!({"type": "array", "items": {"type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}}, "required": ["path", "content"]}})
}

/// Runs a per-file scanner over a [`FilesInput`] and returns `{findings, files_scanned}`.
pub(crate) fn scan_files<F: serde::Serialize>(
    input: serde_json::Value,
    scan: impl Fn(&str, &str) -> Vec<F>,
) -> Result<serde_json::Value, ToolError> {
    let input = FilesInput::parse(input)?;
    let findings: Vec<F> = input.files.iter().flat_map(|f| scan(&f.path, &f.content)).collect();
    Ok(serde_json::json!({"findings": findings, "files_scanned": input.files.len()}))
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

    /// All fifteen tools of the plan: the seven analyzers and the eight generators.
    pub fn builtin() -> Self {
        let registry = generators().into_iter().fold(Self::new(), |r, g| r.with(Arc::new(g)));
        registry
            .with(Arc::new(SecretDetector::new()))
            .with(Arc::new(DockerfileOptimizer))
            .with(Arc::new(SecurityReportGenerator))
            .with(Arc::new(CoverageAnalyzer))
            .with(Arc::new(OwaspScanner::new()))
            .with(Arc::new(DependencyChecker::new()))
            .with(Arc::new(AccessibilityChecker))
    }

    /// Adds (or replaces) a tool.
    pub fn with(mut self, tool: Arc<dyn Tool>) -> Self {
        self.tools.insert(tool.name().to_owned(), tool);
        self
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_registry_has_every_tool_of_the_plan() {
        let registry = ToolRegistry::builtin();
        let mut names = registry.names();
        names.sort_unstable();
        let mut known = crate::agents::KNOWN_TOOLS.to_vec();
        known.sort_unstable();
        assert_eq!(names, known);
        for name in known {
            let schema = registry.get(name).unwrap().input_schema();
            assert_eq!(schema["type"], "object", "{name}");
        }
    }
}
