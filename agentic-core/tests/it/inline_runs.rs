//! Waited runs worked by the replica that accepted them, on both stores: beyond the workers' number, bounded,
//! given back at shutdown, cancelled, and taken over after their holder dies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentic_core::clock::Clock;
use agentic_core::engine::{Background, BackgroundOptions};
use agentic_core::llm::{ChatRequest, ChatResponse, ChatStream, LlmError, LlmProvider};
use agentic_core::model::{RiskLevel, Run, RunStatus};
use agentic_llm::mock::{MockProvider, MockReply};
use serde_json::{Value, json};

use crate::runs::{SHORT_LEASE, outlast_lease};
use crate::support::TestApp;

/// A model that holds each call until `together` calls are in flight at once (or `patience` passes), and
/// remembers the most that ever were.
#[derive(Debug)]
struct Gathering {
    together: usize,
    patience: Duration,
    in_flight: AtomicUsize,
    most: AtomicUsize,
    arrived: tokio::sync::Notify,
    inner: MockProvider,
}

impl Gathering {
    fn new(together: usize, patience: Duration) -> Arc<Self> {
        Arc::new(Self {
            together,
            patience,
            in_flight: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            arrived: tokio::sync::Notify::new(),
            inner: MockProvider::echo(),
        })
    }

    fn most_at_once(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl LlmProvider for Gathering {
    fn name(&self) -> &str {
        "mock"
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        self.arrived.notify_waiters();
        let gathered = async {
            loop {
                let arrived = self.arrived.notified();
                if self.most.load(Ordering::SeqCst) >= self.together {
                    return;
                }
                arrived.await;
            }
        };
        let _ = tokio::time::timeout(self.patience, gathered).await;
        let answer = self.inner.chat(request).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        answer
    }

    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        self.inner.chat_stream(request).await
    }
}

/// Background work of `workers` workers and `inline_runs` inline slots, and nothing else.
fn background(app: &TestApp, workers: u32, inline_runs: u32) -> Background {
    let mut options = BackgroundOptions::workers(workers);
    (options.upkeep, options.deliveries, options.scheduler) = (false, false, false);
    options.idle_poll = Duration::from_millis(20);
    options.inline_runs = inline_runs;
    app.platform.spawn_background(options)
}

async fn project(app: &TestApp) -> String {
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Ops"}))).await;
    project.expect(201)["id"].as_str().unwrap().to_owned()
}

/// `count` waited executions at once; their answers.
async fn execute_waiting(app: &TestApp, project: &str, count: usize) -> Vec<Value> {
    let calls = (0..count).map(|i| {
        let body = json!({"task": format!("Task {i}"), "project_id": project, "wait": 30});
        app.call("POST", "/v1/agents/developer/execute", Some(&app.admin_key), Some(body))
    });
    futures_util::future::join_all(calls).await.into_iter().map(|r| r.expect(200)).collect()
}

crate::both_backends!(beyond_workers, waited_runs_are_worked_at_once_beyond_the_workers);

async fn waited_runs_are_worked_at_once_beyond_the_workers(app: TestApp) {
    let model = Gathering::new(4, Duration::from_secs(20));
    let app = app.with_llm_and(MockProvider::echo(), |b| b.llm(model.clone()));
    let project = project(&app).await;
    let background = background(&app, 1, 8);
    // One worker would take them one by one, each waiting out the model's patience.
    let started = tokio::time::Instant::now();
    let answers = execute_waiting(&app, &project, 4).await;
    assert_eq!(model.most_at_once(), 4, "all four were worked at once");
    assert!(started.elapsed() < Duration::from_secs(15), "none waited for another");
    for answer in &answers {
        assert_eq!((answer["status"].as_str(), answer["attempts"].as_u64()), (Some("completed"), Some(1)), "{answer}");
        assert!(answer["lease_owner"].is_null(), "{answer}");
    }
    background.shutdown().await;
}

crate::both_backends!(bounded, past_its_slots_a_waited_run_goes_through_the_queue);

async fn past_its_slots_a_waited_run_goes_through_the_queue(app: TestApp) {
    let model = Gathering::new(3, Duration::from_secs(2));
    let app = app.with_llm_and(MockProvider::echo(), |b| b.llm(model.clone()));
    let project = project(&app).await;
    let background = background(&app, 1, 1);
    let answers = execute_waiting(&app, &project, 3).await;
    // One slot and one worker: the third run waited in the queue for the worker.
    assert_eq!(model.most_at_once(), 2);
    assert!(answers.iter().all(|a| a["status"] == "completed"), "{answers:?}");
    background.shutdown().await;
}

crate::both_backends!(no_workers, a_replica_without_workers_queues_waited_runs);

async fn a_replica_without_workers_queues_waited_runs(app: TestApp) {
    let app = app.with_llm(MockProvider::echo());
    let project = project(&app).await;
    let background = background(&app, 0, 8);
    let body = json!({"task": "Fix it", "project_id": project, "wait": 1});
    let answer = app.call("POST", "/v1/agents/developer/execute", Some(&app.admin_key), Some(body)).await;
    let answer = answer.expect(202);
    assert_eq!((answer["status"].as_str(), answer["attempts"].as_u64()), (Some("queued"), Some(0)), "{answer}");
    background.shutdown().await;
}

/// Starts a waited execution in a task of its own; its answer (status, body), and the run's id once it runs.
async fn start_waiting(
    app: &Arc<TestApp>,
    agent: &str,
    project: &str,
) -> (tokio::task::JoinHandle<(u16, Value)>, String) {
    let waiting = {
        let (app, path) = (Arc::clone(app), format!("/v1/agents/{agent}/execute"));
        let body = json!({"task": "Fix it", "project_id": project, "wait": 60});
        tokio::spawn(async move {
            let answer = app.call("POST", &path, Some(&app.admin_key), Some(body)).await;
            (answer.status.as_u16(), answer.body)
        })
    };
    for _ in 0..500 {
        let page = app.call("GET", "/v1/runs", Some(&app.admin_key), None).await.expect(200);
        if let Some(run) = page["data"].as_array().and_then(|runs| runs.first())
            && run["status"] == "running"
        {
            return (waiting, run["id"].as_str().unwrap().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the run did not start");
}

crate::both_backends!(shutdown, shutting_down_gives_a_waited_run_back_to_the_queue);

async fn shutting_down_gives_a_waited_run_back_to_the_queue(app: TestApp) {
    let slow = MockProvider::new().then(MockReply::text("too late").with_delay(Duration::from_secs(60))).reply("done");
    let app = Arc::new(app.with_llm(slow));
    let project = project(&app).await;
    let background = background(&app, 1, 8);
    let (waiting, id) = start_waiting(&app, "developer", &project).await;
    let stopped = tokio::time::timeout(Duration::from_secs(10), background.shutdown()).await;
    stopped.expect("shutdown does not wait for the run to end");
    let (status, answer) = tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap();
    assert_eq!(status, 202, "{answer}");
    assert_eq!((answer["status"].as_str(), answer["attempts"].as_u64()), (Some("queued"), Some(0)), "{answer}");
    // Another worker starts it at once, as its first attempt.
    assert!(app.platform.work_once("next").await.unwrap());
    let done = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((done["status"].as_str(), done["attempts"].as_u64()), (Some("completed"), Some(1)), "{done}");
}

crate::both_backends!(cancel, a_waited_run_worked_here_is_cancelled_at_once);

async fn a_waited_run_worked_here_is_cancelled_at_once(app: TestApp) {
    // The first model turn takes a while and asks for a tool; the cancel arrives during it.
    let files = json!({"files": [{"path": "app.py", "content": "print('hello')"}]});
    let slow = MockReply::tool_call("secret_detector", files).with_delay(Duration::from_millis(700));
    let app = Arc::new(app.with_llm(MockProvider::new().then(slow).reply("never asked")));
    let project = project(&app).await;
    let background = background(&app, 1, 8);
    let (waiting, id) = start_waiting(&app, "security_auditor", &project).await;
    app.call("POST", &format!("/v1/runs/{id}/cancel"), Some(&app.admin_key), None).await.expect(202);
    let (status, answer) = tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap();
    assert_eq!((status, answer["status"].as_str()), (200, Some("cancelled")), "{answer}");
    background.shutdown().await;
}

crate::both_backends!(takeover, a_run_stored_claimed_is_taken_over_once_its_lease_lapses);

/// What a replica that died while working a waited run leaves behind: a run stored claimed, never renewed.
async fn a_run_stored_claimed_is_taken_over_once_its_lease_lapses(app: TestApp) {
    let app = app.with_llm_and(MockProvider::echo(), |b| b.run_lease(SHORT_LEASE));
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Ops"}))).await;
    let project: agentic_core::model::Project = serde_json::from_value(project.expect(201)).unwrap();
    let now = app.clock.now();
    let mut run = Run::queued(
        project.tenant_id,
        project.id,
        "developer",
        json!({"task": "Fix it"}),
        RiskLevel::Medium,
        project.created_by,
        now,
    );
    (run.status, run.attempts, run.lease_owner) = (RunStatus::Running, 1, Some("gone-inline".into()));
    run.lease_expires_at = Some(now + SHORT_LEASE);
    app.platform.store().tenant(project.tenant_id).insert_run(&run, &[]).await.unwrap();
    assert!(!app.platform.work_once("w").await.unwrap(), "its lease still holds");
    outlast_lease(&app).await;
    assert!(app.platform.work_once("w").await.unwrap());
    let done = app.call("GET", &format!("/v1/runs/{}", run.id), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((done["status"].as_str(), done["attempts"].as_u64()), (Some("completed"), Some(2)), "{done}");
}
