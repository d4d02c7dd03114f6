//! Agents: their specifications (YAML), the built-in catalog, and tenants' own agents.
//!
//! ```
//! use agentic_core::agents::{AgentSpec, Catalog};
//!
//! let catalog = Catalog::builtin();
//! let qa = catalog.get("qa_tester").unwrap();
//! assert_eq!(qa.role, "Quality Assurance Engineer");
//!
//! let error = AgentSpec::from_yaml("name: X\nrole: R\ngoal: G\nbackstory: B\ntools: [teleporter]\nllm: {provider: claude, model: m}\n")
//!     .unwrap_err();
//! assert_eq!(error.field, "tools[0]");
//! assert_eq!(error.line, Some(5));
//! ```

mod catalog;
mod spec;

pub use catalog::{AgentKey, Catalog};
pub use spec::{AgentSpec, AgentSpecError, KNOWN_TOOLS, LlmChoice, MAX_SPEC_BYTES};
