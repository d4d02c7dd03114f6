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
