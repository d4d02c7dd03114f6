//! The console in process: sessions and their cookie, CSRF on every write, what each role sees and may do on the
//! approvals page, tenant isolation, and the accessibility checker on every page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use agentic_core::model::{ApprovalStatus, RunStatus};
use axum::http::{StatusCode, header};
use common::{Console, PASSWORD, assert_accessible, csrf_of, finished_run};

#[tokio::test]
async fn a_page_without_a_session_sends_the_user_to_sign_in_and_back() {
    let console = Console::new().await;
    let reply = console.send("GET", "/console/approvals", None, None).await;
    assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, "/console/login?next=%2Fconsole%2Fapprovals"));
    let form = console.send("GET", "/console/login?next=%2Fconsole%2Fapprovals", None, None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"next\" value=\"/console/approvals\""), "{}", form.body);
    assert_accessible(&form.body, "sign-in");
    for (name, value) in [
        ("content-security-policy", agentic_console::CONTENT_SECURITY_POLICY),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(form.headers[name], value);
    }
}

#[tokio::test]
async fn signing_in_sets_a_strict_cookie_and_a_wrong_password_says_so() {
    let console = Console::new().await;
    let wrong = [("tenant", "acme"), ("email", "manager@acme.test"), ("password", "not the password"), ("next", "")];
    let reply = console.send("POST", "/console/login", None, Some(&wrong)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("role=\"alert\"") && reply.headers.get(header::SET_COOKIE).is_none());
    assert!(reply.body.contains("value=\"manager@acme.test\""), "the form keeps what was typed");
    assert_accessible(&reply.body, "sign-in with an error");

    let right =
        [("tenant", "acme"), ("email", "manager@acme.test"), ("password", PASSWORD), ("next", "https://evil.example/")];
    let reply = console.send("POST", "/console/login", None, Some(&right)).await;
    assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, "/console/approvals"), "no open redirect");
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    // A form that cannot be read is a clear 400 page, not a crash.
    let reply = console.send("POST", "/console/login", None, Some(&[("tenant", "acme")])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("The form could not be read"), "{}", reply.body);
}

#[tokio::test]
async fn a_session_that_no_longer_holds_is_cleared_and_the_user_told() {
    let console = Console::new().await;
    let reply = console.get("/console/approvals?x=1", "not-a-token").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/console/login?next=%2Fconsole%2Fapprovals%3Fx%3D1&expired=1");
    assert!(reply.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let page = console.send("GET", reply.location(), None, None).await;
    assert!(page.body.contains("Your session ended"), "{}", page.body);
    // An API key is a credential for programs, not a console session.
    let reply = console.get("/console/approvals", &console.admin_key).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().ends_with("&expired=1"), "{}", reply.location());
}

#[tokio::test]
async fn a_manager_approves_with_the_sessions_csrf_token_and_a_forgery_is_refused() {
    let console = Console::new().await;
    let run = console.gated_run("dev@acme.test", "Roll out the new ingress").await;
    let manager = console.sign_in("acme", "manager@acme.test").await;
    let page = console.get("/console/approvals", &manager).await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "Roll out the new ingress",
        "devops_engineer",
        "high",
        "dev@acme.test",
        "environment",
        ">Approve<",
        "unknown: no devops_engineer run has completed yet",
    ] {
        assert!(page.body.contains(shown), "the page lacks {shown}:\n{}", page.body);
    }
    assert_accessible(&page.body, "approvals (manager)");
    let approval = console.platform.list_approvals(&console.admin, Some(ApprovalStatus::Pending)).await.unwrap();
    let path = format!("/console/approvals/{}/approve", approval[0].id);

    // Without the token, or with another session's: refused, and nothing changes.
    let other = console.sign_in("acme", "admin@acme.test").await;
    let foreign = csrf_of(&console.get("/console/approvals", &other).await.body);
    for forged in [vec![("comment", "ok")], vec![("csrf", foreign.as_str()), ("comment", "ok")]] {
        let reply = console.send("POST", &path, Some(&manager), Some(&forged)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert_accessible(&reply.body, "refused write");
    }
    assert_eq!(console.platform.get_run(&console.admin, run.id).await.unwrap().status, RunStatus::AwaitingApproval);

    let token = csrf_of(&page.body);
    let reply = console.send("POST", &path, Some(&manager), Some(&[("csrf", &token), ("comment", "go ahead")])).await;
    assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, "/console/approvals"), "{}", reply.body);
    let decided = console.platform.list_approvals(&console.admin, Some(ApprovalStatus::Approved)).await.unwrap();
    assert_eq!(decided[0].comment.as_deref(), Some("go ahead"));
    assert!(console.get("/console/approvals", &manager).await.body.contains("Nothing is waiting."));
    // Once a run of the agent has completed, the next request's card estimates its cost from it.
    while console.platform.work_once("console-test").await.unwrap() {}
    assert_eq!(console.platform.get_run(&console.admin, run.id).await.unwrap().status, RunStatus::Completed);
    console.gated_run("dev@acme.test", "Roll out the new gateway").await;
    let page = console.get("/console/approvals", &manager).await;
    assert!(page.body.contains("about $0.00 (what the one completed devops_engineer run cost)"), "{}", page.body);
    // Deciding again is a clear conflict page.
    let reply = console.send("POST", &path, Some(&manager), Some(&[("csrf", &token)])).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
}

#[tokio::test]
async fn the_requester_and_a_viewer_are_offered_no_approve_button_and_cannot_forge_one() {
    let console = Console::new().await;
    console.gated_run("manager@acme.test", "Rotate the database credentials").await;
    let approval = console.platform.list_approvals(&console.admin, Some(ApprovalStatus::Pending)).await.unwrap();
    let approve = format!("/console/approvals/{}/approve", approval[0].id);

    // The requester: the run is there, with "Deny" (withdraw) but no "Approve"; approving anyway is refused.
    let requester = console.sign_in("acme", "manager@acme.test").await;
    let page = console.get("/console/approvals", &requester).await;
    assert!(page.body.contains("Rotate the database credentials") && page.body.contains(">Deny<"));
    assert!(!page.body.contains(">Approve<"), "{}", page.body);
    assert_accessible(&page.body, "approvals (requester)");
    let reply = console.send("POST", &approve, Some(&requester), Some(&[("csrf", &csrf_of(&page.body))])).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);

    // A viewer: sees what waits, no forms at all; a decision with a valid token is still refused by RBAC.
    let viewer = console.sign_in("acme", "viewer@acme.test").await;
    let page = console.get("/console/approvals", &viewer).await;
    assert!(page.body.contains("Rotate the database credentials"), "{}", page.body);
    assert!(!page.body.contains(">Approve<") && !page.body.contains(">Deny<"), "{}", page.body);
    assert_accessible(&page.body, "approvals (viewer)");
    let reply = console.send("POST", &approve, Some(&viewer), Some(&[("csrf", &csrf_of(&page.body))])).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(
        console.platform.list_approvals(&console.admin, Some(ApprovalStatus::Pending)).await.unwrap().len(),
        1,
        "nothing was decided"
    );
}

#[tokio::test]
async fn another_tenants_approval_is_not_found() {
    let console = Console::new().await;
    console.gated_run("dev@acme.test", "Scale the workers").await;
    let approval = console.platform.list_approvals(&console.admin, Some(ApprovalStatus::Pending)).await.unwrap();
    let intruder = console.other_tenant("globex").await;
    let page = console.get("/console/approvals", &intruder).await;
    assert!(page.body.contains("Nothing is waiting."), "{}", page.body);
    let path = format!("/console/approvals/{}/approve", approval[0].id);
    let reply = console.send("POST", &path, Some(&intruder), Some(&[("csrf", &csrf_of(&page.body))])).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_accessible(&reply.body, "not found");
}

#[tokio::test]
async fn signing_out_needs_the_token_and_clears_the_cookie() {
    let console = Console::new().await;
    let session = console.sign_in("acme", "viewer@acme.test").await;
    let reply = console.send("POST", "/console/logout", Some(&session), Some(&[("csrf", "forged")])).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let token = csrf_of(&console.get("/console/approvals", &session).await.body);
    let reply = console.send("POST", "/console/logout", Some(&session), Some(&[("csrf", &token)])).await;
    assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, "/console/login"));
    assert!(reply.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn the_assets_are_served_and_nothing_else_is() {
    let console = Console::new().await;
    let css = console.send("GET", "/console/assets/console.css", None, None).await;
    assert_eq!(
        (css.status, css.headers[header::CONTENT_TYPE].to_str().unwrap()),
        (StatusCode::OK, "text/css; charset=utf-8")
    );
    let js = console.send("GET", "/console/assets/console.js", None, None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("EventSource"));
    let icon = console.send("GET", "/console/assets/icon.svg", None, None).await;
    assert_eq!((icon.status, icon.headers[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/svg+xml"));
    let missing = console.send("GET", "/console/assets/../Cargo.toml", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // A method the route lacks: a page too.
    let wrong = console.send("PUT", "/console/approvals", None, None).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong.body.starts_with("<!DOCTYPE html>"), "{}", wrong.body);
    let nowhere = console.send("GET", "/console/nowhere", None, None).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_accessible(&nowhere.body, "not found page");
    // Outside the console, the API's own answers: problem documents.
    let api = console.send("GET", "/v1/nowhere", None, None).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.headers[header::CONTENT_TYPE], "application/problem+json");
}

#[tokio::test]
async fn the_runs_list_filters_and_a_run_page_shows_answer_steps_and_cost() {
    let console = Console::new().await;
    let done = finished_run(&console, "dev@acme.test", "qa_tester", "Write tests for the signup form").await;
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
    let waiting = console.gated_run("dev@acme.test", "Deploy the signup service").await;
    let viewer = console.sign_in("acme", "viewer@acme.test").await;

    // A run is listed as a link to its page, named by its task (the projects' names are in the filter too).
    let (tests, deploy) = (format!("/console/runs/{}\"", done.id), format!("/console/runs/{}\"", waiting.id));
    let all = console.get("/console/runs", &viewer).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body.contains(&tests) && all.body.contains(&deploy), "{}", all.body);
    assert!(all.body.contains(">Write tests for the signup form</a>"), "{}", all.body);
    assert_accessible(&all.body, "runs");
    let completed = console.get("/console/runs?status=completed&agent=&project=", &viewer).await;
    assert!(completed.body.contains(&tests) && !completed.body.contains(&deploy), "{}", completed.body);
    let by_agent = console.get("/console/runs?agent=devops_engineer", &viewer).await;
    assert!(by_agent.body.contains(&deploy) && !by_agent.body.contains(&tests), "{}", by_agent.body);
    let by_project = console.get(&format!("/console/runs?project={}", done.project_id), &viewer).await;
    assert!(by_project.body.contains(&tests) && !by_project.body.contains(&deploy), "{}", by_project.body);
    let bad = console.get("/console/runs?status=sleeping", &viewer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("status is not a run status"), "{}", bad.body);

    let page = console.get(&format!("/console/runs/{}", done.id), &viewer).await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in ["The signup form needs three more tests.", "model turn", "Cost records", "completed"] {
        assert!(page.body.contains(shown), "the run page lacks {shown}:\n{}", page.body);
    }
    assert!(!page.body.contains("data-live"), "an ended run is not followed");
    assert_accessible(&page.body, "run (completed)");
    let page = console.get(&format!("/console/runs/{}", waiting.id), &viewer).await;
    assert!(page.body.contains(&format!("data-live=\"run:{}\"", waiting.id)), "a waiting run is followed live");
    assert!(!page.body.contains("Cancel this run"), "a viewer may not cancel");
    assert_eq!(console.get("/console/runs/not-a-run", &viewer).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_run_is_cancelled_from_its_page_with_the_token_and_not_from_another_tenant() {
    let console = Console::new().await;
    let run = console.gated_run("dev@acme.test", "Drain the old nodes").await;
    let path = format!("/console/runs/{}/cancel", run.id);
    let developer = console.sign_in("acme", "dev@acme.test").await;
    let page = console.get(&format!("/console/runs/{}", run.id), &developer).await;
    assert!(page.body.contains("Cancel this run"), "{}", page.body);
    let forged = console.send("POST", &path, Some(&developer), Some(&[("csrf", "forged")])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let intruder = console.other_tenant("initech").await;
    let token = csrf_of(&console.get("/console/runs", &intruder).await.body);
    assert_eq!(console.get(&format!("/console/runs/{}", run.id), &intruder).await.status, StatusCode::NOT_FOUND);
    let reply = console.send("POST", &path, Some(&intruder), Some(&[("csrf", &token)])).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(console.platform.get_run(&console.admin, run.id).await.unwrap().status, RunStatus::AwaitingApproval);

    let reply = console.send("POST", &path, Some(&developer), Some(&[("csrf", &csrf_of(&page.body))])).await;
    assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, path.trim_end_matches("/cancel")));
    assert_eq!(console.platform.get_run(&console.admin, run.id).await.unwrap().status, RunStatus::Cancelled);
    let page = console.get(&format!("/console/runs/{}", run.id), &developer).await;
    assert!(page.body.contains("cancelled") && !page.body.contains("Cancel this run"), "{}", page.body);
}

/// Sign-in attempts count against the platform's per-IP limit, like the API's: past it a client is refused
/// before any password is checked, while another address still signs in.
#[tokio::test]
async fn sign_in_attempts_are_limited_per_client_address() {
    use agentic_core::limit::{FailMode, PlanQuotas, Quota, RateLimitPolicy};
    let policy = RateLimitPolicy {
        per_ip: Some(Quota::per_minute(3)),
        plans: PlanQuotas { free: None, developer: None, enterprise: None },
        per_principal: None,
        roles: Vec::new(),
        routes: Vec::new(),
        login_per_account: None,
        fail_mode: FailMode::Closed,
    };
    let limiter = std::sync::Arc::new(agentic_store_memory::MemoryRateLimiter::new());
    let console = Console::with(|builder| builder.rate_limits(limiter, policy)).await;
    let guess = [("tenant", "acme"), ("email", "manager@acme.test"), ("password", "not the password")];
    let guesser = "203.0.113.50:40000";
    for _ in 0..3 {
        let reply = console.send_from(guesser, "POST", "/console/login", None, Some(&guess)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    }
    let refused = console.send_from(guesser, "POST", "/console/login", None, Some(&guess)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.headers.contains_key(header::RETRY_AFTER), "{:?}", refused.headers);
    // A page, as every console answer is, saying why.
    assert_eq!(refused.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(refused.headers[header::CONTENT_SECURITY_POLICY], agentic_console::CONTENT_SECURITY_POLICY);
    assert!(refused.body.contains("role=\"alert\"") && refused.body.contains("Too Many Requests"), "{}", refused.body);
    assert_accessible(&refused.body, "too many requests");
    // The right password from the same address waits too; from another it signs in.
    let form = [("tenant", "acme"), ("email", "manager@acme.test"), ("password", PASSWORD)];
    let same = console.send_from(guesser, "POST", "/console/login", None, Some(&form)).await;
    assert_eq!(same.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = console.send_from("198.51.100.99:40000", "POST", "/console/login", None, Some(&form)).await;
    assert_eq!(elsewhere.status, StatusCode::SEE_OTHER, "{}", elsewhere.body);
}
