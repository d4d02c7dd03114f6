//! `docs/deployment.md`'s settings for the platforms CI cannot run (ECS, Container Apps, Cloud Run): each block
//! parses, every variable it sets and every `AGENTIC_*` the guide names is a setting of the server, every probe asks
//! `/health` or `/ready` on the port the server binds, and the ECS health check runs the image's own binary. Its
//! shell blocks are run by `scripts/doc-commands`, which CI calls.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;

use common::root;
use serde_json::Value;

/// (info string, text) of every fenced block of `markdown`.
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim();
        match &mut open {
            None if trimmed.starts_with("```") => open = Some((trimmed[3..].trim().to_owned(), String::new())),
            Some(_) if trimmed == "```" => blocks.push(open.take().unwrap()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    blocks
}

/// Every value under a key called `key`, anywhere in `value`.
fn find_all<'a>(value: &'a Value, key: &str, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map {
                if name == key {
                    found.push(inner);
                }
                find_all(inner, key, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| find_all(item, key, found)),
        _ => {}
    }
}

/// The names of the environment variables a block sets: ECS's `environment`/`secrets` and the `env` lists of
/// Container Apps and Cloud Run, all lists of `{name, …}`.
fn variables(block: &Value) -> BTreeSet<String> {
    let mut lists = Vec::new();
    for key in ["env", "environment", "secrets"] {
        find_all(block, key, &mut lists);
    }
    lists
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|entry| entry["name"].as_str())
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_platform_settings_in_the_deployment_guide_are_the_servers() {
    let guide = std::fs::read_to_string(root().join("docs/deployment.md")).unwrap();
    let help = common::server().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let is_setting = |name: &str| help.contains(&format!("[env: {name}=")) || help.contains(&format!("[env: {name}]"));

    let blocks = fenced_blocks(&guide);
    let configs: Vec<(String, Value)> = blocks
        .iter()
        .filter_map(|(info, text)| match info.as_str() {
            "json" => {
                Some((info.clone(), serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{e}: {text}"))))
            }
            "yaml" => {
                Some((info.clone(), serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("{e}: {text}"))))
            }
            _ => None,
        })
        .collect();
    let kinds: Vec<&str> = configs.iter().map(|(info, _)| info.as_str()).collect();
    assert_eq!(kinds, ["json", "yaml", "yaml"], "ECS, Container Apps and Cloud Run");

    for (_, config) in &configs {
        let names = variables(config);
        assert!(names.contains("DATABASE_URL") && names.contains("AGENTIC_WEBHOOK_SECRET_KEY"), "{names:?}");
        for name in &names {
            assert!(is_setting(name), "{name} is not a setting of agentic-server");
        }
        // Probes ask the server's own endpoints, on the port it binds.
        let mut probes = Vec::new();
        find_all(config, "httpGet", &mut probes);
        for probe in probes {
            assert!(matches!(probe["path"].as_str(), Some("/health" | "/ready")), "{probe}");
            assert_eq!(probe["port"], 9000, "{probe}");
        }
        assert!(config.to_string().contains("\"0.0.0.0:9000\""), "the server binds the probed port: {config}");
    }

    // ECS runs the image's own binary as its health check (the image has no shell or curl).
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let entrypoint = dockerfile.lines().find_map(|l| l.strip_prefix("ENTRYPOINT ")).expect("an ENTRYPOINT");
    let entrypoint: Vec<String> = serde_json::from_str(entrypoint).unwrap();
    let ecs = &configs[0].1;
    let check: Vec<&str> =
        ecs["healthCheck"]["command"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(check, ["CMD", entrypoint[0].as_str(), "healthcheck"]);
    assert_eq!(ecs["user"], "65532", "the image's non-root user");

    // Every AGENTIC_* setting the guide names anywhere is one the server has.
    let named: BTreeSet<&str> = guide
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("AGENTIC_") && word.len() > "AGENTIC_".len())
        .collect();
    assert!(named.len() > 10, "{named:?}");
    for name in named {
        assert!(is_setting(name), "the guide names {name}, which is not a setting of agentic-server");
    }
}
