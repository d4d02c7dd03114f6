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

/// Runs a per-file scanner over `{"files": [...]}` and returns `{findings, files_scanned}`.
pub(crate) fn scan_files<F: serde::Serialize>(
    input: serde_json::Value,
    scan: impl Fn(&str, &str) -> Vec<F>,
) -> Result<serde_json::Value, ToolError> {
    let input: FilesInput = serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
    let findings: Vec<F> = input.files.iter().flat_map(|f| scan(&f.path, &f.content)).collect();
    Ok(serde_json::json!({"findings": findings, "files_scanned": input.files.len()}))
}
