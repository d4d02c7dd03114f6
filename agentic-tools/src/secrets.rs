//! `secret_detector`: finds credentials in source text by rule and by entropy, and reports them redacted.

use regex::Regex;
use serde::{Deserialize, Serialize};

/// One credential found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// The rule that matched.
    pub rule: String,
    /// File.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// The match with all but its first four characters masked.
    pub redacted: String,
}

/// The detector: fixed rules for well-known credential formats, plus high-entropy values assigned to names that
/// sound secret (`password`, `token`, `api_key`, …).
#[derive(Debug)]
pub struct SecretDetector {
    rules: Vec<(&'static str, Regex)>,
    assignment: Option<Regex>,
}

const RULES: [(&str, &str); 9] = [
    ("aws_access_key_id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    ("slack_token", r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"),
    ("stripe_secret_key", r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}\b"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("private_key", r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY(?: BLOCK)?-----"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("agentic_api_key", r"\bagk_[A-Za-z0-9_-]{32,}"),
    ("anthropic_api_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
];

/// A value assigned to a name that sounds secret; the value is kept only when its entropy is high.
const ASSIGNMENT: &str = r#"(?i)\b[a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)[a-z0-9_.-]*[ \t]*\\?["']?[ \t]*[:=][ \t]*\\?["']([^"'\s\\]{16,})\\?["']"#;

/// Every pattern the detector matches with, for a caller that wants one pass to tell whether any could match.
pub(crate) fn patterns() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|(_, pattern)| *pattern).chain(std::iter::once(ASSIGNMENT))
}

impl Default for SecretDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretDetector {
    /// The detector with its rules compiled.
    pub fn new() -> Self {
        // The patterns are constants checked by the tests; a failure to compile one would leave the rule out.
        let rules = RULES.iter().filter_map(|(name, pattern)| Regex::new(pattern).ok().map(|r| (*name, r))).collect();
        let assignment = Regex::new(ASSIGNMENT).ok();
        Self { rules, assignment }
    }

    /// Every secret in `content`.
    pub fn scan(&self, path: &str, content: &str) -> Vec<SecretFinding> {
        self.matches(content)
            .into_iter()
            .map(|m| finding(m.rule, path, m.line, content.get(m.range).unwrap_or_default()))
            .collect()
    }

    /// Every secret in `content`, where it is: what `scan` reports and the outgoing guardrail redacts.
    pub(crate) fn matches(&self, content: &str) -> Vec<SecretMatch> {
        // One pass of each pattern over the whole text (a pass per line costs 20 times more on a pasted file); the
        // patterns never cross a line, and the line of a match is found from where it starts.
        let line_starts: Vec<usize> =
            std::iter::once(0).chain(content.match_indices('\n').map(|(at, _)| at + 1)).collect();
        let line_of = |at: usize| line_starts.partition_point(|&start| start <= at);
        let mut found = Vec::new();
        for (rule, regex) in &self.rules {
            for m in regex.find_iter(content) {
                found.push(SecretMatch { rule, line: line_of(m.start()), range: m.range() });
            }
        }
        let by_rule = found.len();
        if let Some(assignment) = &self.assignment {
            for captures in assignment.captures_iter(content) {
                let Some(value) = captures.get(1) else { continue };
                let overlaps =
                    found[..by_rule].iter().any(|f| value.start() < f.range.end && f.range.start < value.end());
                if !overlaps && shannon_entropy(value.as_str()) >= 3.5 && !looks_like_placeholder(value.as_str()) {
                    found.push(SecretMatch {
                        rule: "high_entropy_assignment",
                        line: line_of(value.start()),
                        range: value.range(),
                    });
                }
            }
        }
        // In the order they appear, as a reader goes through the file.
        found.sort_by_key(|f| (f.range.start, f.range.end));
        found
    }
}

/// A secret in a text: the rule that found it, its 1-based line, and its byte range in the whole text.
pub(crate) struct SecretMatch {
    pub(crate) rule: &'static str,
    pub(crate) line: usize,
    pub(crate) range: std::ops::Range<usize>,
}

fn finding(rule: &str, path: &str, line: usize, matched: &str) -> SecretFinding {
    let shown: String = matched.chars().take(4).collect();
    SecretFinding { rule: rule.to_owned(), path: path.to_owned(), line, redacted: format!("{shown}{}", "*".repeat(8)) }
}

fn looks_like_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    ["example", "changeme", "placeholder", "your_", "xxxx", "${", "{{"].iter().any(|p| lower.contains(p))
}

/// Bits per character of the value's character distribution.
fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0_f64;
    for c in value.chars() {
        *counts.entry(c).or_insert(0_u32) += 1;
        total += 1.0;
    }
    counts.values().map(|&n| f64::from(n) / total).map(|p| -p * p.log2()).sum()
}

crate::files::file_scanner_tool!(
    SecretDetector,
    name: "secret_detector",
    description: "Finds credentials (cloud keys, tokens, private keys, JWTs, high-entropy secrets) in files; \
                  reports file, line and rule, with the secret redacted.",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles() {
        let detector = SecretDetector::new();
        assert_eq!(detector.rules.len(), RULES.len());
        assert!(detector.assignment.is_some());
    }

    #[test]
    fn known_formats_are_found_and_redacted() {
        let detector = SecretDetector::new();
        let source = [
            "aws_key = 'AKIAIOSFODNN7EXAMPLE'",
            "token: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            "-----BEGIN RSA PRIVATE KEY-----",
            "auth = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
            "STRIPE = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"",
            "db_password = \"h7#Lq9!vR2@xZ4$kP8wN\"",
            "let harmless = \"just a normal sentence\";",
        ]
        .join("\n");
        let findings = detector.scan("config.py", &source);
        let rules: Vec<(&str, usize)> = findings.iter().map(|f| (f.rule.as_str(), f.line)).collect();
        assert_eq!(
            rules,
            vec![
                ("aws_access_key_id", 1),
                ("github_token", 2),
                ("private_key", 3),
                ("jwt", 4),
                ("stripe_secret_key", 5),
                ("high_entropy_assignment", 6),
            ]
        );
        for f in &findings {
            assert!(f.redacted.ends_with("********") && f.redacted.chars().count() == 12, "{f:?}");
            assert!(!source.lines().nth(f.line - 1).unwrap().contains(&f.redacted));
        }
    }

    #[test]
    fn clean_files_have_no_findings() {
        let detector = SecretDetector::new();
        let clean = "password = os.environ['DB_PASSWORD']\napi_key = \"your_api_key_here_please\"\nsecret = 'aaaaaaaaaaaaaaaaaaaa'\nfn main() { println!(\"hello\"); }\n";
        assert!(detector.scan("app.py", clean).is_empty(), "{:?}", detector.scan("app.py", clean));
    }
}
