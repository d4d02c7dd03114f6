//! # agentic-tools
//!
//! The twenty-four tools agentic's built-in agents call, each a [`Tool`](agentic_core::tools::Tool): seven analyzers
//! that read what they are given with real parsers (HTML5, Cobertura/LCOV/Go/JaCoCo coverage, lockfiles with OSV
//! advisories, Dockerfiles, OWASP patterns, credentials, SARIF) and seventeen generators that ask the calling agent's
//! model for an artifact and check it with a parser of its language (tree-sitter Python, JavaScript, TypeScript, Go
//! and TSX, Vue templates, HTML, YAML, HCL, CloudFormation, PromQL, a JSON Schema, Mermaid); what a user interface
//! renders also passes the [`AccessibilityChecker`].
//! Findings share one [`Severity`] scale.
//!
//! A host app registers them with [`builtin_tools`] (the reference server does), alongside its own:
//!
//! ```
//! use agentic_core::tools::{ToolContext, ToolRegistry};
//! use agentic_core::ids::{ProjectId, TenantId};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = ToolRegistry::new().extend(agentic_tools::builtin_tools());
//! assert_eq!(registry.names().len(), 24);
//!
//! let detector = registry.get("secret_detector").ok_or("no detector")?;
//! let context = ToolContext::new(TenantId::new(), ProjectId::new(), "security_auditor");
//! let files = serde_json::json!({"files": [{"path": "app.py", "content": "key = 'AKIAIOSFODNN7EXAMPLE'\n"}]});
//! let report = detector.call(&context, files).await?;
//! assert_eq!(report["findings"][0]["rule"], "aws_access_key_id");
//! # Ok(())
//! # }
//! ```

mod accessibility;
mod coverage;
mod dependencies;
mod dockerfile;
mod files;
mod generators;
mod owasp;
mod report;
mod secrets;
mod severity;

use std::sync::Arc;

use agentic_core::tools::Tool;

pub use accessibility::{A11yFinding, AccessibilityChecker, contrast_ratio};
pub use coverage::{CoverageAnalyzer, FileCoverage, parse_cobertura, parse_go_cover, parse_jacoco, parse_lcov};
pub use dependencies::{
    Advisory, Affected, Dependency, DependencyChecker, OsvPackage, OsvRange, VulnerableDependency, compare_versions,
    parse_lockfile,
};
pub use dockerfile::{DockerFinding, DockerfileOptimizer, Optimized};
pub use generators::{Generator, extract_code, generators};
pub use owasp::{OwaspFinding, OwaspScanner};
pub use report::{ReportFinding, SecurityReportGenerator};
pub use secrets::{SecretDetector, SecretFinding};
pub use severity::{SarifLevel, Severity};

/// All twenty-four tools: the seven analyzers and the seventeen generators (the plan's fifteen, and the test,
/// interface and infrastructure generators added since: see [`generators`]), for
/// [`ToolRegistry::extend`](agentic_core::tools::ToolRegistry::extend) or `PlatformBuilder::tools`.
pub fn builtin_tools() -> Vec<Arc<dyn Tool>> {
    let mut tools: Vec<Arc<dyn Tool>> = generators().into_iter().map(|g| Arc::new(g) as Arc<dyn Tool>).collect();
    tools.extend([
        Arc::new(SecretDetector::new()) as Arc<dyn Tool>,
        Arc::new(DockerfileOptimizer),
        Arc::new(SecurityReportGenerator),
        Arc::new(CoverageAnalyzer),
        Arc::new(OwaspScanner::new()),
        Arc::new(DependencyChecker::new()),
        Arc::new(AccessibilityChecker),
    ]);
    tools
}
