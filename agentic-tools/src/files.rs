//! The `{"files": [{"path", "content"}]}` input the per-file analyzers share.

use agentic_core::tools::ToolError;

/// A file handed to an analyzer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceFile {
    pub(crate) path: String,
    pub(crate) content: String,
}

/// The input of a per-file analyzer.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FilesInput {
    files: Vec<SourceFile>,
}

/// The JSON schema of an array of `{path, content}` files.
pub(crate) fn files_schema() -> serde_json::Value {
    serde_json::json!({"type": "array", "items": {"type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}}, "required": ["path", "content"]}})
}

/// The JSON schema of a per-file analyzer's input, `{"files": [...]}`.
pub(crate) fn scan_input_schema() -> serde_json::Value {
    serde_json::json!({"type": "object", "properties": {"files": files_schema()}, "required": ["files"]})
}

/// Implements `Tool` for a per-file scanner: a type with `fn scan(&self, path: &str, content: &str) -> Vec<F>`,
/// whose input is `{"files": [...]}` and whose output is `{findings, files_scanned}`.
macro_rules! file_scanner_tool {
    ($scanner:ty, name: $name:literal, description: $description:expr $(,)?) => {
        #[async_trait::async_trait]
        impl agentic_core::tools::Tool for $scanner {
            fn name(&self) -> &str {
                $name
            }

            fn description(&self) -> &str {
                $description
            }

            fn input_schema(&self) -> serde_json::Value {
                crate::files::scan_input_schema()
            }

            async fn call(
                &self,
                _context: &agentic_core::tools::ToolContext,
                input: serde_json::Value,
            ) -> Result<serde_json::Value, agentic_core::tools::ToolError> {
                crate::files::scan_files(input, |path, content| self.scan(path, content))
            }

            fn analyzer(&self) -> Option<&dyn agentic_core::tools::Analyzer> {
                Some(self)
            }
        }
    };
}
pub(crate) use file_scanner_tool;

/// Runs a per-file scanner over `{"files": [...]}` and returns `{findings, files_scanned}`.
pub(crate) fn scan_files<F: serde::Serialize>(
    input: serde_json::Value,
    scan: impl Fn(&str, &str) -> Vec<F>,
) -> Result<serde_json::Value, ToolError> {
    let input: FilesInput = serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
    let findings: Vec<F> = input.files.iter().flat_map(|f| scan(&f.path, &f.content)).collect();
    Ok(serde_json::json!({"findings": findings, "files_scanned": input.files.len()}))
}
