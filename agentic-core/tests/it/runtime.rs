//! The agent runtime on the scripted mock LLM: tools, the iteration bound, and budgets mid-run.

use std::sync::Arc;

use agentic_core::Error;
use agentic_core::engine::{AgentTask, RunStep};
use agentic_core::ids::{ProjectId, TenantId};
use agentic_core::llm::Usage;
use agentic_core::tools::{Tool, ToolContext, ToolError};
use agentic_llm::mock::{MockProvider, MockReply};
use agentic_llm::registry::ProviderRegistry;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};

use crate::support::{HS_SECRET, TestApp};

/// A stand-in `dockerfile_optimizer` that records nothing and reports one finding.
#[derive(Debug)]
struct FakeDockerLinter;

#[async_trait]
impl Tool for FakeDockerLinter {
    fn name(&self) -> &str {
        "dockerfile_optimizer"
    }
    fn description(&self) -> &str {
        "lints Dockerfiles"
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object"})
    }
    async fn call(&self, _: &ToolContext, input: Value) -> Result<Value, ToolError> {
        let text = input["dockerfile"].as_str().ok_or_else(|| ToolError::InvalidInput("dockerfile missing".into()))?;
        Ok(json!({"findings": if text.contains(":latest") { vec!["unpinned base image"] } else { vec![] }}))
    }
}

const AGENT: &str = "name: Auditor\nrole: Security reviewer\ngoal: Review\nbackstory: Careful\ntools:\n  - secret_detector\n  - dockerfile_optimizer\nllm:\n  provider: claude\n  model: claude-sonnet-4\n  max_tokens: 1000\nmax_iterations: 3\n";

async fn app_with<P: agentic_core::llm::LlmProvider + 'static>(mock: Arc<P>) -> TestApp {
    TestApp::with(move |b| {
        b.jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", HS_SECRET).unwrap())
            .llm_providers(Arc::new(ProviderRegistry::mock_only(mock)))
            .tools(crate::support::builtin_tools().with(Arc::new(FakeDockerLinter)))
    })
    .await
}

/// Defines the `auditor` agent and a project with `budget`; returns (tenant, project).
async fn setup(app: &TestApp, budget: Option<&str>) -> (TenantId, ProjectId) {
    let request = Request::put("/v1/agents/auditor")
        .header("authorization", format!("Bearer {}", app.admin_key))
        .header("content-type", "application/yaml")
        .body(Body::from(AGENT))
        .unwrap();
    assert_eq!(app.send(request).await.status.as_u16(), 201);
    let body = match budget {
        Some(b) => json!({"name": "Audit", "budget": b}),
        None => json!({"name": "Audit"}),
    };
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(body)).await.expect(201);
    (project["tenant_id"].as_str().unwrap().parse().unwrap(), project["id"].as_str().unwrap().parse().unwrap())
}

fn task(tenant: TenantId, project: ProjectId) -> AgentTask {
    AgentTask {
        tenant_id: tenant,
        project_id: project,
        run_id: None,
        agent: "auditor".into(),
        task: "Audit the repository".into(),
        context: Some(json!({"repo": "acme/web"})),
        cleared_risk: None,
        control: agentic_core::engine::RunControl::default(),
        acting_user: None,
        handoff_chain: Vec::new(),
        output_schema: None,
    }
}

fn usage(input: u64, output: u64) -> Usage {
    Usage { input_tokens: input, output_tokens: output, cached_input_tokens: 0, cache_write_input_tokens: 0 }
}

#[tokio::test]
async fn a_run_calls_two_tools_and_finishes() {
    let mock = Arc::new(
        MockProvider::new()
            .named("anthropic")
            .then(
                MockReply::tool_call(
                    "secret_detector",
                    json!({"files": [{"path": "app.py", "content": "KEY = 'AKIAIOSFODNN7EXAMPLE'"}]}),
                )
                .with_usage(usage(300, 40)),
            )
            .then(
                MockReply::tool_call("dockerfile_optimizer", json!({"dockerfile": "FROM node:latest"}))
                    .with_usage(usage(400, 30)),
            )
            .then(MockReply::text("Found one AWS key and an unpinned base image.").with_usage(usage(500, 20))),
    );
    let app = app_with(Arc::clone(&mock)).await;
    let (tenant, project) = setup(&app, None).await;
    let outcome = app.platform.run_agent(task(tenant, project)).await.unwrap();

    assert_eq!(outcome.output, "Found one AWS key and an unpinned base image.");
    let kinds: Vec<&str> = outcome
        .steps
        .iter()
        .map(|s| match s {
            RunStep::LlmCall { .. } => "llm",
            RunStep::ToolCall { .. } => "tool",
        })
        .collect();
    assert_eq!(kinds, vec!["llm", "tool", "llm", "tool", "llm"]);
    let RunStep::ToolCall { output, ok: true, .. } = &outcome.steps[1] else { panic!("{:?}", outcome.steps[1]) };
    assert_eq!(output["findings"][0]["rule"], "aws_access_key_id");
    assert_eq!(outcome.usage, usage(1200, 90));

    // The model saw the system prompt, the tools, and each tool result before its next turn.
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[0].system.as_deref().unwrap().contains("Security reviewer"));
    assert_eq!(requests[0].tools.len(), 2);
    assert_eq!(requests[0].max_tokens, 1000);
    let last = serde_json::to_string(&requests[2].messages).unwrap();
    assert!(last.contains("unpinned base image") && last.contains("aws_access_key_id"), "{last}");

    // Three cost records, one per model turn; events and metrics.
    let report =
        app.call("GET", &format!("/v1/projects/{project}/costs"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(report["total"]["calls"], 3);
    assert_eq!(report["total"]["cost"], outcome.cost.to_string());
    assert_eq!(app.events_of("agent.started").await.len(), 1);
    assert_eq!(app.events_of("agent.completed").await.len(), 1);
    let metrics = app.platform.metrics().render().unwrap();
    assert!(metrics.contains(r#"agent_executions_total{agent_name="custom",status="completed"} 1"#), "{metrics}");
}

#[tokio::test]
async fn the_iteration_bound_ends_a_run_that_never_stops_calling_tools() {
    let mock = Arc::new(
        MockProvider::new().named("anthropic").when(
            |_| true,
            MockReply::tool_call("dockerfile_optimizer", json!({"dockerfile": "FROM alpine:3.20"}))
                .with_usage(usage(10, 10)),
        ),
    );
    let app = app_with(Arc::clone(&mock)).await;
    let (tenant, project) = setup(&app, None).await;
    let error = app.platform.run_agent(task(tenant, project)).await.unwrap_err();
    assert!(matches!(error, Error::MaxIterations { limit: 3 }), "{error}");
    assert_eq!(mock.requests().len(), 3);
    let failed = app.events_of("agent.failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].data["reason"].as_str().unwrap().contains("3 model turns"));
}

#[tokio::test]
async fn an_exhausted_budget_ends_the_run_before_the_next_call() {
    let mock = Arc::new(
        MockProvider::new()
            .named("anthropic")
            .then(
                MockReply::tool_call("dockerfile_optimizer", json!({"dockerfile": "FROM x"}))
                    .with_usage(usage(100, 100)),
            )
            .reply("never requested"),
    );
    let app = app_with(Arc::clone(&mock)).await;
    // The first turn's worst case (1,000 output tokens at $15/M, plus the prompt and the provider's tool
    // instructions at $3/M) fits in $0.019; after it costs $0.0018, the second turn's (a longer prompt) does not.
    let (tenant, project) = setup(&app, Some("0.019")).await;
    let error = app.platform.run_agent(task(tenant, project)).await.unwrap_err();
    let Error::BudgetExceeded { status, .. } = &error else { panic!("{error}") };
    assert_eq!(status.spent.to_string(), "0.0018");
    assert_eq!(mock.requests().len(), 1, "no LLM call after the refusal");
    assert_eq!(mock.remaining(), 1);
    assert_eq!(app.events_of("agent.failed").await.len(), 1);
}

#[tokio::test]
async fn unknown_agents_and_unconfigured_providers_fail_clearly() {
    let mock = Arc::new(MockProvider::new());
    let app = app_with(mock).await;
    let (tenant, project) = setup(&app, None).await;
    let mut missing = task(tenant, project);
    missing.agent = "nobody_here".into();
    assert!(matches!(app.platform.run_agent(missing).await, Err(Error::NotFound("agent"))));

    let bare = TestApp::new().await;
    let (tenant, project) = setup(&bare, None).await;
    let error = bare.platform.run_agent(task(tenant, project)).await.unwrap_err();
    assert!(error.to_string().contains("no LLM providers"), "{error}");
}

const BUILDER: &str = "name: Platform\nrole: Infrastructure\ngoal: Deploy\nbackstory: Careful\ntools:\n  - kubernetes_generator\nllm:\n  provider: claude\n  model: claude-sonnet-4\n  max_tokens: 500\n";

#[tokio::test]
async fn generators_repair_a_parse_failure_once() {
    let good = "```yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n```";
    let bad = "```yaml\napiVersion: v1\nkind: Service\n```";
    let mock = Arc::new(
        MockProvider::new()
            .named("anthropic")
            .then(MockReply::tool_call("kubernetes_generator", json!({"request": "a Service for web"})))
            .reply(bad)
            .reply(good)
            .then(MockReply::tool_call("kubernetes_generator", json!({"request": "again"})))
            .reply(bad)
            .reply(bad)
            .reply("Deployed manifests are ready."),
    );
    let app = TestApp::with({
        let mock = Arc::clone(&mock);
        move |b| {
            b.jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", HS_SECRET).unwrap())
                .llm_providers(Arc::new(ProviderRegistry::mock_only(mock)))
        }
    })
    .await;
    let request = Request::put("/v1/agents/builder")
        .header("authorization", format!("Bearer {}", app.admin_key))
        .header("content-type", "application/yaml")
        .body(Body::from(BUILDER))
        .unwrap();
    assert_eq!(app.send(request).await.status.as_u16(), 201);
    let project =
        app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Infra"}))).await.expect(201);
    let (tenant, project) =
        (project["tenant_id"].as_str().unwrap().parse().unwrap(), project["id"].as_str().unwrap().parse().unwrap());
    let mut job = task(tenant, project);
    job.agent = "builder".into();
    let outcome = app.platform.run_agent(job).await.unwrap();
    assert_eq!(outcome.output, "Deployed manifests are ready.");

    let tools: Vec<(&Value, bool)> = outcome
        .steps
        .iter()
        .filter_map(|s| match s {
            RunStep::ToolCall { output, ok, .. } => Some((output, *ok)),
            RunStep::LlmCall { .. } => None,
        })
        .collect();
    assert_eq!(tools.len(), 2);
    assert!(tools[0].1);
    assert_eq!(tools[0].0["repaired"], true);
    assert!(tools[0].0["artifact"].as_str().unwrap().contains("name: web"));
    assert!(!tools[1].1, "two bad answers: the tool reports an error to the agent");
    assert!(tools[1].0["error"].as_str().unwrap().contains("metadata.name"));

    let requests = mock.requests();
    assert_eq!(requests.len(), 7, "agent, ask, repair, agent, ask, repair, agent");
    let repair = serde_json::to_string(&requests[2].messages).unwrap();
    assert!(repair.contains("failed the check") && repair.contains("metadata.name"), "{repair}");
    // Every model call, the tool's included, was costed.
    let report =
        app.call("GET", &format!("/v1/projects/{project}/costs"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(report["total"]["calls"], 7);
    // The run's totals include the tools' questions, not only the agent's own turns.
    assert_eq!(report["total"]["output_tokens"], outcome.usage.output_tokens);
    assert_eq!(report["total"]["input_tokens"], outcome.usage.input_tokens);
    assert_eq!(report["total"]["cost"], json!(outcome.cost));
}

const DESIGNER: &str = "name: Designer\nrole: UX\ngoal: Tokens\nbackstory: Careful\ntools:\n  - design_system_generator\nllm:\n  provider: claude\n  model: claude-sonnet-4\n  max_tokens: 500\n";

#[tokio::test]
async fn a_generator_of_json_asks_for_its_form_and_reads_the_answer_with_it() {
    let tokens =
        r##"{"colors": {"primary": "#0055ff"}, "typography": {"body": {"fontFamily": "Inter", "fontSize": "16px"}}}"##;
    let mock = Arc::new(
        MockProvider::new()
            .named("anthropic")
            .then(MockReply::tool_call("design_system_generator", json!({"request": "tokens for a calm brand"})))
            .reply(r##"{"colors": {"primary": "#0055ff"}, "typography": {"body": "16px"}}"##)
            .reply(tokens)
            .reply("The tokens are ready."),
    );
    let app = app_with(Arc::clone(&mock)).await;
    app.put_agent("designer", DESIGNER).await;
    let (tenant, project) = setup(&app, None).await;
    let mut job = task(tenant, project);
    job.agent = "designer".into();
    let outcome = app.platform.run_agent(job).await.unwrap();
    let output = outcome
        .steps
        .iter()
        .find_map(|s| match s {
            RunStep::ToolCall { output, ok: true, .. } => Some(output.clone()),
            _ => None,
        })
        .expect("the generator succeeded");
    assert_eq!(output["repaired"], true, "a typography entry that is not an object is sent back: {output}");
    assert_eq!(
        serde_json::from_str::<Value>(output["artifact"].as_str().unwrap()).unwrap()["colors"]["primary"],
        "#0055ff"
    );

    let requests = mock.requests();
    let form = requests[1].output_schema.as_ref().expect("the generator asks for its form");
    assert_eq!(form.name, "design_tokens");
    assert!(requests[0].output_schema.is_none(), "the agent's own turns are free");
    let repair = serde_json::to_string(&requests[2].messages).unwrap();
    assert!(repair.contains("/typography/body"), "the mistake is named where it is: {repair}");
}

#[tokio::test]
async fn a_failover_chain_charges_and_names_the_provider_that_answered() {
    // The preferred provider is rate limited; the self-hosted backup (free in the pricing table) answers.
    let preferred = Arc::new(
        MockProvider::new().named("anthropic").error(|| agentic_core::llm::LlmError::RateLimited { retry_after: None }),
    );
    let backup = Arc::new(MockProvider::new().named("ollama").reply("Audited."));
    let chain = agentic_llm::failover::Failover::new(vec![preferred, backup.clone()]).unwrap();
    let app = app_with(Arc::new(chain)).await;
    let (tenant, project) = setup(&app, Some("5.00")).await;
    let outcome = app.platform.run_agent(task(tenant, project)).await.unwrap();
    assert_eq!(outcome.output, "Audited.");
    assert_eq!(backup.requests().len(), 1);
    let report = app
        .call("GET", &format!("/v1/projects/{project}/costs?group_by=provider"), Some(&app.admin_key), None)
        .await
        .expect(200);
    assert_eq!(report["groups"][0]["key"], "ollama", "{report}");
    assert_eq!(report["total"]["cost"], "0.00", "priced as the backup's, not the preferred provider's");
}

#[tokio::test]
async fn an_abandoned_call_releases_its_budget_hold() {
    // The model never answers; the run is dropped mid-call, as a worker that lost its lease drops its work.
    let mock = Arc::new(
        MockProvider::new()
            .named("anthropic")
            .then(MockReply::text("late").with_delay(std::time::Duration::from_secs(600))),
    );
    let app = app_with(Arc::clone(&mock)).await;
    let (tenant, project) = setup(&app, Some("5.00")).await;
    let reserved = || async {
        let report =
            app.call("GET", &format!("/v1/projects/{project}/costs"), Some(&app.admin_key), None).await.expect(200);
        report["budget"]["reserved"].clone()
    };
    let platform = app.platform.clone();
    let job = tokio::spawn(async move { platform.run_agent(task(tenant, project)).await });
    let mut held = false;
    for _ in 0..200 {
        if reserved().await != json!(agentic_core::model::Money::ZERO) {
            held = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(held, "the call holds its worst case while in flight");
    job.abort();
    assert!(job.await.unwrap_err().is_cancelled());
    let mut released = false;
    for _ in 0..200 {
        if reserved().await == json!(agentic_core::model::Money::ZERO) {
            released = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(released, "the abandoned call's hold was released, not left to expire");
    let failed = app.events_of("agent.failed").await;
    assert_eq!(failed.len(), 1, "the abandoned run's agent.started got its end");
    assert_eq!(failed[0].data["reason"], "abandoned before it finished");
}

#[tokio::test]
async fn a_settlement_the_store_refuses_keeps_its_hold_and_is_charged_by_the_upkeep() {
    use agentic_core::testing::faults::{FaultyStore, Op};
    let mock =
        Arc::new(MockProvider::new().named("anthropic").then(MockReply::text("done").with_usage(usage(100, 100))));
    let app = app_with(Arc::clone(&mock)).await;
    let (store, faults) = FaultyStore::wrap(Arc::clone(app.platform.store()));
    let app = app.with_llm_and(Arc::clone(&mock), |b| {
        b.store(Arc::new(store)).tools(crate::support::builtin_tools().with(Arc::new(FakeDockerLinter)))
    });
    let (tenant, project) = setup(&app, Some("1.00")).await;
    let costs = format!("/v1/projects/{project}/costs");

    // The provider answered, then every settlement attempt fails (a pool timeout under load, say).
    faults.fail(Op::Settle, u32::MAX);
    let outcome = app.platform.run_agent(task(tenant, project)).await.unwrap();
    assert_eq!(outcome.output, "done");
    assert_eq!(faults.calls(Op::Settle), 3, "retried before giving up");
    let report = app.call("GET", &costs, Some(&app.admin_key), None).await.expect(200);
    assert_eq!(report["budget"]["spent"], "0.00", "{report}");
    assert_ne!(report["budget"]["reserved"], "0.00", "the hold stays and counts against the budget: {report}");
    assert_eq!(app.platform.settle_pending_charges().await, 1, "still pending while the store fails");

    // The store is back: the upkeep charges the call once, and the hold is gone.
    faults.heal();
    assert_eq!(app.platform.settle_pending_charges().await, 0);
    let report = app.call("GET", &costs, Some(&app.admin_key), None).await.expect(200);
    let budget = &report["budget"];
    assert_eq!((budget["spent"].as_str(), budget["reserved"].as_str()), (Some("0.0018"), Some("0.00")), "{report}");
    assert_eq!(report["total"]["calls"], 1, "{report}");
    assert_eq!(app.platform.settle_pending_charges().await, 0, "charged once");
}

/// A host app's own tool: looks a ticket up in the host's system.
#[derive(Debug)]
struct TicketLookup;

#[async_trait]
impl Tool for TicketLookup {
    fn name(&self) -> &str {
        "ticket_lookup"
    }
    fn description(&self) -> &str {
        "Finds a support ticket by id."
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]})
    }
    async fn call(&self, context: &ToolContext, input: Value) -> Result<Value, ToolError> {
        let id = input["id"].as_str().ok_or_else(|| ToolError::InvalidInput("`id` is required".into()))?;
        Ok(
            json!({"id": id, "title": "Checkout fails on Safari", "agent": context.agent, "in_run": context.run_id.is_some()}),
        )
    }
}

#[tokio::test]
async fn a_host_apps_own_tool_is_named_in_a_tenant_agent_and_runs_in_the_tool_loop() {
    let mock = Arc::new(
        MockProvider::new()
            .then(MockReply::tool_call("ticket_lookup", json!({"id": "T-7"})).with_usage(usage(100, 10)))
            .then(MockReply::text("T-7 is a Safari checkout bug.").with_usage(usage(150, 12))),
    );
    // One provider for every agent, and only the host's tool: no built-in tools at all.
    let app = TestApp::with({
        let mock = Arc::clone(&mock);
        move |b| b.llm(mock).tools(agentic_core::tools::ToolRegistry::new()).tool(Arc::new(TicketLookup))
    })
    .await;
    let yaml = "name: Triager\nrole: Support triage\ngoal: Triage tickets\nbackstory: Patient\ntools:\n  - ticket_lookup\nllm:\n  provider: claude\n  model: claude-sonnet-4\n";
    let put = |yaml: String| {
        Request::put("/v1/agents/triager")
            .header("authorization", format!("Bearer {}", app.admin_key))
            .header("content-type", "application/yaml")
            .body(Body::from(yaml))
            .unwrap()
    };
    // A tool the platform does not have is refused, naming the ones it has.
    let refused = app.send(put(yaml.replace("ticket_lookup", "secret_detector"))).await;
    assert_eq!(refused.status.as_u16(), 422);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(
            "unknown tool `secret_detector` (context_append, context_get, context_set, knowledge_search, ticket_lookup)"
        ),
        "{detail}"
    );
    assert_eq!(app.send(put(yaml.to_owned())).await.status.as_u16(), 201);

    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Support"}))).await;
    let project = project.expect(201);
    let platform = app.platform.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(async move {
        platform
            .run_worker("w".into(), std::time::Duration::from_millis(20), async {
                let _ = stopped.await;
            })
            .await;
    });
    let body = json!({"task": "Triage T-7", "project_id": project["id"], "wait": true});
    let done = app.call("POST", "/v1/agents/triager/execute", Some(&app.admin_key), Some(body)).await.expect(200);
    let _ = stop.send(());
    worker.await.unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output"]["answer"], "T-7 is a Safari checkout bug.", "{done}");
    let step = &done["output"]["steps"][1];
    assert_eq!(step["type"], "tool_call");
    assert_eq!(step["name"], "ticket_lookup");
    assert_eq!(step["ok"], true);
    assert_eq!(
        step["output"],
        json!({"id": "T-7", "title": "Checkout fails on Safari", "agent": "triager", "in_run": true})
    );
    // The model was offered the host's tool, and saw its answer before its second turn.
    let requests = mock.requests();
    assert_eq!(requests[0].tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["ticket_lookup"]);
    assert!(format!("{:?}", requests[1].messages).contains("Checkout fails on Safari"));
}

#[tokio::test]
async fn auto_tools_report_what_is_in_the_files_whatever_the_model_writes() {
    // The model looks at nothing and says all is well.
    let mock = Arc::new(MockProvider::new().named("anthropic").reply("All good: nothing to report."));
    let app = app_with(Arc::clone(&mock)).await;
    let project =
        app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Audit"}))).await.expect(201);
    let files = json!([
        {"path": "app/settings.py", "content": "AWS_KEY = 'AKIAIOSFODNN7EXAMPLE'\n"},
        {"path": "app/db.py", "content": "def find(uid):\n    cur.execute(f\"SELECT * FROM users WHERE id = {uid}\")\n"},
        {"path": "requirements.txt", "content": "requests==2.19.0\n"},
    ]);
    let queued = app
        .call(
            "POST",
            "/v1/agents/security_auditor/execute",
            Some(&app.admin_key),
            Some(json!({"task": "Audit this service", "project_id": project["id"], "context": {"files": files}})),
        )
        .await
        .expect(202);
    assert!(app.platform.work_once("worker-1").await.unwrap());
    let run_id = queued["id"].as_str().unwrap();
    let done = app.call("GET", &format!("/v1/runs/{run_id}/result"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output"]["answer"], "All good: nothing to report.");
    let found: Vec<(&str, &str, &str)> = done["output"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["tool"].as_str().unwrap(), f["rule"].as_str().unwrap(), f["location"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        found,
        [
            ("secret_detector", "aws_access_key_id", "app/settings.py:1"),
            ("owasp_scanner", "sql-string-formatting", "app/db.py:2"),
            ("dependency_checker", "advisories-not-configured", ""),
        ]
    );
    // Each analyzer is a step before the model's turn, and the model was told what they found.
    let steps: Vec<&str> =
        done["output"]["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap_or("llm")).collect();
    assert_eq!(steps, ["secret_detector", "owasp_scanner", "dependency_checker", "llm"]);
    let asked = serde_json::to_string(&mock.requests()[0].messages).unwrap();
    assert!(asked.contains("aws_access_key_id") && asked.contains("sql-string-formatting"), "{asked}");
    assert!(!serde_json::to_string(&done["output"]["findings"]).unwrap().contains("AKIAIOSFODNN7EXAMPLE"));

    // Without files, the analyzers do not run and the result carries no findings.
    let queued = app
        .call(
            "POST",
            "/v1/agents/security_auditor/execute",
            Some(&app.admin_key),
            Some(json!({"task": "Audit nothing", "project_id": project["id"]})),
        )
        .await
        .expect(202);
    assert!(app.platform.work_once("worker-1").await.unwrap());
    let run_id = queued["id"].as_str().unwrap();
    let done = app.call("GET", &format!("/v1/runs/{run_id}/result"), Some(&app.admin_key), None).await.expect(200);
    assert!(done["output"].get("findings").is_none(), "{done}");
}
