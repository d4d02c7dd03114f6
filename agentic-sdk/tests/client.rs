//! The SDK against the real reference platform: its router served on loopback with run workers, on the memory
//! store and on PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use agentic_core::Platform;
use agentic_core::engine::{Background, BackgroundOptions, Bootstrap};
use agentic_core::model::{Plan, Role};
use agentic_core::store::{PageRequest, RunQuery, Store};
use agentic_llm::mock::MockProvider;
use agentic_llm::registry::ProviderRegistry;
use agentic_sdk::api::{
    CreateDepartmentRequest, CreateProjectRequest, CreateUserRequest, CreateWebhookRequest, ExecuteRequest,
    LoginRequest, ProblemType,
};
use agentic_sdk::model::{ApprovalStatus, Permission, RiskLevel, RunStatus};
use agentic_sdk::{AgenticClient, Error, RetryPolicy};
use agentic_store_postgres::PgStoreOptions;
use agentic_store_postgres::testing::{TestDatabase, database_url};
use secrecy::{ExposeSecret, SecretString};

const PASSWORD: &str = "admin password 123";
/// The platform master key of the test servers.
const MASTER_KEY: &str = "master-key-for-the-sdk-tests-0123456789";

/// A served platform and a client of its bootstrap admin.
struct Server {
    url: String,
    admin: AgenticClient,
    background: Option<Background>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _database: Option<TestDatabase>,
}

impl Server {
    async fn start(store: Arc<dyn Store>, database: Option<TestDatabase>) -> Server {
        let platform = Platform::builder()
            .store(store)
            .llm_providers(Arc::new(ProviderRegistry::mock_only(Arc::new(MockProvider::echo()))))
            .master_key(MASTER_KEY.into())
            .build()
            .unwrap();
        let key = admin_key(&platform).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(agentic_core::http::serve(listener, platform.router(), async {
            let _ = stopped.await;
        }));
        let mut options = BackgroundOptions::workers(2);
        options.idle_poll = Duration::from_millis(50);
        let background = Some(platform.spawn_background(options));
        let admin = AgenticClient::builder(&url).api_key(key).build().unwrap();
        Server { url, admin, background, stop: Some(stop), _database: database }
    }

    async fn on(backend: &str) -> Option<Server> {
        match backend {
            "memory" => Some(Server::start(Arc::new(agentic_store_memory::MemoryStore::new()), None).await),
            _ => {
                let url = database_url()?;
                let db = TestDatabase::create(&url, PgStoreOptions::default()).await.unwrap();
                Some(Server::start(Arc::new(db.store.clone()), Some(db)).await)
            }
        }
    }

    async fn stop(mut self) {
        if let Some(background) = self.background.take() {
            let shutdown = tokio::time::timeout(Duration::from_secs(60), background.shutdown()).await;
            assert!(shutdown.is_ok(), "the platform's background work did not stop within 60 s");
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// A client of a new user with `roles`, signed in with a token.
    async fn user(&self, email: &str, roles: Vec<Role>) -> AgenticClient {
        let password = "user password 123";
        let request = CreateUserRequest { email: email.into(), password: SecretString::from(password), roles };
        self.admin.users().create(&request).await.unwrap();
        let anonymous = AgenticClient::builder(&self.url).build().unwrap();
        let login = LoginRequest { tenant: "acme".into(), email: email.into(), password: SecretString::from(password) };
        let token = anonymous.auth().login(&login).await.unwrap();
        AgenticClient::builder(&self.url).token(token.access_token).build().unwrap()
    }
}

macro_rules! on_both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                let server = super::Server::on("memory").await.unwrap();
                super::$body(&server).await;
                server.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(server) = super::Server::on("postgres").await {
                    super::$body(&server).await;
                    server.stop().await;
                }
            }
        }
    };
}

fn project_named(name: &str) -> CreateProjectRequest {
    CreateProjectRequest { name: name.into(), description: None, department_id: None, budget: None }
}

on_both!(execute_and_wait, an_agent_run_is_executed_and_waited_for);

async fn an_agent_run_is_executed_and_waited_for(server: &Server) {
    let client = &server.admin;
    let me = client.auth().me().await.unwrap();
    assert!(me.permissions.contains(&Permission::WebhooksManage));
    let department = CreateDepartmentRequest { name: "QA".into(), description: Some("Quality".into()) };
    let department = client.departments().create(&department).await.unwrap();
    assert_eq!(client.departments().get(department.id).await.unwrap().name, "QA");
    let request = CreateProjectRequest { department_id: Some(department.id), ..project_named("Site") };
    let project = client.projects().create(&request).await.unwrap();
    assert_eq!(client.projects().list(PageRequest::first()).await.unwrap().data.len(), 1);
    let budget = Some(Some("25.00".parse().unwrap()));
    let change = agentic_sdk::api::UpdateProjectRequest { budget, ..Default::default() };
    let changed = client.projects().update(project.id, &change).await.unwrap();
    assert_eq!((changed.budget.map(|b| b.to_string()), changed.name.as_str()), (Some("25.00".into()), "Site"));

    let mut run = client.agents().execute_task("qa_tester", "Review the login form", project.id).await.unwrap();
    assert_eq!(run.run().status, RunStatus::Queued);
    let done = run.wait_for_result(Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert!(done.output.is_some());
    assert_eq!(run.status().await.unwrap().status, RunStatus::Completed);
    assert_eq!(client.runs().get(run.id()).await.unwrap().id, run.id());
    let query = RunQuery { project_id: Some(project.id), status: Some(RunStatus::Completed), ..RunQuery::default() };
    let listed = client.runs().list(&query).await.unwrap();
    assert_eq!(listed.data.iter().map(|r| r.id).collect::<Vec<_>>(), [run.id()]);

    let costs = client.projects().costs(project.id, Default::default()).await.unwrap();
    assert_eq!(costs.project_id, Some(project.id));
    assert!(client.agents().list().await.unwrap().data.iter().any(|a| a.name.as_str() == "qa_tester"));
    let events = client.events().list(&Default::default()).await.unwrap();
    assert!(events.data.iter().any(|e| e.run_id == Some(run.id())), "the run's events are listed");
    assert!(!client.events().types().await.unwrap().data.is_empty());
}

on_both!(typed_errors, every_refusal_is_a_typed_error);

async fn every_refusal_is_a_typed_error(server: &Server) {
    let client = &server.admin;
    let missing = agentic_core::ids::ProjectId::new();
    assert!(matches!(client.projects().get(missing).await, Err(Error::NotFound(_))));
    let unknown = client.agents().execute_task("no_such_agent", "x", missing).await;
    assert!(matches!(unknown, Err(Error::NotFound(_))), "{unknown:?}");
    let bad = client.departments().create(&CreateDepartmentRequest { name: " ".into(), description: None }).await;
    match bad {
        Err(Error::Validation { errors, .. }) => assert_eq!(errors[0].field, "name"),
        other => panic!("{other:?}"),
    }
    let first = CreateDepartmentRequest { name: "Ops".into(), description: None };
    client.departments().create(&first).await.unwrap();
    assert!(matches!(client.departments().create(&first).await, Err(Error::Conflict(_))));
    let named = |name: &str| CreateDepartmentRequest { name: name.into(), description: None };
    let second = client.departments().create(&named("Sec")).await.unwrap();
    let rename = agentic_sdk::api::UpdateDepartmentRequest { name: Some("ops".into()), description: None };
    assert!(
        matches!(client.departments().update(second.id, &rename).await, Err(Error::Conflict(_))),
        "names ignore case"
    );
    let rename = agentic_sdk::api::UpdateDepartmentRequest { name: Some("Security".into()), description: Some(None) };
    assert_eq!(client.departments().update(second.id, &rename).await.unwrap().name, "Security");
    let owned = CreateProjectRequest { department_id: Some(second.id), ..project_named("Audit") };
    client.projects().create(&owned).await.unwrap();
    assert!(matches!(client.departments().delete(second.id).await, Err(Error::Conflict(_))), "a project belongs to it");
    let empty = client.departments().create(&named("Empty")).await.unwrap();
    client.departments().delete(empty.id).await.unwrap();
    assert!(matches!(client.departments().get(empty.id).await, Err(Error::NotFound(_))));

    let viewer = server.user("viewer@acme.test", vec![Role::Viewer]).await;
    match viewer.departments().create(&CreateDepartmentRequest { name: "X".into(), description: None }).await {
        Err(Error::Forbidden { permission, .. }) => assert_eq!(permission, Some(Permission::DepartmentsManage)),
        other => panic!("{other:?}"),
    }
    let forged = AgenticClient::builder(&server.url).api_key("agk_notarealkey0000000000000000000000000000").build();
    let refused = forged.unwrap().auth().me().await;
    assert!(matches!(refused, Err(Error::Unauthorized(_))), "{refused:?}");
    let url = "http://127.0.0.1/hook".to_owned();
    let hook = CreateWebhookRequest { url, events: vec!["*".into()], description: None, enabled: None, secret: None };
    match client.webhooks().create(&hook).await {
        Err(error @ Error::Validation { .. }) => {
            assert_eq!(error.problem().and_then(|p| p.problem_type()), Some(ProblemType::Validation));
        }
        other => panic!("{other:?}"),
    }
}

on_both!(approvals, a_gated_run_waits_for_approval_and_then_completes);

async fn a_gated_run_waits_for_approval_and_then_completes(server: &Server) {
    let client = &server.admin;
    let project = client.projects().create(&project_named("Infra")).await.unwrap();
    let request =
        ExecuteRequest { risk_level: Some(RiskLevel::High), ..ExecuteRequest::new("Rotate the keys", project.id) };
    let mut run = client.agents().execute("devops_engineer", &request).await.unwrap();
    let waiting = run.wait_for_result(Duration::from_secs(1)).await;
    match &waiting {
        Err(Error::ApprovalRequired { run }) => assert_eq!(run.status, RunStatus::AwaitingApproval),
        other => panic!("{other:?}"),
    }
    let manager = server.user("manager@acme.test", vec![Role::Manager]).await;
    let pending = manager.approvals().list(Some(ApprovalStatus::Pending)).await.unwrap();
    assert_eq!(pending.data.len(), 1);
    let decided = manager.approvals().approve(pending.data[0].id, Some("go")).await.unwrap();
    assert_eq!(decided.status, ApprovalStatus::Approved);
    assert!(matches!(manager.approvals().approve(decided.id, None).await, Err(Error::Conflict(_))));
    let done = run.wait_for_result(Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);

    // A denied run is an error of its own.
    let mut denied = client.agents().execute("devops_engineer", &request).await.unwrap();
    let pending = manager.approvals().list(Some(ApprovalStatus::Pending)).await.unwrap();
    manager.approvals().deny(pending.data[0].id, Some("not now")).await.unwrap();
    assert!(matches!(denied.wait_for_result(Duration::from_secs(10)).await, Err(Error::ApprovalDenied { .. })));
}

/// Bootstraps tenant `acme` and returns its admin's API key.
async fn admin_key(platform: &Platform) -> String {
    let bootstrap = Bootstrap {
        slug: "acme".into(),
        plan: Plan::Enterprise,
        admin_email: "admin@acme.test".into(),
        admin_password: SecretString::from(PASSWORD),
        api_key: None,
    };
    let report = platform.bootstrap(bootstrap).await.unwrap().unwrap();
    report.api_key.expose_secret().to_owned()
}

/// A platform limiting each principal to `quota`, served on loopback; returns its URL and the admin's key.
async fn limited(quota: agentic_core::limit::Quota) -> (String, String) {
    use agentic_core::limit::RateLimitPolicy;
    let platform = Platform::builder()
        .store(Arc::new(agentic_store_memory::MemoryStore::new()))
        .rate_limits(
            Arc::new(agentic_store_memory::MemoryRateLimiter::new()),
            RateLimitPolicy { per_principal: Some(quota), ..RateLimitPolicy::default() },
        )
        .build()
        .unwrap();
    let key = admin_key(&platform).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(agentic_core::http::serve(listener, platform.router(), std::future::pending()));
    (url, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_a_typed_error_with_its_retry_after_and_unsafe_calls_are_not_repeated() {
    let (url, key) = limited(agentic_core::limit::Quota::per_minute(2)).await;
    // A Retry-After beyond what the policy waits: reported at once, with the server's figure.
    let policy = RetryPolicy { max_wait: Duration::from_secs(1), ..RetryPolicy::default() };
    let client = AgenticClient::builder(&url).api_key(key).retry(policy).build().unwrap();
    client.auth().me().await.unwrap();
    client.auth().me().await.unwrap();
    let started = std::time::Instant::now();
    match client.auth().me().await {
        Err(Error::RateLimited { retry_after, problem }) => {
            assert!(retry_after.is_some_and(|wait| wait > Duration::from_secs(1)), "{retry_after:?}");
            assert_eq!(problem.status, 429);
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1), "not waited for");
    let unsafe_call = client.projects().create(&project_named("P")).await;
    assert!(matches!(unsafe_call, Err(Error::RateLimited { .. })));
    assert!(AgenticClient::builder("not a url").build().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_safe_call_refused_for_a_moment_is_retried_after_its_retry_after() {
    let (url, key) = limited(agentic_core::limit::Quota::new(1, Duration::from_secs(1))).await;
    let client = AgenticClient::builder(&url).api_key(&key).build().unwrap();
    client.auth().me().await.unwrap();
    let started = std::time::Instant::now();
    client.auth().me().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(500), "waited for the limit: {:?}", started.elapsed());
    let never = AgenticClient::builder(&url).api_key(&key).retry(RetryPolicy::none()).build().unwrap();
    assert!(matches!(never.auth().me().await, Err(Error::RateLimited { .. })));
}

on_both!(budget_enforcement, test_budget_enforcement);

/// The plan's sample test: a run capped at 100 tokens ends in a budget error, typed, not a string.
async fn test_budget_enforcement(server: &Server) {
    let client = &server.admin;
    let project = client.projects().create(&project_named("Capped")).await.unwrap();
    let context = Some(serde_json::json!({"budget_tokens": 100}));
    let request = ExecuteRequest { context, ..ExecuteRequest::new("Review the login form", project.id) };
    let mut run = client.agents().execute("qa_tester", &request).await.unwrap();
    match run.wait_for_result(Duration::from_secs(30)).await {
        Err(Error::BudgetExceeded { problem, .. }) => {
            assert_eq!(problem.status, 402);
            assert!(problem.detail.contains("token budget"), "{}", problem.detail);
        }
        other => panic!("{other:?}"),
    }
    assert!(client.runs().costs(run.id()).await.unwrap().is_empty(), "no model call was made");
}

on_both!(follow_and_cancel, runs_are_followed_live_and_cancelled);

async fn runs_are_followed_live_and_cancelled(server: &Server) {
    use futures_util::StreamExt;
    let client = &server.admin;
    let project = client.projects().create(&project_named("Live")).await.unwrap();

    // The tenant's stream, opened first, sees the run's events as they are stored.
    let query = agentic_core::store::EventQuery { project_id: Some(project.id), ..Default::default() };
    let mut tenant_stream = client.events().stream(&query);
    let first = tokio::spawn(async move { tenant_stream.next().await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let run = client.agents().execute_task("qa_tester", "Review the login form", project.id).await.unwrap();
    let progress = run.progress().map(|e| e.unwrap().kind.as_str().to_owned()).collect::<Vec<String>>();
    let kinds = tokio::time::timeout(Duration::from_secs(30), progress).await.expect("the run's stream ends");
    let of_run = agentic_core::store::EventQuery { run_id: Some(run.id()), ..Default::default() };
    let stored: Vec<_> =
        client.events().list(&of_run).await.unwrap().data.into_iter().map(|e| (e.id, e.kind)).collect();
    assert_eq!(
        kinds,
        ["agent.started", "run.llm_call", "agent.completed"],
        "the stream ends with the run; stored: {stored:?}"
    );
    let seen = tokio::time::timeout(Duration::from_secs(10), first).await.unwrap().unwrap().unwrap().unwrap();
    assert_eq!((seen.run_id, seen.kind.as_str()), (Some(run.id()), "agent.started"));
    let records = client.runs().costs(run.id()).await.unwrap();
    assert_eq!(records.iter().map(|r| r.run_id).collect::<Vec<_>>(), [Some(run.id())]);
    // Resuming after the first event skips it.
    let started = client.runs().events(run.id(), None).await.unwrap().next().await.unwrap().unwrap();
    let rest = client.runs().events(run.id(), Some(started.id)).await.unwrap().collect::<Vec<_>>();
    let rest = tokio::time::timeout(Duration::from_secs(30), rest).await.expect("the resumed stream ends");
    assert_eq!(rest.len(), 2);

    // A gated run is cancelled at once; waiting for it reports the cancellation; an ended run cannot be.
    let gated =
        ExecuteRequest { risk_level: Some(RiskLevel::High), ..ExecuteRequest::new("Rotate the keys", project.id) };
    let mut waiting = client.agents().execute("devops_engineer", &gated).await.unwrap();
    assert_eq!(waiting.cancel().await.unwrap().status, RunStatus::Cancelled);
    assert!(matches!(waiting.wait_for_result(Duration::from_secs(5)).await, Err(Error::RunCancelled { .. })));
    assert!(matches!(client.runs().cancel(run.id()).await, Err(Error::Conflict(_))));
    let cancelled = waiting.progress().map(|e| e.unwrap().kind).collect::<Vec<_>>();
    let cancelled = tokio::time::timeout(Duration::from_secs(30), cancelled).await.expect("the stream ends");
    assert_eq!(
        cancelled,
        [agentic_core::events::EventKind::ApprovalRequested, agentic_core::events::EventKind::AgentCancelled]
    );
    // The same idempotency key answers with the same run.
    let keyed = ExecuteRequest { risk_level: None, ..gated.clone() };
    let once = client.agents().execute_idempotent("qa_tester", &keyed, "sdk-key-1").await.unwrap();
    let twice = client.agents().execute_idempotent("qa_tester", &keyed, "sdk-key-1").await.unwrap();
    assert_eq!(once.id(), twice.id());
    let other = ExecuteRequest { task: "Another".into(), ..keyed.clone() };
    let reused = client.agents().execute_idempotent("qa_tester", &other, "sdk-key-1").await;
    assert!(matches!(reused, Err(Error::Validation { .. })), "{reused:?}");
    let foreign = client.runs().events(agentic_core::ids::RunId::new(), None).await;
    assert!(matches!(foreign, Err(Error::NotFound(_))));
}

on_both!(tenant_tiers, tenants_are_created_and_tiered_with_the_master_key);

async fn tenants_are_created_and_tiered_with_the_master_key(server: &Server) {
    use agentic_sdk::api::{CreateTenantRequest, UpdateTenantRequest};
    let operator = AgenticClient::builder(&server.url).api_key(MASTER_KEY).build().unwrap();
    let request = CreateTenantRequest {
        name: "Beta".into(),
        slug: "beta".into(),
        plan: Plan::Free,
        settings: None,
        admin_email: "boss@beta.test".into(),
        admin_password: SecretString::from("beta admin password"),
    };
    let created = operator.tenants().create(&request).await.unwrap();
    let upgrade = UpdateTenantRequest { plan: Some(Plan::Enterprise), name: None };
    let upgraded = operator.tenants().update(created.tenant.id, &upgrade).await.unwrap();
    assert_eq!((upgraded.plan, upgraded.name.as_str()), (Plan::Enterprise, "Beta"));
    // A tenant's own admin may read its tenant but not choose its tier.
    let me = server.admin.auth().me().await.unwrap();
    assert_eq!(server.admin.tenants().get(me.user.tenant_id).await.unwrap().slug.as_str(), "acme");
    let refused = server.admin.tenants().update(me.user.tenant_id, &upgrade).await;
    assert!(matches!(refused, Err(Error::Unauthorized(_))), "{refused:?}");
    assert!(matches!(server.admin.tenants().get(created.tenant.id).await, Err(Error::NotFound(_))));
}

on_both!(admin_resources, webhooks_users_and_keys_are_managed_through_their_handles);

async fn webhooks_users_and_keys_are_managed_through_their_handles(server: &Server) {
    use agentic_sdk::api::{
        CreateApiKeyRequest, DeliveryListQuery, ReplayRequest, RotateSecretRequest, UpdateUserRequest,
        UpdateWebhookRequest,
    };
    let client = &server.admin;
    // Webhooks: create (the secret shown once), read, change, rotate, replay, list deliveries, delete.
    let hook = CreateWebhookRequest {
        url: "https://93.184.215.14/hook".into(),
        events: vec!["agent.*".into()],
        description: Some("audit".into()),
        enabled: None,
        secret: None,
    };
    let created = client.webhooks().create(&hook).await.unwrap();
    assert!(created.secret.starts_with("whsec_"));
    let id = created.webhook.id;
    assert_eq!(client.webhooks().get(id).await.unwrap().description, "audit");
    assert_eq!(client.webhooks().list(PageRequest::first()).await.unwrap().data.len(), 1);
    let change = UpdateWebhookRequest { description: Some("audit trail".into()), ..Default::default() };
    assert_eq!(client.webhooks().update(id, &change).await.unwrap().description, "audit trail");
    let rotated = client.webhooks().rotate_secret(id, &RotateSecretRequest::default()).await.unwrap();
    assert_ne!(rotated.secret, created.secret);
    let project = client.projects().create(&project_named("Hooks")).await.unwrap();
    let mut run = client.agents().execute_task("qa_tester", "Check", project.id).await.unwrap();
    run.wait_for_result(Duration::from_secs(30)).await.unwrap();
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    let replay = ReplayRequest { since, until: None, types: None };
    client.webhooks().replay(id, &replay).await.unwrap();
    let mut deliveries = Vec::new();
    for _ in 0..100 {
        deliveries = client.webhooks().deliveries(id, DeliveryListQuery::default()).await.unwrap().data;
        if !deliveries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivery = deliveries.first().expect("the run's events were queued for the endpoint");
    assert_eq!(client.webhooks().delivery(delivery.id).await.unwrap().delivery.id, delivery.id);
    client.webhooks().retry_delivery(delivery.id).await.unwrap();
    client.webhooks().delete(id).await.unwrap();
    assert!(matches!(client.webhooks().get(id).await, Err(Error::NotFound(_))));

    // Users and API keys.
    let request = CreateUserRequest {
        email: "dev@acme.test".into(),
        password: SecretString::from("developer password 1"),
        roles: vec![Role::Developer],
    };
    let user = client.users().create(&request).await.unwrap();
    assert_eq!(client.users().get(user.id).await.unwrap().email.as_str(), "dev@acme.test");
    assert_eq!(client.users().list(PageRequest::first()).await.unwrap().data.len(), 2);
    let promote = UpdateUserRequest { roles: Some(vec![Role::Manager]), active: None, password: None };
    assert_eq!(client.users().update(user.id, &promote).await.unwrap().roles, vec![Role::Manager]);
    let key = CreateApiKeyRequest { name: "ci".into(), scopes: vec![Permission::AgentsExecute], expires_at: None };
    let created = client.api_keys().create(&key).await.unwrap();
    let scoped = AgenticClient::builder(&server.url).api_key(&created.key).build().unwrap();
    assert_eq!(scoped.auth().me().await.unwrap().permissions, vec![Permission::AgentsExecute]);
    assert!(
        client.api_keys().list(PageRequest::first()).await.unwrap().data.iter().any(|k| k.id == created.api_key.id)
    );
    client.api_keys().revoke(created.api_key.id).await.unwrap();
    assert!(matches!(scoped.auth().me().await, Err(Error::Unauthorized(_))));
    assert_eq!(client.departments().list(PageRequest::first()).await.unwrap().data.len(), 0);
    let tenant_costs = client.projects().tenant_costs(Default::default()).await.unwrap();
    assert!(tenant_costs.total.calls >= 1);
}

on_both!(catalog_and_workflows, the_catalog_is_managed_and_workflows_are_started);

async fn the_catalog_is_managed_and_workflows_are_started(server: &Server) {
    use agentic_sdk::api::WorkflowRequest;
    let client = &server.admin;
    let yaml = "name: Reviewer\nrole: Code Reviewer\ngoal: Review changes\nbackstory: Careful.\ntools: []\n\
                llm:\n  provider: mock\n  model: mock\nrisk_level: low\n";
    let put = client.agents().put("reviewer", yaml).await.unwrap();
    assert_eq!(put.spec.role, "Code Reviewer");
    assert_eq!(client.agents().get("reviewer").await.unwrap().yaml, yaml);
    assert!(client.agents().list().await.unwrap().data.iter().any(|a| a.name.as_str() == "reviewer"));
    client.agents().delete("reviewer").await.unwrap();
    assert!(matches!(client.agents().get("reviewer").await, Err(Error::NotFound(_))));
    assert!(matches!(client.agents().delete("qa_tester").await, Err(Error::Conflict(_))), "built-ins stay");

    // A workflow runs at its roster's highest risk (the DevOps Engineer's high), so it waits for approval; once
    // approved, the echoing mock cannot plan and the workflow fails: a typed run failure, with the run.
    let project = client.projects().create(&project_named("Pipeline")).await.unwrap();
    let request = WorkflowRequest {
        name: "ProjectPipelineWorkflow".into(),
        args: serde_json::json!({"goal": "Add a signup page"}),
        project_id: project.id,
        risk_level: None,
        wait: None,
        budget_tokens: None,
    };
    let mut started = client.workflows().create_idempotent(&request, "pipeline-1").await.unwrap();
    let again = client.workflows().create_idempotent(&request, "pipeline-1").await.unwrap();
    assert_eq!(started.id(), again.id());
    let manager = server.user("approver@acme.test", vec![Role::Manager]).await;
    let pending = manager.approvals().list(Some(ApprovalStatus::Pending)).await.unwrap();
    let request_for_it = pending.data.iter().find(|a| a.run_id == started.id()).unwrap();
    manager.approvals().approve(request_for_it.id, None).await.unwrap();
    match started.wait_for_result(Duration::from_secs(30)).await {
        Err(Error::RunFailed { run }) => assert!(run.error.as_deref().is_some_and(|e| !e.is_empty()), "{run:?}"),
        other => panic!("{other:?}"),
    }
    // A workflow that needs approval (its roster includes the high-risk DevOps Engineer) waits for it.
    let mut gated = client.workflows().create(&request).await.unwrap();
    assert!(matches!(gated.wait_for_result(Duration::from_millis(10)).await, Err(Error::ApprovalRequired { .. })));
}

on_both!(schedules_and_context, schedules_fire_and_the_project_context_is_shared_through_their_handles);

async fn schedules_fire_and_the_project_context_is_shared_through_their_handles(server: &Server) {
    use agentic_sdk::api::{BackfillRequest, CreateScheduleRequest, FireOutcome, TriggerRequest};
    use agentic_sdk::model::{Expect, OverlapPolicy, ScheduleSpec, ScheduleTarget};
    let client = &server.admin;
    let project = client.projects().create(&project_named("Scheduled")).await.unwrap();
    let request = CreateScheduleRequest {
        name: "every second".into(),
        target: ScheduleTarget { agent: Some("qa_tester".into()), task: Some("ping".into()), ..Default::default() },
        project_id: project.id,
        risk_level: None,
        spec: ScheduleSpec { every: Some("1s".into()), ..Default::default() },
        overlap_policy: Some(OverlapPolicy::AllowAll),
        catchup_window: None,
        jitter: None,
        paused: None,
        note: None,
    };
    let schedule = client.schedules().create(&request).await.unwrap();
    // The platform's own scheduler fires it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let runs = client.schedules().runs(schedule.id, &RunQuery::default()).await.unwrap();
        if runs.data.len() >= 2 {
            assert!(runs.data.iter().all(|r| r.schedule_id == Some(schedule.id)));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the schedule did not fire twice in 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let paused = client.schedules().pause(schedule.id, Some("enough".into())).await.unwrap();
    assert!(paused.paused);
    let upcoming = client.schedules().upcoming(schedule.id, Some(3)).await.unwrap();
    assert_eq!((upcoming.data.len(), upcoming.paused), (3, true));
    let fired = client.schedules().trigger(schedule.id, &TriggerRequest { overlap_policy: None }).await.unwrap();
    assert_eq!(fired.outcome, FireOutcome::Started);
    let now = chrono::Utc::now();
    let range = BackfillRequest {
        from: now - chrono::Duration::seconds(3),
        to: now - chrono::Duration::seconds(1),
        overlap_policy: Some(OverlapPolicy::AllowAll),
    };
    let backfill = client.schedules().backfill(schedule.id, &range).await.unwrap();
    assert!((2..=3).contains(&backfill.started), "{backfill:?}");
    assert_eq!(client.schedules().list(PageRequest::first()).await.unwrap().data.len(), 1);
    client.schedules().delete(schedule.id).await.unwrap();
    assert!(matches!(client.schedules().get(schedule.id).await, Err(Error::NotFound(_))));

    let context = client.context(project.id);
    let first = context.put("plan", serde_json::json!({"v": 1}), None, Expect::Absent).await.unwrap();
    let again = context.put("plan", serde_json::json!({"v": 2}), None, Expect::Absent).await;
    assert!(matches!(again, Err(Error::PreconditionFailed(_))), "{again:?}");
    let second =
        context.put("plan", serde_json::json!({"v": 2}), Some(60), Expect::Version(first.version)).await.unwrap();
    let stale = context.put("plan", serde_json::json!({"v": 3}), None, Expect::Version(first.version)).await;
    assert!(matches!(stale, Err(Error::PreconditionFailed(_))), "{stale:?}");
    assert_eq!(context.get("plan").await.unwrap().value, serde_json::json!({"v": 2}));
    context.append("log", serde_json::json!("one"), None).await.unwrap();
    assert_eq!(
        context.append("log", serde_json::json!("two"), None).await.unwrap().value,
        serde_json::json!(["one", "two"])
    );
    let keys: Vec<String> = context.keys().await.unwrap().into_iter().map(|k| k.key).collect();
    assert_eq!(keys, ["log", "plan"]);
    assert!(matches!(context.delete("plan", Expect::Version(first.version)).await, Err(Error::PreconditionFailed(_))));
    context.delete("plan", Expect::Version(second.version)).await.unwrap();
    assert!(matches!(context.get("plan").await, Err(Error::NotFound(_))));

    // A run without handoffs lists none.
    let run = client.agents().execute("qa_tester", &ExecuteRequest::new("Say hello", project.id)).await.unwrap();
    assert!(client.runs().handoffs(run.id()).await.unwrap().is_empty());
}

on_both!(guardrail_settings, the_guardrail_setting_is_read_and_set_through_its_handle);

async fn the_guardrail_setting_is_read_and_set_through_its_handle(server: &Server) {
    use agentic_sdk::GuardrailAction;
    let settings = server.admin.settings().guardrails().await.unwrap();
    // This platform installed no scanner: the default is reported, and that nothing is scanned.
    assert_eq!(
        (settings.outgoing, settings.source.as_str(), settings.installed),
        (GuardrailAction::Redact, "default", false)
    );
    let set = server.admin.settings().set_guardrails(GuardrailAction::Block).await.unwrap();
    assert_eq!((set.outgoing, set.source.as_str()), (GuardrailAction::Block, "tenant"));
    assert_eq!(server.admin.settings().guardrails().await.unwrap().outgoing, GuardrailAction::Block);
    // Reading needs only membership; changing needs users:manage.
    let viewer = server.user("guard-viewer@acme.test", vec![Role::Viewer]).await;
    assert_eq!(viewer.settings().guardrails().await.unwrap().outgoing, GuardrailAction::Block);
    let refused = viewer.settings().set_guardrails(GuardrailAction::Off).await;
    assert!(matches!(refused, Err(Error::Forbidden { .. })), "{refused:?}");
}

on_both!(knowledge_bases, knowledge_bases_are_made_filled_searched_and_emptied_through_their_handle);

async fn knowledge_bases_are_made_filled_searched_and_emptied_through_their_handle(server: &Server) {
    use agentic_sdk::api::CreateKnowledgeBaseRequest;
    use agentic_sdk::query::PageRequest;
    use agentic_sdk::resources::DocumentFile;
    let knowledge = server.admin.knowledge();
    let request =
        CreateKnowledgeBaseRequest { name: "Handbook".into(), description: None, language: None, project_id: None };
    let base = knowledge.create(&request).await.unwrap();
    let refused = knowledge.create(&request).await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    let mut file = DocumentFile::named("refunds.md", b"# Refunds\n\nRefunds take five business days.".to_vec());
    file.title = Some("Refund policy".into());
    let first = knowledge.upload(base.id, &file).await.unwrap();
    assert!(first.created);
    assert_eq!((first.document.title.as_str(), first.document.media_type.as_str()), ("Refund policy", "text/markdown"));
    // The same text again: the same document, unchanged.
    let again = knowledge.upload(base.id, &file).await.unwrap();
    assert_eq!((again.created, again.document.id), (false, first.document.id));
    let unreadable = knowledge.upload(base.id, &DocumentFile::named("archive.zip", vec![1, 2, 3])).await;
    let unsupported = Some(agentic_sdk::api::ProblemType::UnsupportedMediaType);
    assert!(matches!(&unreadable, Err(Error::Api { kind, .. }) if *kind == unsupported), "{unreadable:?}");

    let hits = knowledge.search(base.id, "how long is a refund", Some(3)).await.unwrap();
    assert_eq!(hits.first().map(|h| h.document_id), Some(first.document.id));
    let listed = knowledge.documents(base.id, PageRequest::first()).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    let document = knowledge.document(base.id, first.document.id).await.unwrap();
    assert_eq!(document.chunks.len(), 1);
    assert_eq!(knowledge.get(base.id).await.unwrap().documents, 1);
    assert_eq!(knowledge.list(PageRequest::first()).await.unwrap().data.len(), 1);

    // Members search; only knowledge:manage changes.
    let viewer = server.user("kb-viewer@acme.test", vec![Role::Viewer]).await;
    assert_eq!(viewer.knowledge().search(base.id, "refund", None).await.unwrap().len(), 1);
    let refused = viewer.knowledge().delete_document(base.id, first.document.id).await;
    assert!(matches!(refused, Err(Error::Forbidden { .. })), "{refused:?}");
    knowledge.delete_document(base.id, first.document.id).await.unwrap();
    assert!(knowledge.search(base.id, "refund", None).await.unwrap().is_empty());
    knowledge.delete(base.id).await.unwrap();
    let gone = knowledge.get(base.id).await;
    assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");
}
