//! `owasp_scanner`: rule-based findings in Python, JavaScript/TypeScript, Go and Rust sources, mapped to the
//! OWASP Top 10 (2021). Line-oriented patterns (and a few spanning lines, such as an exception swallowed by the
//! handler under it): fast and explainable, and meant to point a reviewer (or the security agent) at lines to read,
//! not to prove exploitability. Every category has rules here but A06, which is `dependency_checker`'s: vulnerable
//! components are read from lockfiles, not from code. A04 (insecure design) is heuristic by nature: the rules find
//! designs known to fail (trusting a client's price or role, security questions, uploads saved under the client's
//! file name).

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::Severity;

/// A category of the OWASP Top 10 (2021), written as OWASP names it (`A03:2021-Injection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OwaspCategory {
    /// Broken access control.
    #[serde(rename = "A01:2021-Broken Access Control")]
    A01,
    /// Cryptographic failures.
    #[serde(rename = "A02:2021-Cryptographic Failures")]
    A02,
    /// Injection.
    #[serde(rename = "A03:2021-Injection")]
    A03,
    /// Insecure design.
    #[serde(rename = "A04:2021-Insecure Design")]
    A04,
    /// Security misconfiguration.
    #[serde(rename = "A05:2021-Security Misconfiguration")]
    A05,
    /// Vulnerable and outdated components (`dependency_checker`).
    #[serde(rename = "A06:2021-Vulnerable and Outdated Components")]
    A06,
    /// Identification and authentication failures.
    #[serde(rename = "A07:2021-Identification and Authentication Failures")]
    A07,
    /// Software and data integrity failures.
    #[serde(rename = "A08:2021-Software and Data Integrity Failures")]
    A08,
    /// Security logging and monitoring failures.
    #[serde(rename = "A09:2021-Security Logging and Monitoring Failures")]
    A09,
    /// Server-side request forgery.
    #[serde(rename = "A10:2021-Server-Side Request Forgery")]
    A10,
}

impl OwaspCategory {
    /// All ten, in order.
    pub const ALL: [Self; 10] =
        [Self::A01, Self::A02, Self::A03, Self::A04, Self::A05, Self::A06, Self::A07, Self::A08, Self::A09, Self::A10];

    /// The name OWASP gives it, e.g. `A03:2021-Injection`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A01 => "A01:2021-Broken Access Control",
            Self::A02 => "A02:2021-Cryptographic Failures",
            Self::A03 => "A03:2021-Injection",
            Self::A04 => "A04:2021-Insecure Design",
            Self::A05 => "A05:2021-Security Misconfiguration",
            Self::A06 => "A06:2021-Vulnerable and Outdated Components",
            Self::A07 => "A07:2021-Identification and Authentication Failures",
            Self::A08 => "A08:2021-Software and Data Integrity Failures",
            Self::A09 => "A09:2021-Security Logging and Monitoring Failures",
            Self::A10 => "A10:2021-Server-Side Request Forgery",
        }
    }
}

impl std::fmt::Display for OwaspCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwaspFinding {
    /// Rule id.
    pub rule: String,
    /// OWASP Top 10 (2021) category.
    pub category: OwaspCategory,
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

/// (languages, rule, category, severity, pattern, a text whose presence on the line cancels the match)
type RuleSpec = (&'static [Language], &'static str, OwaspCategory, Severity, &'static str, Option<&'static str>);

use Language::{Go, JavaScript, Python, Rust};
use OwaspCategory::{A01, A02, A03, A04, A05, A07, A08, A09, A10};

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
    (
        &[Python],
        "client-controlled-authority",
        A04,
        Severity::High,
        r#"request\.(form|json|args|values|data)(\.get\(|\[)\s*["'](price|amount|total|discount|is_admin|role|user_id|balance)["']"#,
        None,
    ),
    (
        &[JavaScript],
        "client-controlled-authority",
        A04,
        Severity::High,
        r"req\.(body|query|params)\.(price|amount|total|discount|isAdmin|is_admin|role|userId|balance)\b",
        None,
    ),
    (
        &[Python, JavaScript, Go, Rust],
        "security-questions",
        A04,
        Severity::Medium,
        r"(?i)(security|secret)_?question|mothers?_?maiden",
        None,
    ),
    (
        &[Python],
        "upload-with-client-filename",
        A04,
        Severity::Medium,
        r"\.save\(\s*(os\.path\.join\([^)]*)?\w+\.filename\b",
        Some("secure_filename"),
    ),
    (&[JavaScript], "upload-with-client-filename", A04, Severity::Medium, r"\.mv\(\s*[^)]*\.name\b|originalname", None),
    (
        &[Python],
        "sensitive-data-logged",
        A09,
        Severity::High,
        concat!(
            r"(?i)\b(logging|logger|log)\.(debug|info|warning|warn|error|critical|exception)\(.*",
            "(password|passwd|secret|token|api_?key|credit_?card|card_?number|cvv|ssn)"
        ),
        None,
    ),
    (
        &[JavaScript],
        "sensitive-data-logged",
        A09,
        Severity::High,
        concat!(
            r"(?i)\b(console|logger|log)\.(log|debug|info|warn|error)\(.*",
            "(password|passwd|secret|token|api_?key|credit_?card|card_?number|cvv|ssn)"
        ),
        None,
    ),
    (
        &[Go],
        "sensitive-data-logged",
        A09,
        Severity::High,
        concat!(
            r"(?i)\b(log|slog|logger)\.(Print|Printf|Println|Info|Debug|Warn|Error)\w*\(.*",
            "(password|passwd|secret|token|api_?key|credit_?card|card_?number|cvv|ssn)"
        ),
        None,
    ),
    (
        &[Rust],
        "sensitive-data-logged",
        A09,
        Severity::High,
        concat!(
            r"(?i)\b(info|debug|warn|error|trace|println|eprintln)!\(.*",
            "(password|passwd|secret|token|api_?key|credit_?card|card_?number|cvv|ssn)"
        ),
        None,
    ),
    (
        &[Python],
        "log-injection",
        A09,
        Severity::Medium,
        r"\b(logging|logger|log)\.(debug|info|warning|warn|error)\(.*request\.(args|form|headers|values|json)",
        None,
    ),
    (
        &[JavaScript],
        "log-injection",
        A09,
        Severity::Medium,
        r"\b(console|logger|log)\.(log|debug|info|warn|error)\(.*req\.(body|query|params|headers)",
        None,
    ),
];

/// Rules that span lines: (languages, rule, category, severity, pattern over the whole file). The finding is on
/// the match's first line.
type SpanRuleSpec = (&'static [Language], &'static str, OwaspCategory, Severity, &'static str);

const SPAN_RULES: &[SpanRuleSpec] = &[
    (
        &[Python],
        "swallowed-exception",
        A09,
        Severity::Medium,
        r"(?m)^[ \t]*except\b[^:\n]*:[ \t]*(\n[ \t]*)?pass[ \t]*$",
    ),
    (&[JavaScript], "swallowed-exception", A09, Severity::Medium, r"catch\s*(\(\s*\w*\s*\))?\s*\{\s*\}"),
    (&[Go], "swallowed-error", A09, Severity::Medium, r"if\s+err\s*!=\s*nil\s*\{\s*\}"),
    (&[Rust], "swallowed-error", A09, Severity::Medium, r"Err\(_\)\s*=>\s*(\{\s*\}|\(\))"),
];

#[derive(Debug)]
struct CompiledRule {
    languages: &'static [Language],
    rule: &'static str,
    category: OwaspCategory,
    severity: Severity,
    regex: Regex,
    unless: Option<&'static str>,
}

/// The scanner, with its rules compiled.
#[derive(Debug)]
pub struct OwaspScanner {
    rules: Vec<CompiledRule>,
    span_rules: Vec<CompiledRule>,
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
                    category: *category,
                    severity: *severity,
                    regex,
                    unless: *unless,
                })
            })
            .collect();
        let span_rules = SPAN_RULES
            .iter()
            .filter_map(|(languages, rule, category, severity, pattern)| {
                Regex::new(pattern).ok().map(|regex| CompiledRule {
                    languages,
                    rule,
                    category: *category,
                    severity: *severity,
                    regex,
                    unless: None,
                })
            })
            .collect();
        Self { rules, span_rules }
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
                        category: r.category,
                        severity: r.severity,
                        path: path.to_owned(),
                        line: index + 1,
                        snippet: code.chars().take(160).collect(),
                    });
                }
            }
        }
        let lines: Vec<&str> = content.lines().collect();
        for r in self.span_rules.iter().filter(|r| r.languages.contains(&language)) {
            for found in r.regex.find_iter(content) {
                let index = content[..found.start()].matches('\n').count();
                findings.push(OwaspFinding {
                    rule: r.rule.to_owned(),
                    category: r.category,
                    severity: r.severity,
                    path: path.to_owned(),
                    line: index + 1,
                    snippet: lines.get(index).map(|l| l.trim_start().chars().take(160).collect()).unwrap_or_default(),
                });
            }
        }
        findings.sort_by_key(|f| f.line);
        findings
    }
}

crate::files::file_scanner_tool!(
    OwaspScanner,
    name: "owasp_scanner",
    description: "Scans Python, JavaScript/TypeScript, Go and Rust files for risky patterns (injection, weak \
                  crypto, disabled TLS checks, unsafe deserialization, SSRF, path traversal, misconfiguration, \
                  insecure design such as trusting a client's price or role, logging failures such as secrets in \
                  logs or swallowed errors) mapped to the OWASP Top 10; vulnerable components (A06) are \
                  dependency_checker's.",
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
        let scanner = OwaspScanner::new();
        assert_eq!((scanner.rules.len(), scanner.span_rules.len()), (RULES.len(), SPAN_RULES.len()));
        // Every category has rules, but A06, which dependency_checker covers.
        for category in OwaspCategory::ALL {
            let covered = RULES.iter().any(|r| r.2 == category) || SPAN_RULES.iter().any(|r| r.2 == category);
            assert_eq!(covered, category != OwaspCategory::A06, "{category}");
        }
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
        assert_eq!(findings[0].category, OwaspCategory::A03);
        assert_eq!(serde_json::to_value(findings[0].category).unwrap(), "A03:2021-Injection");
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
    fn insecure_design_and_logging_failures() {
        let py = "price = request.form['price']\n\
                  question = user.security_question\n\
                  upload.save(os.path.join(UPLOADS, upload.filename))\n\
                  logger.info(f\"login for {user} with password {password}\")\n\
                  logging.warning('bad input %s', request.args['q'])\n\
                  try:\n    charge(card)\nexcept Exception:\n    pass\n";
        assert_eq!(
            rules("shop/views.py", py),
            pairs(&[
                ("client-controlled-authority", 1),
                ("security-questions", 2),
                ("upload-with-client-filename", 3),
                ("sensitive-data-logged", 4),
                ("log-injection", 5),
                ("swallowed-exception", 8),
            ])
        );
        let js = "const total = req.body.total;\nconsole.log('token', token);\ntry { pay(); } catch (e) {}\n";
        assert_eq!(
            rules("pay.js", js),
            pairs(&[("client-controlled-authority", 1), ("sensitive-data-logged", 2), ("swallowed-exception", 3)])
        );
        let go = "if err != nil {\n}\nlog.Printf(\"user %s password %s\", u, p)\n";
        assert_eq!(rules("auth.go", go), pairs(&[("swallowed-error", 1), ("sensitive-data-logged", 3)]));
        let rust = "match save() {\n    Err(_) => {}\n    Ok(v) => v,\n}\ninfo!(\"api_key={}\", key);\n";
        assert_eq!(rules("lib.rs", rust), pairs(&[("swallowed-error", 2), ("sensitive-data-logged", 5)]));
        let categories: Vec<OwaspCategory> =
            OwaspScanner::new().scan("pay.js", js).into_iter().map(|f| f.category).collect();
        assert_eq!(categories, [OwaspCategory::A04, OwaspCategory::A09, OwaspCategory::A09]);
        // Handled errors and safe names are clean.
        let handled = "upload.save(os.path.join(UPLOADS, secure_filename(upload.filename)))\nexcept ValueError as e:\n    log.warning('bad value: %s', e)\n";
        assert!(rules("ok.py", handled).is_empty(), "{:?}", rules("ok.py", handled));
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
