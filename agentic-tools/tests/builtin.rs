//! The built-in tools as a platform sees them (the plan's fifteen, and the generators added since): every
//! built-in agent's tools exist, and each describes its input.

use agentic_core::agents::{Catalog, KnownNames};
use agentic_core::tools::ToolRegistry;

const BUILTIN: [&str; 24] = [
    "accessibility_checker",
    "bug_reproducer",
    "cicd_generator",
    "cloudformation_generator",
    "component_generator",
    "coverage_analyzer",
    "dependency_checker",
    "design_system_generator",
    "dockerfile_optimizer",
    "go_test_generator",
    "html_page_generator",
    "integration_test_generator",
    "jest_generator",
    "kubernetes_generator",
    "monitoring_generator",
    "owasp_scanner",
    "playwright_generator",
    "pytest_generator",
    "secret_detector",
    "security_report_generator",
    "selenium_generator",
    "terraform_generator",
    "vue_component_generator",
    "wireframe_generator",
];

#[test]
fn the_builtin_tools_are_the_plans_fifteen_and_the_test_generators_with_object_schemas() {
    let registry = ToolRegistry::new().extend(agentic_tools::builtin_tools());
    assert_eq!(registry.names(), BUILTIN);
    for name in BUILTIN {
        let tool = registry.get(name).unwrap();
        assert_eq!(tool.input_schema()["type"], "object", "{name}");
        assert!(!tool.description().is_empty(), "{name}");
    }
}

#[test]
fn every_builtin_agent_names_only_builtin_tools() {
    let names = KnownNames::any().tools(BUILTIN);
    assert_eq!(Catalog::check_builtin(&names), Ok(6));
    // And the check is real: without the tools, the first agent naming one is refused.
    let (agent, error) = Catalog::check_builtin(&KnownNames::any().tools(["secret_detector"])).unwrap_err();
    assert!(error.message.contains("unknown tool"), "{agent}: {error}");
}
