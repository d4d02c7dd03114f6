//! Answers in a given form: [`OutputSchema`], the JSON Schema a model's answer must match, and how an answer is
//! read against it.
//!
//! Each adapter asks its provider to constrain the answer natively (OpenAI-compatible `response_format` with a
//! `json_schema`, which llama.cpp's server also decodes under a grammar; Anthropic a forced tool call; Ollama
//! `format`). The answer is read with [`OutputSchema::read`] whatever the provider did: a provider that cannot
//! constrain its output (or a model that ignores the request) gets its mistakes named, for one repair round by the
//! caller.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most validation errors named in one refusal: enough to repair, short enough for a prompt.
const MAX_ERRORS_NAMED: usize = 5;

/// The form a model's answer must take: JSON matching `schema`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputSchema {
    /// A short name for the form (`plan`, `review_verdict`); providers require letters, digits, `_` and `-`.
    pub name: String,
    /// The JSON Schema of the answer: an object schema. For providers' strict modes, every object lists all its
    /// properties in `required` and sets `additionalProperties: false`.
    pub schema: Value,
}

/// Why an answer does not have the asked form; the message is written to be shown to the model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormError(pub String);

impl OutputSchema {
    /// A form named `name` with `schema`.
    pub fn new(name: impl Into<String>, schema: Value) -> Self {
        Self { name: name.into(), schema }
    }

    /// Reads `answer` as the JSON this form asks for. A constrained answer is exactly that JSON; an unconstrained
    /// one may wrap it in prose or a Markdown fence, so the outermost object in the text is read. Errors name
    /// what is wrong and where (`/tasks/0/agent: "dev" is not one of …`), for the model's repair.
    ///
    /// ```
    /// use agentic_core::llm::OutputSchema;
    /// use serde_json::json;
    ///
    /// let form = OutputSchema::new("verdict", json!({
    ///     "type": "object",
    ///     "properties": {"approved": {"type": "boolean"}},
    ///     "required": ["approved"],
    ///     "additionalProperties": false
    /// }));
    /// assert_eq!(form.read("```json\n{\"approved\": true}\n```").unwrap(), json!({"approved": true}));
    /// assert!(form.read("{\"approved\": \"yes\"}").unwrap_err().to_string().contains("/approved"));
    /// ```
    pub fn read(&self, answer: &str) -> Result<Value, FormError> {
        let value = outermost_object(answer)?;
        let validator = jsonschema::validator_for(&self.schema)
            .map_err(|e| FormError(format!("the form `{}` has an invalid schema: {e}", self.name)))?;
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .take(MAX_ERRORS_NAMED + 1)
            .map(|error| {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() { "the answer".to_owned() } else { path };
                format!("{at}: {error}")
            })
            .collect();
        if errors.is_empty() {
            return Ok(value);
        }
        let more = if errors.len() > MAX_ERRORS_NAMED { "; and more" } else { "" };
        let named: Vec<&str> = errors.iter().take(MAX_ERRORS_NAMED).map(String::as_str).collect();
        Err(FormError(format!("the answer does not match the asked form: {}{more}", named.join("; "))))
    }
}

/// The outermost JSON object in `text`: all of it when it is one, else from its first `{` to its last `}`.
fn outermost_object(text: &str) -> Result<Value, FormError> {
    let trimmed = text.trim();
    if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(trimmed) {
        return Ok(value);
    }
    let (Some(start), Some(end)) = (trimmed.find('{'), trimmed.rfind('}')) else {
        return Err(FormError("the answer holds no JSON object".into()));
    };
    if end < start {
        return Err(FormError("the answer holds no JSON object".into()));
    }
    serde_json::from_str(&trimmed[start..=end]).map_err(|e| FormError(format!("the answer is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn plan() -> OutputSchema {
        OutputSchema::new(
            "plan",
            json!({
                "type": "object",
                "properties": {"tasks": {"type": "array", "minItems": 1, "maxItems": 2, "items": {
                    "type": "object",
                    "properties": {"agent": {"enum": ["developer", "qa_tester"]}, "task": {"type": "string"}},
                    "required": ["agent", "task"],
                    "additionalProperties": false
                }}},
                "required": ["tasks"],
                "additionalProperties": false
            }),
        )
    }

    #[test]
    fn an_exact_answer_and_one_wrapped_in_prose_are_read() {
        let exact = r#"{"tasks": [{"agent": "developer", "task": "Build it"}]}"#;
        assert_eq!(plan().read(exact).unwrap()["tasks"][0]["agent"], "developer");
        let wrapped = format!("Here is the plan:\n```json\n{exact}\n```\nDone.");
        assert_eq!(plan().read(&wrapped).unwrap(), plan().read(exact).unwrap());
    }

    #[test]
    fn each_mistake_is_named_with_where_it_is() {
        let answer = r#"{"tasks": [{"agent": "dev", "task": 3}], "extra": true}"#;
        let error = plan().read(answer).unwrap_err().to_string();
        assert!(error.contains("/tasks/0/agent"), "{error}");
        assert!(error.contains("/tasks/0/task"), "{error}");
        assert!(error.contains("extra"), "{error}");
        let too_many = json!({"tasks": vec![json!({"agent": "developer", "task": "x"}); 3]}).to_string();
        assert!(plan().read(&too_many).unwrap_err().to_string().contains("/tasks"));
    }

    #[test]
    fn text_without_an_object_or_with_broken_json_is_refused_plainly() {
        assert_eq!(plan().read("no plan today").unwrap_err().0, "the answer holds no JSON object");
        assert!(plan().read("} {").unwrap_err().0.contains("no JSON object"));
        assert!(plan().read("{\"tasks\": [}").unwrap_err().0.starts_with("the answer is not valid JSON"));
        let many = json!({"tasks": [1, 2, 3, 4, 5, 6]}).to_string();
        assert!(plan().read(&many).unwrap_err().0.ends_with("; and more"));
    }

    #[test]
    fn an_invalid_schema_is_reported_as_such() {
        let broken = OutputSchema::new("broken", json!({"type": "no-such-type"}));
        assert!(broken.read("{}").unwrap_err().0.contains("invalid schema"));
    }
}
