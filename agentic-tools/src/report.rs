//! `security_report_generator`: aggregates findings from the analyzers into SARIF 2.1.0 (for code-scanning
//! UIs) and Markdown (for people).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use agentic_core::tools::{Tool, ToolContext, ToolError};

use crate::{SarifLevel, Severity};

/// One finding to report.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFinding {
    /// The analyzer that found it (`secret_detector`, `owasp_scanner`, …).
    pub tool: String,
    /// Its rule id.
    pub rule: String,
    /// How serious (any [`Severity`] word; SARIF's `error`/`warning`/`note` are read too).
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// File, if any.
    #[serde(default)]
    pub path: Option<String>,
    /// 1-based line, if any.
    #[serde(default)]
    pub line: Option<usize>,
}

/// The generator.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecurityReportGenerator;

impl SecurityReportGenerator {
    /// The SARIF 2.1.0 log: one run per tool, its rules, and a result per finding.
    pub fn sarif(&self, findings: &[ReportFinding]) -> Value {
        let mut by_tool: BTreeMap<&str, Vec<&ReportFinding>> = BTreeMap::new();
        for f in findings {
            by_tool.entry(f.tool.as_str()).or_default().push(f);
        }
        let runs: Vec<Value> = by_tool
            .into_iter()
            .map(|(tool, found)| {
                let mut rule_ids: Vec<&str> = found.iter().map(|f| f.rule.as_str()).collect();
                rule_ids.sort_unstable();
                rule_ids.dedup();
                let results: Vec<Value> = found
                    .iter()
                    .map(|f| {
                        let mut result = json!({
                            "ruleId": f.rule,
                            "ruleIndex": rule_ids.iter().position(|r| *r == f.rule),
                            "level": f.severity.sarif_level().as_str(),
                            "message": {"text": f.message},
                        });
                        if let Some(path) = &f.path {
                            let mut location = json!({"artifactLocation": {"uri": path}});
                            if let Some(line) = f.line.filter(|l| *l > 0) {
                                location["region"] = json!({"startLine": line});
                            }
                            result["locations"] = json!([{"physicalLocation": location}]);
                        }
                        result
                    })
                    .collect();
                json!({
                    "tool": {"driver": {
                        "name": tool,
                        "informationUri": "https://agentic.dev/tools",
                        "rules": rule_ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
                    }},
                    "results": results,
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": runs,
        })
    }

    /// A Markdown report: counts by level, then a table of findings, errors first.
    pub fn markdown(&self, title: &str, findings: &[ReportFinding]) -> String {
        let count = |l: SarifLevel| findings.iter().filter(|f| f.severity.sarif_level() == l).count();
        let mut out = format!(
            "# {title}\n\n{} findings: {} error, {} warning, {} note.\n",
            findings.len(),
            count(SarifLevel::Error),
            count(SarifLevel::Warning),
            count(SarifLevel::Note)
        );
        if findings.is_empty() {
            out.push_str("\nNo findings.\n");
            return out;
        }
        let mut sorted: Vec<&ReportFinding> = findings.iter().collect();
        sorted.sort_by(|a, b| {
            (a.severity.sarif_level(), a.severity, &a.path, a.line).cmp(&(
                b.severity.sarif_level(),
                b.severity,
                &b.path,
                b.line,
            ))
        });
        out.push_str("\n| Level | Tool | Rule | Location | Message |\n|---|---|---|---|---|\n");
        for f in sorted {
            let location = match (&f.path, f.line) {
                (Some(p), Some(l)) => format!("{p}:{l}"),
                (Some(p), None) => p.clone(),
                _ => "-".to_owned(),
            };
            let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                f.severity.sarif_level().as_str(),
                cell(&f.tool),
                cell(&f.rule),
                cell(&location),
                cell(&f.message)
            ));
        }
        out
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    title: Option<String>,
    findings: Vec<ReportFinding>,
}

#[async_trait]
impl Tool for SecurityReportGenerator {
    fn name(&self) -> &str {
        "security_report_generator"
    }

    fn description(&self) -> &str {
        "Aggregates findings (tool, rule, severity, message, path, line) into a SARIF 2.1.0 log and a Markdown report."
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "findings": {"type": "array", "items": {"type": "object",
                    "properties": {"tool": {"type": "string"}, "rule": {"type": "string"}, "severity": {"type": "string", "description": "critical, high, medium, low or info"},
                        "message": {"type": "string"}, "path": {"type": "string"}, "line": {"type": "integer"}},
                    "required": ["tool", "rule", "severity", "message"]}}
            },
            "required": ["findings"]
        })
    }

    async fn call(&self, _context: &ToolContext, input: Value) -> Result<Value, ToolError> {
        let input: Input = serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
        let title = input.title.unwrap_or_else(|| "Security report".to_owned());
        Ok(json!({"sarif": self.sarif(&input.findings), "markdown": self.markdown(&title, &input.findings)}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(tool: &str, rule: &str, severity: &str, path: Option<&str>, line: Option<usize>) -> ReportFinding {
        ReportFinding {
            tool: tool.into(),
            rule: rule.into(),
            severity: Severity::parse(severity).unwrap(),
            message: format!("{rule} found"),
            path: path.map(Into::into),
            line,
        }
    }

    #[test]
    fn sarif_has_the_2_1_0_shape() {
        let findings = vec![
            finding("secret_detector", "aws_access_key_id", "error", Some("app.py"), Some(3)),
            finding("dockerfile_optimizer", "runs-as-root", "warning", Some("Dockerfile"), None),
            finding("secret_detector", "jwt", "high", Some("web/config.js"), Some(12)),
        ];
        let sarif = SecurityReportGenerator.sarif(&findings);
        assert_eq!(sarif["version"], "2.1.0");
        let runs = sarif["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["tool"]["driver"]["name"], "dockerfile_optimizer");
        let secrets = &runs[1];
        assert_eq!(secrets["tool"]["driver"]["rules"], json!([{"id": "aws_access_key_id"}, {"id": "jwt"}]));
        let first = &secrets["results"][0];
        assert_eq!(first["ruleId"], "aws_access_key_id");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(first["level"], "error");
        assert_eq!(first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "app.py");
        assert_eq!(first["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
        assert!(runs[0]["results"][0]["locations"][0]["physicalLocation"].get("region").is_none());
    }

    #[test]
    fn markdown_sorts_errors_first_and_escapes_cells() {
        let findings = vec![
            finding("owasp_scanner", "weak-hash", "medium", Some("a|b.py"), Some(1)),
            finding("secret_detector", "private_key", "critical", Some("id_rsa"), Some(1)),
        ];
        let md = SecurityReportGenerator.markdown("Audit", &findings);
        assert!(md.starts_with("# Audit\n\n2 findings: 1 error, 1 warning, 0 note."));
        let error_row = md.find("private_key").unwrap();
        let warning_row = md.find("weak-hash").unwrap();
        assert!(error_row < warning_row);
        assert!(md.contains("a\\|b.py:1"));
        assert!(SecurityReportGenerator.markdown("Clean", &[]).contains("No findings."));
    }
}
