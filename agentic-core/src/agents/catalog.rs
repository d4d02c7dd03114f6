//! The built-in agents, shipped as YAML files in `agentic-core/agents/`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AgentSpec, AgentSpecError, KnownNames};
use crate::model::ValidationError;

/// An agent's key: lower-case `a-z`, `0-9`, `_`, 2–64 characters (`qa_tester`); the `{name}` of
/// `/v1/agents/{name}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String)]
pub struct AgentKey(String);

impl AgentKey {
    /// Validates a key.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let ok = (2..=64).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && text.as_bytes()[0].is_ascii_lowercase();
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValidationError::new(
                "name",
                "an agent name is 2-64 characters of a-z, 0-9 and '_', starting with a letter",
            ))
        }
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AgentKey {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        AgentKey::parse(&value)
    }
}

impl From<AgentKey> for String {
    fn from(key: AgentKey) -> Self {
        key.0
    }
}

impl fmt::Display for AgentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const BUILTIN: [(&str, &str); 6] = [
    ("qa_tester", include_str!("../../agents/qa_tester.yaml")),
    ("devops_engineer", include_str!("../../agents/devops_engineer.yaml")),
    ("ux_designer", include_str!("../../agents/ux_designer.yaml")),
    ("security_auditor", include_str!("../../agents/security_auditor.yaml")),
    ("overseer", include_str!("../../agents/overseer.yaml")),
    ("developer", include_str!("../../agents/developer.yaml")),
];

/// An agent's name as a metric label: a built-in agent's own name, `custom` for every agent a tenant named (tenants
/// name theirs freely, so their names would make the label unbounded).
pub fn metric_label(name: &str) -> &'static str {
    BUILTIN.iter().map(|(key, _)| *key).find(|key| *key == name).unwrap_or("custom")
}

/// Agents by key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    agents: BTreeMap<String, (AgentSpec, &'static str)>,
}

impl Catalog {
    /// The six built-in agents, their tool and provider names not yet checked (a platform checks them against
    /// its registries when it is built). A file that fails to parse is left out (a unit test proves they all parse).
    pub fn builtin() -> Self {
        let agents = BUILTIN
            .iter()
            .filter_map(|(key, yaml)| {
                AgentSpec::from_yaml(yaml, &KnownNames::any()).ok().map(|spec| ((*key).to_owned(), (spec, *yaml)))
            })
            .collect();
        Self { agents }
    }

    /// Every built-in, parsed with `names`, or the first error (the key and why).
    pub fn check_builtin(names: &KnownNames) -> Result<usize, (String, AgentSpecError)> {
        for (key, yaml) in BUILTIN {
            AgentSpec::from_yaml(yaml, names).map_err(|e| (key.to_owned(), e))?;
        }
        Ok(BUILTIN.len())
    }

    /// An agent by key.
    pub fn get(&self, key: &str) -> Option<&AgentSpec> {
        self.agents.get(key).map(|(spec, _)| spec)
    }

    /// The YAML source of an agent.
    pub fn yaml(&self, key: &str) -> Option<&'static str> {
        self.agents.get(key).map(|(_, yaml)| *yaml)
    }

    /// Keys and specifications, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AgentSpec)> {
        self.agents.iter().map(|(key, (spec, _))| (key.as_str(), spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RiskLevel;

    #[test]
    fn every_builtin_loads_with_the_plans_definition() {
        assert_eq!(Catalog::check_builtin(&KnownNames::any()), Ok(6));
        let catalog = Catalog::builtin();
        let check = |key: &str, role: &str, tools: &[&str], provider: &str, model: &str| {
            let spec = catalog.get(key).unwrap();
            assert_eq!(spec.role, role, "{key}");
            assert_eq!(spec.tools, tools, "{key}");
            assert_eq!((spec.llm.provider.as_str(), spec.llm.model.as_str()), (provider, model), "{key}");
        };
        let sonnet = "claude-sonnet-4-20250514";
        check(
            "qa_tester",
            "Quality Assurance Engineer",
            &[
                "pytest_generator",
                "jest_generator",
                "go_test_generator",
                "playwright_generator",
                "selenium_generator",
                "integration_test_generator",
                "coverage_analyzer",
                "bug_reproducer",
            ],
            "claude",
            sonnet,
        );
        check(
            "devops_engineer",
            "Infrastructure & Deployment Specialist",
            &[
                "kubernetes_generator",
                "terraform_generator",
                "cloudformation_generator",
                "monitoring_generator",
                "dockerfile_optimizer",
                "cicd_generator",
            ],
            "ollama",
            "qwen2.5-coder:7b",
        );
        check(
            "ux_designer",
            "User Experience & Interface Designer",
            &[
                "design_system_generator",
                "wireframe_generator",
                "component_generator",
                "vue_component_generator",
                "html_page_generator",
                "accessibility_checker",
            ],
            "claude",
            sonnet,
        );
        check(
            "security_auditor",
            "Application Security Specialist",
            &["owasp_scanner", "dependency_checker", "secret_detector", "security_report_generator"],
            "claude",
            sonnet,
        );
        assert_eq!(catalog.get("qa_tester").unwrap().goal, "Generate comprehensive tests and ensure code quality");
        assert!(
            catalog
                .get("security_auditor")
                .unwrap()
                .backstory
                .starts_with("Certified security professional (CISSP, CEH)")
        );
        assert_eq!(catalog.get("overseer").unwrap().max_iterations, 5);
        // The analyzers that need no model run on every run's files.
        let auto = |key: &str| catalog.get(key).unwrap().auto_tools.clone();
        assert_eq!(auto("security_auditor"), ["secret_detector", "owasp_scanner", "dependency_checker"]);
        assert_eq!(auto("qa_tester"), ["coverage_analyzer"]);
        assert_eq!(auto("ux_designer"), ["accessibility_checker"]);
        assert_eq!(auto("devops_engineer"), ["dockerfile_optimizer"]);
        assert!(auto("overseer").is_empty() && auto("developer").is_empty());
        // Every built-in states its risk; deployments are the one thing gated by default.
        let risks = [
            ("qa_tester", RiskLevel::Low),
            ("ux_designer", RiskLevel::Low),
            ("overseer", RiskLevel::Low),
            ("developer", RiskLevel::Medium),
            ("security_auditor", RiskLevel::Medium),
            ("devops_engineer", RiskLevel::High),
        ];
        for (key, risk) in risks {
            assert_eq!(catalog.get(key).unwrap().risk_level, risk, "{key}");
        }
    }

    #[test]
    fn keys() {
        assert!(AgentKey::parse("qa_tester").is_ok());
        for bad in ["", "q", "QA", "qa-tester", "1qa", "qa tester"] {
            assert!(AgentKey::parse(bad).is_err(), "{bad}");
        }
    }
}
