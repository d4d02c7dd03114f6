//! The `agentic` binary against a running platform (its router served on loopback with workers, on the memory
//! store): login and profiles, executing with `--wait`, listing runs, approving a gated run, the costs table,
//! `--json` output, and the exit codes.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use agentic_core::Platform;
use agentic_core::engine::{BackgroundOptions, Bootstrap};
use agentic_core::model::Plan;
use agentic_llm::mock::MockProvider;
use agentic_llm::registry::ProviderRegistry;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// A served platform with workers; returns its URL and the admin's API key.
async fn serve() -> (String, String, Platform) {
    let platform = Platform::builder()
        .store(Arc::new(agentic_store_memory::MemoryStore::new()))
        .llm_providers(Arc::new(ProviderRegistry::mock_only(Arc::new(MockProvider::echo()))))
        .build()
        .unwrap();
    let report = platform
        .bootstrap(Bootstrap {
            slug: "acme".into(),
            plan: Plan::Enterprise,
            admin_email: "admin@acme.test".into(),
            admin_password: SecretString::from("admin password 123"),
            api_key: None,
        })
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(agentic_core::http::serve(listener, platform.router(), std::future::pending()));
    let mut options = BackgroundOptions::workers(2);
    options.idle_poll = Duration::from_millis(50);
    // Kept running for the test's life.
    std::mem::forget(platform.spawn_background(options));
    (url, report.api_key.expose_secret().to_owned(), platform)
}

/// The binary with a private config file and no inherited profile settings.
struct Agentic {
    config: PathBuf,
}

impl Agentic {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("agentic-cli-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self { config: dir.join("config.toml") }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_agentic"));
        command.args(args).env("AGENTIC_CONFIG", &self.config);
        for variable in ["AGENTIC_PROFILE", "AGENTIC_URL", "AGENTIC_API_KEY"] {
            command.env_remove(variable);
        }
        command
    }

    /// Runs the binary (off the async runtime's threads) and returns its output.
    async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
    }

    /// Runs with `stdin` as standard input.
    async fn run_with_input(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = self.command(args);
        let stdin = stdin.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut child =
                command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    /// Runs, expects `code`, and returns standard output.
    async fn expect(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args).await;
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(code), "agentic {args:?}\nstdout: {stdout}\nstderr: {stderr}");
        assert!(!stdout.contains('\u{1b}'), "no escape codes when stdout is not a terminal: {stdout:?}");
        stdout.into_owned()
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        serde_json::from_str(&self.expect(&with_json, 0).await).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_drives_a_platform_end_to_end() {
    let (url, admin_key, platform) = serve().await;
    let cli = Agentic::new("e2e");

    // Before login, a command says what to do (a configuration error: 2).
    let output = cli.run(&["runs", "list"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("agentic login"));

    let logged_in = cli.expect(&["login", "--url", &url, "--key", &admin_key], 0).await;
    assert!(logged_in.contains("admin@acme.test"), "{logged_in}");
    cli.expect(&["projects", "create", "Site", "--budget", "25.00"], 0).await;

    // Execute and wait: the answer is printed; the run is listed, as a table and as JSON.
    let execute = ["agents", "execute", "qa_tester", "Review the login form", "--project", "Site", "--wait"];
    let done = cli.expect(&execute, 0).await;
    assert!(done.contains("completed") && done.contains("mock reply to: Review the login form"), "{done}");
    let table = cli.expect(&["runs", "list"], 0).await;
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("ID") && header.contains("STATUS") && header.contains("AGENT"), "{table}");
    assert!(table.lines().nth(1).unwrap().contains("completed"), "{table}");
    let runs = cli.json(&["runs", "list", "--status", "completed"]).await;
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["agent"], "qa_tester");
    let run_id = runs[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(cli.json(&["runs", "show", &run_id]).await["status"], "completed");

    // A gated run: started without waiting, approved by a manager signed in with their password (the CLI creates
    // and saves an API key for them), then waited for.
    let gated = cli.json(&["agents", "execute", "devops_engineer", "Rotate the keys", "--project", "Site"]).await;
    assert_eq!(gated["status"], "awaiting_approval");
    let gated_id = gated["id"].as_str().unwrap().to_owned();
    let admin = agentic_sdk::AgenticClient::builder(&url).api_key(&admin_key).build().unwrap();
    let manager = agentic_sdk::api::CreateUserRequest {
        email: "boss@acme.test".into(),
        password: SecretString::from("manager password 1"),
        roles: vec![agentic_sdk::model::Role::Manager],
    };
    admin.users().create(&manager).await.unwrap();
    let login = ["login", "--profile", "boss", "--url", &url, "--tenant", "acme", "--email", "boss@acme.test"];
    let signed_in = cli.run_with_input(&login, "manager password 1\n").await;
    assert_eq!(signed_in.status.code(), Some(0), "{}", String::from_utf8_lossy(&signed_in.stderr));
    let pending = cli.json(&["--profile", "boss", "approvals", "list"]).await;
    let approval = pending.as_array().unwrap().iter().find(|a| a["run_id"] == gated_id.as_str()).unwrap().clone();
    let approval_id = approval["id"].as_str().unwrap();
    let approved = cli.expect(&["--profile", "boss", "approvals", "approve", approval_id, "--comment", "go"], 0).await;
    assert!(approved.contains("approved"), "{approved}");
    let waited = cli.expect(&["runs", "wait", &gated_id, "--timeout", "30"], 0).await;
    assert!(waited.contains("completed"), "{waited}");

    // Costs, grouped: a table with a total row, and JSON.
    let costs = cli.expect(&["costs", "Site", "--by", "agent"], 0).await;
    assert!(costs.lines().next().unwrap().starts_with("AGENT"), "{costs}");
    assert!(costs.contains("qa_tester") && costs.contains("devops_engineer") && costs.contains("TOTAL"), "{costs}");
    let report = cli.json(&["costs", "Site", "--by", "model"]).await;
    assert_eq!(report["total"]["calls"], 2);

    // Exit codes: a budget refusal is 3, an API error 1, a usage error 2, a cancelled run 4.
    let capped = ["agents", "execute", "qa_tester", "Review", "--project", "Site", "--budget-tokens", "100", "--wait"];
    cli.expect(&capped, 3).await;
    let missing = cli.run(&["runs", "show", "0190f5f5-0000-7000-8000-000000000000"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));
    cli.expect(&["runs", "show", "not-an-id"], 2).await;
    cli.expect(&["agents", "execute", "qa_tester", "x", "--project", "No such project"], 2).await;
    cli.expect(&["runs", "frobnicate"], 2).await;
    let second = cli.json(&["agents", "execute", "devops_engineer", "Again", "--project", "Site"]).await;
    let second_id = second["id"].as_str().unwrap();
    assert_eq!(cli.json(&["runs", "cancel", second_id]).await["status"], "cancelled");
    cli.expect(&["runs", "wait", second_id], 4).await;

    // Idempotent starts, the agent catalog, and the tenant's events.
    let keyed = ["agents", "execute", "qa_tester", "Once", "--project", "Site", "--idempotency-key", "once-1"];
    let (first, again) = (cli.json(&keyed).await, cli.json(&keyed).await);
    assert_eq!(first["id"], again["id"]);
    let agents = cli.expect(&["agents", "list"], 0).await;
    assert!(agents.contains("qa_tester") && agents.contains("NAME"), "{agents}");
    assert!(cli.expect(&["agents", "show", "qa_tester"], 0).await.contains("role:"));
    let mut tail = cli.command(&["events", "tail", "--count", "1", "--json"]);
    let tailing = tokio::task::spawn_blocking(move || tail.output().unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    cli.expect(&["agents", "execute", "qa_tester", "Another", "--project", "Site"], 0).await;
    let tailed = tokio::time::timeout(Duration::from_secs(20), tailing).await.unwrap().unwrap();
    assert_eq!(tailed.status.code(), Some(0), "{}", String::from_utf8_lossy(&tailed.stderr));
    let event: Value = serde_json::from_slice(&tailed.stdout).unwrap();
    assert!(event["type"].as_str().unwrap().starts_with("agent.") || event["type"] == "run.llm_call", "{event}");

    // The tenant's outgoing guardrail, read and set (this platform installs no scanner, and says so).
    let guardrail = cli.expect(&["settings", "guardrails"], 0).await;
    assert!(
        guardrail.contains("outgoing guardrail: redact (default)") && guardrail.contains("scans nothing"),
        "{guardrail}"
    );
    assert_eq!(cli.json(&["settings", "guardrails", "block"]).await["outgoing"], "block");
    cli.expect(&["settings", "guardrails", "loud"], 2).await;

    // A knowledge base, files uploaded (one already there is left unchanged, an unreadable one fails the command
    // after the others are in), and a search.
    cli.expect(&["knowledge", "create", "Handbook", "--description", "Policies"], 0).await;
    cli.expect(&["knowledge", "create", "Babel", "--language", "klingon"], 2).await;
    let dir = cli.config.with_file_name("docs");
    std::fs::create_dir_all(&dir).unwrap();
    let refunds = dir.join("refunds.md");
    std::fs::write(&refunds, "# Refunds\n\nRefunds take five business days.").unwrap();
    let shipping = dir.join("shipping.txt");
    std::fs::write(&shipping, "Orders ship from Lisbon within two days.").unwrap();
    let archive = dir.join("old.zip");
    std::fs::write(&archive, [0x50, 0x4b, 3, 4]).unwrap();
    let (refunds, shipping, archive) =
        (refunds.to_str().unwrap(), shipping.to_str().unwrap(), archive.to_str().unwrap());
    let uploaded = cli.json(&["knowledge", "upload", "Handbook", refunds, shipping]).await;
    let results: Vec<&str> = uploaded.as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["created", "created"], "{uploaded}");
    let table = cli.expect(&["knowledge", "upload", "Handbook", refunds, archive], 1).await;
    assert!(table.contains("refunds.md") && table.contains("unchanged"), "{table}");
    assert!(table.contains("old.zip") && table.contains("failed"), "{table}");
    let found = cli.json(&["knowledge", "search", "Handbook", "how long do refunds take", "-k", "1"]).await;
    assert_eq!(found[0]["title"], "Refunds", "{found}");
    let listed = cli.expect(&["knowledge", "list"], 0).await;
    assert!(listed.contains("Handbook") && listed.contains("english"), "{listed}");
    cli.expect(&["knowledge", "search", "Nowhere", "x"], 2).await;
    cli.expect(&["knowledge", "delete", "Handbook"], 0).await;
    drop(platform);
}
