//! The OSV advisory format, how a version is matched against its ranges, and the operator's advisory database: a
//! directory of OSV JSON files (OSV's per-ecosystem exports, unzipped), indexed by package at start and reloaded
//! when the directory changes.
//!
//! Changes are found by polling a fingerprint of the directory (each file's path, size and modification time)
//! rather than with inotify: a Kubernetes ConfigMap or Secret volume is updated by swapping a symlink, which file
//! watchers miss or report as a storm, and network volumes send no events at all.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

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
    /// Other ids of the same vulnerability (`CVE-…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// When the advisory was withdrawn; a withdrawn advisory matches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
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
pub(super) fn in_range(range: &OsvRange, version: &str) -> (bool, Option<String>) {
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

/// The key advisories are indexed by: the ecosystem in lower case, and the package name as its ecosystem compares
/// names (PyPI's are case-insensitive, with `-`, `_` and `.` alike: PEP 503).
pub(super) fn package_key(ecosystem: &str, name: &str) -> (String, String) {
    let ecosystem = ecosystem.split(':').next().unwrap_or(ecosystem).to_ascii_lowercase();
    let name = if ecosystem == "pypi" {
        let mut normal = String::with_capacity(name.len());
        for c in name.chars() {
            let c = if matches!(c, '_' | '.') { '-' } else { c.to_ascii_lowercase() };
            if !(c == '-' && normal.ends_with('-')) {
                normal.push(c);
            }
        }
        normal
    } else {
        name.to_owned()
    };
    (ecosystem, name)
}

/// Why the advisory directory could not be read.
#[derive(Debug, thiserror::Error)]
#[error("advisory directory {path}: {source}")]
pub struct AdvisoryError {
    path: PathBuf,
    source: std::io::Error,
}

/// What the advisory database holds, for the tool's result and the server's logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdvisoryStatus {
    /// The directory read.
    pub directory: String,
    /// Advisories loaded (withdrawn ones are not).
    pub advisories: usize,
    /// Packages with at least one advisory.
    pub packages: usize,
    /// Files that were not OSV JSON, with why (they are skipped, the rest still load).
    pub skipped: Vec<String>,
    /// When the directory was last read, in seconds since the Unix epoch.
    pub loaded_at: u64,
}

#[derive(Default)]
struct Loaded {
    index: HashMap<(String, String), Vec<Arc<Advisory>>>,
    advisories: usize,
    skipped: Vec<String>,
    fingerprint: u64,
    loaded_at: u64,
}

/// Deepest folder level read below the directory (OSV exports are flat; a tree of ecosystems is two deep).
const MAX_DEPTH: usize = 4;

/// The operator's advisories, indexed by package.
pub struct AdvisoryDatabase {
    directory: PathBuf,
    loaded: RwLock<Arc<Loaded>>,
}

impl std::fmt::Debug for AdvisoryDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdvisoryDatabase").field("status", &self.status()).finish()
    }
}

/// The `.json` files under `directory` (symlinks followed, each folder once; hidden entries such as a ConfigMap's
/// `..data` skipped), sorted, with their size and modification time; and the subfolders that could not be read,
/// which are reported rather than fatal (a `lost+found` the server may not read). Only the directory itself not
/// being readable is an error.
type Listing = (Vec<(PathBuf, u64, Option<SystemTime>)>, Vec<String>);

fn json_files(directory: &Path) -> Result<Listing, AdvisoryError> {
    let mut found = Vec::new();
    let mut unreadable = Vec::new();
    let mut visited = std::collections::HashSet::new();
    let mut folders = vec![(directory.to_owned(), 0)];
    while let Some((folder, depth)) = folders.pop() {
        // A folder reached twice through links is read once.
        if !visited.insert(std::fs::canonicalize(&folder).unwrap_or_else(|_| folder.clone())) {
            continue;
        }
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(source) if depth == 0 => return Err(AdvisoryError { path: folder, source }),
            Err(error) => {
                let shown = folder.strip_prefix(directory).unwrap_or(&folder).display().to_string();
                unreadable.push(format!("{shown}/: {error}"));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if meta.is_dir() && depth < MAX_DEPTH {
                folders.push((path, depth + 1));
            } else if meta.is_file() && path.extension().is_some_and(|x| x == "json") {
                found.push((path, meta.len(), meta.modified().ok()));
            }
        }
    }
    found.sort();
    Ok((found, unreadable))
}

fn fingerprint(files: &[(PathBuf, u64, Option<SystemTime>)]) -> u64 {
    let mut hasher = DefaultHasher::new();
    files.hash(&mut hasher);
    hasher.finish()
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl AdvisoryDatabase {
    /// Reads every OSV file under `directory`. A file that is not an OSV advisory is skipped and listed in
    /// [`status`](Self::status); a directory that cannot be read is the error.
    pub fn open(directory: impl Into<PathBuf>) -> Result<Self, AdvisoryError> {
        let directory = directory.into();
        let loaded = Self::read(&directory)?;
        Ok(Self { directory, loaded: RwLock::new(Arc::new(loaded)) })
    }

    fn read(directory: &Path) -> Result<Loaded, AdvisoryError> {
        let (files, unreadable) = json_files(directory)?;
        let mut loaded = Loaded { fingerprint: fingerprint(&files), loaded_at: now_secs(), ..Loaded::default() };
        loaded.skipped = unreadable;
        for (path, _, _) in &files {
            let shown = path.strip_prefix(directory).unwrap_or(path).display().to_string();
            let advisory = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|text| serde_json::from_str::<Advisory>(&text).map_err(|e| e.to_string()));
            match advisory {
                Ok(advisory) if advisory.withdrawn.is_none() => {
                    let advisory = Arc::new(advisory);
                    let mut keys: Vec<(String, String)> =
                        advisory.affected.iter().map(|a| package_key(&a.package.ecosystem, &a.package.name)).collect();
                    keys.sort();
                    keys.dedup();
                    for key in keys {
                        loaded.index.entry(key).or_default().push(Arc::clone(&advisory));
                    }
                    loaded.advisories += 1;
                }
                Ok(_) => {}
                Err(error) => loaded.skipped.push(format!("{shown}: {error}")),
            }
        }
        Ok(loaded)
    }

    /// Reads the directory again if any file was added, removed or changed since it was last read; whether it was.
    /// Until a reload succeeds, the advisories already loaded stay in use.
    pub fn reload_if_changed(&self) -> Result<bool, AdvisoryError> {
        let current = fingerprint(&json_files(&self.directory)?.0);
        if current == self.snapshot().fingerprint {
            return Ok(false);
        }
        let loaded = Self::read(&self.directory)?;
        *self.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(loaded);
        Ok(true)
    }

    fn snapshot(&self) -> Arc<Loaded> {
        Arc::clone(&self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// What is loaded.
    pub fn status(&self) -> AdvisoryStatus {
        let loaded = self.snapshot();
        AdvisoryStatus {
            directory: self.directory.display().to_string(),
            advisories: loaded.advisories,
            packages: loaded.index.len(),
            skipped: loaded.skipped.clone(),
            loaded_at: loaded.loaded_at,
        }
    }

    /// The advisories naming a package.
    pub fn for_package(&self, ecosystem: &str, name: &str) -> Vec<Arc<Advisory>> {
        self.snapshot().index.get(&package_key(ecosystem, name)).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/osv")
    }

    #[test]
    fn the_fixture_set_loads_and_is_indexed_by_package() {
        let db = AdvisoryDatabase::open(fixtures()).unwrap();
        let status = db.status();
        assert_eq!((status.advisories, status.packages, status.skipped.len()), (4, 4, 0), "{status:?}");
        assert_eq!(db.for_package("npm", "lodash")[0].id, "GHSA-35jh-r3h4-6jhm");
        assert_eq!(db.for_package("PyPI", "Requests")[0].aliases[0], "CVE-2023-32681");
        assert!(db.for_package("npm", "Lodash").is_empty(), "npm names are case-sensitive");
        assert_eq!(package_key("PyPI", "Zope.Interface__x"), ("pypi".into(), "zope-interface-x".into()));
    }

    #[test]
    fn a_changed_directory_is_read_again_and_bad_files_are_skipped_not_fatal() {
        let dir = std::env::temp_dir().join(format!("agentic-osv-reload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("npm")).unwrap();
        let lodash = std::fs::read_to_string(fixtures().join("npm/GHSA-35jh-r3h4-6jhm.json")).unwrap();
        std::fs::write(dir.join("npm/GHSA-35jh-r3h4-6jhm.json"), &lodash).unwrap();
        let db = AdvisoryDatabase::open(&dir).unwrap();
        assert_eq!(db.status().advisories, 1);
        assert!(!db.reload_if_changed().unwrap(), "nothing changed");

        let requests = std::fs::read_to_string(fixtures().join("PyPI/GHSA-j8r2-6x86-q33q.json")).unwrap();
        std::fs::write(dir.join("requests.json"), &requests).unwrap();
        std::fs::write(dir.join("broken.json"), "{").unwrap();
        let withdrawn = requests.replace("GHSA-j8r2-6x86-q33q", "GHSA-gone").replacen(
            '{',
            "{\"withdrawn\": \"2024-01-01T00:00:00Z\",",
            1,
        );
        std::fs::write(dir.join("withdrawn.json"), withdrawn).unwrap();
        // A ConfigMap's hidden data folder is not read twice.
        std::fs::create_dir_all(dir.join("..data")).unwrap();
        std::fs::write(dir.join("..data/requests.json"), &requests).unwrap();
        assert!(db.reload_if_changed().unwrap());
        let status = db.status();
        assert_eq!(status.advisories, 2, "{status:?}");
        assert_eq!(status.skipped.len(), 1);
        assert!(status.skipped[0].starts_with("broken.json: "), "{:?}", status.skipped);
        assert_eq!(db.for_package("PyPI", "requests").len(), 1, "the withdrawn advisory matches nothing");

        std::fs::remove_file(dir.join("npm/GHSA-35jh-r3h4-6jhm.json")).unwrap();
        assert!(db.reload_if_changed().unwrap());
        assert!(db.for_package("npm", "lodash").is_empty());

        // A folder linked twice is read once.
        std::os::unix::fs::symlink(&dir, dir.join("again")).unwrap();
        std::os::unix::fs::symlink(&dir, dir.join("once-more")).unwrap();
        assert!(!db.reload_if_changed().unwrap(), "links to a folder already read add nothing");
        assert_eq!(AdvisoryDatabase::open(&dir).unwrap().status().advisories, 1);

        std::fs::remove_dir_all(&dir).unwrap();
        assert!(db.reload_if_changed().is_err(), "a directory gone is an error");
        assert_eq!(db.status().advisories, 1, "and what was loaded stays in use");
        assert!(AdvisoryDatabase::open(&dir).unwrap_err().to_string().contains("advisory directory"));
    }
}
