//! The analyzers as [`Analyzer`]s of a run's input files (what an agent's `auto_tools` run before the model's
//! first turn): which files each reads, and how its findings map to the one [`Finding`] shape.

use agentic_core::tools::{Analyzer, Finding, InputFile};

use crate::{
    AccessibilityChecker, CoverageAnalyzer, DependencyChecker, DockerfileOptimizer, OwaspCategory, OwaspScanner,
    SecretDetector, Severity,
};

/// Files below this share of covered lines get a `low-coverage` finding.
const COVERAGE_FLOOR: f64 = 80.0;

fn at(path: &str, line: usize) -> Option<String> {
    Some(if line == 0 { path.to_owned() } else { format!("{path}:{line}") })
}

impl Analyzer for SecretDetector {
    fn analyze(&self, files: &[InputFile]) -> Vec<Finding> {
        files
            .iter()
            .flat_map(|file| self.scan(&file.path, &file.content))
            .map(|secret| Finding {
                tool: "secret_detector".into(),
                message: format!(
                    "a hard-coded credential ({}): move it to a secret store and rotate it",
                    secret.redacted
                ),
                rule: secret.rule,
                severity: Severity::Critical,
                location: at(&secret.path, secret.line),
                // Hard-coded credentials are CWE-798, which the Top 10 files under A07.
                category: Some(OwaspCategory::A07.as_str().into()),
            })
            .collect()
    }
}

impl Analyzer for OwaspScanner {
    fn analyze(&self, files: &[InputFile]) -> Vec<Finding> {
        files
            .iter()
            .flat_map(|file| self.scan(&file.path, &file.content))
            .map(|found| Finding {
                tool: "owasp_scanner".into(),
                // The line of a password rule, or of a secret written to a log, holds the secret: the location is
                // enough.
                message: if found.rule == "hardcoded-password" {
                    "a password written in the source".into()
                } else if found.rule == "sensitive-data-logged" {
                    "a secret or personal data written to a log".into()
                } else {
                    format!("`{}`", found.snippet)
                },
                rule: found.rule,
                severity: found.severity,
                location: at(&found.path, found.line),
                category: Some(found.category.as_str().into()),
            })
            .collect()
    }
}

impl Analyzer for DependencyChecker {
    fn analyze(&self, files: &[InputFile]) -> Vec<Finding> {
        let mut findings = Vec::new();
        let lockfiles: Vec<&InputFile> =
            files.iter().filter(|f| crate::dependencies::LOCKFILES.contains(&f.name())).collect();
        if lockfiles.is_empty() {
            return findings;
        }
        if !self.has_advisories() {
            findings.push(Finding {
                tool: "dependency_checker".into(),
                rule: "advisories-not-configured".into(),
                severity: Severity::Info,
                location: None,
                message: "no advisory database is configured on this server: the dependencies were NOT checked for \
                          known vulnerabilities"
                    .into(),
                category: Some(OwaspCategory::A06.as_str().into()),
            });
            return findings;
        }
        for file in lockfiles {
            let dependencies = match crate::parse_lockfile(&file.path, &file.content) {
                Ok(dependencies) => dependencies,
                Err(error) => {
                    findings.push(Finding {
                        tool: "dependency_checker".into(),
                        rule: "unreadable-lockfile".into(),
                        severity: Severity::Info,
                        location: Some(file.path.clone()),
                        message: error.to_string(),
                        category: None,
                    });
                    continue;
                }
            };
            for vulnerable in self.check(&dependencies, &[]) {
                let dep = &vulnerable.dependency;
                let mut message = format!("{} {} ({})", dep.name, dep.version, dep.ecosystem);
                if let Some(summary) = &vulnerable.summary {
                    message.push_str(&format!(": {summary}"));
                }
                match &vulnerable.fixed_in {
                    Some(fixed) => message.push_str(&format!("; fixed in {fixed}")),
                    None => message.push_str("; no fixed version is known"),
                }
                findings.push(Finding {
                    tool: "dependency_checker".into(),
                    rule: vulnerable.advisory,
                    // An advisory without a severity we can read is not taken as harmless.
                    severity: vulnerable.severity.unwrap_or(Severity::Medium),
                    location: Some(file.path.clone()),
                    message,
                    category: Some(vulnerable.category.as_str().into()),
                });
            }
        }
        findings
    }
}

/// Whether a file is a coverage report, by its name or, for the names Go and LCOV leave free, its first line.
fn is_coverage_report(file: &InputFile) -> bool {
    let name = file.name().to_ascii_lowercase();
    let by_name = name == "lcov.info"
        || name.ends_with(".lcov")
        || name.ends_with(".coverprofile")
        || matches!(name.as_str(), "cover.out" | "coverage.out" | "coverage.xml" | "cobertura.xml" | "jacoco.xml")
        || (name.starts_with("jacoco") && name.ends_with(".xml"));
    let first = file.content.trim_start();
    by_name || first.starts_with("mode: ") || first.starts_with("TN:") || first.starts_with("SF:")
}

impl Analyzer for CoverageAnalyzer {
    fn analyze(&self, files: &[InputFile]) -> Vec<Finding> {
        let mut findings = Vec::new();
        for report in files.iter().filter(|f| is_coverage_report(f)) {
            let finding = |rule: &str, severity, location: String, message: String| Finding {
                tool: "coverage_analyzer".into(),
                rule: rule.into(),
                severity,
                location: Some(location),
                message,
                category: None,
            };
            let hits = match crate::coverage::read_report(&report.content, None) {
                Ok(hits) => hits,
                Err(error) => {
                    findings.push(finding("unreadable-report", Severity::Info, report.path.clone(), error.to_string()));
                    continue;
                }
            };
            let (per_file, total) = self.summarize(&hits);
            for file in per_file {
                if file.percent.parse::<f64>().is_ok_and(|p| p < COVERAGE_FLOOR) {
                    let mut message =
                        format!("{}% of lines covered ({} of {})", file.percent, file.lines_covered, file.lines_total);
                    if !file.uncovered.is_empty() {
                        message.push_str(&format!("; uncovered lines {}", file.uncovered.join(", ")));
                    }
                    findings.push(finding(
                        "low-coverage",
                        Severity::Low,
                        format!("{}: {}", report.path, file.path),
                        message,
                    ));
                }
            }
            let message =
                format!("{}% of lines covered ({} of {})", total.percent, total.lines_covered, total.lines_total);
            findings.push(finding("coverage-total", Severity::Info, report.path.clone(), message));
        }
        findings
    }
}

impl Analyzer for AccessibilityChecker {
    fn analyze(&self, files: &[InputFile]) -> Vec<Finding> {
        files
            .iter()
            .filter(|f| {
                let name = f.name().to_ascii_lowercase();
                name.ends_with(".html") || name.ends_with(".htm")
            })
            .flat_map(|file| {
                self.check(&file.content).into_iter().map(|found| Finding {
                    tool: "accessibility_checker".into(),
                    rule: found.rule,
                    severity: found.severity,
                    location: Some(format!("{}: {}", file.path, found.element)),
                    message: found.message,
                    category: Some(format!("WCAG {}", found.wcag)),
                })
            })
            .collect()
    }
}

impl Analyzer for DockerfileOptimizer {
    fn analyze(&self, files: &[InputFile]) -> Vec<Finding> {
        files
            .iter()
            .filter(|f| {
                let name = f.name();
                name == "Dockerfile" || name.starts_with("Dockerfile.") || name.ends_with(".dockerfile")
            })
            .flat_map(|file| {
                self.lint(&file.content).into_iter().map(|found| Finding {
                    tool: "dockerfile_optimizer".into(),
                    rule: found.rule,
                    severity: found.severity,
                    location: at(&file.path, found.line),
                    message: found.message,
                    category: None,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::AdvisoryDatabase;

    fn file(path: &str, content: &str) -> InputFile {
        InputFile { path: path.into(), content: content.into() }
    }

    fn rules(findings: &[Finding]) -> Vec<(&str, &str, Option<&str>)> {
        findings.iter().map(|f| (f.tool.as_str(), f.rule.as_str(), f.location.as_deref())).collect()
    }

    #[test]
    fn each_analyzer_reads_its_own_files_and_reports_in_one_shape() {
        let files = [
            file("app/db.py", "KEY = 'AKIAIOSFODNN7EXAMPLE'\ncur.execute(f\"SELECT * FROM users WHERE id = {uid}\")\n"),
            file("web/index.html", "<html lang=\"en\"><body><img src=\"a.png\"></body></html>"),
            file("Dockerfile", "FROM node:latest\nUSER app\n"),
            file("coverage/lcov.info", "SF:src/a.js\nDA:1,1\nDA:2,0\nDA:3,0\nend_of_record\n"),
            file("README.md", "password = 'hunter2hunter2'\n"),
        ];
        let secrets = SecretDetector::new().analyze(&files);
        assert_eq!(rules(&secrets), [("secret_detector", "aws_access_key_id", Some("app/db.py:1"))]);
        assert!(!secrets[0].message.contains("AKIAIOSFODNN7EXAMPLE"), "the secret is never repeated");
        assert_eq!(secrets[0].severity, Severity::Critical);
        let owasp = OwaspScanner::new().analyze(&files);
        assert_eq!(rules(&owasp), [("owasp_scanner", "sql-string-formatting", Some("app/db.py:2"))]);
        assert_eq!(owasp[0].category.as_deref(), Some("A03:2021-Injection"));
        let a11y = AccessibilityChecker.analyze(&files);
        assert_eq!(rules(&a11y), [("accessibility_checker", "img-alt", Some("web/index.html: img"))]);
        let docker = DockerfileOptimizer.analyze(&files);
        assert_eq!(rules(&docker), [("dockerfile_optimizer", "latest-base-image", Some("Dockerfile:1"))]);
        let coverage = CoverageAnalyzer.analyze(&files);
        assert_eq!(
            rules(&coverage),
            [
                ("coverage_analyzer", "low-coverage", Some("coverage/lcov.info: src/a.js")),
                ("coverage_analyzer", "coverage-total", Some("coverage/lcov.info")),
            ]
        );
        assert_eq!(coverage[0].message, "33.3% of lines covered (1 of 3); uncovered lines 2-3");
        assert!(DependencyChecker::new().analyze(&files).is_empty(), "no lockfile, nothing to say");
    }

    #[test]
    fn dependencies_are_checked_against_the_database_or_reported_unchecked() {
        let files =
            [file("requirements.txt", "requests==2.19.0\nflask==3.0.0\n"), file("web/package-lock.json", "{not json")];
        let unchecked = DependencyChecker::new().analyze(&files);
        assert_eq!(rules(&unchecked), [("dependency_checker", "advisories-not-configured", None)]);

        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/osv");
        let checker = DependencyChecker::with_database(Arc::new(AdvisoryDatabase::open(fixtures).unwrap()));
        let found = checker.analyze(&files);
        assert_eq!(
            rules(&found),
            [
                ("dependency_checker", "GHSA-j8r2-6x86-q33q", Some("requirements.txt")),
                ("dependency_checker", "unreadable-lockfile", Some("web/package-lock.json")),
            ]
        );
        assert_eq!(found[0].severity, Severity::Medium);
        assert_eq!(found[0].category.as_deref(), Some("A06:2021-Vulnerable and Outdated Components"));
        assert!(found[0].message.starts_with("requests 2.19.0 (PyPI): Unintended leak"), "{}", found[0].message);
        assert!(found[0].message.ends_with("fixed in 2.31.0"));
    }
}
