//! The shipped observability files, checked by the tools that read them, and a real Prometheus scraping a loaded
//! server: `deploy/prometheus` (config, recording and alert rules with their unit tests), `deploy/alertmanager`
//! (config and a routing test per severity), `deploy/grafana` (every PromQL expression parses, and names only
//! metrics the server exports or the recording rules make).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{KEY, free_port, get, request, server, stop, wait_for_listen_line};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Whether `tool` is on the PATH (scripts/test installs promtool, prometheus and amtool); without it the test
/// skips, or fails under `AGENTIC_REQUIRE_BACKENDS=1`.
fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !found {
        let required = std::env::var("AGENTIC_REQUIRE_BACKENDS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{tool} is missing but AGENTIC_REQUIRE_BACKENDS=1 (scripts/observability-tools installs it)"
        );
        eprintln!("skipping: {tool} is missing (scripts/observability-tools installs it)");
    }
    found
}

/// Runs `program` with `args`; returns (success, stdout + stderr).
fn run(program: &str, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = stdin.unwrap_or_default().to_owned();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut pipe, input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[track_caller]
fn passes(program: &str, args: &[&str]) -> String {
    let (ok, text) = run(program, args, None);
    assert!(ok, "{program} {args:?} failed:\n{text}");
    text
}

/// Every rule of a rules file, as (record or alert name, expression).
fn rules(file: &Path) -> Vec<(String, String)> {
    let yaml: serde_json::Value = serde_saphyr::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let groups = yaml["groups"].as_array().unwrap();
    groups
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .map(|r| {
            let name = r["record"].as_str().or(r["alert"].as_str()).unwrap().to_owned();
            (name, r["expr"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Every PromQL expression of the dashboards, Grafana's variables replaced by values PromQL accepts.
fn dashboard_expressions() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(deploy().join("grafana/dashboards")).unwrap() {
        let path = entry.unwrap().path();
        let board: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let title = board["title"].as_str().unwrap().to_owned();
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                found.push((format!("{title} / {}", panel["title"].as_str().unwrap()), grafana_free(expr)));
            }
        }
        for variable in board["templating"]["list"].as_array().unwrap() {
            if let Some(query) = variable["query"]["query"].as_str() {
                // label_values(metric, label) is Grafana's, not PromQL: its metric is checked as a selector.
                let metric = query.strip_prefix("label_values(").unwrap().split(',').next().unwrap();
                found.push((format!("{title} / ${}", variable["name"].as_str().unwrap()), metric.to_owned()));
            }
        }
    }
    found
}

fn grafana_free(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$tenant", ".*")
}

/// The metric names an expression selects: identifiers that are neither functions, keywords, label names nor
/// inside label matchers, strings or ranges.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: [&str; 9] = ["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"];
    let mut text = String::new();
    let (mut depth_braces, mut in_range, mut in_string) = (0, false, false);
    for c in expr.chars() {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            '{' => depth_braces += 1,
            '}' => depth_braces -= 1,
            '[' => in_range = true,
            ']' => in_range = false,
            _ if depth_braces > 0 || in_range => {}
            _ => text.push(c),
        }
        if matches!(c, '{' | '[' | '"') {
            text.push(' ');
        }
    }
    let mut names = BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut after_grouping = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let rest: String = chars[i..].iter().collect();
            let rest = rest.trim_start();
            let aggregation = ["by ", "by(", "without ", "without("].iter().any(|k| rest.starts_with(k));
            if KEYWORDS.contains(&word.as_str()) {
                after_grouping =
                    matches!(word.as_str(), "by" | "without" | "on" | "ignoring" | "group_left" | "group_right");
            } else if rest.starts_with('(') || aggregation {
                // A function or an aggregation.
            } else {
                names.insert(word);
            }
            continue;
        }
        if c == '(' && after_grouping {
            // The label list of by (...), on (...): skip it.
            while i < chars.len() && chars[i] != ')' {
                i += 1;
            }
            after_grouping = false;
        }
        i += 1;
    }
    names
}

#[test]
fn the_deploy_files_pass_their_tools_checks() {
    if !have("promtool") || !have("amtool") {
        return;
    }
    let prometheus = deploy().join("prometheus");
    let path = |p: &str| prometheus.join(p).to_str().unwrap().to_owned();
    passes("promtool", &["check", "config", &path("prometheus.yml")]);
    passes("promtool", &["check", "config", &path("local.yml")]);
    passes("promtool", &["check", "rules", &path("rules/recording.yml"), &path("rules/alerts.yml")]);
    let tested = passes("promtool", &["test", "rules", &path("tests/alerts_test.yml")]);
    assert!(tested.contains("SUCCESS"), "{tested}");
    // Every alert has at least one unit test.
    let tests = std::fs::read_to_string(prometheus.join("tests/alerts_test.yml")).unwrap();
    for (alert, _) in rules(&prometheus.join("rules/alerts.yml")) {
        assert!(tests.contains(&format!("alertname: {alert}\n")), "no unit test for {alert}");
    }

    // Alertmanager: Telegram's bot_token_file needs Alertmanager 0.26; Debian's amtool is 0.25, so for it alone
    // that one field is checked as an inline placeholder (every other field is checked as written).
    let config = std::fs::read_to_string(deploy().join("alertmanager/alertmanager.yml")).unwrap();
    assert!(!config.contains("bot_token:") && config.contains("bot_token_file:"), "secrets come from files");
    let (_, version) = run("amtool", &["--version"], None);
    let checked = if version.contains("version 0.25") {
        config.replace("bot_token_file: /etc/alertmanager/secrets/telegram-bot-token", "bot_token: placeholder")
    } else {
        config
    };
    let dir = std::env::temp_dir().join(format!("agentic-am-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("alertmanager.yml");
    std::fs::write(&file, checked).unwrap();
    let file = file.to_str().unwrap();
    let report = passes("amtool", &["check-config", file]);
    assert!(report.contains("4 receivers") && report.contains("1 inhibit rules"), "{report}");
    for (labels, receivers) in [
        ("severity=critical", "pagerduty,telegram"),
        ("severity=warning", "slack"),
        ("severity=info", "email"),
        ("alertname=Unlabelled", "email"),
    ] {
        let verify = format!("--verify.receivers={receivers}");
        let routed = passes("amtool", &["config", "routes", "test", &format!("--config.file={file}"), &verify, labels]);
        assert!(routed.lines().any(|line| line.trim() == receivers), "{labels}: {routed}");
    }
    // The check can fail: a critical alert does not go to Slack.
    let (ok, _) = run(
        "amtool",
        &[
            "config",
            "routes",
            "test",
            &format!("--config.file={file}"),
            "--verify.receivers=slack",
            "severity=critical",
        ],
        None,
    );
    assert!(!ok);
    std::fs::remove_dir_all(&dir).unwrap();

    // The dashboards are what deploy/grafana/generate.py makes, and every expression parses (as a recording rule).
    passes("python3", &[deploy().join("grafana/generate.py").to_str().unwrap(), "--check"]);
    let expressions = dashboard_expressions();
    assert!(expressions.len() >= 40, "{} expressions", expressions.len());
    let mut file = String::from("groups:\n  - name: dashboards\n    rules:\n");
    for (i, (_, expr)) in expressions.iter().enumerate() {
        file.push_str(&format!("      - record: dashboard:expr:{i}\n        expr: {}\n", serde_json::json!(expr)));
    }
    let dir = std::env::temp_dir().join(format!("agentic-dash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dashboards.yml"), &file).unwrap();
    passes("promtool", &["check", "rules", dir.join("dashboards.yml").to_str().unwrap()]);
    std::fs::write(dir.join("broken.yml"), file.replace("sum by (", "sum by ((")).unwrap();
    let (ok, _) = run("promtool", &["check", "rules", dir.join("broken.yml").to_str().unwrap()], None);
    assert!(!ok, "a broken expression fails the check");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn metric_names_are_read_from_expressions() {
    let names = metric_names(
        r#"topk(10, sum by (tenant_id) (rate(tenant_http_requests_total{tenant_id=~".*"}[5m]))) / on (a) max(up) and x:y:z > 0.9"#,
    );
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["tenant_http_requests_total", "up", "x:y:z"]);
}

/// A Prometheus scraping `target` every second with the shipped rules, every `for:` cut to 0 s so that an alert
/// fires within the test; stopped when dropped.
struct Prometheus {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Prometheus {
    fn start(target: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("agentic-prom-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let rules = deploy().join("prometheus/rules");
        std::fs::copy(rules.join("recording.yml"), dir.join("recording.yml")).unwrap();
        let alerts = std::fs::read_to_string(rules.join("alerts.yml")).unwrap();
        let immediate: String = alerts
            .lines()
            .map(|line| if line.trim_start().starts_with("for: ") { "        for: 0s" } else { line })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(dir.join("alerts.yml"), immediate).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [recording.yml, alerts.yml]\n\
             scrape_configs:\n  - job_name: agentic\n    static_configs:\n      - targets: [\"{target}\"]\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self { child, url: format!("http://127.0.0.1:{port}"), dir }
    }

    /// An API answer; `Null` while Prometheus is not up yet.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> serde_json::Value {
        let sent = reqwest::Client::new().get(format!("{}{path}", self.url)).query(query).send().await;
        match sent {
            Ok(response) => response.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        }
    }

    async fn wait_until(&self, what: &str, mut done: impl AsyncFnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !done(self).await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The value of an instant query that returns one sample.
    async fn scalar(&self, query: &str) -> Option<f64> {
        let answer = self.get("/api/v1/query", &[("query", query)]).await;
        answer["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn completion(content: &str) -> serde_json::Value {
    serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "obs-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})
}

const QA: &str = "name: QA Tester\nrole: Tester\ngoal: Test\nbackstory: Tests.\ntools: []\nrisk_level: low\nllm:\n  provider: openai\n  model: obs-model\n  max_tokens: 64\n";

/// Runs qa_tester on `task` and waits for the run; waits out the route's rate limit (10 a second) when it refuses.
fn execute(addr: &str, project: &str, task: &str) -> serde_json::Value {
    let body = format!(r#"{{"task":"{task}","project_id":"{project}","wait":30}}"#);
    loop {
        let (status, run) = request(addr, "POST", "/v1/agents/qa_tester/execute", KEY, "application/json", &body);
        if status == 429 {
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        assert_eq!(status, 200, "{run}");
        return serde_json::from_str(&run).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_a_loaded_server_and_an_alert_fires() {
    if !have("prometheus") || !have("promtool") {
        return;
    }
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let upstream = common::chat_upstream(completion("All tests pass.")).await;
    let dir = std::env::temp_dir().join(format!("agentic-obs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pricing = dir.join("pricing.toml");
    std::fs::write(&pricing, "[models.\"obs-model\"]\ninput = \"1.00\"\noutput = \"2.00\"\n").unwrap();
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("OPENAI_BASE_URL", format!("{}/v1", upstream.uri()))
        .env("OPENAI_API_KEY", "sk-test")
        .env("AGENTIC_PRICING_FILE", &pricing)
        .env("AGENTIC_METRICS_BIND", &metrics_addr)
        .env("AGENTIC_METRICS_SAMPLE_SECS", "1")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let prometheus = Prometheus::start(&metrics_addr);
    prometheus.wait_until("the first scrapes", async |p| p.scalar(r#"up{job="agentic"}"#).await == Some(1.0)).await;

    // Load: runs that complete, a workflow (it fails at planning: the Overseer's provider is not configured), a
    // schedule firing every second, refused credentials.
    let (status, body) = request(&addr, "PUT", "/v1/agents/qa_tester", KEY, "application/yaml", QA);
    assert!(status == 200 || status == 201, "{body}");
    let devops = include_str!("../../../agentic-core/agents/devops_engineer.yaml")
        .replace("risk_level: high", "risk_level: medium");
    let (status, body) = request(&addr, "PUT", "/v1/agents/devops_engineer", KEY, "application/yaml", &devops);
    assert!(status == 200 || status == 201, "{body}");
    let (status, project) =
        request(&addr, "POST", "/v1/projects", KEY, "application/json", r#"{"name":"Obs","budget":"100.00"}"#);
    assert_eq!(status, 201, "{project}");
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let project_id = project["id"].as_str().unwrap().to_owned();
    for i in 0..10 {
        assert_eq!(execute(&addr, &project_id, &format!("check {i}"))["status"], "completed");
    }
    let workflow = format!(
        r#"{{"name":"ProjectPipelineWorkflow","project_id":"{project_id}","args":{{"goal":"Ship"}},"wait":30}}"#
    );
    let (status, body) = request(&addr, "POST", "/v1/workflows", KEY, "application/json", &workflow);
    assert!(status == 200 || status == 202, "{body}");
    let schedule = format!(
        r#"{{"name":"tick","target":{{"agent":"qa_tester","task":"tick"}},"project_id":"{project_id}","spec":{{"every":"1s"}},"overlap_policy":"allow_all"}}"#
    );
    let (status, body) = request(&addr, "POST", "/v1/schedules", KEY, "application/json", &schedule);
    assert_eq!(status, 201, "{body}");
    let schedule_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(get(&addr, "/v1/projects", Some("agk_not-a-key")).0, 401);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, body) = request(&addr, "DELETE", &format!("/v1/schedules/{schedule_id}"), KEY, "application/json", "");
    assert!(status == 200 || status == 204, "{body}");
    prometheus
        .wait_until("agent executions in Prometheus", async |p| {
            p.scalar("sum(agent_executions_total)").await.is_some_and(|n| n >= 10.0)
        })
        .await;
    // The usage gauges are sampled at the upkeep loop's pace (every 5 s at most).
    prometheus
        .wait_until("a usage sample after the load", async |p| {
            p.scalar("max(tenant_storage_bytes)").await.is_some_and(|bytes| bytes > 0.0)
        })
        .await;

    // The scrape is clean for promtool, and every metric the dashboards and rules name is exported (or recorded).
    let (_, scrape) = get(&metrics_addr, "/metrics", None);
    let (clean, lint) = run("promtool", &["check", "metrics"], Some(&scrape));
    assert!(clean, "promtool check metrics:\n{lint}");
    let mut exported: BTreeSet<String> = scrape
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .flat_map(|line| {
            let (name, kind) = line.split_once(' ').unwrap();
            let suffixes: &[&str] = if kind == "histogram" { &["_bucket", "_sum", "_count"] } else { &[""] };
            suffixes.iter().map(move |s| format!("{name}{s}")).collect::<Vec<_>>()
        })
        .collect();
    exported.insert("up".to_owned());
    let rules_dir = deploy().join("prometheus/rules");
    let recorded = rules(&rules_dir.join("recording.yml"));
    exported.extend(recorded.iter().map(|(name, _)| name.clone()));
    let mut named = BTreeSet::new();
    let everything =
        dashboard_expressions().into_iter().chain(recorded.clone()).chain(rules(&rules_dir.join("alerts.yml")));
    for (place, expr) in everything {
        for name in metric_names(&expr) {
            assert!(exported.contains(&name), "{place}: `{name}` is not exported by the server ({expr})");
            named.insert(name);
        }
    }
    assert!(named.len() >= 25, "the expressions name {} metrics: {named:?}", named.len());
    for must in [
        "workflow_executions_total",
        "llm_calls_total",
        "tenant_storage_bytes",
        "schedule_fires_total",
        "retrieval_citation_score_bucket",
    ] {
        assert!(named.contains(must), "{must} is on no dashboard");
    }

    // A burst of failures: the model refuses every request, half of qa_tester's executions fail, the alert fires.
    upstream.reset().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(400).set_body_string(r#"{"error":{"message":"bad request"}}"#))
        .mount(&upstream)
        .await;
    for i in 0..12 {
        assert_eq!(execute(&addr, &project_id, &format!("fail {i}"))["status"], "failed");
    }
    prometheus
        .wait_until("AgentErrorRatioHigh to fire", async |p| {
            let alerts = p.get("/api/v1/alerts", &[]).await;
            alerts["data"]["alerts"].as_array().into_iter().flatten().any(|a| {
                a["labels"]["alertname"] == "AgentErrorRatioHigh"
                    && a["labels"]["agent_name"] == "qa_tester"
                    && a["state"] == "firing"
            })
        })
        .await;
    let ratio = prometheus.scalar(r#"agentic:agent_error_ratio:rate5m{agent_name="qa_tester"}"#).await.unwrap();
    assert!(ratio > 0.1, "{ratio}");
    let spent = prometheus.scalar("sum(llm_cost_usd_total)").await.unwrap();
    assert!(spent > 0.0, "{spent}");
    println!("Prometheus saw qa_tester's error ratio at {ratio:.2} and ${spent:.6} spent; AgentErrorRatioHigh fired");
    stop(&mut child);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_reach_an_otlp_collector_and_continue_the_callers_trace() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let mut child = server()
        .env("AGENTIC_BIND", "127.0.0.1:0")
        .env("AGENTIC_BOOTSTRAP_API_KEY", KEY)
        .env("AGENTIC_OTLP_ENDPOINT", format!("{}/v1/traces", collector.uri()))
        .env("AGENTIC_OTLP_SERVICE_NAME", "agentic-under-test")
        .spawn()
        .unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let (status, project) = request(&addr, "POST", "/v1/projects", KEY, "application/json", r#"{"name":"Traced"}"#);
    assert_eq!(status, 201, "{project}");
    let project: serde_json::Value = serde_json::from_str(&project).unwrap();
    let body = format!(r#"{{"task":"Review","project_id":"{}","wait":30}}"#, project["id"].as_str().unwrap());
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/v1/agents/qa_tester/execute"))
        .bearer_auth(KEY)
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let run: serde_json::Value = response.json().await.unwrap();
    assert_eq!(run["status"], "completed", "{run}");
    assert!(run["traceparent"].as_str().unwrap().starts_with(&format!("00-{trace}-")), "{run}");
    stop(&mut child); // flushes the batch exporter

    let requests = collector.received_requests().await.unwrap();
    assert!(!requests.is_empty(), "no export reached the collector");
    let bodies: Vec<u8> = requests.iter().flat_map(|r| r.body.clone()).collect();
    for request in &requests {
        assert_eq!(request.headers.get("content-type").unwrap(), "application/x-protobuf");
    }
    // OTLP protobuf carries names, attribute keys and ids as raw bytes.
    let has = |needle: &[u8]| bodies.windows(needle.len()).any(|w| w == needle);
    for needle in [
        &b"agentic-under-test"[..],
        // An agent run's span is its agent's invocation, with the run's attributes.
        b"invoke_agent qa_tester",
        b"attempt",
        b"gen_ai.system",
        b"gen_ai.usage.input_tokens",
    ] {
        assert!(has(needle), "the export lacks {}", String::from_utf8_lossy(needle));
    }
    let trace_bytes: Vec<u8> = (0..16).map(|i| u8::from_str_radix(&trace[2 * i..2 * i + 2], 16).unwrap()).collect();
    assert!(has(&trace_bytes), "the spans continue the caller's trace");
}
