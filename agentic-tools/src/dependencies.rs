//! `dependency_checker`: reads lockfiles (Cargo.lock, package-lock.json, requirements.txt, poetry.lock, go.sum)
//! and matches the pinned versions against advisories in the OSV format (ranges of `introduced` / `fixed` /
//! `last_affected` events, and explicit version lists).
//!
//! Advisories come with the call, or from a folder of OSV JSON files the operator configures
//! ([`DependencyChecker::with_advisories`]); the model never names files to read.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use agentic_core::tools::{Tool, ToolContext, ToolError};

use crate::Severity;

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

/// An OSV advisory (the fields this checker uses).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Advisory {
    /// Id, e.g. `GHSA-…` or `RUSTSEC-…`.
    pub id: String,
    /// One-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Affected packages.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Free-form data; `severity` is read from it when present.
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// One affected package of an advisory.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Affected {
    /// The package.
    pub package: OsvPackage,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<OsvRange>,
    /// Explicitly affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
}

/// A package in OSV terms.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct OsvPackage {
    /// Ecosystem.
    pub ecosystem: String,
    /// Name.
    pub name: String,
}

/// A range of affected versions.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct OsvRange {
    /// `SEMVER`, `ECOSYSTEM` (`GIT` ranges are ignored).
    #[serde(rename = "type")]
    pub kind: String,
    /// Events.
    #[serde(default)]
    pub events: Vec<serde_json::Map<String, serde_json::Value>>,
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
}

/// The checker.
#[derive(Clone, Debug, Default)]
pub struct DependencyChecker {
    advisories: Vec<Advisory>,
}

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

/// Compares versions: semantic versioning when both parse, otherwise dotted numeric components (PEP 440 style
/// release segments), with any non-numeric suffix sorting before the release it qualifies.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim().trim_start_matches('v'), b.trim().trim_start_matches('v'));
    if a == "0" || b == "0" {
        // OSV's "introduced: 0" means "from the beginning".
        return if a == b {
            Ordering::Equal
        } else if a == "0" {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    if let (Ok(x), Ok(y)) = (semver::Version::parse(a), semver::Version::parse(b)) {
        return x.cmp(&y);
    }
    let split = |v: &str| -> (Vec<u64>, String) {
        let mut numbers = Vec::new();
        let mut rest = String::new();
        for (i, part) in v.split('.').enumerate() {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() || !rest.is_empty() {
                rest = v.split('.').skip(i).collect::<Vec<_>>().join(".");
                break;
            }
            numbers.push(digits.parse().unwrap_or(0));
            if digits.len() < part.len() {
                rest = part[digits.len()..].to_owned();
            }
        }
        (numbers, rest)
    };
    let ((mut na, sa), (mut nb, sb)) = (split(a), split(b));
    let len = na.len().max(nb.len());
    na.resize(len, 0);
    nb.resize(len, 0);
    na.cmp(&nb).then_with(|| match (sa.is_empty(), sb.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => sa.cmp(&sb),
    })
}

fn event(e: &serde_json::Map<String, serde_json::Value>) -> Option<(&str, &str)> {
    ["introduced", "fixed", "last_affected"].into_iter().find_map(|kind| Some((kind, e.get(kind)?.as_str()?)))
}

/// Whether `version` falls in `range` (OSV semantics), and the first fix above it.
fn in_range(range: &OsvRange, version: &str) -> (bool, Option<String>) {
    if range.kind == "GIT" {
        return (false, None);
    }
    let mut events: Vec<(&str, &str)> = range.events.iter().filter_map(event).collect();
    events.sort_by(|a, b| compare_versions(a.1, b.1));
    let mut affected = false;
    for (kind, at) in &events {
        let order = compare_versions(at, version);
        match *kind {
            "introduced" if order != Ordering::Greater => affected = true,
            "fixed" if order != Ordering::Greater => affected = false,
            "last_affected" if order == Ordering::Less => affected = false,
            _ => {}
        }
    }
    let fixed_in = events
        .iter()
        .filter(|(kind, at)| *kind == "fixed" && compare_versions(at, version) == Ordering::Greater)
        .map(|(_, at)| (*at).to_owned())
        .next();
    (affected, fixed_in)
}

impl DependencyChecker {
    /// A checker with no advisories of its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds advisories read from an OSV JSON file or from every `.json` file of a folder.
    pub fn with_advisories(mut self, path: &std::path::Path) -> std::io::Result<Self> {
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            files
        } else {
            vec![path.to_owned()]
        };
        for file in files {
            let text = std::fs::read_to_string(&file)?;
            let advisory: Advisory = serde_json::from_str(&text).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", file.display()))
            })?;
            self.advisories.push(advisory);
        }
        Ok(self)
    }

    /// The dependencies matched by any advisory.
    pub fn check(&self, dependencies: &[Dependency], extra: &[Advisory]) -> Vec<VulnerableDependency> {
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        for advisory in self.advisories.iter().chain(extra) {
            let severity = advisory
                .database_specific
                .as_ref()
                .and_then(|d| d.get("severity"))
                .and_then(|s| s.as_str())
                .and_then(Severity::parse);
            for affected in &advisory.affected {
                for dep in dependencies.iter().filter(|d| {
                    d.ecosystem.eq_ignore_ascii_case(&affected.package.ecosystem) && d.name == affected.package.name
                }) {
                    let listed = affected.versions.iter().any(|v| compare_versions(v, &dep.version) == Ordering::Equal);
                    let mut fixed_in = None;
                    let mut hit = listed;
                    for range in &affected.ranges {
                        let (inside, fix) = in_range(range, &dep.version);
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
         versions affected by known advisories (OSV format), with the first fixed version."
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
        Ok(serde_json::json!({"dependencies_checked": dependencies.len(), "vulnerable": vulnerable}))
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
    fn advisories_load_from_a_folder() {
        let dir = std::env::temp_dir().join(format!("agentic-osv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = advisory("GHSA-1", "npm", "lodash", serde_json::json!([{"introduced": "0"}, {"fixed": "4.17.21"}]));
        std::fs::write(dir.join("GHSA-1.json"), serde_json::to_string(&a).unwrap()).unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let checker = DependencyChecker::new().with_advisories(&dir).unwrap();
        assert_eq!(checker.advisories.len(), 1);
        std::fs::write(dir.join("broken.json"), "{").unwrap();
        assert!(DependencyChecker::new().with_advisories(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
