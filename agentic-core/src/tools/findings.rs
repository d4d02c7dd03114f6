//! What deterministic analyzers find, in the one shape a run's result carries: an agent's `auto_tools` run on
//! the run's input files before the model's first turn, and their [`Finding`]s reach the model and the result
//! (`output.findings`) whatever the model then writes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Severity;

/// A file a run was given (`context.files` of the request: `[{"path", "content"}]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Its path, as the caller names it; analyzers choose the files they read by name (`Dockerfile`,
    /// `package-lock.json`, `*.html`, …).
    pub path: String,
    /// Its text.
    pub content: String,
}

impl InputFile {
    /// The files of a run's context: each entry of `context.files` with a string `path` and `content` (others are
    /// not files and are left to the model).
    pub fn from_context(context: Option<&serde_json::Value>) -> Vec<Self> {
        let Some(files) = context.and_then(|c| c.get("files")).and_then(serde_json::Value::as_array) else {
            return Vec::new();
        };
        files.iter().filter_map(|file| serde_json::from_value(file.clone()).ok()).collect()
    }

    /// The file's name: the last component of its path.
    pub fn name(&self) -> &str {
        self.path.rsplit(['/', '\\']).next().unwrap_or(&self.path)
    }
}

/// One finding of an analyzer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    /// The analyzer (`secret_detector`, `owasp_scanner`, …).
    pub tool: String,
    /// Its rule (`aws_access_key_id`, `sql-string-formatting`, an advisory id, …).
    pub rule: String,
    /// How serious.
    #[schema(value_type = String, example = "high")]
    pub severity: Severity,
    /// Where: `path:line`, `path`, or `path: element` for markup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What is wrong, never the secret itself.
    pub message: String,
    /// The standard's category, when the analyzer maps to one (`A03:2021-Injection`, WCAG `1.1.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// A tool that can run without the model on the files a run was given: what an agent's `auto_tools` name.
/// Analysis is deterministic and quick (parsers and patterns), so it runs on the run's own task.
pub trait Analyzer: Send + Sync {
    /// The findings in `files`; files the analyzer does not read are skipped.
    fn analyze(&self, files: &[InputFile]) -> Vec<Finding>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_from_the_context_and_the_rest_is_left_alone() {
        let context = serde_json::json!({"files": [
            {"path": "src/app.py", "content": "print(1)"},
            {"path": "notes"},
            "not a file",
        ], "other": 1});
        let files = InputFile::from_context(Some(&context));
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name(), "app.py");
        assert!(InputFile::from_context(None).is_empty());
        assert!(InputFile::from_context(Some(&serde_json::json!({"files": "x"}))).is_empty());
    }

    #[test]
    fn a_finding_serialises_without_empty_fields() {
        let finding = Finding {
            tool: "secret_detector".into(),
            rule: "aws_access_key_id".into(),
            severity: Severity::Critical,
            location: Some("app.py:3".into()),
            message: "an AWS access key id (AKIA****)".into(),
            category: None,
        };
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(json["severity"], "critical");
        assert!(json.get("category").is_none());
        assert_eq!(serde_json::from_value::<Finding>(json).unwrap(), finding);
    }
}
