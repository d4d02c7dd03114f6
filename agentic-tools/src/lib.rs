//! # agentic-tools
//!
//! The twenty-four tools agentic's built-in agents call, each a [`Tool`](agentic_core::tools::Tool): seven analyzers
//! that read what they are given with real parsers (HTML5, Cobertura/LCOV/Go/JaCoCo coverage, lockfiles with OSV
//! advisories, Dockerfiles, OWASP patterns, credentials, SARIF) and seventeen generators that ask the calling agent's
//! model for an artifact and check it with a parser of its language (tree-sitter Python, JavaScript, TypeScript, Go
//! and TSX, Vue templates, HTML, YAML, HCL, CloudFormation, PromQL, a JSON Schema, Mermaid); what a user interface
//! renders also passes the [`AccessibilityChecker`]. Beside the tools: the outgoing guardrail's scanner
//! ([`PromptGuard`]) and the knowledge bases' readers of HTML and PDF ([`DocumentReaders`]).
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
mod analyzers;
mod coverage;
mod dependencies;
mod dockerfile;
mod documents;
mod files;
mod generators;
mod guard;
mod owasp;
mod report;
mod secrets;

use std::sync::Arc;

use agentic_core::tools::Tool;

pub use accessibility::{A11yFinding, AccessibilityChecker, contrast_ratio};
pub use agentic_core::tools::{SarifLevel, Severity};
pub use coverage::{CoverageAnalyzer, FileCoverage, parse_cobertura, parse_go_cover, parse_jacoco, parse_lcov};
pub use dependencies::{
    Advisory, AdvisoryDatabase, AdvisoryError, AdvisoryStatus, Affected, Dependency, DependencyChecker, OsvPackage,
    OsvRange, VulnerableDependency, compare_versions, parse_lockfile,
};
pub use dockerfile::{DockerFinding, DockerfileOptimizer, Optimized};
pub use documents::{DocumentReaders, html_to_markdown};
pub use generators::{Generator, extract_code, generators};
pub use guard::{PromptGuard, iban, luhn};
pub use owasp::{OwaspCategory, OwaspFinding, OwaspScanner};
pub use report::{ReportFinding, SecurityReportGenerator};
pub use secrets::{SecretDetector, SecretFinding};

/// All twenty-four tools: the seven analyzers and the seventeen generators (the plan's fifteen, and the test,
/// interface and infrastructure generators added since: see [`generators`]), for
/// [`ToolRegistry::extend`](agentic_core::tools::ToolRegistry::extend) or `PlatformBuilder::tools`. The dependency
/// checker has no advisory database: see [`BuiltinTools`] to give it the operator's.
pub fn builtin_tools() -> Vec<Arc<dyn Tool>> {
    BuiltinTools::default().build()
}

/// The built-in tools with what the operator configures for them.
#[derive(Clone, Debug, Default)]
pub struct BuiltinTools {
    advisories: Option<Arc<AdvisoryDatabase>>,
}

impl BuiltinTools {
    /// The tools with nothing configured, as [`builtin_tools`] gives them.
    pub fn new() -> Self {
        Self::default()
    }

    /// The advisories `dependency_checker` matches lockfiles against (keep the `Arc` to reload it).
    pub fn advisories(mut self, database: Arc<AdvisoryDatabase>) -> Self {
        self.advisories = Some(database);
        self
    }

    /// The tools.
    pub fn build(self) -> Vec<Arc<dyn Tool>> {
        let dependencies = match self.advisories {
            Some(database) => DependencyChecker::with_database(database),
            None => DependencyChecker::new(),
        };
        let mut tools: Vec<Arc<dyn Tool>> = generators().into_iter().map(|g| Arc::new(g) as Arc<dyn Tool>).collect();
        tools.extend([
            Arc::new(SecretDetector::new()) as Arc<dyn Tool>,
            Arc::new(DockerfileOptimizer),
            Arc::new(SecurityReportGenerator),
            Arc::new(CoverageAnalyzer),
            Arc::new(OwaspScanner::new()),
            Arc::new(dependencies),
            Arc::new(AccessibilityChecker),
        ]);
        tools
    }
}
