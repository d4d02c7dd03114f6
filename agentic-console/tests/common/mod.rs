//! What every console test needs: a platform on the memory store with a mock LLM, the console mounted beside the
//! API, users of each role, and requests with a session cookie.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use agentic_core::api::{CreateProjectRequest, CreateTenantRequest, CreateUserRequest, ExecuteRequest};
use agentic_core::auth::Principal;
use agentic_core::auth::jwt::KeyPair;
use agentic_core::engine::Bootstrap;
use agentic_core::model::{Plan, Role, RunStatus};
use agentic_core::{Platform, PlatformBuilder, SecretString};
use agentic_store_memory::MemoryStore;
use agentic_tools::AccessibilityChecker;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt;

pub const MASTER_KEY: &str = "a master key of at least thirty-two characters";
/// The client address requests come from, unless a test names another.
pub const PEER: &str = "198.51.100.7:50000";
pub const PASSWORD: &str = "a long enough password";

pub struct Console {
    pub platform: Platform,
    pub router: Router,
    pub admin: Principal,
    pub admin_key: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).map_or("", |v| v.to_str().unwrap())
    }
}

impl Console {
    pub async fn new() -> Self {
        Self::with(|builder| builder).await
    }

    /// A console whose platform `configure` adds to (a clock, rate limits).
    pub async fn with(configure: impl FnOnce(PlatformBuilder) -> PlatformBuilder) -> Self {
        // Every provider is a mock that answers at once, so a run completes when a worker takes it.
        let answer = agentic_llm::mock::MockReply::text("The signup form needs three more tests.");
        let llm = agentic_llm::mock::MockProvider::new().when(|_| true, answer);
        let platform = Platform::builder()
            .store(Arc::new(MemoryStore::new()))
            .llm_providers(Arc::new(agentic_llm::registry::ProviderRegistry::mock_only(Arc::new(llm))))
            .jwt_key(KeyPair::hs256("console-test", b"a console test secret of 32 bytes!").unwrap())
            .master_key(MASTER_KEY.into());
        let platform = configure(platform).build().unwrap();
        let report = platform
            .bootstrap(Bootstrap {
                slug: "acme".into(),
                plan: Plan::Enterprise,
                admin_email: "admin@acme.test".into(),
                admin_password: PASSWORD.into(),
                api_key: None,
            })
            .await
            .unwrap()
            .unwrap();
        let key = secrecy::ExposeSecret::expose_secret(&report.api_key).to_owned();
        let admin = platform.authenticator().authenticate(&key).await.unwrap();
        for (email, role) in [
            ("manager@acme.test", Role::Manager),
            ("dev@acme.test", Role::Developer),
            ("viewer@acme.test", Role::Viewer),
        ] {
            let user = CreateUserRequest { email: email.into(), password: PASSWORD.into(), roles: vec![role] };
            platform.create_user(&admin, user).await.unwrap();
        }
        // As the reference server mounts it: beside the API, whose fallback answers everything else.
        let router = platform.router().merge(agentic_console::router(platform.clone()));
        Self { platform, router, admin, admin_key: key }
    }

    pub async fn send(&self, method: &str, path: &str, cookie: Option<&str>, form: Option<&[(&str, &str)]>) -> Reply {
        self.send_from(PEER, method, path, cookie, form).await
    }

    /// `send` from the client at `peer` (the address a served connection would carry).
    pub async fn send_from(
        &self,
        peer: &str,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        form: Option<&[(&str, &str)]>,
    ) -> Reply {
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        let mut request = Request::builder().method(method).uri(path).extension(axum::extract::ConnectInfo(peer));
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("agentic_console={cookie}"));
        }
        let body = match form {
            Some(fields) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(serde_urlencoded::to_string(fields).unwrap())
            }
            None => Body::empty(),
        };
        let response = self.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        Reply { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
    }

    pub async fn get(&self, path: &str, cookie: &str) -> Reply {
        self.send("GET", path, Some(cookie), None).await
    }

    /// Signs `email` in through the form; returns the session cookie's value.
    pub async fn sign_in(&self, tenant: &str, email: &str) -> String {
        let form = [("tenant", tenant), ("email", email), ("password", PASSWORD), ("next", "/console/approvals")];
        let reply = self.send("POST", "/console/login", None, Some(&form)).await;
        assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, "/console/approvals"), "{}", reply.body);
        let set = reply.headers[header::SET_COOKIE].to_str().unwrap();
        set.split(';').next().unwrap().strip_prefix("agentic_console=").unwrap().to_owned()
    }

    /// A second tenant, `slug`, with its admin `admin@<slug>.test`; returns that admin's session cookie.
    pub async fn other_tenant(&self, slug: &str) -> String {
        let request = CreateTenantRequest {
            name: slug.to_uppercase(),
            slug: slug.into(),
            plan: Plan::Enterprise,
            settings: None,
            admin_email: format!("admin@{slug}.test"),
            admin_password: SecretString::from(PASSWORD),
        };
        self.platform.create_tenant(Some(MASTER_KEY), request).await.unwrap();
        self.sign_in(slug, &format!("admin@{slug}.test")).await
    }

    pub async fn principal(&self, email: &str) -> Principal {
        let token = self.platform.login("acme", email, PASSWORD.into()).await.unwrap();
        self.platform.authenticator().authenticate(secrecy::ExposeSecret::expose_secret(&token.token)).await.unwrap()
    }

    /// A high-risk run `email` asked for, waiting for approval.
    pub async fn gated_run(&self, email: &str, task: &str) -> agentic_core::model::Run {
        let project = CreateProjectRequest {
            name: format!("{task} project"),
            description: None,
            department_id: None,
            budget: None,
        };
        let project = self.platform.create_project(&self.admin, project).await.unwrap();
        let mut request = ExecuteRequest::new(task, project.id);
        request.context = Some(serde_json::json!({"environment": "staging"}));
        let run = self.platform.execute_agent(&self.principal(email).await, "devops_engineer", request).await.unwrap();
        assert_eq!(run.status, RunStatus::AwaitingApproval);
        run
    }
}

/// The CSRF token a page embeds for its forms.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("the page has a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

pub fn assert_accessible(html: &str, page: &str) {
    let findings = AccessibilityChecker.check(html);
    assert!(findings.is_empty(), "{page}: {findings:#?}");
}

/// A run of `agent` by `email` in a project of its own, worked to its end by a worker.
pub async fn finished_run(console: &Console, email: &str, agent: &str, task: &str) -> agentic_core::model::Run {
    let project =
        CreateProjectRequest { name: format!("{task} project"), description: None, department_id: None, budget: None };
    let project = console.platform.create_project(&console.admin, project).await.unwrap();
    let principal = console.principal(email).await;
    let run = console.platform.execute_agent(&principal, agent, ExecuteRequest::new(task, project.id)).await.unwrap();
    while console.platform.work_once("console-test").await.unwrap() {}
    console.platform.get_run(&console.admin, run.id).await.unwrap()
}
