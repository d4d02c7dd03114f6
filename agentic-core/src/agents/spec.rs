//! An agent's specification, parsed from YAML with resource budgets and located errors.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::model::RiskLevel;
use utoipa::ToSchema;

/// The names from outside a specification that it may use: the platform's tools and LLM providers. Ask the
/// platform for its own ([`Platform::known_names`](crate::Platform::known_names)); `None` for either accepts any
/// name, which is how the built-in files are read before they meet a platform.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownNames {
    tools: Option<BTreeSet<String>>,
    analyzers: Option<BTreeSet<String>>,
    providers: Option<BTreeSet<String>>,
}

impl KnownNames {
    /// Accepts any tool and provider name.
    pub fn any() -> Self {
        Self::default()
    }

    /// Accepts only these tools.
    pub fn tools<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.tools = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts only these tools in `auto_tools`: the ones that can run without the model
    /// ([`Tool::analyzer`](crate::tools::Tool::analyzer)).
    pub fn analyzers<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.analyzers = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts only these providers (compared in lower case).
    pub fn providers<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.providers = Some(names.into_iter().map(|n| n.into().to_ascii_lowercase()).collect());
        self
    }

    fn check_tool(&self, name: &str) -> Result<(), String> {
        match &self.tools {
            Some(tools) if !tools.contains(name) => Err(format!("unknown tool `{name}` ({})", list(tools))),
            _ => Ok(()),
        }
    }

    fn check_analyzer(&self, name: &str) -> Result<(), String> {
        self.check_tool(name)?;
        match &self.analyzers {
            Some(analyzers) if !analyzers.contains(name) => Err(format!(
                "`{name}` needs the model, so it cannot run on its own (tools that can: {})",
                list(analyzers)
            )),
            _ => Ok(()),
        }
    }

    fn check_provider(&self, name: &str, as_written: &str) -> Result<(), String> {
        match &self.providers {
            Some(providers) if !providers.contains(name) => {
                Err(format!("unknown provider `{as_written}` ({})", list(providers)))
            }
            _ => Ok(()),
        }
    }
}

fn list(names: &BTreeSet<String>) -> String {
    if names.is_empty() {
        return "none are registered".to_owned();
    }
    names.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// The most agents one specification may hand work to.
pub const MAX_HANDOFF_TARGETS: usize = 10;

/// The most knowledge bases an agent may answer from.
pub const MAX_KNOWLEDGE_BASES: usize = 10;

/// Largest accepted specification, in bytes.
pub const MAX_SPEC_BYTES: usize = 64 * 1024;

/// Which model an agent uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LlmChoice {
    /// Provider name (`claude`, `anthropic`, `openai`, `ollama`, `mock`).
    pub provider: String,
    /// Model name as the provider knows it.
    pub model: String,
    /// Sampling temperature (0–2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Output token limit per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// An agent: who it is, what it may use, which model it runs on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentSpec {
    /// Display name.
    pub name: String,
    /// Role, for the system prompt.
    pub role: String,
    /// Goal, for the system prompt.
    pub goal: String,
    /// Backstory, for the system prompt.
    pub backstory: String,
    /// Tools it may call.
    pub tools: Vec<String>,
    /// Analyzers run on the run's input files (`context.files`) before the model's first turn; their findings go
    /// to the model and into the run's result (`output.findings`) whatever the model writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto_tools: Vec<String>,
    /// Model.
    pub llm: LlmChoice,
    /// Bound on model turns per run (default 10).
    pub max_iterations: u32,
    /// Default risk of its runs.
    pub risk_level: RiskLevel,
    /// The agents it may hand work to with the `handoff` tool (none: it has no such tool).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handoffs: Vec<String>,
    /// The names of the tenant's knowledge bases it answers from: its runs get `knowledge_search`, the passages
    /// that best match the task, and grounding instructions, and their results carry `citations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge: Vec<String>,
}

/// A specification that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {}", self.located_message())]
pub struct AgentSpecError {
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// The field (`tools[2]`, `llm.provider`), or `yaml` for a syntax error.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl AgentSpecError {
    /// The message prefixed with its location (`line 8, column 5: unknown tool …`), without the field.
    pub fn located_message(&self) -> String {
        format!("{}{}", location(self.line, self.column), self.message)
    }
}

fn location(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: Spanned<String>,
    role: Spanned<String>,
    goal: Spanned<String>,
    backstory: Spanned<String>,
    #[serde(default)]
    tools: Vec<Spanned<String>>,
    #[serde(default)]
    auto_tools: Vec<Spanned<String>>,
    llm: RawLlm,
    #[serde(default)]
    max_iterations: Option<Spanned<u32>>,
    #[serde(default)]
    risk_level: RiskLevel,
    #[serde(default)]
    handoffs: Vec<Spanned<String>>,
    #[serde(default)]
    knowledge: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLlm {
    provider: Spanned<String>,
    model: Spanned<String>,
    #[serde(default)]
    temperature: Option<Spanned<f32>>,
    #[serde(default)]
    max_tokens: Option<Spanned<u32>>,
}

fn at<T>(spanned: &Spanned<T>, field: impl Into<String>, message: impl Into<String>) -> AgentSpecError {
    AgentSpecError {
        line: Some(spanned.referenced.line()),
        column: Some(spanned.referenced.column()),
        field: field.into(),
        message: message.into(),
    }
}

impl AgentSpec {
    /// Parses and validates a specification, accepting only the tool and provider names in `names`. Inputs over
    /// [`MAX_SPEC_BYTES`], nested deeper than 32 levels, or using aliases are refused before any work proportional
    /// to them is done.
    pub fn from_yaml(text: &str, names: &KnownNames) -> Result<Self, AgentSpecError> {
        if text.len() > MAX_SPEC_BYTES {
            return Err(AgentSpecError {
                line: None,
                column: None,
                field: "yaml".into(),
                message: format!("the specification is {} bytes; at most {MAX_SPEC_BYTES} are accepted", text.len()),
            });
        }
        let mut budget = serde_saphyr::Budget::default();
        budget.max_depth = 32;
        budget.max_events = 20_000;
        budget.max_nodes = 10_000;
        budget.max_aliases = 0;
        budget.max_anchors = 16;
        budget.max_documents = 1;
        budget.max_total_scalar_bytes = MAX_SPEC_BYTES;
        let mut options = serde_saphyr::Options::default();
        options.budget = Some(budget);
        let raw: RawSpec = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let location = e.location();
            let message = e.to_string();
            // The rendered error may carry a source snippet; the first line is the message.
            let first = message.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid YAML").trim();
            // Drop the rendered "error: line N column M: " prefix: the location is reported separately.
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let first = match first.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
                Some((_, message)) => message,
                None => first,
            }
            .to_owned();
            AgentSpecError {
                line: location.map(|l| l.line()),
                column: location.map(|l| l.column()),
                field: "yaml".into(),
                message: first,
            }
        })?;
        Self::validate(raw, names)
    }

    fn validate(raw: RawSpec, names: &KnownNames) -> Result<Self, AgentSpecError> {
        for (field, value, max) in [
            ("name", &raw.name, 100),
            ("role", &raw.role, 200),
            ("goal", &raw.goal, 1_000),
            ("backstory", &raw.backstory, 4_000),
        ] {
            if value.value.trim().is_empty() {
                return Err(at(value, field, "must not be empty"));
            }
            if value.value.chars().count() > max {
                return Err(at(value, field, format!("must be at most {max} characters")));
            }
        }
        let mut tools = Vec::with_capacity(raw.tools.len());
        for (i, tool) in raw.tools.iter().enumerate() {
            names.check_tool(&tool.value).map_err(|message| at(tool, format!("tools[{i}]"), message))?;
            if tools.contains(&tool.value) {
                return Err(at(tool, format!("tools[{i}]"), format!("`{}` is listed twice", tool.value)));
            }
            tools.push(tool.value.clone());
        }
        let mut auto_tools: Vec<String> = Vec::with_capacity(raw.auto_tools.len());
        for (i, tool) in raw.auto_tools.iter().enumerate() {
            names.check_analyzer(&tool.value).map_err(|message| at(tool, format!("auto_tools[{i}]"), message))?;
            if auto_tools.contains(&tool.value) {
                return Err(at(tool, format!("auto_tools[{i}]"), format!("`{}` is listed twice", tool.value)));
            }
            auto_tools.push(tool.value.clone());
        }
        let provider = raw.llm.provider.value.trim().to_ascii_lowercase();
        names
            .check_provider(&provider, &raw.llm.provider.value)
            .map_err(|message| at(&raw.llm.provider, "llm.provider", message))?;
        if raw.llm.model.value.trim().is_empty() {
            return Err(at(&raw.llm.model, "llm.model", "must not be empty"));
        }
        if let Some(t) = &raw.llm.temperature
            && !(0.0..=2.0).contains(&t.value)
        {
            return Err(at(t, "llm.temperature", "must be between 0 and 2"));
        }
        if let Some(m) = &raw.llm.max_tokens
            && !(1..=200_000).contains(&m.value)
        {
            return Err(at(m, "llm.max_tokens", "must be between 1 and 200000"));
        }
        if raw.handoffs.len() > MAX_HANDOFF_TARGETS {
            let message = format!("may name at most {MAX_HANDOFF_TARGETS} agents");
            return Err(at(&raw.handoffs[MAX_HANDOFF_TARGETS], format!("handoffs[{MAX_HANDOFF_TARGETS}]"), message));
        }
        let mut handoffs: Vec<String> = Vec::with_capacity(raw.handoffs.len());
        for (i, target) in raw.handoffs.iter().enumerate() {
            let field = format!("handoffs[{i}]");
            let key = super::AgentKey::parse(&target.value).map_err(|e| at(target, field.clone(), e.message))?;
            if handoffs.iter().any(|h| h == key.as_str()) {
                return Err(at(target, field, format!("`{}` is listed twice", target.value)));
            }
            handoffs.push(key.as_str().to_owned());
        }
        if raw.knowledge.len() > MAX_KNOWLEDGE_BASES {
            let message = format!("may name at most {MAX_KNOWLEDGE_BASES} knowledge bases");
            return Err(at(&raw.knowledge[MAX_KNOWLEDGE_BASES], format!("knowledge[{MAX_KNOWLEDGE_BASES}]"), message));
        }
        let mut knowledge: Vec<String> = Vec::with_capacity(raw.knowledge.len());
        for (i, base) in raw.knowledge.iter().enumerate() {
            let field = format!("knowledge[{i}]");
            let name = base.value.trim();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(at(base, field, "must be a knowledge base's name (1 to 200 characters)"));
            }
            if knowledge.iter().any(|k| k == name) {
                return Err(at(base, field, format!("`{name}` is listed twice")));
            }
            knowledge.push(name.to_owned());
        }
        let max_iterations = match &raw.max_iterations {
            Some(m) if !(1..=50).contains(&m.value) => return Err(at(m, "max_iterations", "must be between 1 and 50")),
            Some(m) => m.value,
            None => 10,
        };
        Ok(AgentSpec {
            name: raw.name.value.trim().to_owned(),
            role: raw.role.value.trim().to_owned(),
            goal: raw.goal.value.trim().to_owned(),
            backstory: raw.backstory.value.trim().to_owned(),
            tools,
            auto_tools,
            llm: LlmChoice {
                provider,
                model: raw.llm.model.value.trim().to_owned(),
                temperature: raw.llm.temperature.map(|t| t.value),
                max_tokens: raw.llm.max_tokens.map(|m| m.value),
            },
            max_iterations,
            risk_level: raw.risk_level,
            handoffs,
            knowledge,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "name: Tester\nrole: QA\ngoal: Test\nbackstory: Long\ntools:\n  - pytest_generator\nllm:\n  provider: claude\n  model: claude-sonnet-4\n";

    fn names() -> KnownNames {
        KnownNames::any().tools(["pytest_generator", "secret_detector"]).providers(["claude", "Mock"])
    }

    fn error(text: &str) -> AgentSpecError {
        AgentSpec::from_yaml(text, &names()).unwrap_err()
    }

    #[test]
    fn a_valid_spec_gets_defaults() {
        let spec = AgentSpec::from_yaml(VALID, &names()).unwrap();
        assert_eq!(spec.max_iterations, 10);
        assert_eq!(spec.risk_level, RiskLevel::Low);
        assert_eq!(spec.tools, vec!["pytest_generator"]);
    }

    #[test]
    fn errors_name_line_column_and_field() {
        let check = |text: &str, field: &str, line: Option<u64>, message_has: &str| {
            let e = error(text);
            assert_eq!(e.field, field, "{e}");
            assert_eq!(e.line, line, "{e}");
            assert!(e.message.contains(message_has), "{e}");
        };
        check(
            &VALID.replace("pytest_generator", "warp_drive"),
            "tools[0]",
            Some(6),
            "unknown tool `warp_drive` (pytest_generator, secret_detector)",
        );
        check(
            &VALID.replace("provider: claude", "provider: Gemini"),
            "llm.provider",
            Some(8),
            "`Gemini` (claude, mock)",
        );
        check(&VALID.replace("role: QA", "role: ''"), "role", Some(2), "must not be empty");
        check(&format!("{VALID}max_iterations: 500\n"), "max_iterations", Some(10), "between 1 and 50");
        check(
            &VALID.replace("  model: claude-sonnet-4\n", "  model: m\n  temperature: 7\n"),
            "llm.temperature",
            Some(10),
            "between 0 and 2",
        );
        check(&VALID.replace("goal: Test", "goal: [unclosed"), "yaml", Some(3), "");
        check(&format!("{VALID}colour: blue\n"), "yaml", Some(10), "colour");
        check(&VALID.replace("role: QA\n", ""), "yaml", Some(6), "missing field `role`");
    }

    #[test]
    fn auto_tools_must_be_analyzers() {
        let names = names().analyzers(["secret_detector"]);
        let auto = format!("{VALID}auto_tools:\n  - secret_detector\n");
        assert_eq!(AgentSpec::from_yaml(&auto, &names).unwrap().auto_tools, ["secret_detector"]);
        let generator = AgentSpec::from_yaml(&auto.replace("  - secret_detector\n", "  - pytest_generator\n"), &names);
        let e = generator.unwrap_err();
        assert_eq!((e.field.as_str(), e.line), ("auto_tools[0]", Some(11)));
        assert!(e.message.contains("`pytest_generator` needs the model"), "{e}");
        let unknown = AgentSpec::from_yaml(&auto.replace("  - secret_detector\n", "  - warp_drive\n"), &names);
        assert!(unknown.unwrap_err().message.contains("unknown tool `warp_drive`"));
        let twice = format!("{auto}  - secret_detector\n");
        assert!(AgentSpec::from_yaml(&twice, &names).unwrap_err().message.contains("listed twice"));
    }

    #[test]
    fn names_are_checked_only_against_what_is_known() {
        let odd = VALID.replace("pytest_generator", "warp_drive").replace("provider: claude", "provider: MOCK");
        assert!(AgentSpec::from_yaml(&odd, &KnownNames::any()).is_ok());
        let spec = AgentSpec::from_yaml(&VALID.replace("provider: claude", "provider: MOCK"), &names()).unwrap();
        assert_eq!(spec.llm.provider, "mock");
        let none = KnownNames::any().tools(Vec::<String>::new());
        assert!(AgentSpec::from_yaml(VALID, &none).unwrap_err().message.contains("none are registered"));
    }

    #[test]
    fn hostile_documents_are_refused_quickly() {
        let started = std::time::Instant::now();
        let huge = format!("name: {}\n", "x".repeat(10 * 1024 * 1024));
        assert!(error(&huge).message.contains("at most"));
        let deep = format!("name: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(error(&deep).field, "yaml");
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
        assert_eq!(error(bomb).field, "yaml");
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }
}
