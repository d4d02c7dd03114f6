//! `deploy/k8s`: the base and the production overlay, rendered by `kubectl kustomize` and validated offline
//! against the Kubernetes 1.31 schemas (`kubernetes-validate --strict`, installed by scripts/k8s-tools); the
//! ServiceMonitor (a CRD those schemas lack) checked against the Service it scrapes; and every setting the
//! ConfigMap and the Secret template give is one the server reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::root;
use serde_json::Value;

/// The validator and kubectl, or `None` (skipped, unless backends are required).
fn tools() -> Option<(PathBuf, &'static str)> {
    let venv = std::env::var("AGENTIC_K8S_VENV").unwrap_or_else(|_| "/var/tmp/agentic-k8s-venv".into());
    let validator = Path::new(&venv).join("bin/kubernetes-validate");
    let kubectl = Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success());
    if validator.exists() && kubectl {
        return Some((validator, "kubectl"));
    }
    assert_ne!(
        std::env::var("AGENTIC_REQUIRE_BACKENDS").as_deref(),
        Ok("1"),
        "kubectl or kubernetes-validate is missing but AGENTIC_REQUIRE_BACKENDS=1 (scripts/k8s-tools installs the validator)"
    );
    eprintln!("skipping: kubectl or kubernetes-validate is missing (scripts/k8s-tools)");
    None
}

/// `kubectl kustomize <dir>`: the rendered YAML.
fn render(kubectl: &str, dir: &str) -> String {
    let output = Command::new(kubectl).args(["kustomize", root().join(dir).to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The documents of a rendered stream.
fn documents(yaml: &str) -> Vec<Value> {
    yaml.split("\n---\n").map(|doc| serde_saphyr::from_str::<Value>(doc).unwrap()).collect()
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter().find(|d| d["kind"] == kind).unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn the_manifests_render_validate_and_agree_with_the_server() {
    let Some((validator, kubectl)) = tools() else { return };
    let dir = std::env::temp_dir().join(format!("agentic-k8s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = render(kubectl, "deploy/k8s/base");
    let production = render(kubectl, "deploy/k8s/overlays/production");
    std::fs::write(dir.join("base.yaml"), &base).unwrap();
    std::fs::write(dir.join("production.yaml"), &production).unwrap();
    let secret = root().join("deploy/k8s/secret.example.yaml");
    let output = Command::new(&validator)
        .args(["--kubernetes-version", "1.31.0", "--strict"])
        .arg(dir.join("base.yaml"))
        .arg(dir.join("production.yaml"))
        .arg(&secret)
        .output()
        .unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{report}");
    assert!(!report.contains("ERROR"), "{report}");
    let passed = report.matches("passed for resource").count();
    assert_eq!(passed, 2 * 7 + 2, "every resource but the ServiceMonitor (a CRD) is validated: {report}");
    std::fs::remove_dir_all(&dir).unwrap();

    let docs = documents(&base);
    let deployment = find(&docs, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/health");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/ready");
    assert_eq!(container["startupProbe"]["httpGet"]["path"], "/health");
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"], true);
    let job = find(&docs, "Job");
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["args"], serde_json::json!(["migrate"]));
    // The Job alone carries component=migrate, so a release applies it first with that selector.
    let migrate: Vec<&Value> =
        docs.iter().filter(|d| d["metadata"]["labels"]["app.kubernetes.io/component"] == "migrate").collect();
    assert_eq!(migrate, vec![job], "only the Job is selected by component=migrate");
    // It signs in as the schema owner from a Secret that no server pod reads.
    let owner = &job["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"];
    assert_eq!((owner["name"].as_str(), owner["key"].as_str()), (Some("agentic-migration"), Some("DATABASE_URL")));
    let server_secrets = &deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"];
    assert!(!server_secrets.to_string().contains("agentic-migration"), "{server_secrets}");

    // The ServiceMonitor scrapes a port the Service has, on a Service its selector matches.
    let (service, monitor) = (find(&docs, "Service"), find(&docs, "ServiceMonitor"));
    let port = monitor["spec"]["endpoints"][0]["port"].as_str().unwrap();
    assert!(service["spec"]["ports"].as_array().unwrap().iter().any(|p| p["name"] == port), "{port}");
    for (label, value) in monitor["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(&service["metadata"]["labels"][label], value, "the ServiceMonitor selects the Service by {label}");
    }

    // Every setting the ConfigMap and the Secret give is one the server reads (it names them in --help).
    let help = common::server().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let secrets = documents(&std::fs::read_to_string(&secret).unwrap());
    let names: Vec<&str> = secrets.iter().map(|s| s["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["agentic-secrets", "agentic-migration"]);
    let configmap = find(&docs, "ConfigMap");
    let names = configmap["data"]
        .as_object()
        .unwrap()
        .keys()
        .chain(secrets.iter().flat_map(|s| s["stringData"].as_object().unwrap().keys()));
    for name in names {
        let named = help.contains(&format!("[env: {name}=")) || help.contains(&format!("[env: {name}]"));
        assert!(named, "{name} is not a setting of agentic-server");
    }

    // Production: its namespace, the release's image, and its patches applied.
    let docs = documents(&production);
    assert!(docs.iter().all(|d| d["kind"] == "ServiceMonitor" || d["metadata"]["namespace"] == "agentic"));
    let deployment = find(&docs, "Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "ghcr.io/agentic-platform/agentic-server:0.1.0");
    assert_eq!(container["resources"]["limits"]["memory"], "2Gi");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/health", "the patch keeps the probes");
    assert_eq!(find(&docs, "HorizontalPodAutoscaler")["spec"]["maxReplicas"], 20);
}
