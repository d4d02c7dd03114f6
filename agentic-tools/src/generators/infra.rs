//! Checks for generated infrastructure and data: Kubernetes manifests, CI pipelines, Terraform, CloudFormation,
//! Prometheus monitoring, design tokens and Mermaid diagrams.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use agentic_core::llm::OutputSchema;

pub(super) fn yaml_documents(code: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(code).map_err(|e| {
        let first = e.to_string().lines().next().unwrap_or("invalid YAML").to_owned();
        format!("YAML: {first}")
    })?;
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    if docs.is_empty() {
        return Err("YAML: no documents".into());
    }
    Ok(docs)
}

pub(super) fn kubernetes(code: &str) -> Result<(), String> {
    for (i, doc) in yaml_documents(code)?.iter().enumerate() {
        for field in ["apiVersion", "kind"] {
            if !doc.get(field).is_some_and(Value::is_string) {
                return Err(format!("document {}: missing `{field}`", i + 1));
            }
        }
        if !doc.pointer("/metadata/name").is_some_and(Value::is_string) {
            return Err(format!("document {}: missing `metadata.name`", i + 1));
        }
    }
    Ok(())
}

pub(super) fn pipeline(code: &str) -> Result<(), String> {
    let docs = yaml_documents(code)?;
    let doc = &docs[0];
    if doc.get("jobs").is_some_and(Value::is_object) || doc.get("stages").is_some_and(Value::is_array) {
        Ok(())
    } else {
        Err("a pipeline needs `jobs:` (GitHub Actions) or `stages:` (GitLab CI)".into())
    }
}

pub(super) fn terraform(code: &str) -> Result<(), String> {
    let body = hcl::parse(code).map_err(|e| format!("HCL: {e}"))?;
    if body.blocks().next().is_none() {
        return Err("no resource, module, provider or variable block".into());
    }
    Ok(())
}

/// CloudFormation's intrinsic functions in their short YAML form (`!Ref x`).
/// (`None` cannot happen: the patterns are fixed, and the CloudFormation test reads both forms.)
static SHORT_FORM: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(^|[\s\[{,:-])!(Ref|GetAtt|Sub|Join|Select|Split|If|Equals|Not|And|Or|FindInMap|Base64|Cidr|ImportValue|GetAZs|Condition|Transform|Length|ToJsonString)\b")
        .ok()
});
static SHORT_REF: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"!(Ref|GetAtt)\s+([A-Za-z0-9_:]+)").ok());

const TEMPLATE_SECTIONS: [&str; 10] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

/// The logical ids a template's `Ref`s and `Fn::GetAtt`s name, in its long form, found anywhere in `value`.
fn long_form_references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("Ref") {
                out.push(target.clone());
            }
            match map.get("Fn::GetAtt") {
                Some(Value::String(dotted)) => out.extend(dotted.split('.').next().map(str::to_owned)),
                Some(Value::Array(parts)) => out.extend(parts.first().and_then(Value::as_str).map(str::to_owned)),
                _ => {}
            }
            map.values().for_each(|v| long_form_references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| long_form_references(v, out)),
        _ => {}
    }
}

/// An AWS CloudFormation template in YAML (short-form intrinsics allowed) or JSON: only template sections at the
/// top, `Resources` with a `Type` of the form `Service::Group::Thing` (or `Custom::…`) each, `Properties` a map,
/// and every `Ref`, `Fn::GetAtt` and `DependsOn` naming a parameter, a resource or a pseudo parameter.
pub(super) fn cloudformation(code: &str) -> Result<(), String> {
    let template: Value = match serde_json::from_str(code) {
        Ok(json) => json,
        Err(_) => {
            let plain = SHORT_FORM.as_ref().map_or(code.into(), |tags| tags.replace_all(code, "$1"));
            yaml_documents(&plain)?.into_iter().next().unwrap_or(Value::Null)
        }
    };
    let sections = template.as_object().ok_or("a template is a map of sections")?;
    if let Some(unknown) = sections.keys().find(|k| !TEMPLATE_SECTIONS.contains(&k.as_str())) {
        return Err(format!("`{unknown}` is not a template section ({})", TEMPLATE_SECTIONS.join(", ")));
    }
    if let Some(version) = sections.get("AWSTemplateFormatVersion")
        && version.as_str() != Some("2010-09-09")
    {
        return Err("AWSTemplateFormatVersion must be \"2010-09-09\", the only version".into());
    }
    let resources = sections.get("Resources").and_then(Value::as_object).ok_or("no `Resources` map")?;
    if resources.is_empty() {
        return Err("`Resources` is empty: a template declares at least one resource".into());
    }
    let mut known: BTreeSet<&str> = resources.keys().map(String::as_str).collect();
    if let Some(parameters) = sections.get("Parameters").and_then(Value::as_object) {
        known.extend(parameters.keys().map(String::as_str));
    }
    for (id, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str).ok_or(format!("resource `{id}` has no `Type`"))?;
        let parts: Vec<&str> = kind.split("::").collect();
        let well_formed = (parts.len() == 3 && parts.iter().all(|p| !p.is_empty()))
            || (parts.len() == 2 && parts[0] == "Custom" && !parts[1].is_empty());
        if !well_formed {
            return Err(format!("resource `{id}`: `{kind}` is not a resource type (`AWS::Service::Resource`)"));
        }
        if resource.get("Properties").is_some_and(|p| !p.is_object()) {
            return Err(format!("resource `{id}`: `Properties` must be a map"));
        }
        let depends: Vec<&str> = match resource.get("DependsOn") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if let Some(missing) = depends.iter().find(|d| !resources.contains_key(**d)) {
            return Err(format!("resource `{id}` depends on `{missing}`, which is not a resource"));
        }
    }
    let mut references = Vec::new();
    long_form_references(&template, &mut references);
    references.extend(SHORT_REF.iter().flat_map(|r| r.captures_iter(code)).map(|c| {
        let target = &c[2];
        if &c[1] == "GetAtt" { target.split('.').next().unwrap_or(target).to_owned() } else { target.to_owned() }
    }));
    if let Some(dangling) = references.iter().find(|r| !r.starts_with("AWS::") && !known.contains(r.as_str())) {
        return Err(format!("`{dangling}` is referenced but is neither a parameter nor a resource"));
    }
    if let Some(outputs) = sections.get("Outputs").and_then(Value::as_object)
        && let Some((name, _)) = outputs.iter().find(|(_, o)| o.get("Value").is_none())
    {
        return Err(format!("output `{name}` has no `Value`"));
    }
    Ok(())
}

/// A Prometheus duration: one or more number-unit pairs, such as `5m` or `1h30m`.
fn is_prometheus_duration(text: &str) -> bool {
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"].into_iter().find(|u| rest.starts_with(u));
        match unit {
            Some(unit) => rest = &rest[unit.len()..],
            None => return false,
        }
    }
    !text.is_empty()
}

/// Monitoring for a service, as Prometheus reads it: a document with `scrape_configs` (each a `job_name` and its
/// targets) and a rule file (`groups` of recording and alerting rules, each expression parsed as PromQL, each
/// alert with a valid `for`, a `severity` label and a `summary` or `description`), with at least one alert.
pub(super) fn monitoring(code: &str) -> Result<(), String> {
    let docs = yaml_documents(code)?;
    let scrape = docs
        .iter()
        .find_map(|d| d.get("scrape_configs"))
        .ok_or("no `scrape_configs`: say how the service is scraped")?;
    let scrape = scrape.as_array().filter(|s| !s.is_empty()).ok_or("`scrape_configs` is an empty list")?;
    for (i, job) in scrape.iter().enumerate() {
        let name =
            job.get("job_name").and_then(Value::as_str).ok_or(format!("scrape config {} has no `job_name`", i + 1))?;
        let map = job.as_object().ok_or(format!("scrape config `{name}` is not a map"))?;
        let discovered = map.keys().any(|k| k.ends_with("_sd_configs") && k != "static_configs");
        let static_targets = job.get("static_configs").and_then(Value::as_array).is_some_and(|c| {
            c.iter().any(|s| s.get("targets").and_then(Value::as_array).is_some_and(|t| !t.is_empty()))
        });
        if !(discovered || static_targets) {
            return Err(format!("scrape config `{name}` has no targets (`static_configs` or a `*_sd_configs`)"));
        }
    }
    let groups = docs.iter().find_map(|d| d.get("groups")).ok_or("no rule file: add `groups:` with alerting rules")?;
    let groups = groups.as_array().ok_or("`groups` must be a list")?;
    let mut alerts = 0;
    for group in groups {
        let name = group.get("name").and_then(Value::as_str).ok_or("a rule group has no `name`")?;
        let rules = group.get("rules").and_then(Value::as_array).filter(|r| !r.is_empty());
        for rule in rules.ok_or(format!("group `{name}` has no rules"))? {
            let label = match (rule.get("alert").and_then(Value::as_str), rule.get("record").and_then(Value::as_str)) {
                (Some(alert), None) => alert,
                (None, Some(record)) => record,
                _ => return Err(format!("a rule in group `{name}` needs exactly one of `alert` or `record`")),
            };
            let expr = rule.get("expr").map(|e| match e {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let expr = expr.ok_or(format!("rule `{label}` has no `expr`"))?;
            promql_parser::parser::parse(&expr).map_err(|e| format!("rule `{label}`: PromQL: {e}"))?;
            if rule.get("alert").is_none() {
                continue;
            }
            alerts += 1;
            if let Some(wait) = rule.get("for")
                && !wait.as_str().is_some_and(is_prometheus_duration)
            {
                return Err(format!("alert `{label}`: `for: {wait}` is not a duration like `5m`"));
            }
            if !rule.pointer("/labels/severity").is_some_and(Value::is_string) {
                return Err(format!("alert `{label}` has no `labels.severity`"));
            }
            let annotated =
                ["summary", "description"].iter().any(|a| rule.pointer(&format!("/annotations/{a}")).is_some());
            if !annotated {
                return Err(format!("alert `{label}` has no `annotations.summary` or `annotations.description`"));
            }
        }
    }
    if alerts == 0 {
        return Err("no alerting rule: monitoring alerts on something".into());
    }
    Ok(())
}

/// Design tokens: named colours, typography and spacing, each an object of named values.
pub(super) fn design_tokens_form() -> OutputSchema {
    let named = |value: Value| serde_json::json!({"type": "object", "minProperties": 1, "additionalProperties": value});
    let font = serde_json::json!({
        "type": "object",
        "properties": {
            "fontFamily": {"type": "string"},
            "fontSize": {"type": "string"},
            "fontWeight": {"type": ["string", "number"]},
            "lineHeight": {"type": ["string", "number"]},
        },
        "required": ["fontFamily", "fontSize"],
    });
    OutputSchema::new(
        "design_tokens",
        serde_json::json!({
            "type": "object",
            "properties": {
                "colors": named(serde_json::json!({"type": "string"})),
                "typography": named(font),
                "spacing": named(serde_json::json!({"type": "string"})),
            },
            "required": ["colors", "typography"],
        }),
    )
}

pub(super) fn design_tokens(code: &str) -> Result<(), String> {
    design_tokens_form().read(code).map(|_| ()).map_err(|e| e.0)
}

pub(super) fn mermaid(code: &str) -> Result<(), String> {
    const TYPES: [&str; 10] = [
        "flowchart",
        "graph",
        "sequenceDiagram",
        "classDiagram",
        "stateDiagram",
        "stateDiagram-v2",
        "erDiagram",
        "journey",
        "gantt",
        "mindmap",
    ];
    let first = code.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("%%")).unwrap_or("");
    let kind = first.split_whitespace().next().unwrap_or("");
    if !TYPES.contains(&kind) {
        return Err(format!("the first line must name a diagram type ({}), not `{first}`", TYPES.join(", ")));
    }
    let mut stack = Vec::new();
    for (n, line) in code.lines().enumerate() {
        for c in line.chars() {
            match c {
                '(' | '[' | '{' => stack.push(c),
                ')' | ']' | '}' => {
                    let open = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    if stack.pop() != Some(open) {
                        return Err(format!("unbalanced `{c}` at line {}", n + 1));
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("unclosed `{open}`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = "AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  Env:\n    Type: String\nResources:\n  Logs:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub \"acme-${Env}-logs\"\n  Queue:\n    Type: AWS::SQS::Queue\n    DependsOn: Logs\n    Properties:\n      Tags:\n        - Key: env\n          Value: !Ref Env\nOutputs:\n  QueueArn:\n    Value: !GetAtt Queue.Arn\n  Region:\n    Value: !Ref AWS::Region\n";

    #[test]
    fn cloudformation_templates_are_read_in_both_forms_and_their_references_resolve() {
        assert_eq!(cloudformation(STACK), Ok(()));
        let json = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": {"Ref": "Topic"}}}}}"#;
        assert_eq!(cloudformation(json), Ok(()));
        let cases = [
            (STACK.replace("!Ref Env", "!Ref Stage"), "`Stage` is referenced"),
            (STACK.replace("Queue.Arn", "Missing.Arn"), "`Missing` is referenced"),
            (STACK.replace("DependsOn: Logs", "DependsOn: Cache"), "depends on `Cache`"),
            (STACK.replace("AWS::SQS::Queue", "SQS Queue"), "not a resource type"),
            (STACK.replace("Outputs:", "Output:"), "`Output` is not a template section"),
            (STACK.replace("2010-09-09", "2024-01-01"), "AWSTemplateFormatVersion"),
            (json.replace("\"Ref\": \"Topic\"", "\"Ref\": \"Nope\""), "`Nope` is referenced"),
            ("Resources: {}\n".to_owned(), "`Resources` is empty"),
            ("Description: only words\n".to_owned(), "no `Resources`"),
        ];
        for (template, error) in cases {
            let got = cloudformation(&template).unwrap_err();
            assert!(got.contains(error), "{error}: {got}");
        }
    }

    const MONITORING: &str = "scrape_configs:\n  - job_name: checkout\n    static_configs:\n      - targets: [\"checkout:9090\"]\n---\ngroups:\n  - name: checkout\n    rules:\n      - record: job:http_requests:rate5m\n        expr: sum by (job) (rate(http_requests_total[5m]))\n      - alert: CheckoutErrors\n        expr: sum(rate(http_requests_total{status=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])) > 0.05\n        for: 10m\n        labels:\n          severity: page\n        annotations:\n          summary: Checkout fails more than 5% of requests\n";

    #[test]
    fn durations_are_read_as_prometheus_reads_them() {
        for good in ["5m", "1h30m", "250ms", "2d"] {
            assert!(is_prometheus_duration(good), "{good}");
        }
        for bad in ["", "5", "m", "5 m", "1.5h", "5min"] {
            assert!(!is_prometheus_duration(bad), "{bad}");
        }
    }

    #[test]
    fn monitoring_is_read_as_prometheus_reads_it() {
        assert_eq!(monitoring(MONITORING), Ok(()));
        let cases = [
            (MONITORING.replace("[5m])) /", "[5m]) /"), "PromQL"),
            (MONITORING.replace("for: 10m", "for: ten minutes"), "not a duration"),
            (MONITORING.replace("severity: page", "team: web"), "labels.severity"),
            (MONITORING.replace("summary:", "runbook:"), "annotations.summary"),
            (MONITORING.replace("- targets: [\"checkout:9090\"]", "- labels: {a: b}"), "has no targets"),
            (MONITORING.replace("job_name", "name"), "no `job_name`"),
            (MONITORING.split("---").next().unwrap_or("").to_owned(), "no rule file"),
            (MONITORING.split("---").nth(1).unwrap_or("").to_owned(), "no `scrape_configs`"),
        ];
        for (config, error) in cases {
            let got = monitoring(&config).unwrap_err();
            assert!(got.contains(error), "{error}: {got}");
        }
        let records_only = MONITORING.split("      - alert:").next().unwrap_or("");
        assert!(monitoring(records_only).unwrap_err().contains("no alerting rule"));
    }
}
