//! The LLM-backed generators: each asks the model for one artifact, checks it with a real parser, and feeds a
//! parse failure back to the model once for repair before reporting an error.
//!
//! | tool | artifact | checked with |
//! |---|---|---|
//! | `pytest_generator`, `bug_reproducer` | Python | tree-sitter-python (no syntax errors) |
//! | `jest_generator` | Jest tests in JavaScript | tree-sitter-javascript, and a `test`/`it` call with an `expect` |
//! | `go_test_generator` | Go tests | tree-sitter-go, a package clause, `"testing"` imported, a `TestXxx(t *testing.T)` |
//! | `component_generator` | a React component in TSX | tree-sitter-typescript (TSX) |
//! | `kubernetes_generator` | Kubernetes manifests | YAML (serde-saphyr), each document with apiVersion/kind/metadata.name |
//! | `cicd_generator` | a CI pipeline | YAML with `jobs` (GitHub Actions) or `stages` (GitLab CI) |
//! | `terraform_generator` | Terraform | HCL (hcl-rs), at least one block |
//! | `design_system_generator` | design tokens | JSON Schema: `colors`, `typography` (and `spacing`), asked of the provider as the answer's form |
//! | `wireframe_generator` | a wireframe | Mermaid: a known diagram type and balanced brackets (no Mermaid parser exists for Rust) |

use async_trait::async_trait;
use serde::Deserialize;

use agentic_core::llm::OutputSchema;
use agentic_core::tools::{Tool, ToolContext, ToolError};

/// Checks an artifact; the error is shown to the model for its one repair.
type Validate = fn(&str) -> Result<(), String>;

/// One generator.
#[derive(Clone, Copy)]
pub struct Generator {
    name: &'static str,
    description: &'static str,
    artifact: &'static str,
    fence: &'static str,
    validate: Validate,
    /// The artifact's form, when it is JSON of a known shape: asked of the provider, and `validate` reads the
    /// answer with it.
    form: Option<fn() -> OutputSchema>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator").field("name", &self.name).finish_non_exhaustive()
    }
}

/// The plan's eight generators, and tests for JavaScript (Jest) and Go beside pytest.
pub fn generators() -> [Generator; 10] {
    [
        Generator {
            name: "pytest_generator",
            description: "Writes pytest tests for the given code or behaviour.",
            artifact: "pytest test code in Python",
            fence: "python",
            validate: python,
            form: None,
        },
        Generator {
            name: "jest_generator",
            description: "Writes Jest tests in JavaScript for the given code or behaviour.",
            artifact: "Jest test code in JavaScript (`test` or `it` blocks with `expect`)",
            fence: "javascript",
            validate: jest,
            form: None,
        },
        Generator {
            name: "go_test_generator",
            description: "Writes Go tests (a _test.go file using the testing package) for the given code or behaviour.",
            artifact: "a Go test file: its package clause, an import of \"testing\", and `func TestXxx(t *testing.T)` functions",
            fence: "go",
            validate: go_test,
            form: None,
        },
        Generator {
            name: "bug_reproducer",
            description: "Writes a minimal Python script that reproduces the described bug.",
            artifact: "a minimal Python reproduction script",
            fence: "python",
            validate: python,
            form: None,
        },
        Generator {
            name: "component_generator",
            description: "Writes a React component in TypeScript (TSX).",
            artifact: "a React component in TSX",
            fence: "tsx",
            validate: tsx,
            form: None,
        },
        Generator {
            name: "kubernetes_generator",
            description: "Writes Kubernetes manifests (YAML).",
            artifact: "Kubernetes manifests in YAML (one or more documents)",
            fence: "yaml",
            validate: kubernetes,
            form: None,
        },
        Generator {
            name: "cicd_generator",
            description: "Writes a CI/CD pipeline (GitHub Actions or GitLab CI YAML).",
            artifact: "a CI pipeline in YAML (GitHub Actions `jobs:` or GitLab CI `stages:`)",
            fence: "yaml",
            validate: pipeline,
            form: None,
        },
        Generator {
            name: "terraform_generator",
            description: "Writes Terraform (HCL).",
            artifact: "Terraform configuration in HCL",
            fence: "hcl",
            validate: terraform,
            form: None,
        },
        Generator {
            name: "design_system_generator",
            description: "Writes design tokens (colors, typography, spacing) as JSON.",
            artifact: "design tokens as a JSON object with `colors` and `typography`",
            fence: "json",
            validate: design_tokens,
            form: Some(design_tokens_form),
        },
        Generator {
            name: "wireframe_generator",
            description: "Draws a wireframe or flow as a Mermaid diagram.",
            artifact: "a Mermaid diagram",
            fence: "mermaid",
            validate: mermaid,
            form: None,
        },
    ]
}

fn tree_sitter(language: tree_sitter::Language, code: &str, what: &str) -> Result<(), String> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&language).map_err(|e| format!("{what} grammar unavailable: {e}"))?;
    let tree = parser.parse(code, None).ok_or_else(|| format!("{what} could not be parsed"))?;
    let root = tree.root_node();
    if !root.has_error() {
        return Ok(());
    }
    let mut cursor = root.walk();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let at = node.start_position();
            return Err(format!("{what} syntax error at line {}, column {}", at.row + 1, at.column + 1));
        }
        stack.extend(node.children(&mut cursor));
    }
    Err(format!("{what} syntax error"))
}

fn python(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_python::LANGUAGE.into(), code, "Python")
}

fn jest(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_javascript::LANGUAGE.into(), code, "JavaScript")?;
    let calls = |name: &str| {
        code.match_indices(name).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && code[at + name.len()..].trim_start().starts_with('(')
        })
    };
    if !(calls("test") || calls("it")) {
        return Err("no Jest test: call `test(...)` or `it(...)`".into());
    }
    if !calls("expect") {
        return Err("the tests assert nothing: use `expect(...)`".into());
    }
    Ok(())
}

fn go_test(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_go::LANGUAGE.into(), code, "Go")?;
    if !code.lines().any(|line| line.trim_start().starts_with("package ")) {
        return Err("no package clause".into());
    }
    if !code.contains("\"testing\"") {
        return Err("the file does not import \"testing\"".into());
    }
    let has_test = code.lines().any(|line| {
        line.trim_start().strip_prefix("func Test").is_some_and(|rest| {
            let name_ends = rest.find('(').unwrap_or(0);
            rest[..name_ends].chars().next().is_none_or(|c| !c.is_lowercase()) && rest.contains("*testing.T")
        })
    });
    if !has_test {
        return Err("no test function: `func TestXxx(t *testing.T)`".into());
    }
    Ok(())
}

fn tsx(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_typescript::LANGUAGE_TSX.into(), code, "TSX")
}

fn yaml_documents(code: &str) -> Result<Vec<serde_json::Value>, String> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(code).map_err(|e| {
        let first = e.to_string().lines().next().unwrap_or("invalid YAML").to_owned();
        format!("YAML: {first}")
    })?;
    let docs: Vec<serde_json::Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    if docs.is_empty() {
        return Err("YAML: no documents".into());
    }
    Ok(docs)
}

fn kubernetes(code: &str) -> Result<(), String> {
    for (i, doc) in yaml_documents(code)?.iter().enumerate() {
        for field in ["apiVersion", "kind"] {
            if !doc.get(field).is_some_and(|v| v.is_string()) {
                return Err(format!("document {}: missing `{field}`", i + 1));
            }
        }
        if !doc.pointer("/metadata/name").is_some_and(|v| v.is_string()) {
            return Err(format!("document {}: missing `metadata.name`", i + 1));
        }
    }
    Ok(())
}

fn pipeline(code: &str) -> Result<(), String> {
    let docs = yaml_documents(code)?;
    let doc = &docs[0];
    if doc.get("jobs").is_some_and(|j| j.is_object()) || doc.get("stages").is_some_and(|s| s.is_array()) {
        Ok(())
    } else {
        Err("a pipeline needs `jobs:` (GitHub Actions) or `stages:` (GitLab CI)".into())
    }
}

fn terraform(code: &str) -> Result<(), String> {
    let body = hcl::parse(code).map_err(|e| format!("HCL: {e}"))?;
    if body.blocks().next().is_none() {
        return Err("no resource, module, provider or variable block".into());
    }
    Ok(())
}

/// Design tokens: named colours, typography and spacing, each an object of named values.
fn design_tokens_form() -> OutputSchema {
    let named = |value: serde_json::Value| serde_json::json!({"type": "object", "minProperties": 1, "additionalProperties": value});
    let font = serde_json::json!({
        "type": "object",
        "properties": {
            "fontFamily": {"type": "string"},
            "fontSize": {"type": "string"},
            "fontWeight": {"type": ["string", "number"]},
            "lineHeight": {"type": ["string", "number"]},
        },
        "required": ["fontFamily", "fontSize"],
    });
    OutputSchema::new(
        "design_tokens",
        serde_json::json!({
            "type": "object",
            "properties": {
                "colors": named(serde_json::json!({"type": "string"})),
                "typography": named(font),
                "spacing": named(serde_json::json!({"type": "string"})),
            },
            "required": ["colors", "typography"],
        }),
    )
}

fn design_tokens(code: &str) -> Result<(), String> {
    design_tokens_form().read(code).map(|_| ()).map_err(|e| e.0)
}

fn mermaid(code: &str) -> Result<(), String> {
    const TYPES: [&str; 10] = [
        "flowchart",
        "graph",
        "sequenceDiagram",
        "classDiagram",
        "stateDiagram",
        "stateDiagram-v2",
        "erDiagram",
        "journey",
        "gantt",
        "mindmap",
    ];
    let first = code.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("%%")).unwrap_or("");
    let kind = first.split_whitespace().next().unwrap_or("");
    if !TYPES.contains(&kind) {
        return Err(format!("the first line must name a diagram type ({}), not `{first}`", TYPES.join(", ")));
    }
    let mut stack = Vec::new();
    for (n, line) in code.lines().enumerate() {
        for c in line.chars() {
            match c {
                '(' | '[' | '{' => stack.push(c),
                ')' | ']' | '}' => {
                    let open = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    if stack.pop() != Some(open) {
                        return Err(format!("unbalanced `{c}` at line {}", n + 1));
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("unclosed `{open}`"));
    }
    Ok(())
}

/// The content of the first fenced code block (any language tag), or the whole text if there is none.
pub fn extract_code(text: &str) -> String {
    let Some(start) = text.find("```") else { return text.trim().to_owned() };
    let after = &text[start + 3..];
    let body = after.split_once('\n').map_or("", |(_, rest)| rest);
    match body.find("```") {
        Some(end) => body[..end].trim_end().to_owned(),
        None => body.trim_end().to_owned(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    request: String,
    #[serde(default)]
    context: Option<serde_json::Value>,
}

impl Generator {
    /// Checks an artifact as this generator would.
    pub fn check(&self, code: &str) -> Result<(), String> {
        (self.validate)(code)
    }
}

#[async_trait]
impl Tool for Generator {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        self.description
    }

    fn input_schema(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "object",
            "properties": {"request": {"type": "string", "description": "what to generate"}, "context": {"description": "code, specs or notes to use"}},
            "required": ["request"]
        })
    }

    async fn call(&self, context: &ToolContext, input: serde_json::Value) -> Result<serde_json::Value, ToolError> {
        let input: Input = serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
        let model = context
            .model
            .as_ref()
            .ok_or_else(|| ToolError::Failed(format!("{} needs a model, and none is available", self.name)))?;
        let system = format!(
            "You generate {}. Answer with exactly one ```{} code block containing only the artifact.",
            self.artifact, self.fence
        );
        let mut prompt = input.request;
        if let Some(extra) = input.context {
            prompt.push_str("\n\nContext:\n");
            prompt.push_str(&serde_json::to_string_pretty(&extra).unwrap_or_default());
        }
        // A form is asked of the provider as such; its answer is the JSON itself, fenced or not.
        let system = system.as_str();
        let ask = |prompt: String| async move {
            match self.form {
                Some(form) => model.ask_in_form(system, &prompt, &form()).await.map(|answer| extract_code(&answer)),
                None => model.ask(system, &prompt).await.map(|answer| extract_code(&answer)),
            }
        };
        let first = ask(prompt.clone()).await?;
        let error = match self.check(&first) {
            Ok(()) => return Ok(serde_json::json!({"artifact": first, "format": self.fence, "repaired": false})),
            Err(error) => error,
        };
        let repair = format!(
            "{prompt}\n\nYour previous answer:\n```{fence}\n{first}\n```\nfailed the check: {error}\nReturn the corrected artifact, as one ```{fence} block.",
            fence = self.fence
        );
        let second = ask(repair).await?;
        match self.check(&second) {
            Ok(()) => Ok(serde_json::json!({"artifact": second, "format": self.fence, "repaired": true})),
            Err(again) => Err(ToolError::Failed(format!(
                "the generated {} failed its check after one repair: {again}",
                self.fence
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator(name: &str) -> Generator {
        generators().into_iter().find(|g| g.name == name).unwrap()
    }

    #[test]
    fn every_checker_accepts_good_and_refuses_bad_artifacts() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "pytest_generator",
                "import pytest\n\ndef test_add():\n    assert 1 + 1 == 2\n",
                "def test_add(:\n    assert\n",
            ),
            ("bug_reproducer", "print('boom')\n", "print('boom'\n"),
            (
                "jest_generator",
                "const { add } = require('./add');\n\ntest('adds', () => {\n  expect(add(1, 2)).toBe(3);\n});\n",
                "test('adds', () => {\n  expect(add(1, 2).toBe(3);\n});\n",
            ),
            (
                "go_test_generator",
                "package add\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal(\"want 3\")\n\t}\n}\n",
                "package add\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n",
            ),
            (
                "component_generator",
                "export function Hello({ name }: { name: string }) {\n  return <p>Hello {name}</p>;\n}\n",
                "export function Hello( {\n  return <p>Hello</p\n",
            ),
            (
                "kubernetes_generator",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
                "apiVersion: v1\nkind: Service\n",
            ),
            (
                "cicd_generator",
                "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n",
                "name: ci\nsteps: [a, b]\n",
            ),
            (
                "terraform_generator",
                "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"acme-logs\"\n}\n",
                "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \n",
            ),
            (
                "design_system_generator",
                "{\"colors\": {\"primary\": \"#0055ff\"}, \"typography\": {\"body\": {\"fontFamily\": \"Inter\", \"fontSize\": \"16px\"}}}",
                "{\"colors\": {}}",
            ),
            (
                "wireframe_generator",
                "flowchart TD\n  A[Home] --> B{Logged in?}\n  B -->|yes| C[Dashboard]\n",
                "flowchart TD\n  A[Home --> B\n",
            ),
        ];
        assert_eq!(cases.len(), 10);
        for (name, good, bad) in cases {
            let g = generator(name);
            assert_eq!(g.check(good), Ok(()), "{name} refused good input");
            assert!(g.check(bad).is_err(), "{name} accepted bad input");
        }
        assert!(generator("wireframe_generator").check("hello world").unwrap_err().contains("diagram type"));
        assert!(generator("pytest_generator").check("def f(:\n  pass\n").unwrap_err().contains("line 1"));
        // Parsing is not enough for tests: they must be tests, and assert something.
        let jest = generator("jest_generator");
        assert!(jest.check("const x = 1;\n").unwrap_err().contains("no Jest test"));
        assert!(jest.check("it('runs', () => { run(); });\n").unwrap_err().contains("assert nothing"));
        let go = generator("go_test_generator");
        assert!(go.check("package add\n\nfunc TestAdd(t *testing.T) {}\n").unwrap_err().contains("import"));
        let helper = "package add\n\nimport \"testing\"\n\nfunc helper(t *testing.T) {}\n";
        assert!(go.check(helper).unwrap_err().contains("no test function"));
    }

    #[test]
    fn code_blocks_are_extracted() {
        assert_eq!(extract_code("Here:\n```yaml\na: 1\n```\nthanks"), "a: 1");
        assert_eq!(extract_code("```\nx\n"), "x");
        assert_eq!(extract_code("  plain  "), "plain");
    }
}
