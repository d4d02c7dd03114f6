//! Agents: their specifications (YAML), the built-in catalog, and tenants' own agents.
//!
//! ```
//! use agentic_core::agents::{AgentSpec, Catalog, KnownNames};
//!
//! let catalog = Catalog::builtin();
//! let qa = catalog.get("qa_tester").unwrap();
//! assert_eq!(qa.role, "Quality Assurance Engineer");
//!
//! // A platform answers which names exist (`Platform::known_names`); here, one tool.
//! let names = KnownNames::any().tools(["secret_detector"]);
//! let yaml = "name: X\nrole: R\ngoal: G\nbackstory: B\ntools: [teleporter]\nllm: {provider: claude, model: m}\n";
//! let error = AgentSpec::from_yaml(yaml, &names).unwrap_err();
//! assert_eq!(error.field, "tools[0]");
//! assert_eq!(error.line, Some(5));
//! ```

mod catalog;
mod spec;

pub use catalog::{AgentKey, Catalog, metric_label};
pub use spec::{
    AgentSpec, AgentSpecError, KnownNames, LlmChoice, MAX_HANDOFF_TARGETS, MAX_KNOWLEDGE_BASES, MAX_SPEC_BYTES,
};
