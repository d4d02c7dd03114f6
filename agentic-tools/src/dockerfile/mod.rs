//! `dockerfile_optimizer`: lint findings for a Dockerfile (no LLM): base images, users, package caches,
//! multi-stage builds, layer-cache ordering, `ADD` versus `COPY`, piping downloads into shells, secrets in `ENV`;
//! and the Dockerfile rewritten with every finding fixed that can be fixed without guessing ([`rewrite`]).

mod rewrite;

pub use rewrite::Optimized;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use agentic_core::tools::{Tool, ToolContext, ToolError};

use crate::Severity;

/// One lint finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerFinding {
    /// Stable rule id.
    pub rule: String,
    /// `high` (the image breaks or is unsafe), `medium` (should change) or `info` (a suggestion).
    pub severity: Severity,
    /// 1-based line of the instruction (0 for whole-file findings).
    pub line: usize,
    /// What to change.
    pub message: String,
}

/// The linter.
#[derive(Clone, Copy, Debug, Default)]
pub struct DockerfileOptimizer;

struct Instruction {
    line: usize,
    keyword: String,
    args: String,
}

/// Joins `\` continuations and drops comments, keeping each instruction's first line number.
fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || (line.is_empty() && pending.is_none()) {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        let continued = line.ends_with('\\');
        joined.push_str(line.trim_end_matches('\\'));
        joined.push(' ');
        if continued {
            pending = Some((start, joined));
            continue;
        }
        let joined = joined.trim();
        let (keyword, args) = joined.split_once(char::is_whitespace).unwrap_or((joined, ""));
        out.push(Instruction { line: start, keyword: keyword.to_ascii_uppercase(), args: args.trim().to_owned() });
    }
    if let Some((start, joined)) = pending {
        let joined = joined.trim().to_owned();
        let (keyword, args) = joined.split_once(char::is_whitespace).unwrap_or((joined.as_str(), ""));
        out.push(Instruction { line: start, keyword: keyword.to_ascii_uppercase(), args: args.trim().to_owned() });
    }
    out
}

/// Whether an `ADD` does what `COPY` cannot: fetch a URL or a git repository, or unpack a local tar archive.
fn add_is_special(args: &str) -> bool {
    let args = args.to_ascii_lowercase();
    ["://", "git@", ".tar", ".tgz", ".txz", ".tbz", ".tbz2"].iter().any(|s| args.contains(s))
}

fn finding(rule: &str, severity: Severity, line: usize, message: impl Into<String>) -> DockerFinding {
    DockerFinding { rule: rule.into(), severity, line, message: message.into() }
}

impl DockerfileOptimizer {
    /// Lints one Dockerfile.
    pub fn lint(&self, text: &str) -> Vec<DockerFinding> {
        let all = instructions(text);
        let mut findings = Vec::new();
        let froms: Vec<&Instruction> = all.iter().filter(|i| i.keyword == "FROM").collect();
        let stage_names: Vec<String> = froms
            .iter()
            .filter_map(|f| {
                let words: Vec<&str> = f.args.split_whitespace().collect();
                words
                    .iter()
                    .position(|w| w.eq_ignore_ascii_case("as"))
                    .and_then(|i| words.get(i + 1))
                    .map(|s| s.to_ascii_lowercase())
            })
            .collect();
        for from in &froms {
            let image = from.args.split_whitespace().find(|w| !w.starts_with("--")).unwrap_or("");
            if image.eq_ignore_ascii_case("scratch") || stage_names.contains(&image.to_ascii_lowercase()) {
                continue;
            }
            let pinned_digest = image.contains('@');
            let tag = image.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map(|(_, t)| t);
            match tag {
                _ if pinned_digest => {}
                None => findings.push(finding(
                    "unpinned-base-image",
                    Severity::Medium,
                    from.line,
                    format!("`{image}` has no tag: pin a version (and ideally a digest)"),
                )),
                Some("latest") => findings.push(finding(
                    "latest-base-image",
                    Severity::Medium,
                    from.line,
                    format!("`{image}` uses `latest`: pin a version"),
                )),
                Some(_) => {}
            }
        }
        let last_user = all.iter().rev().find(|i| i.keyword == "USER");
        match last_user {
            None if !froms.is_empty() => findings.push(finding(
                "runs-as-root",
                Severity::Medium,
                0,
                "no USER instruction: the container runs as root",
            )),
            Some(user) if matches!(user.args.split(':').next(), Some("root" | "0")) => {
                findings.push(finding("runs-as-root", Severity::Medium, user.line, "the final USER is root"));
            }
            _ => {}
        }
        for instruction in &all {
            let args = instruction.args.to_ascii_lowercase();
            match instruction.keyword.as_str() {
                "ADD" if !add_is_special(&args) => findings.push(finding(
                    "add-instead-of-copy",
                    Severity::Info,
                    instruction.line,
                    "use COPY for local files; ADD's extra behaviour (URLs, archives) surprises",
                )),
                "RUN" => {
                    if args.contains("apt-get install") {
                        if !args.contains("--no-install-recommends") {
                            findings.push(finding(
                                "apt-recommends",
                                Severity::Info,
                                instruction.line,
                                "add --no-install-recommends to apt-get install",
                            ));
                        }
                        if !args.contains("rm -rf /var/lib/apt/lists") {
                            findings.push(finding(
                                "apt-cache",
                                Severity::Medium,
                                instruction.line,
                                "remove /var/lib/apt/lists in the same RUN to keep the layer small",
                            ));
                        }
                    }
                    if args.contains("apk add") && !args.contains("--no-cache") {
                        findings.push(finding(
                            "apk-cache",
                            Severity::Medium,
                            instruction.line,
                            "use apk add --no-cache",
                        ));
                    }
                    if args.contains("pip install") && !args.contains("--no-cache-dir") {
                        findings.push(finding(
                            "pip-cache",
                            Severity::Info,
                            instruction.line,
                            "use pip install --no-cache-dir",
                        ));
                    }
                    if (args.contains("curl") || args.contains("wget"))
                        && (args.contains("| sh")
                            || args.contains("| bash")
                            || args.contains("|sh")
                            || args.contains("|bash"))
                    {
                        findings.push(finding(
                            "pipe-to-shell",
                            Severity::High,
                            instruction.line,
                            "a downloaded script is piped into a shell: download, verify a checksum, then run",
                        ));
                    }
                    if args.split_whitespace().any(|w| w == "sudo") {
                        findings.push(finding(
                            "sudo",
                            Severity::Medium,
                            instruction.line,
                            "sudo in a build step: run the step as root, then switch USER",
                        ));
                    }
                }
                "ENV" | "ARG" => {
                    let secretish = ["password", "secret", "token", "api_key", "apikey", "private_key"];
                    if secretish.iter().any(|s| args.contains(s)) && args.contains('=') {
                        findings.push(finding(
                            "secret-in-image",
                            Severity::High,
                            instruction.line,
                            "a secret in ENV/ARG is baked into the image: use build secrets or runtime configuration",
                        ));
                    }
                }
                _ => {}
            }
        }
        let mut copied_everything: Option<usize> = None;
        for instruction in &all {
            match instruction.keyword.as_str() {
                "FROM" => copied_everything = None,
                "COPY" | "ADD" if rewrite::copies_everything(instruction) => {
                    copied_everything.get_or_insert(instruction.line);
                }
                "RUN" if rewrite::installs_from_manifests(&instruction.args) => {
                    if let Some(line) = copied_everything.take() {
                        findings.push(finding(
                            "cache-busting-copy",
                            Severity::Info,
                            line,
                            "the whole context is copied before dependencies are installed, so any change re-installs \
                             them: copy the manifests, install, then copy the sources",
                        ));
                    }
                }
                _ => {}
            }
        }
        let builds = all.iter().any(|i| {
            i.keyword == "RUN"
                && [
                    "npm run build",
                    "cargo build",
                    "go build",
                    "mvn ",
                    "gradle",
                    "make",
                    "npm ci",
                    "yarn build",
                    "pip wheel",
                ]
                .iter()
                .any(|b| rewrite::runs(&i.args, b.trim_end()))
        });
        if froms.len() == 1 && builds {
            findings.push(finding(
                "single-stage-build",
                Severity::Info,
                0,
                "build tools ship in the final image: use a multi-stage build",
            ));
        }
        findings.sort_by_key(|f| f.line);
        findings
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    dockerfile: String,
}

#[async_trait]
impl Tool for DockerfileOptimizer {
    fn name(&self) -> &str {
        "dockerfile_optimizer"
    }

    fn description(&self) -> &str {
        "Lints a Dockerfile (unpinned or `latest` base images, running as root, package caches, single-stage builds, \
         cache-busting COPY order, ADD versus COPY, piping downloads into a shell, secrets in ENV/ARG) and returns \
         it optimised: multi-stage, pinned, non-root, cache-friendly, with what is left to fix by hand."
    }

    fn input_schema(&self) -> serde_json::Value {
        serde_json::json!({"type": "object", "properties": {"dockerfile": {"type": "string"}}, "required": ["dockerfile"]})
    }

    async fn call(&self, _context: &ToolContext, input: serde_json::Value) -> Result<serde_json::Value, ToolError> {
        let input: Input = serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
        let optimized = self.optimize(&input.dockerfile);
        Ok(serde_json::json!({
            "findings": self.lint(&input.dockerfile),
            "optimized": optimized.dockerfile,
            "changes": optimized.changes,
            "remaining": self.lint(&optimized.dockerfile),
        }))
    }

    fn analyzer(&self) -> Option<&dyn agentic_core::tools::Analyzer> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<(String, usize)> {
        DockerfileOptimizer.lint(text).into_iter().map(|f| (f.rule, f.line)).collect()
    }

    #[test]
    fn a_careless_dockerfile_gets_every_finding() {
        let text = "FROM node:latest\n\
                    ENV API_TOKEN=abc123\n\
                    ADD . /app\n\
                    RUN apt-get update && \\\n    apt-get install -y git\n\
                    RUN curl -fsSL https://get.example.sh | sh\n\
                    RUN npm ci && npm run build\n\
                    USER root\n";
        let expected: Vec<(String, usize)> = [
            ("latest-base-image", 1),
            ("secret-in-image", 2),
            ("add-instead-of-copy", 3),
            ("cache-busting-copy", 3),
            ("apt-recommends", 4),
            ("apt-cache", 4),
            ("pipe-to-shell", 6),
            ("runs-as-root", 8),
        ]
        .iter()
        .map(|(r, l)| ((*r).to_owned(), *l))
        .collect();
        let mut got = rules(text);
        let single_stage = got.iter().position(|(r, _)| r == "single-stage-build").expect("single stage");
        got.remove(single_stage);
        assert_eq!(got, expected);
    }

    #[test]
    fn a_careful_dockerfile_is_clean() {
        let text = "# build\nFROM rust:1.94-slim AS build\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\n\n\
                    FROM debian:12-slim@sha256:0123456789abcdef\n\
                    RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \\\n    && rm -rf /var/lib/apt/lists/*\n\
                    COPY --from=build /src/target/release/app /usr/local/bin/app\n\
                    USER 10001:10001\nENTRYPOINT [\"app\"]\n";
        assert_eq!(rules(text), vec![]);
    }

    #[test]
    fn images_without_tags_and_no_user() {
        assert_eq!(
            rules("FROM ubuntu\nRUN echo hi\n"),
            vec![("runs-as-root".to_owned(), 0), ("unpinned-base-image".to_owned(), 1)]
        );
        assert_eq!(rules("FROM registry.local:5000/team/app\nUSER app\n"), vec![("unpinned-base-image".to_owned(), 1)]);
    }
}
