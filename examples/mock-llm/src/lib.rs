//! A host app's own LLM-driven feature — triaging bug reports — and how to test it without a model.
//!
//! The feature takes any `LlmProvider`, so production passes a real provider (from
//! `agentic_llm::registry::ProviderRegistry`) and tests pass an `agentic_llm::mock::MockProvider` scripted with
//! exactly the answers (and failures) the test needs. Copy the `tests` module's pattern.
//!
//! ```
//! use agentic_example_mock_llm::{Priority, triage};
//! use agentic_llm::mock::MockProvider;
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let llm = MockProvider::new().tool_call("set_priority", json!({"priority": "high", "reason": "data loss"}));
//! let verdict = triage(&llm, "Saving a draft deletes the previous one").await.unwrap();
//! assert_eq!(verdict.priority, Priority::High);
//! # }
//! ```

use agentic_core::llm::{ChatRequest, LlmError, LlmProvider, Message, ToolDefinition};
use serde::Deserialize;

/// How urgent a report is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Fix now.
    High,
    /// Fix soon.
    Medium,
    /// Fix eventually.
    Low,
}

/// The triage verdict.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Verdict {
    /// Priority.
    pub priority: Priority,
    /// Why, in a sentence.
    pub reason: String,
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// The LLM call failed.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// The model answered without calling `set_priority`, or with bad arguments.
    #[error("the model did not give a usable verdict: {0}")]
    NoVerdict(String),
}

/// Asks the model to classify `report` through the `set_priority` tool; one retry with a reminder if it
/// answers in prose instead.
pub async fn triage(llm: &dyn LlmProvider, report: &str) -> Result<Verdict, TriageError> {
    let tool = ToolDefinition {
        name: "set_priority".into(),
        description: "Record the triage verdict".into(),
        input_schema: serde_json::json!({
            "type": "object",
            "properties": {
                "priority": {"type": "string", "enum": ["high", "medium", "low"]},
                "reason": {"type": "string"}
            },
            "required": ["priority", "reason"]
        }),
    };
    let mut messages = vec![Message::user(format!("Triage this bug report:\n{report}"))];
    for _ in 0..2 {
        let request = ChatRequest::new("claude-sonnet-4", messages.clone())
            .with_system("You triage bug reports. Always answer by calling set_priority.")
            .with_tool(tool.clone())
            .with_max_tokens(200)
            .with_temperature(0.0);
        let answer = llm.chat(request).await?;
        if let Some(call) = answer.tool_calls.iter().find(|c| c.name == "set_priority") {
            return serde_json::from_value(call.arguments.clone()).map_err(|e| TriageError::NoVerdict(e.to_string()));
        }
        messages.push(Message::assistant(answer.text));
        messages.push(Message::user("Please call set_priority with your verdict."));
    }
    Err(TriageError::NoVerdict("no set_priority call after a reminder".into()))
}

#[cfg(test)]
mod tests {
    use agentic_llm::mock::{MockProvider, MockReply};
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn a_tool_call_becomes_the_verdict() {
        let llm = MockProvider::new().tool_call("set_priority", json!({"priority": "low", "reason": "cosmetic"}));
        let verdict = triage(&llm, "The logo is 1px off").await.unwrap();
        assert_eq!(verdict, Verdict { priority: Priority::Low, reason: "cosmetic".into() });
        // The request carried the tool and the report.
        let sent = &llm.requests()[0];
        assert_eq!(sent.tools[0].name, "set_priority");
        assert!(matches!(&sent.messages[0], Message::User { content } if content.contains("1px off")));
    }

    #[tokio::test]
    async fn prose_gets_one_reminder() {
        let llm = MockProvider::new()
            .reply("This looks serious.")
            .then(MockReply::tool_call("set_priority", json!({"priority": "high", "reason": "crash"})));
        assert_eq!(triage(&llm, "App crashes on start").await.unwrap().priority, Priority::High);
        let second = &llm.requests()[1];
        assert_eq!(second.messages.len(), 3, "the reminder conversation is sent back");
    }

    #[tokio::test]
    async fn provider_failures_surface_typed() {
        let llm = MockProvider::new().error(|| LlmError::RateLimited { retry_after: None });
        assert!(matches!(triage(&llm, "x").await, Err(TriageError::Llm(LlmError::RateLimited { .. }))));
        let stubborn = MockProvider::new().reply("no").reply("still no");
        assert!(matches!(triage(&stubborn, "x").await, Err(TriageError::NoVerdict(_))));
    }
}
