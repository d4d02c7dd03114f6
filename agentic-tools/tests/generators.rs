//! The generators as an agent calls them, with a scripted model: what a user interface renders goes through the
//! accessibility checker, and its findings go back to the model once.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use agentic_core::ids::{ProjectId, TenantId};
use agentic_core::tools::{Tool, ToolContext, ToolError, ToolModel};
use async_trait::async_trait;
use serde_json::{Value, json};

/// A model that answers from a script and keeps the prompts it was asked.
#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<VecDeque<String>>,
    prompts: Mutex<Vec<String>>,
}

impl Scripted {
    fn new<'a>(answers: impl IntoIterator<Item = &'a str>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into_iter().map(str::to_owned).collect()),
            prompts: Mutex::default(),
        })
    }

    fn prompts(&self) -> Vec<String> {
        self.prompts.lock().unwrap().clone()
    }
}

#[async_trait]
impl ToolModel for Scripted {
    async fn ask(&self, _system: &str, prompt: &str) -> Result<String, ToolError> {
        self.prompts.lock().unwrap().push(prompt.to_owned());
        self.answers.lock().unwrap().pop_front().ok_or_else(|| ToolError::Failed("the script ran out".into()))
    }
}

async fn generate(tool: &str, model: &Arc<Scripted>) -> Result<Value, ToolError> {
    let tools = agentic_tools::generators();
    let generator = tools.iter().find(|g| g.name() == tool).expect("a generator");
    let context = ToolContext::new(TenantId::new(), ProjectId::new(), "ux_designer")
        .with_model(Arc::clone(model) as Arc<dyn ToolModel>);
    generator.call(&context, json!({"request": "a sign-up form"})).await
}

const INACCESSIBLE_VUE: &str = "```vue\n<template>\n  <form>\n    <img src=\"logo.svg\">\n    <input v-model=\"email\" type=\"email\">\n    <button type=\"submit\"></button>\n  </form>\n</template>\n\n<script setup lang=\"ts\">\nimport { ref } from 'vue';\nconst email = ref('');\n</script>\n```";

const ACCESSIBLE_VUE: &str = "```vue\n<template>\n  <form>\n    <img src=\"logo.svg\" :alt=\"brand\">\n    <label>Email <input v-model=\"email\" type=\"email\"></label>\n    <button type=\"submit\">Sign up</button>\n  </form>\n</template>\n\n<script setup lang=\"ts\">\nimport { ref } from 'vue';\nconst email = ref('');\nconst brand = 'Acme';\n</script>\n```";

#[tokio::test]
async fn an_inaccessible_component_goes_back_to_the_model_once_with_its_findings() {
    let model = Scripted::new([INACCESSIBLE_VUE, ACCESSIBLE_VUE]);
    let result = generate("vue_component_generator", &model).await.unwrap();
    assert_eq!(result["repaired"], true);
    assert_eq!(result["accessibility"], json!([]));
    assert!(result["artifact"].as_str().unwrap().contains("Sign up"));
    let prompts = model.prompts();
    assert_eq!(prompts.len(), 2);
    for rule in ["img-alt", "form-label", "empty-button"] {
        assert!(prompts[1].contains(rule), "the repair names {rule}: {}", prompts[1]);
    }
    assert!(prompts[1].contains("is not accessible"));
}

#[tokio::test]
async fn findings_left_after_the_repair_are_returned_with_the_artifact() {
    let model = Scripted::new([INACCESSIBLE_VUE, INACCESSIBLE_VUE]);
    let result = generate("vue_component_generator", &model).await.unwrap();
    assert_eq!(result["repaired"], true);
    let rules: Vec<&str> =
        result["accessibility"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["img-alt", "form-label", "empty-button"]);
    assert_eq!(model.prompts().len(), 2, "one repair, not more");
}

#[tokio::test]
async fn an_accessible_page_is_returned_at_once_and_a_react_component_is_checked_through_its_jsx() {
    let page = "```html\n<!doctype html>\n<html lang=\"en\"><head><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Join</title>\n\
                <style>@media (min-width: 48rem) { form { display: grid; } }</style></head>\n\
                <body><main><h1>Join</h1><form><label for=\"e\">Email</label><input id=\"e\" type=\"email\"><button>Join</button></form></main></body></html>\n```";
    let model = Scripted::new([page]);
    let result = generate("html_page_generator", &model).await.unwrap();
    assert_eq!((result["repaired"].clone(), result["accessibility"].clone()), (json!(false), json!([])));

    let unlabelled = "```tsx\nexport function Join() {\n  return <form><input type=\"email\" /><button>Join</button></form>;\n}\n```";
    let labelled = "```tsx\nexport function Join() {\n  return <form><input type=\"email\" aria-label=\"Email\" /><button>Join</button></form>;\n}\n```";
    let model = Scripted::new([unlabelled, labelled]);
    let result = generate("component_generator", &model).await.unwrap();
    assert_eq!(result["repaired"], true);
    assert!(model.prompts()[1].contains("form-label"));
}

#[tokio::test]
async fn artifacts_that_are_not_interfaces_carry_no_accessibility_report() {
    let model = Scripted::new(["```yaml\nResources:\n  Logs:\n    Type: AWS::S3::Bucket\n```"]);
    let result = generate("cloudformation_generator", &model).await.unwrap();
    assert_eq!(result["repaired"], false);
    assert!(result.get("accessibility").is_none());
}

/// Recorded answers for the test, end-to-end and monitoring generators: each is read out of its fence, checked
/// in its language, and returned; a first answer that fails its check goes back once with the reason.
#[tokio::test]
async fn recorded_answers_of_the_test_and_monitoring_generators_are_checked_and_repaired() {
    let playwright = "```typescript\nimport { test, expect } from '@playwright/test';\n\ntest('signs up', async ({ page }) => {\n  await page.goto('/signup');\n  await page.getByLabel('Email').fill('a@b.test');\n  await page.getByRole('button', { name: 'Sign up' }).click();\n  await expect(page.getByText('Welcome')).toBeVisible();\n});\n```";
    let selenium = "```python\nfrom selenium import webdriver\nfrom selenium.webdriver.common.by import By\n\ndef test_signup():\n    driver = webdriver.Firefox()\n    driver.get('http://localhost:8080/signup')\n    driver.find_element(By.NAME, 'email').send_keys('a@b.test')\n    assert 'Sign up' in driver.title\n    driver.quit()\n```";
    let integration = "```python\nimport os\nimport httpx\n\nBASE = os.environ.get('BASE_URL', 'http://localhost:8080')\n\ndef test_signup_creates_a_user():\n    created = httpx.post(f'{BASE}/users', json={'email': 'a@b.test'})\n    assert created.status_code == 201\n```";
    let monitoring = "```yaml\nscrape_configs:\n  - job_name: signup\n    static_configs:\n      - targets: ['signup:9000']\n---\ngroups:\n  - name: signup\n    rules:\n      - alert: SignupDown\n        expr: up{job=\"signup\"} == 0\n        for: 5m\n        labels: {severity: page}\n        annotations: {summary: The signup service is down}\n```";
    for (tool, good) in [
        ("playwright_generator", playwright),
        ("selenium_generator", selenium),
        ("integration_test_generator", integration),
        ("monitoring_generator", monitoring),
    ] {
        let model = Scripted::new([good]);
        let result = generate(tool, &model).await.unwrap();
        assert_eq!(result["repaired"], false, "{tool}: {result}");
        assert!(good.contains(result["artifact"].as_str().unwrap()), "{tool}: the fenced artifact is returned");
    }
    // An end-to-end test that never asserts is sent back with the reason, and the repair is kept.
    let no_assertion = playwright.replace("  await expect(page.getByText('Welcome')).toBeVisible();\n", "");
    let model = Scripted::new([no_assertion.as_str(), playwright]);
    let result = generate("playwright_generator", &model).await.unwrap();
    assert_eq!(result["repaired"], true);
    assert!(model.prompts()[1].contains("asserts nothing"), "{}", model.prompts()[1]);
    // Alerts whose PromQL does not parse, twice: the tool fails and says why.
    let broken = monitoring.replace("up{job=\"signup\"} == 0", "up{job=\"signup\" == 0");
    let model = Scripted::new([broken.as_str(), broken.as_str()]);
    let error = generate("monitoring_generator", &model).await.unwrap_err();
    assert!(error.to_string().contains("PromQL"), "{error}");
}

#[tokio::test]
async fn the_dockerfile_optimizer_returns_the_rewrite_and_what_is_left() {
    let tools = agentic_tools::builtin_tools();
    let optimizer = tools.iter().find(|t| t.name() == "dockerfile_optimizer").unwrap();
    let context = ToolContext::new(TenantId::new(), ProjectId::new(), "devops_engineer");
    let dockerfile = "FROM python:latest\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n";
    let result = optimizer.call(&context, json!({"dockerfile": dockerfile})).await.unwrap();
    let rules = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(rules(&result["findings"]), ["runs-as-root", "latest-base-image", "cache-busting-copy", "pip-cache"]);
    assert_eq!(rules(&result["remaining"]), Vec::<String>::new(), "{}", result["optimized"]);
    let optimized = result["optimized"].as_str().unwrap();
    assert!(optimized.starts_with("FROM python:3.13\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"), "{optimized}");
    assert!(optimized.contains("USER 10001:10001\nCMD"), "{optimized}");
    assert_eq!(result["changes"].as_array().unwrap().len(), 4, "{}", result["changes"]);
}
