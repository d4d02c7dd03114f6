//! `ProjectPipelineWorkflow` over HTTP on both stores, with a mock LLM that answers by agent: plan, tasks in order
//! with results passed forward, QA review, plan repair, failure, resumption after a crash, and lease renewal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agentic_core::llm::{ChatRequest, Message};
use agentic_llm::mock::{MockProvider, MockReply};
use serde_json::{Value, json};

use agentic_core::testing::faults::{FaultyStore, Op};

use crate::runs::{SHORT_LEASE, outlast_lease};
use crate::support::TestApp;

const PLAN: &str = "Here is the plan:\n```json\n{\"tasks\": [\
    {\"agent\": \"developer\", \"task\": \"Build the signup form\"},\
    {\"agent\": \"devops_engineer\", \"task\": \"Ship it to staging\"}]}\n```";

/// The QA Tester's review, in its form.
const REVIEW: &str = "{\"verdict\": \"request_changes\", \"summary\": \"Signup works; invalid emails are untested\", \
    \"findings\": [{\"severity\": \"medium\", \"description\": \"No test for invalid emails\"}], \
    \"next_tests\": [\"Reject a@b\"]}";

/// Whether `request` comes from the agent called `name` (its system prompt starts with it).
fn from_agent(request: &ChatRequest, name: &str) -> bool {
    request.system.as_deref().is_some_and(|s| s.starts_with(&format!("You are {name},")))
}

fn user_text(request: &ChatRequest) -> String {
    request
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::User { content } => Some(content.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A mock team: the Overseer answers `plan`, every other agent a fixed line of its own.
fn team(plan: &str) -> MockProvider {
    MockProvider::new()
        .when(|r| from_agent(r, "Overseer"), MockReply::text(plan))
        .when(|r| from_agent(r, "Developer"), MockReply::text("Form built in src/signup.tsx"))
        .when(|r| from_agent(r, "DevOps Engineer"), MockReply::text("Deployed to staging"))
        .when(|r| from_agent(r, "QA Tester"), MockReply::text(REVIEW))
}

/// Waits (up to 2 s) until the mock has received `n` requests.
async fn wait_for_requests(mock: &MockProvider, n: usize) {
    for _ in 0..200 {
        if mock.requests().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A project, in a tenant whose DevOps Engineer works at medium risk (the built-in is `high`, which would gate
/// every pipeline behind an approval).
async fn project(app: &TestApp) -> String {
    let devops = include_str!("../../agents/devops_engineer.yaml").replace("risk_level: high", "risk_level: medium");
    app.put_agent("devops_engineer", &devops).await;
    let project =
        app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Signup"}))).await.expect(201);
    project["id"].as_str().unwrap().to_owned()
}

async fn start(app: &TestApp, bearer: &str, body: Value) -> Value {
    app.call("POST", "/v1/workflows", Some(bearer), Some(body)).await.expect(202)
}

fn pipeline(project: &str) -> Value {
    json!({"name": "ProjectPipelineWorkflow", "project_id": project,
        "args": {"goal": "Add a signup page", "context": {"repo": "acme/web"}}})
}

crate::both_backends!(pipeline_end_to_end, the_pipeline_plans_executes_in_order_and_reviews);

async fn the_pipeline_plans_executes_in_order_and_reviews(app: TestApp) {
    let mock = Arc::new(team(PLAN));
    let app = app.with_llm(Arc::clone(&mock));
    let project = project(&app).await;
    let (_, developer) = app.user("dev@acme.test", &["developer"]).await;

    let queued = start(&app, &developer, pipeline(&project)).await;
    assert_eq!((queued["status"].as_str(), queued["kind"].as_str()), (Some("queued"), Some("workflow")));
    assert_eq!(queued["agent"], "project_pipeline");
    let id = queued["id"].as_str().unwrap().to_owned();
    assert!(app.platform.work_once("worker").await.unwrap());

    let run = app.call("GET", &format!("/v1/runs/{id}/result"), Some(&developer), None).await.expect(200);
    assert_eq!(run["status"], "completed", "{run}");
    let output = &run["output"];
    let plan: Vec<(&str, &str)> = output["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["agent"].as_str().unwrap(), t["task"].as_str().unwrap()))
        .collect();
    assert_eq!(plan, vec![("developer", "Build the signup form"), ("devops_engineer", "Ship it to staging")]);
    let steps: Vec<(&str, &str)> = output["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["phase"].as_str().unwrap(), s["agent"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        vec![("plan", "overseer"), ("task", "developer"), ("task", "devops_engineer"), ("review", "qa_tester")]
    );
    assert_eq!(output["review"], "Signup works; invalid emails are untested");
    assert_eq!(output["verdict"]["verdict"], "request_changes");
    assert_eq!(output["verdict"]["findings"][0]["severity"], "medium");
    assert_eq!(output["verdict"]["next_tests"], json!(["Reject a@b"]));
    assert_eq!(output["steps"][2]["output"], "Deployed to staging");

    // The agents were asked in order, each later one with the earlier results as context.
    let requests = mock.requests();
    let order: Vec<&str> = requests
        .iter()
        .map(|r| {
            ["Overseer", "Developer", "DevOps Engineer", "QA Tester"].into_iter().find(|n| from_agent(r, n)).unwrap()
        })
        .collect();
    assert_eq!(order, vec!["Overseer", "Developer", "DevOps Engineer", "QA Tester"]);
    assert!(user_text(&requests[0]).contains("devops_engineer:"), "the Overseer sees the roster");
    assert!(user_text(&requests[0]).contains("acme/web"), "and the project context");
    assert!(user_text(&requests[2]).contains("Form built in src/signup.tsx"), "results are passed forward");
    assert!(user_text(&requests[3]).contains("Deployed to staging"), "QA reviews every result");
    // The plan and the review are asked for in their forms; the plan's names only agents of the roster.
    let plan_form = requests[0].output_schema.as_ref().expect("the plan is asked for in its form");
    assert_eq!(plan_form.name, "project_plan");
    assert_eq!(plan_form.schema["properties"]["tasks"]["maxItems"], 10, "no `max_tasks`: the most a plan may hold");
    let agents = &plan_form.schema["properties"]["tasks"]["items"]["properties"]["agent"]["enum"];
    assert!(agents.as_array().unwrap().contains(&json!("devops_engineer")), "{agents}");
    assert_eq!(requests[3].output_schema.as_ref().map(|f| f.name.as_str()), Some("review_verdict"));
    assert!(requests[1].output_schema.is_none(), "a task's answer is free");

    // Cost: one record per model call, and the run's cost is their sum.
    let report =
        app.call("GET", &format!("/v1/projects/{project}/costs"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(report["total"]["calls"], 4);
    assert_eq!(report["total"]["cost"], run["cost"]);
    assert_eq!(output["cost"], run["cost"]);

    let started = app.events_of("workflow.started").await;
    let completed = app.events_of("workflow.completed").await;
    assert_eq!((started.len(), completed.len()), (1, 1));
    assert_eq!(completed[0].data["run_id"].as_str(), Some(id.as_str()));
    assert_eq!(completed[0].data["steps"], 4);
    assert_eq!(app.events_of("agent.completed").await.len(), 4);
    assert!(app.events_of("workflow.failed").await.is_empty());

    // The plan, each step's result and the review are left in the project's context for later runs.
    let context = format!("/v1/projects/{project}/context");
    let keys = app.call("GET", &context, Some(&developer), None).await.expect(200);
    let keys: Vec<&str> = keys["data"].as_array().unwrap().iter().map(|k| k["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["pipeline.plan", "pipeline.review", "pipeline.step.1", "pipeline.step.2"]);
    let step = app.call("GET", &format!("{context}/pipeline.step.2"), Some(&developer), None).await.expect(200);
    assert_eq!(
        (step["value"]["agent"].as_str(), step["value"]["output"].as_str()),
        (Some("devops_engineer"), Some("Deployed to staging"))
    );
    assert_eq!(step["written_by"]["run_id"].as_str(), Some(id.as_str()));
    let review = app.call("GET", &format!("{context}/pipeline.review"), Some(&developer), None).await.expect(200);
    assert_eq!(review["value"]["verdict"]["summary"], "Signup works; invalid emails are untested");

    // Refusals: unknown workflow, bad args, a role without `agents:execute`, another tenant.
    let call = |body: Value| {
        let app = &app;
        let developer = developer.clone();
        async move { app.call("POST", "/v1/workflows", Some(&developer), Some(body)).await }
    };
    call(json!({"name": "Nope", "project_id": project, "args": {"goal": "x"}})).await.expect(404);
    let missing = call(json!({"name": "project_pipeline", "project_id": project, "args": {}})).await.expect(422);
    assert!(missing.to_string().contains("args.goal"), "{missing}");
    call(json!({"name": "project_pipeline", "project_id": project, "args": {"goal": "x", "extra": 1}}))
        .await
        .expect(422);
    for max_tasks in [json!(0), json!(11), json!("3"), json!(2.5)] {
        let refused = call(json!({"name": "project_pipeline", "project_id": project,
            "args": {"goal": "x", "max_tasks": max_tasks}}))
        .await
        .expect(422);
        assert!(refused.to_string().contains("args.max_tasks"), "{refused}");
    }
    call(json!({"name": "project_pipeline", "project_id": project, "args": {"goal": "x"}, "wait": 61}))
        .await
        .expect(422);
    let (_, viewer) = app.user("viewer@acme.test", &["viewer"]).await;
    app.call("POST", "/v1/workflows", Some(&viewer), Some(pipeline(&project))).await.expect(403);
    // Starting workflows is its own permission: a key scoped to `agents:execute` alone may not.
    let (_, executor) = app.api_key(&developer, &["agents:execute"]).await;
    app.call("POST", "/v1/workflows", Some(&executor), Some(pipeline(&project))).await.expect(403);
    let (_, starter) = app.api_key(&developer, &["workflows:create"]).await;
    start(&app, &starter, pipeline(&project)).await;
    let (_, rival) = app.second_tenant("rivals").await;
    app.call("GET", &format!("/v1/runs/{id}"), Some(&rival), None).await.expect(404);
    app.call("POST", "/v1/workflows", Some(&rival), Some(pipeline(&project))).await.expect(404);

    // A high-risk workflow waits for approval like an agent run.
    let mut risky = pipeline(&project);
    risky["risk_level"] = json!("high");
    let gated = app.call("POST", "/v1/workflows", Some(&developer), Some(risky)).await.expect(202);
    assert_eq!(gated["status"], "awaiting_approval");
    assert_eq!(app.events_of("approval.requested").await[0].data["kind"], "workflow");
    let mut nowhere = pipeline(&agentic_core::ids::ProjectId::new().to_string());
    nowhere["risk_level"] = json!("high");
    app.call("POST", "/v1/workflows", Some(&developer), Some(nowhere)).await.expect(404);
    assert_eq!(app.events_of("approval.requested").await.len(), 1, "nothing was gated for a missing project");
}

crate::both_backends!(plan_repair, an_unusable_plan_or_review_is_sent_back_once_then_the_run_fails);

async fn an_unusable_plan_or_review_is_sent_back_once_then_the_run_fails(app: TestApp) {
    // First workflow: a bad plan, then a good one; a review in prose, then in its form.
    let repairing = |r: &ChatRequest| user_text(r).contains("could not be used");
    let mock = Arc::new(
        MockProvider::new()
            .when(move |r| from_agent(r, "Overseer") && repairing(r), MockReply::text(PLAN))
            .when(
                |r| from_agent(r, "Overseer"),
                MockReply::text("{\"tasks\": [{\"agent\": \"wizard\", \"task\": \"x\"}]}"),
            )
            .when(move |r| from_agent(r, "QA Tester") && repairing(r), MockReply::text(REVIEW))
            .when(|r| from_agent(r, "QA Tester"), MockReply::text("Looks fine to me."))
            .when(|r| !from_agent(r, "Overseer"), MockReply::text("done")),
    );
    let app = app.with_llm(Arc::clone(&mock));
    let project = project(&app).await;
    let id = start(&app, &app.admin_key, pipeline(&project)).await["id"].as_str().unwrap().to_owned();
    assert!(app.platform.work_once("worker").await.unwrap());
    let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(run["status"], "completed", "{run}");
    let phases: Vec<&str> =
        run["output"]["steps"].as_array().unwrap().iter().map(|s| s["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, vec!["plan", "plan", "task", "task", "review", "review"]);
    let requests = mock.requests();
    let reason = user_text(&requests[1]);
    assert!(reason.contains("/tasks/0/agent: \"wizard\" is not one of"), "the reason is fed back: {reason}");
    assert!(user_text(&requests[5]).contains("the answer holds no JSON object"), "and the review's");
    assert_eq!(run["output"]["verdict"]["verdict"], "request_changes");

    // Second workflow: the Overseer never answers with JSON; the run fails with the reason, keeping its steps.
    let app = app.with_llm(MockProvider::new().when(|_| true, MockReply::text("I would rather not plan.")));
    let id = start(&app, &app.admin_key, pipeline(&project)).await["id"].as_str().unwrap().to_owned();
    assert!(app.platform.work_once("worker").await.unwrap());
    let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(run["status"], "failed");
    assert!(run["error"].as_str().unwrap().contains("plan could not be used: the answer holds no JSON"), "{run}");
    assert_eq!(run["output"]["steps"].as_array().unwrap().len(), 2);
    let failed = app.events_of("workflow.failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].data["reason"].as_str().unwrap().contains("plan could not be used"));
}

crate::both_backends!(pipeline_resume, a_crashed_pipeline_resumes_from_its_last_finished_step);

async fn a_crashed_pipeline_resumes_from_its_last_finished_step(app: TestApp) {
    // The developer's first answer never comes (its worker "crashes" while waiting); later answers are instant.
    let first = Arc::new(AtomicBool::new(true));
    let mock = Arc::new(
        MockProvider::new()
            // Rules are tried in order, so the one-time hang comes first.
            .when(
                move |r| from_agent(r, "Developer") && first.swap(false, Ordering::SeqCst),
                MockReply::text("never seen").with_delay(Duration::from_secs(600)),
            )
            .when(|r| from_agent(r, "Overseer"), MockReply::text(PLAN))
            .when(|r| from_agent(r, "Developer"), MockReply::text("Form built in src/signup.tsx"))
            .when(|r| from_agent(r, "DevOps Engineer"), MockReply::text("Deployed to staging"))
            .when(|r| from_agent(r, "QA Tester"), MockReply::text(REVIEW)),
    );
    let app = app.with_llm_and(Arc::clone(&mock), |b| b.run_lease(SHORT_LEASE));
    let project = project(&app).await;
    let id = start(&app, &app.admin_key, pipeline(&project)).await["id"].as_str().unwrap().to_owned();

    let platform = app.platform.clone();
    let doomed = tokio::spawn(async move { platform.work_once("doomed").await });
    // Wait until the plan is saved and the developer is being asked, then kill the worker.
    wait_for_requests(&mock, 2).await;
    assert_eq!(mock.requests().len(), 2, "the Overseer and the (hanging) Developer were asked");
    doomed.abort();
    let saved = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(saved["status"], "running");
    assert_eq!(saved["output"]["plan"].as_array().unwrap().len(), 2, "the plan was saved: {saved}");
    assert!(saved["cost"].as_str().is_some());

    outlast_lease(&app).await;
    assert!(app.platform.work_once("rescuer").await.unwrap());
    let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((run["status"].as_str(), run["attempts"].as_u64()), (Some("completed"), Some(2)), "{run}");
    let overseer_calls = mock.requests().iter().filter(|r| from_agent(r, "Overseer")).count();
    assert_eq!(overseer_calls, 1, "the plan was not made (or paid for) again");
    let phases: Vec<&str> =
        run["output"]["steps"].as_array().unwrap().iter().map(|s| s["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, vec!["plan", "task", "task", "review"]);
    assert_eq!(app.events_of("workflow.started").await.len(), 1, "started once, resumed once");
}

crate::both_backends!(lease_renewal, a_working_worker_keeps_its_lease_past_the_lease_time);

async fn a_working_worker_keeps_its_lease_past_the_lease_time(app: TestApp) {
    // A 900 ms lease and a model that takes over two leases: without renewal another worker would take the run
    // over. (The lease leaves room for a slow renewal on a loaded machine: a worker whose renewals all fail for a
    // whole lease stops working by design.)
    let mock = MockProvider::new().when(|_| true, MockReply::text("slow answer").with_delay(Duration::from_secs(2)));
    let app = app.with_llm_and(mock, |b| b.run_lease(chrono::Duration::milliseconds(900)));
    let project = project(&app).await;
    let body = json!({"task": "Think slowly", "project_id": project});
    let queued = app.call("POST", "/v1/agents/developer/execute", Some(&app.admin_key), Some(body)).await.expect(202);
    let id = queued["id"].as_str().unwrap().to_owned();

    let platform = app.platform.clone();
    let holder = tokio::spawn(async move { platform.work_once("holder").await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..9 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.clock.advance(chrono::Duration::milliseconds(200));
        assert!(!app.platform.work_once("thief").await.unwrap(), "the holder's lease is renewed while it works");
    }
    assert!(holder.await.unwrap().unwrap());
    let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((run["status"].as_str(), run["attempts"].as_u64()), (Some("completed"), Some(1)), "{run}");
}

crate::both_backends!(pipeline_lease_lapsed, a_worker_that_cannot_renew_stops_before_another_can_take_over);

async fn a_worker_that_cannot_renew_stops_before_another_can_take_over(app: TestApp) {
    // The developer answers slowly, and meanwhile the store refuses every renewal: the worker cannot know whether
    // it still holds the run, so it stops once a full lease has passed since its last renewal, before the store
    // can hand the run to anyone else, and without calling any model again.
    let mock = Arc::new(
        MockProvider::new()
            .when(|r| from_agent(r, "Overseer"), MockReply::text(PLAN))
            .when(|r| from_agent(r, "Developer"), MockReply::text("built").with_delay(Duration::from_secs(4)))
            .when(|_| true, MockReply::text("done")),
    );
    let (store, faults) = FaultyStore::wrap(Arc::clone(app.platform.store()));
    let app = app.with_llm_and(Arc::clone(&mock), |b| b.store(Arc::new(store)).run_lease(SHORT_LEASE));
    let project = project(&app).await;
    let id = start(&app, &app.admin_key, pipeline(&project)).await["id"].as_str().unwrap().to_owned();
    let platform = app.platform.clone();
    let started = std::time::Instant::now();
    let slow = tokio::spawn(async move { platform.work_once("slow").await });
    wait_for_requests(&mock, 2).await;
    faults.fail(Op::RenewRun, u32::MAX);

    assert!(slow.await.unwrap().unwrap());
    let stopped_after = started.elapsed();
    assert!(stopped_after < Duration::from_secs(3), "stopped long before the developer answered: {stopped_after:?}");
    assert_eq!(mock.requests().len(), 2, "no model was called after it stopped");
    assert!(app.events_of("workflow.failed").await.is_empty(), "the old holder announces nothing");
    assert!(app.events_of("workflow.completed").await.is_empty());

    // Once the store's lease has lapsed too, another worker takes the run over where it stood.
    faults.heal();
    outlast_lease(&app).await;
    let now = app.platform.clock().now();
    let taken = app.platform.store().system().claim_runs("rescuer", now, SHORT_LEASE, 1).await;
    assert_eq!(taken.unwrap().len(), 1, "the lapsed run is claimable");
    let run = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((run["status"].as_str(), run["lease_owner"].as_str()), (Some("running"), Some("rescuer")), "{run}");
    assert_eq!(run["output"]["steps"].as_array().unwrap().len(), 1, "only the plan, saved while the lease held");
}
