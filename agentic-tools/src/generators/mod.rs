//! The LLM-backed generators: each asks the model for one artifact, checks it with a real parser, and feeds a
//! failed check back to the model once for repair before reporting an error. What a user interface renders is also
//! run through [`AccessibilityChecker`]; its findings go back to the model once, and any left are returned with the
//! artifact.
//!
//! | tool | artifact | checked with |
//! |---|---|---|
//! | `pytest_generator`, `bug_reproducer` | Python | tree-sitter-python (no syntax errors) |
//! | `jest_generator` | Jest tests in JavaScript | tree-sitter-javascript, and a `test`/`it` call with an `expect` |
//! | `go_test_generator` | Go tests | tree-sitter-go, a package clause, `"testing"` imported, a `TestXxx(t *testing.T)` |
//! | `playwright_generator` | end-to-end tests with Playwright | tree-sitter-typescript; `@playwright/test` imported, a `test` driving `page`, an `expect` |
//! | `selenium_generator` | end-to-end tests with Selenium | tree-sitter-python; pytest tests that assert, `selenium` imported, a `webdriver` opened |
//! | `integration_test_generator` | integration tests against a running service | tree-sitter-python; pytest tests that assert, an HTTP/database client, the address from the environment |
//! | `component_generator` | a React component in TSX | tree-sitter-typescript (TSX); its JSX rendered and checked for accessibility |
//! | `vue_component_generator` | a Vue single-file component | balanced `<template>`, `<script>` in TypeScript or JavaScript; its template checked for accessibility |
//! | `html_page_generator` | a responsive, accessible HTML/CSS page | doctype, viewport, balanced elements, a responsive rule; checked for accessibility |
//! | `kubernetes_generator` | Kubernetes manifests | YAML (serde-saphyr), each document with apiVersion/kind/metadata.name |
//! | `cicd_generator` | a CI pipeline | YAML with `jobs` (GitHub Actions) or `stages` (GitLab CI) |
//! | `terraform_generator` | Terraform | HCL (hcl-rs), at least one block |
//! | `cloudformation_generator` | a CloudFormation template | YAML (short-form intrinsics) or JSON; sections, resource `Type`s, every `Ref`/`GetAtt`/`DependsOn` resolved |
//! | `monitoring_generator` | Prometheus monitoring for a service | YAML: scrape configs with targets; rule groups, every expression parsed as PromQL (promql-parser), alerts with `for`, severity and summary |
//! | `design_system_generator` | design tokens | JSON Schema: `colors`, `typography` (and `spacing`), asked of the provider as the answer's form |
//! | `wireframe_generator` | a wireframe | Mermaid: a known diagram type and balanced brackets (no Mermaid parser exists for Rust) |

mod code;
mod infra;
mod markup;

use async_trait::async_trait;
use serde::Deserialize;

use agentic_core::llm::OutputSchema;
use agentic_core::tools::{Tool, ToolContext, ToolError};

use crate::{A11yFinding, AccessibilityChecker};

/// Checks an artifact; the error is shown to the model for its one repair.
type Validate = fn(&str) -> Result<(), String>;

/// What HTML a user interface artifact renders, for the accessibility check.
#[derive(Clone, Copy)]
enum Renders {
    /// The artifact is a whole page.
    Page,
    /// The artifact renders a fragment of a page (a component), as this function reads it.
    Fragment(fn(&str) -> Option<String>),
}

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
    /// For user interfaces: the HTML to check for accessibility.
    renders: Option<Renders>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A generator of plain code: no form, no rendering.
const fn code(
    name: &'static str,
    description: &'static str,
    artifact: &'static str,
    fence: &'static str,
    validate: Validate,
) -> Generator {
    Generator { name, description, artifact, fence, validate, form: None, renders: None }
}

/// The plan's eight generators; Jest, Go, end-to-end (Playwright, Selenium) and integration tests beside pytest;
/// Vue components and whole pages beside React; CloudFormation and monitoring beside Terraform and Kubernetes.
pub fn generators() -> [Generator; 17] {
    use code::{go_test, integration, jest, playwright, python, selenium, tsx};
    use infra::{cloudformation, kubernetes, mermaid, monitoring, pipeline, terraform};
    [
        code(
            "pytest_generator",
            "Writes pytest tests for the given code or behaviour.",
            "pytest test code in Python",
            "python",
            python,
        ),
        code(
            "jest_generator",
            "Writes Jest tests in JavaScript for the given code or behaviour.",
            "Jest test code in JavaScript (`test` or `it` blocks with `expect`)",
            "javascript",
            jest,
        ),
        code(
            "go_test_generator",
            "Writes Go tests (a _test.go file using the testing package) for the given code or behaviour.",
            "a Go test file: its package clause, an import of \"testing\", and `func TestXxx(t *testing.T)` functions",
            "go",
            go_test,
        ),
        code(
            "playwright_generator",
            "Writes end-to-end browser tests with Playwright in TypeScript for a user journey.",
            "a Playwright test file in TypeScript: `import { test, expect } from '@playwright/test'`, `test(...)` blocks that drive the `page` fixture and assert with `expect`",
            "typescript",
            playwright,
        ),
        code(
            "selenium_generator",
            "Writes end-to-end browser tests with Selenium WebDriver as pytest tests in Python.",
            "pytest tests in Python that import selenium, open a `webdriver` browser, and assert",
            "python",
            selenium,
        ),
        code(
            "integration_test_generator",
            "Writes integration tests (pytest) that call a running service over its API or its database, with the address taken from the environment.",
            "pytest integration tests in Python that reach the running service with requests/httpx (or its database client), read its address from `os.environ`, and assert on real responses",
            "python",
            integration,
        ),
        code(
            "bug_reproducer",
            "Writes a minimal Python script that reproduces the described bug.",
            "a minimal Python reproduction script",
            "python",
            python,
        ),
        Generator {
            renders: Some(Renders::Fragment(markup::jsx_html)),
            ..code(
                "component_generator",
                "Writes an accessible React component in TypeScript (TSX).",
                "an accessible React component in TSX (labelled fields, alt text, named buttons and links)",
                "tsx",
                tsx,
            )
        },
        Generator {
            renders: Some(Renders::Fragment(markup::vue_html)),
            ..code(
                "vue_component_generator",
                "Writes an accessible Vue single-file component (template, script, style).",
                "an accessible Vue single-file component: `<template>`, `<script setup lang=\"ts\">` and optionally `<style scoped>`",
                "vue",
                markup::vue,
            )
        },
        Generator {
            renders: Some(Renders::Page),
            ..code(
                "html_page_generator",
                "Writes an accessible, responsive HTML page with its CSS.",
                "one accessible, responsive HTML5 page: doctype, `<html lang>`, a viewport meta tag, landmarks, labelled forms, and CSS with media queries or fluid sizing",
                "html",
                markup::html_page,
            )
        },
        code(
            "kubernetes_generator",
            "Writes Kubernetes manifests (YAML).",
            "Kubernetes manifests in YAML (one or more documents)",
            "yaml",
            kubernetes,
        ),
        code(
            "cicd_generator",
            "Writes a CI/CD pipeline (GitHub Actions or GitLab CI YAML).",
            "a CI pipeline in YAML (GitHub Actions `jobs:` or GitLab CI `stages:`)",
            "yaml",
            pipeline,
        ),
        code("terraform_generator", "Writes Terraform (HCL).", "Terraform configuration in HCL", "hcl", terraform),
        code(
            "cloudformation_generator",
            "Writes an AWS CloudFormation template (YAML).",
            "an AWS CloudFormation template in YAML: `AWSTemplateFormatVersion: \"2010-09-09\"`, `Parameters`, `Resources` each with a `Type` such as `AWS::S3::Bucket` and `Properties`, `Outputs`",
            "yaml",
            cloudformation,
        ),
        code(
            "monitoring_generator",
            "Writes Prometheus monitoring for a described service: its scrape configuration, recording rules and alerts.",
            "Prometheus monitoring in YAML: a document with `scrape_configs` (job_name and targets), then `---` and a rule file with `groups` of recording rules and alerts (`alert`, PromQL `expr`, `for`, `labels.severity`, `annotations.summary`)",
            "yaml",
            monitoring,
        ),
        Generator {
            form: Some(infra::design_tokens_form),
            ..code(
                "design_system_generator",
                "Writes design tokens (colors, typography, spacing) as JSON.",
                "design tokens as a JSON object with `colors` and `typography`",
                "json",
                infra::design_tokens,
            )
        },
        code(
            "wireframe_generator",
            "Draws a wireframe or flow as a Mermaid diagram.",
            "a Mermaid diagram",
            "mermaid",
            mermaid,
        ),
    ]
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

    /// What `accessibility_checker` finds in the HTML the artifact renders (nothing for artifacts that are not user
    /// interfaces).
    pub fn accessibility(&self, code: &str) -> Vec<A11yFinding> {
        match self.renders {
            None => Vec::new(),
            Some(Renders::Page) => AccessibilityChecker.check(code),
            Some(Renders::Fragment(render)) => {
                render(code).map(|html| AccessibilityChecker.check_fragment(&html)).unwrap_or_default()
            }
        }
    }

    fn result(&self, artifact: String, repaired: bool) -> serde_json::Value {
        let mut result = serde_json::json!({"artifact": artifact, "format": self.fence, "repaired": repaired});
        if self.renders.is_some() {
            result["accessibility"] = serde_json::json!(self.accessibility(&artifact));
        }
        result
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
        let problem = match self.check(&first) {
            Err(error) => format!("failed the check: {error}"),
            Ok(()) => {
                let findings = self.accessibility(&first);
                if findings.is_empty() {
                    return Ok(self.result(first, false));
                }
                let listed: Vec<String> = findings
                    .iter()
                    .map(|f| format!("- {} on `{}` (WCAG {}): {}", f.rule, f.element, f.wcag, f.message))
                    .collect();
                format!("is not accessible:\n{}", listed.join("\n"))
            }
        };
        let repair = format!(
            "{prompt}\n\nYour previous answer:\n```{fence}\n{first}\n```\n{problem}\nReturn the corrected artifact, as one ```{fence} block.",
            fence = self.fence
        );
        let second = ask(repair).await?;
        match self.check(&second) {
            Ok(()) => Ok(self.result(second, true)),
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

    /// Good and bad artifacts of the generators added after the plan's.
    const NEWER: &[(&str, &str, &str)] = &[
        (
            "playwright_generator",
            "import { test, expect } from '@playwright/test';\n\ntest('signs in', async ({ page }) => {\n  await page.goto('/login');\n  await page.getByLabel('Email').fill('a@b.c');\n  await expect(page).toHaveURL(/dashboard/);\n});\n",
            "import { test, expect } from '@playwright/test';\n\ntest('signs in', async ({ page }) => {\n  await page.goto('/login');\n});\n",
        ),
        (
            "selenium_generator",
            "from selenium import webdriver\nfrom selenium.webdriver.common.by import By\n\ndef test_title():\n    driver = webdriver.Firefox()\n    driver.get('http://localhost:8080')\n    assert 'Shop' in driver.title\n    driver.quit()\n",
            "import requests\n\ndef test_title():\n    assert requests.get('http://x').ok\n",
        ),
        (
            "integration_test_generator",
            "import os\nimport requests\n\nBASE = os.environ.get('BASE_URL', 'http://localhost:8080')\n\ndef test_health():\n    response = requests.get(f'{BASE}/health')\n    assert response.status_code == 200\n",
            "import requests\n\ndef test_health():\n    assert requests.get('http://localhost:8080/health').status_code == 200\n",
        ),
        (
            "vue_component_generator",
            "<template>\n  <button type=\"button\" @click=\"count++\">Clicked {{ count }}</button>\n</template>\n\n<script setup lang=\"ts\">\nimport { ref } from 'vue';\nconst count = ref<number>(0);\n</script>\n",
            "<template>\n  <button @click=\"count++\">Clicked {{ count }}</span>\n</template>\n",
        ),
        (
            "html_page_generator",
            "<!doctype html>\n<html lang=\"en\"><head><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Shop</title>\n<style>main { width: clamp(20rem, 90vw, 60rem); }</style></head>\n<body><main><h1>Shop</h1></main></body></html>\n",
            "<html><body><h1>Shop</h1></body></html>",
        ),
        (
            "cloudformation_generator",
            "Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n",
            "Resources:\n  Logs:\n    Properties: {}\n",
        ),
        (
            "monitoring_generator",
            "scrape_configs:\n  - job_name: api\n    static_configs:\n      - targets: ['api:9100']\n---\ngroups:\n  - name: api\n    rules:\n      - alert: ApiDown\n        expr: up{job=\"api\"} == 0\n        for: 2m\n        labels: {severity: page}\n        annotations: {summary: The API is down}\n",
            "scrape_configs:\n  - job_name: api\n    static_configs:\n      - targets: ['api:9100']\n---\ngroups:\n  - name: api\n    rules:\n      - alert: ApiDown\n        expr: up{job=\"api\" == 0\n        labels: {severity: page}\n        annotations: {summary: The API is down}\n",
        ),
    ];

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
        for (name, good, bad) in cases.iter().chain(NEWER) {
            let g = generator(name);
            assert_eq!(g.check(good), Ok(()), "{name} refused good input");
            assert!(g.check(bad).is_err(), "{name} accepted bad input");
        }
        assert_eq!(cases.len() + NEWER.len(), generators().len(), "every generator has a case");
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
