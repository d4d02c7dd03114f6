//! `owasp_scanner`: rule-based findings in Python, JavaScript/TypeScript, Go and Rust sources, mapped to the
//! OWASP Top 10 (2021). Line-oriented patterns: fast and explainable, and meant to point a reviewer (or the
//! security agent) at lines to read, not to prove exploitability.

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::Severity;

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwaspFinding {
    /// Rule id.
    pub rule: String,
    /// OWASP Top 10 (2021) category, e.g. `A03:2021-Injection`.
    pub category: String,
    /// `high` or `medium`.
    pub severity: Severity,
    /// File.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// The line, trimmed to 160 characters.
    pub snippet: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Language {
    Python,
    JavaScript,
    Go,
    Rust,
}

impl Language {
    fn of(path: &str) -> Option<Self> {
        let ext = path.rsplit('.').next()?.to_ascii_lowercase();
        match ext.as_str() {
            "py" => Some(Language::Python),
            "js" | "jsx" | "mjs" | "cjs" | "ts" | "tsx" => Some(Language::JavaScript),
            "go" => Some(Language::Go),
            "rs" => Some(Language::Rust),
            _ => None,
        }
    }
}

const A01: &str = "A01:2021-Broken Access Control";
const A02: &str = "A02:2021-Cryptographic Failures";
const A03: &str = "A03:2021-Injection";
const A05: &str = "A05:2021-Security Misconfiguration";
const A07: &str = "A07:2021-Identification and Authentication Failures";
const A08: &str = "A08:2021-Software and Data Integrity Failures";
const A10: &str = "A10:2021-Server-Side Request Forgery";

/// (languages, rule, category, severity, pattern, a text whose presence on the line cancels the match)
type RuleSpec = (&'static [Language], &'static str, &'static str, Severity, &'static str, Option<&'static str>);

use Language::{Go, JavaScript, Python, Rust};

const RULES: &[RuleSpec] = &[
    (
        &[Python],
        "sql-string-formatting",
        A03,
        Severity::High,
        r#"(?i)\.execute\(\s*(f["']|["'][^"']*["']\s*(%|\+|\.format))"#,
        None,
    ),
    (
        &[Python],
        "shell-injection",
        A03,
        Severity::High,
        r"(?i)(os\.system\(|os\.popen\(|subprocess\.\w+\(.*shell\s*=\s*True)",
        None,
    ),
    (&[Python, JavaScript], "code-eval", A03, Severity::High, r"(^|[^\w.])(eval|exec)\s*\(", None),
    (&[JavaScript], "function-constructor", A03, Severity::High, r"new\s+Function\s*\(", None),
    (
        &[JavaScript],
        "child-process-exec",
        A03,
        Severity::High,
        r"(child_process\.)?\bexec(Sync)?\s*\(\s*`[^`]*\$\{",
        None,
    ),
    (
        &[JavaScript],
        "sql-template-injection",
        A03,
        Severity::High,
        r"(?i)\.(query|execute|raw)\s*\(\s*`[^`]*\b(select|insert|update|delete)\b[^`]*\$\{",
        None,
    ),
    (
        &[JavaScript],
        "dom-xss",
        A03,
        Severity::Medium,
        r"\.(innerHTML|outerHTML)\s*=|document\.write\s*\(|dangerouslySetInnerHTML",
        None,
    ),
    (&[Go], "sql-sprintf", A03, Severity::High, r#"(?i)fmt\.Sprintf\(\s*"\s*(select|insert|update|delete)\b"#, None),
    (&[Go], "shell-command", A03, Severity::High, r#"exec\.Command\(\s*"(sh|bash)"\s*,\s*"-c""#, None),
    (&[Rust], "sql-format", A03, Severity::High, r#"(?i)format!\(\s*"\s*(select|insert|update|delete)\b"#, None),
    (&[Rust], "shell-command", A03, Severity::High, r#"Command::new\(\s*"(sh|bash)"\s*\)"#, None),
    (&[Python], "weak-hash", A02, Severity::Medium, r"hashlib\.(md5|sha1)\s*\(", None),
    (&[JavaScript], "weak-hash", A02, Severity::Medium, r#"createHash\(\s*['"](md5|sha1)['"]"#, None),
    (&[Go], "weak-hash", A02, Severity::Medium, r"\b(md5|sha1)\.(New|Sum)\b", None),
    (&[Rust], "weak-hash", A02, Severity::Medium, r"\b(Md5|Sha1)::(new|digest)\b|\bmd5::compute\b", None),
    (&[Python], "tls-verification-disabled", A02, Severity::High, r"verify\s*=\s*False", None),
    (
        &[JavaScript],
        "tls-verification-disabled",
        A02,
        Severity::High,
        r"rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED",
        None,
    ),
    (&[Go], "tls-verification-disabled", A02, Severity::High, r"InsecureSkipVerify\s*:\s*true", None),
    (&[Rust], "tls-verification-disabled", A02, Severity::High, r"danger_accept_invalid_certs\(\s*true\s*\)", None),
    (
        &[Python],
        "insecure-random",
        A02,
        Severity::Low,
        r"\brandom\.(random|randint|choice)\(.*(token|secret|password|key)",
        None,
    ),
    (
        &[JavaScript],
        "insecure-random",
        A02,
        Severity::Low,
        r"Math\.random\(\).*(token|secret|password|key)|(token|secret|password|key).*Math\.random\(\)",
        None,
    ),
    (&[Python], "debug-enabled", A05, Severity::Medium, r"^\s*DEBUG\s*=\s*True\b|\.run\(.*debug\s*=\s*True", None),
    (
        &[JavaScript],
        "cors-wildcard",
        A05,
        Severity::Medium,
        r#"Access-Control-Allow-Origin['"]?\s*[,:]\s*['"]\*['"]|origin\s*:\s*['"]\*['"]"#,
        None,
    ),
    (&[Go], "cors-wildcard", A05, Severity::Medium, r#"Access-Control-Allow-Origin"\s*,\s*"\*""#, None),
    (
        &[Python, JavaScript, Go, Rust],
        "hardcoded-password",
        A07,
        Severity::High,
        r#"(?i)\b(password|passwd|pwd)\s*(:=|=|:)\s*["'][^"'\s]{4,}["']"#,
        Some("example"),
    ),
    (&[Python], "unsafe-deserialization", A08, Severity::High, r"\bpickle\.loads?\(|\bmarshal\.loads?\(", None),
    (&[Python], "unsafe-yaml-load", A08, Severity::High, r"\byaml\.(load|load_all)\(", Some("SafeLoader")),
    (&[JavaScript], "unsafe-deserialization", A08, Severity::High, r"node-serialize|\bunserialize\(", None),
    (
        &[Python],
        "ssrf",
        A10,
        Severity::Medium,
        r"requests\.(get|post|put|delete|head)\(\s*(request\.|flask\.request)",
        None,
    ),
    (&[JavaScript], "ssrf", A10, Severity::Medium, r"(fetch|axios\.(get|post)|got)\(\s*req\.(query|body|params)", None),
    (&[Go], "ssrf", A10, Severity::Medium, r"http\.(Get|Post)\(\s*r\.(URL\.Query|FormValue)", None),
    (
        &[Python],
        "path-traversal",
        A01,
        Severity::Medium,
        r"open\(\s*(request\.|flask\.request|os\.path\.join\([^)]*request\.)",
        None,
    ),
    (
        &[JavaScript],
        "path-traversal",
        A01,
        Severity::Medium,
        r"(sendFile|readFile(Sync)?|createReadStream)\(\s*[^)]*req\.(query|params|body)",
        None,
    ),
];

#[derive(Debug)]
struct CompiledRule {
    languages: &'static [Language],
    rule: &'static str,
    category: &'static str,
    severity: Severity,
    regex: Regex,
    unless: Option<&'static str>,
}

/// The scanner, with its rules compiled.
#[derive(Debug)]
pub struct OwaspScanner {
    rules: Vec<CompiledRule>,
}

impl Default for OwaspScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl OwaspScanner {
    /// Compiles the rules (a unit test proves every pattern compiles).
    pub fn new() -> Self {
        let rules = RULES
            .iter()
            .filter_map(|(languages, rule, category, severity, pattern, unless)| {
                Regex::new(pattern).ok().map(|regex| CompiledRule {
                    languages,
                    rule,
                    category,
                    severity: *severity,
                    regex,
                    unless: *unless,
                })
            })
            .collect();
        Self { rules }
    }

    /// Findings in one file; files in other languages have none.
    pub fn scan(&self, path: &str, content: &str) -> Vec<OwaspFinding> {
        let Some(language) = Language::of(path) else { return Vec::new() };
        let mut findings = Vec::new();
        for (index, line) in content.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || code.starts_with('#') {
                continue;
            }
            for r in &self.rules {
                if r.languages.contains(&language)
                    && r.regex.is_match(line)
                    && !r.unless.is_some_and(|u| line.contains(u))
                {
                    findings.push(OwaspFinding {
                        rule: r.rule.to_owned(),
                        category: r.category.to_owned(),
                        severity: r.severity,
                        path: path.to_owned(),
                        line: index + 1,
                        snippet: code.chars().take(160).collect(),
                    });
                }
            }
        }
        findings
    }
}

crate::files::file_scanner_tool!(
    OwaspScanner,
    name: "owasp_scanner",
    description: "Scans Python, JavaScript/TypeScript, Go and Rust files for risky patterns (injection, weak \
                  crypto, disabled TLS checks, unsafe deserialization, SSRF, path traversal, misconfiguration) \
                  mapped to the OWASP Top 10.",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(path: &str, content: &str) -> Vec<(String, usize)> {
        OwaspScanner::new().scan(path, content).into_iter().map(|f| (f.rule, f.line)).collect()
    }

    fn pairs(expected: &[(&str, usize)]) -> Vec<(String, usize)> {
        expected.iter().map(|(r, l)| ((*r).to_owned(), *l)).collect()
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(OwaspScanner::new().rules.len(), RULES.len());
    }

    #[test]
    fn python() {
        let source = "cur.execute(f\"SELECT * FROM users WHERE id = {uid}\")\n\
                      subprocess.run(cmd, shell=True)\n\
                      digest = hashlib.md5(data)\n\
                      requests.get(url, verify=False)\n\
                      obj = pickle.loads(blob)\n\
                      cfg = yaml.load(text)\n\
                      DEBUG = True\n\
                      resp = requests.get(request.args['u'])\n";
        assert_eq!(
            rules("app/views.py", source),
            pairs(&[
                ("sql-string-formatting", 1),
                ("shell-injection", 2),
                ("weak-hash", 3),
                ("tls-verification-disabled", 4),
                ("unsafe-deserialization", 5),
                ("unsafe-yaml-load", 6),
                ("debug-enabled", 7),
                ("ssrf", 8),
            ])
        );
        let findings = OwaspScanner::new().scan("a.py", "x = eval(user_input)\n");
        assert_eq!(findings[0].category, "A03:2021-Injection");
    }

    #[test]
    fn javascript_go_and_rust() {
        let js = "el.innerHTML = userInput;\nconst h = crypto.createHash('md5');\ndb.query(`SELECT * FROM t WHERE id = ${id}`);\nhttps.request({ rejectUnauthorized: false });\n";
        assert_eq!(
            rules("web/app.ts", js),
            pairs(&[("dom-xss", 1), ("weak-hash", 2), ("sql-template-injection", 3), ("tls-verification-disabled", 4)])
        );
        let go = "q := fmt.Sprintf(\"SELECT * FROM users WHERE name = '%s'\", name)\ntls := &tls.Config{InsecureSkipVerify: true}\nexec.Command(\"sh\", \"-c\", input)\n";
        assert_eq!(
            rules("main.go", go),
            pairs(&[("sql-sprintf", 1), ("tls-verification-disabled", 2), ("shell-command", 3)])
        );
        let rust = "let q = format!(\"SELECT * FROM t WHERE id = {}\", id);\nlet c = Client::builder().danger_accept_invalid_certs(true);\n";
        assert_eq!(rules("src/db.rs", rust), pairs(&[("sql-format", 1), ("tls-verification-disabled", 2)]));
    }

    #[test]
    fn clean_code_and_other_files_have_no_findings() {
        let py = "cur.execute(\"SELECT * FROM users WHERE id = %s\", (uid,))\ncfg = yaml.load(text, Loader=yaml.SafeLoader)\n# eval(x) in a comment\nhashlib.sha256(data)\n";
        assert!(rules("app.py", py).is_empty(), "{:?}", rules("app.py", py));
        let js = "el.textContent = userInput;\nconst h = crypto.createHash('sha256');\ndb.query('SELECT * FROM t WHERE id = $1', [id]);\n";
        assert!(rules("app.js", js).is_empty());
        let rust = "sqlx::query(\"SELECT * FROM t WHERE id = $1\").bind(id);\n";
        assert!(rules("lib.rs", rust).is_empty());
        assert!(rules("README.md", "eval(x)\npassword = 'hunter22'\n").is_empty());
    }
}
