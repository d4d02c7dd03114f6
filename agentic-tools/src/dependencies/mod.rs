//! `dependency_checker`: reads lockfiles (Cargo.lock, package-lock.json, requirements.txt, poetry.lock, go.sum)
//! and matches the pinned versions against advisories in the OSV format (ranges of `introduced` / `fixed` /
//! `last_affected` events, and explicit version lists).
//!
//! Advisories come from the operator's [`AdvisoryDatabase`] (a directory of OSV JSON files, reloaded when it
//! changes), and may be added to in the call; the model never names files to read. With neither, the result says
//! that nothing was checked rather than that nothing is vulnerable.

mod osv;

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use agentic_core::tools::{Tool, ToolContext, ToolError};

use crate::{OwaspCategory, Severity};

pub use osv::{
    Advisory, AdvisoryDatabase, AdvisoryError, AdvisoryStatus, Affected, OsvPackage, OsvRange, compare_versions,
};

/// A pinned dependency.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dependency {
    /// OSV ecosystem: `crates.io`, `npm`, `PyPI`, `Go`.
    pub ecosystem: String,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// A vulnerable dependency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerableDependency {
    /// The dependency.
    pub dependency: Dependency,
    /// Advisory id.
    pub advisory: String,
    /// Summary.
    pub summary: Option<String>,
    /// Severity, when the advisory gives one in a word we know.
    pub severity: Option<Severity>,
    /// The lowest fixed version above the installed one, if any.
    pub fixed_in: Option<String>,
    /// Always A06 (vulnerable and outdated components): the category every finding of this checker is in.
    pub category: OwaspCategory,
}

/// The checker.
#[derive(Clone, Debug, Default)]
pub struct DependencyChecker {
    database: Option<Arc<AdvisoryDatabase>>,
}

/// The lockfiles read, by file name.
pub(crate) const LOCKFILES: [&str; 5] =
    ["Cargo.lock", "package-lock.json", "requirements.txt", "poetry.lock", "go.sum"];

/// Reads the dependencies of a lockfile, chosen by file name.
pub fn parse_lockfile(path: &str, content: &str) -> Result<Vec<Dependency>, ToolError> {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let bad = |e: String| ToolError::InvalidInput(format!("{file}: {e}"));
    let dep = |ecosystem: &str, name: &str, version: &str| Dependency {
        ecosystem: ecosystem.to_owned(),
        name: name.to_owned(),
        version: version.to_owned(),
    };
    let mut deps = match file {
        "Cargo.lock" | "poetry.lock" => {
            let ecosystem = if file == "Cargo.lock" { "crates.io" } else { "PyPI" };
            let doc: toml::Table = toml::from_str(content).map_err(|e| bad(e.to_string()))?;
            let packages = doc.get("package").and_then(|p| p.as_array()).cloned().unwrap_or_default();
            packages
                .iter()
                .filter_map(|p| Some(dep(ecosystem, p.get("name")?.as_str()?, p.get("version")?.as_str()?)))
                .collect()
        }
        "package-lock.json" => {
            let doc: serde_json::Value = serde_json::from_str(content).map_err(|e| bad(e.to_string()))?;
            let mut out = Vec::new();
            if let Some(packages) = doc.get("packages").and_then(|p| p.as_object()) {
                for (key, entry) in packages {
                    let Some(name) =
                        key.rsplit("node_modules/").next().filter(|n| !n.is_empty() && key.contains("node_modules/"))
                    else {
                        continue;
                    };
                    if let Some(version) = entry.get("version").and_then(|v| v.as_str()) {
                        out.push(dep("npm", name, version));
                    }
                }
            } else if let Some(dependencies) = doc.get("dependencies").and_then(|d| d.as_object()) {
                collect_v1(dependencies, &mut out);
            }
            out
        }
        "requirements.txt" => content
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter_map(|l| {
                let (name, version) = l.split_once("==")?;
                let name = name.split('[').next()?.trim();
                let version = version.split(';').next()?.trim();
                (!name.is_empty() && !version.is_empty()).then(|| dep("PyPI", name, version))
            })
            .collect(),
        "go.sum" => content
            .lines()
            .filter_map(|l| {
                let mut parts = l.split_whitespace();
                let module = parts.next()?;
                let version = parts.next()?.trim_end_matches("/go.mod");
                Some(dep("Go", module, version.trim_start_matches('v')))
            })
            .collect(),
        _ => {
            return Err(bad(
                "not a supported lockfile (Cargo.lock, package-lock.json, requirements.txt, poetry.lock, go.sum)"
                    .into(),
            ));
        }
    };
    deps.sort();
    deps.dedup();
    Ok(deps)
}

fn collect_v1(dependencies: &serde_json::Map<String, serde_json::Value>, out: &mut Vec<Dependency>) {
    for (name, entry) in dependencies {
        if let Some(version) = entry.get("version").and_then(|v| v.as_str()) {
            out.push(Dependency { ecosystem: "npm".into(), name: name.clone(), version: version.to_owned() });
        }
        if let Some(nested) = entry.get("dependencies").and_then(|d| d.as_object()) {
            collect_v1(nested, out);
        }
    }
}

impl DependencyChecker {
    /// A checker with no advisory database: it checks only advisories given in the call, and says so.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether an advisory database is configured.
    pub fn has_advisories(&self) -> bool {
        self.database.is_some()
    }

    /// Checks against the operator's advisories.
    pub fn with_database(database: Arc<AdvisoryDatabase>) -> Self {
        Self { database: Some(database) }
    }

    /// The dependencies matched by an advisory of the database or of `extra`.
    pub fn check(&self, dependencies: &[Dependency], extra: &[Advisory]) -> Vec<VulnerableDependency> {
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        for dep in dependencies {
            let key = osv::package_key(&dep.ecosystem, &dep.name);
            let stored = self.database.as_ref().map(|db| db.for_package(&dep.ecosystem, &dep.name)).unwrap_or_default();
            let candidates = stored.iter().map(Arc::as_ref).chain(extra.iter().filter(|a| a.withdrawn.is_none()));
            for advisory in candidates {
                let severity = advisory
                    .database_specific
                    .as_ref()
                    .and_then(|d| d.get("severity"))
                    .and_then(|s| s.as_str())
                    .and_then(Severity::parse);
                for affected in
                    advisory.affected.iter().filter(|a| osv::package_key(&a.package.ecosystem, &a.package.name) == key)
                {
                    let listed = affected.versions.iter().any(|v| compare_versions(v, &dep.version) == Ordering::Equal);
                    let mut fixed_in = None;
                    let mut hit = listed;
                    for range in &affected.ranges {
                        let (inside, fix) = osv::in_range(range, &dep.version);
                        if inside {
                            hit = true;
                            fixed_in = fixed_in.or(fix);
                        }
                    }
                    if hit && seen.insert((advisory.id.clone(), dep.clone())) {
                        found.push(VulnerableDependency {
                            dependency: dep.clone(),
                            advisory: advisory.id.clone(),
                            summary: advisory.summary.clone(),
                            severity,
                            fixed_in,
                            category: OwaspCategory::A06,
                        });
                    }
                }
            }
        }
        found
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    files: Vec<crate::files::SourceFile>,
    #[serde(default)]
    advisories: Vec<Advisory>,
}

#[async_trait]
impl Tool for DependencyChecker {
    fn name(&self) -> &str {
        "dependency_checker"
    }

    fn description(&self) -> &str {
        "Reads lockfiles (Cargo.lock, package-lock.json, requirements.txt, poetry.lock, go.sum) and reports pinned \
         versions affected by the operator's advisories (OSV format), with the first fixed version (OWASP A06). \
         When no advisory database is configured, it says so instead of reporting the dependencies safe."
    }

    fn input_schema(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "object",
            "properties": {
                "files": crate::files::files_schema(),
                "advisories": {"type": "array", "items": {"type": "object"}, "description": "extra OSV advisories"}
            },
            "required": ["files"]
        })
    }

    async fn call(&self, _context: &ToolContext, input: serde_json::Value) -> Result<serde_json::Value, ToolError> {
        let input: Input = serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
        let mut dependencies = Vec::new();
        for file in &input.files {
            dependencies.extend(parse_lockfile(&file.path, &file.content)?);
        }
        let vulnerable = self.check(&dependencies, &input.advisories);
        let database = self.database.as_ref().map(|db| db.status());
        let mut result = serde_json::json!({
            "dependencies_checked": dependencies.len(),
            "advisory_database": database,
            "advisories_in_call": input.advisories.len(),
        });
        match (&database, input.advisories.is_empty()) {
            (None, true) => {
                result["vulnerable"] = serde_json::Value::Null;
                result["note"] = "No advisory database is configured on this server, so these dependencies were NOT \
                                  checked for known vulnerabilities: do not report them as safe. The operator sets one \
                                  with AGENTIC_ADVISORIES (a directory of OSV JSON files)."
                    .into();
            }
            (None, false) => {
                result["vulnerable"] = serde_json::json!(vulnerable);
                result["note"] = "No advisory database is configured: only the advisories given in this call were \
                                  checked."
                    .into();
            }
            (Some(_), _) => result["vulnerable"] = serde_json::json!(vulnerable),
        }
        Ok(result)
    }

    fn analyzer(&self) -> Option<&dyn agentic_core::tools::Analyzer> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(id: &str, ecosystem: &str, name: &str, events: serde_json::Value) -> Advisory {
        serde_json::from_value(serde_json::json!({
            "id": id, "summary": format!("{name} is vulnerable"),
            "affected": [{"package": {"ecosystem": ecosystem, "name": name}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}],
            "database_specific": {"severity": "HIGH"}
        }))
        .unwrap()
    }

    #[test]
    fn versions_compare() {
        let check = |a: &str, b: &str, o: Ordering| assert_eq!(compare_versions(a, b), o, "{a} vs {b}");
        check("1.2.3", "1.10.0", Ordering::Less);
        check("v1.2.3", "1.2.3", Ordering::Equal);
        check("2.0.0-rc.1", "2.0.0", Ordering::Less);
        check("2.31", "2.31.0", Ordering::Equal);
        check("1.26.4", "1.26.18", Ordering::Less);
        check("3.0b1", "3.0", Ordering::Less);
        check("0", "0.0.1", Ordering::Less);
    }

    #[test]
    fn lockfiles_parse() {
        let cargo = "[[package]]\nname = \"time\"\nversion = \"0.1.44\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n";
        assert_eq!(parse_lockfile("Cargo.lock", cargo).unwrap().len(), 2);
        let npm = r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/lodash": {"version": "4.17.20"},
                      "node_modules/a/node_modules/minimist": {"version": "1.2.5"}}}"#;
        let deps = parse_lockfile("web/package-lock.json", npm).unwrap();
        assert_eq!(deps.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), vec!["lodash", "minimist"]);
        let npm_v1 = r#"{"lockfileVersion": 1, "dependencies": {"express": {"version": "4.16.0", "dependencies": {"qs": {"version": "6.5.1"}}}}}"#;
        assert_eq!(parse_lockfile("package-lock.json", npm_v1).unwrap().len(), 2);
        let pip =
            "requests==2.19.0  # pinned\nflask>=1.0\nurllib3[secure]==1.24.1 ; python_version < '3.8'\n-r other.txt\n";
        let deps = parse_lockfile("requirements.txt", pip).unwrap();
        assert_eq!(
            deps.iter().map(|d| (d.name.as_str(), d.version.as_str())).collect::<Vec<_>>(),
            vec![("requests", "2.19.0"), ("urllib3", "1.24.1")]
        );
        let poetry = "[[package]]\nname = \"jinja2\"\nversion = \"2.10\"\n";
        assert_eq!(parse_lockfile("poetry.lock", poetry).unwrap()[0].ecosystem, "PyPI");
        let gosum = "golang.org/x/text v0.3.7 h1:abc=\ngolang.org/x/text v0.3.7/go.mod h1:def=\n";
        assert_eq!(
            parse_lockfile("go.sum", gosum).unwrap(),
            vec![Dependency { ecosystem: "Go".into(), name: "golang.org/x/text".into(), version: "0.3.7".into() }]
        );
        assert!(parse_lockfile("Gemfile.lock", "").is_err());
        assert!(parse_lockfile("Cargo.lock", "not = [toml").is_err());
    }

    #[test]
    fn advisories_match_ranges_and_lists() {
        let deps = vec![
            Dependency { ecosystem: "npm".into(), name: "lodash".into(), version: "4.17.20".into() },
            Dependency { ecosystem: "npm".into(), name: "minimist".into(), version: "1.2.6".into() },
            Dependency { ecosystem: "PyPI".into(), name: "requests".into(), version: "2.19.0".into() },
            Dependency { ecosystem: "crates.io".into(), name: "time".into(), version: "0.2.23".into() },
            Dependency { ecosystem: "Go".into(), name: "golang.org/x/text".into(), version: "0.3.7".into() },
        ];
        let advisories = vec![
            advisory("GHSA-lodash", "npm", "lodash", serde_json::json!([{"introduced": "0"}, {"fixed": "4.17.21"}])),
            advisory("GHSA-minimist", "npm", "minimist", serde_json::json!([{"introduced": "0"}, {"fixed": "1.2.6"}])),
            advisory(
                "PYSEC-requests",
                "PyPI",
                "requests",
                serde_json::json!([{"introduced": "2.0"}, {"last_affected": "2.19.1"}]),
            ),
            advisory(
                "RUSTSEC-time",
                "crates.io",
                "time",
                serde_json::json!([{"introduced": "0.2.0"}, {"fixed": "0.2.23"}, {"introduced": "0.3.0"}]),
            ),
            advisory(
                "GO-text",
                "Go",
                "golang.org/x/text",
                serde_json::json!([{"introduced": "0"}, {"fixed": "0.3.8"}]),
            ),
        ];
        let found = DependencyChecker::new().check(&deps, &advisories);
        let ids: Vec<(&str, Option<&str>)> =
            found.iter().map(|v| (v.advisory.as_str(), v.fixed_in.as_deref())).collect();
        assert_eq!(ids, vec![("GHSA-lodash", Some("4.17.21")), ("PYSEC-requests", None), ("GO-text", Some("0.3.8"))]);
        assert_eq!(found[0].severity, Some(Severity::High));

        let listed: Advisory = serde_json::from_value(serde_json::json!({"id": "X", "affected": [
            {"package": {"ecosystem": "crates.io", "name": "time"}, "versions": ["0.2.23"]}]}))
        .unwrap();
        assert_eq!(DependencyChecker::new().check(&deps, &[listed]).len(), 1);
        // Clean: nothing matches.
        let safe = vec![Dependency { ecosystem: "npm".into(), name: "lodash".into(), version: "4.17.21".into() }];
        assert!(DependencyChecker::new().check(&safe, &advisories).is_empty());
    }

    #[test]
    fn the_operators_database_finds_the_fixtures_vulnerable_versions() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/osv");
        let checker = DependencyChecker::with_database(Arc::new(AdvisoryDatabase::open(fixtures).unwrap()));
        let dep = |ecosystem: &str, name: &str, version: &str| Dependency {
            ecosystem: ecosystem.into(),
            name: name.into(),
            version: version.into(),
        };
        let deps = [
            dep("npm", "lodash", "4.17.20"),
            dep("PyPI", "requests", "2.19.0"),
            dep("crates.io", "time", "0.1.44"),
            dep("Go", "golang.org/x/text", "0.3.7"),
            dep("npm", "lodash", "4.17.21"),
            dep("PyPI", "requests", "2.2.1"),
            dep("Go", "golang.org/x/text", "0.3.8"),
        ];
        let vulnerable = checker.check(&deps, &[]);
        let found: Vec<(&str, &str, Option<&str>)> = vulnerable
            .iter()
            .map(|v| (v.advisory.as_str(), v.dependency.version.as_str(), v.fixed_in.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("GHSA-35jh-r3h4-6jhm", "4.17.20", Some("4.17.21")),
                ("GHSA-j8r2-6x86-q33q", "2.19.0", Some("2.31.0")),
                ("RUSTSEC-2020-0071", "0.1.44", Some("0.2.23")),
                ("GO-2022-1059", "0.3.7", Some("0.3.8")),
            ]
        );
    }

    #[tokio::test]
    async fn without_a_database_the_result_says_nothing_was_checked() {
        let context =
            ToolContext::new(agentic_core::ids::TenantId::new(), agentic_core::ids::ProjectId::new(), "auditor");
        let lock = serde_json::json!({"files": [{"path": "requirements.txt", "content": "requests==2.19.0\n"}]});
        let result = DependencyChecker::new().call(&context, lock.clone()).await.unwrap();
        assert_eq!(result["vulnerable"], serde_json::Value::Null);
        assert_eq!(result["advisory_database"], serde_json::Value::Null);
        assert!(result["note"].as_str().unwrap().contains("NOT checked"), "{result}");

        let mut with_advisory = lock;
        with_advisory["advisories"] = serde_json::json!([advisory(
            "PYSEC-1",
            "PyPI",
            "Requests",
            serde_json::json!([{"introduced": "0"}, {"fixed": "2.20.0"}])
        )]);
        let result = DependencyChecker::new().call(&context, with_advisory).await.unwrap();
        assert_eq!(result["vulnerable"][0]["advisory"], "PYSEC-1", "PyPI names compare case-insensitively");
        assert_eq!(result["vulnerable"][0]["category"], "A06:2021-Vulnerable and Outdated Components");
        assert!(result["note"].as_str().unwrap().contains("only the advisories given"));
    }
}
