//! Approval gates over HTTP, on both stores.

use serde_json::json;

use crate::support::TestApp;

crate::both_backends!(approval_gates, risky_runs_wait_for_a_human);

async fn risky_runs_wait_for_a_human(app: TestApp) {
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Prod"}))).await.expect(201);
    let (_, manager) = app.user("manager@acme.test", &["manager"]).await;
    let (_, other_manager) = app.user("manager2@acme.test", &["manager"]).await;
    let (_, viewer) = app.user("viewer@acme.test", &["viewer"]).await;
    let execute = |risk: &str| json!({"task": "Rotate the keys", "project_id": project["id"], "risk_level": risk});

    // A low-risk run is queued at once; a high-risk one waits, and no worker takes it.
    let low = app.call("POST", "/v1/agents/qa_tester/execute", Some(&manager), Some(execute("low"))).await.expect(202);
    assert_eq!(low["status"], "queued");
    let gated =
        app.call("POST", "/v1/agents/devops_engineer/execute", Some(&manager), Some(execute("high"))).await.expect(202);
    assert_eq!(gated["status"], "awaiting_approval");
    let run_id = gated["id"].as_str().unwrap().to_owned();
    assert_eq!(app.events_of("approval.requested").await.len(), 1);
    assert!(app.platform.work_once("w").await.unwrap(), "the low-risk run is worked");
    assert!(!app.platform.work_once("w").await.unwrap(), "the gated run is not claimable");

    let pending = app.call("GET", "/v1/approvals?status=pending", Some(&other_manager), None).await.expect(200);
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    let approval = pending["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(pending["data"][0]["run_id"], run_id.as_str());

    // Viewers cannot decide; the requester cannot approve their own run.
    app.call("GET", "/v1/approvals", Some(&viewer), None).await.expect(403);
    app.call("POST", &format!("/v1/approvals/{approval}/approve"), Some(&viewer), None).await.expect(403);
    let own = app.call("POST", &format!("/v1/approvals/{approval}/approve"), Some(&manager), None).await.expect(403);
    assert!(own["detail"].as_str().unwrap().contains("you requested"));

    // Another manager approves: the run is queued and then worked.
    let decided = app
        .call(
            "POST",
            &format!("/v1/approvals/{approval}/approve"),
            Some(&other_manager),
            Some(json!({"comment": "ok, change window"})),
        )
        .await
        .expect(200);
    assert_eq!(
        (decided["status"].as_str(), decided["comment"].as_str()),
        (Some("approved"), Some("ok, change window"))
    );
    assert_eq!(app.call("GET", &format!("/v1/runs/{run_id}"), Some(&key), None).await.expect(200)["status"], "queued");
    app.call("POST", &format!("/v1/approvals/{approval}/deny"), Some(&other_manager), None).await.expect(409);
    assert_eq!(app.events_of("approval.approved").await.len(), 1);

    // Denied: the run ends `denied`.
    let second =
        app.call("POST", "/v1/agents/devops_engineer/execute", Some(&manager), Some(execute("high"))).await.expect(202);
    let pending = app.call("GET", "/v1/approvals?status=pending", Some(&key), None).await.expect(200);
    let deny_id = pending["data"][0]["id"].as_str().unwrap().to_owned();
    app.call("POST", &format!("/v1/approvals/{deny_id}/deny"), Some(&key), None).await.expect(200);
    let denied =
        app.call("GET", &format!("/v1/runs/{}", second["id"].as_str().unwrap()), Some(&key), None).await.expect(200);
    assert_eq!((denied["status"].as_str(), denied["error"].as_str()), (Some("denied"), Some("approval denied")));

    // Expired: nobody decided within 24 hours.
    let third =
        app.call("POST", "/v1/agents/devops_engineer/execute", Some(&manager), Some(execute("high"))).await.expect(202);
    let pending = app.call("GET", "/v1/approvals?status=pending", Some(&key), None).await.expect(200);
    let late = pending["data"][0]["id"].as_str().unwrap().to_owned();
    // (Access tokens do not last a day; an API key does.)
    let (_, other_manager_key) = app.api_key(&other_manager, &["approvals:approve"]).await;
    app.clock.advance(chrono::Duration::hours(25));
    let refused =
        app.call("POST", &format!("/v1/approvals/{late}/approve"), Some(&other_manager_key), None).await.expect(409);
    assert!(refused["detail"].as_str().unwrap().contains("expired"));
    let expired =
        app.call("GET", &format!("/v1/runs/{}", third["id"].as_str().unwrap()), Some(&key), None).await.expect(200);
    assert_eq!(expired["status"], "denied");

    // Other tenants see none of it.
    let (_, outsider) = app.second_tenant("outsiders").await;
    let theirs = app.call("GET", "/v1/approvals", Some(&outsider), None).await.expect(200);
    assert!(theirs["data"].as_array().unwrap().is_empty());
    app.call("POST", &format!("/v1/approvals/{approval}/deny"), Some(&outsider), None).await.expect(404);
}

crate::both_backends!(risk_floor, a_request_may_raise_the_risk_but_never_lower_it);

async fn a_request_may_raise_the_risk_but_never_lower_it(app: TestApp) {
    let project =
        app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Prod"}))).await.expect(201);
    let (_, developer) = app.user("dev@acme.test", &["developer"]).await;
    let execute = |agent: &str, risk: Option<&str>| {
        let mut body = json!({"task": "Ship it", "project_id": project["id"]});
        if let Some(risk) = risk {
            body["risk_level"] = json!(risk);
        }
        let path = format!("/v1/agents/{agent}/execute");
        let developer = developer.clone();
        let app = &app;
        async move { app.call("POST", &path, Some(&developer), Some(body)).await.expect(202) }
    };

    // The DevOps Engineer is `high`: asking for `low` does not get past the gate.
    let lowered = execute("devops_engineer", Some("low")).await;
    assert_eq!((lowered["status"].as_str(), lowered["risk_level"].as_str()), (Some("awaiting_approval"), Some("high")));
    // Raising is allowed; the QA Tester's own `low` runs at once.
    let raised = execute("qa_tester", Some("high")).await;
    assert_eq!((raised["status"].as_str(), raised["risk_level"].as_str()), (Some("awaiting_approval"), Some("high")));
    let plain = execute("qa_tester", None).await;
    assert_eq!((plain["status"].as_str(), plain["risk_level"].as_str()), (Some("queued"), Some("low")));

    // A workflow may run any agent of the roster, so it is gated at the riskiest one, whatever it asks for.
    let body = json!({"name": "ProjectPipelineWorkflow", "project_id": project["id"], "risk_level": "low",
        "args": {"goal": "Add a signup page"}});
    let workflow = app.call("POST", "/v1/workflows", Some(&developer), Some(body)).await.expect(202);
    assert_eq!(
        (workflow["status"].as_str(), workflow["risk_level"].as_str()),
        (Some("awaiting_approval"), Some("high"))
    );

    // An agent made riskier after its run was queued is not run at the old level.
    let qa = include_str!("../../agents/qa_tester.yaml").replace("risk_level: low", "risk_level: high");
    app.put_agent("qa_tester", &qa).await;
    assert!(app.platform.work_once("w").await.unwrap());
    let run = app.call("GET", &format!("/v1/runs/{}", plain["id"].as_str().unwrap()), Some(&app.admin_key), None).await;
    let run = run.expect(200);
    assert_eq!(run["status"], "failed");
    assert!(run["error"].as_str().unwrap().contains("now at risk high"), "{run}");
}

crate::both_backends!(approval_expiry, an_undecided_request_expires_and_its_run_ends_denied);

async fn an_undecided_request_expires_and_its_run_ends_denied(app: TestApp) {
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Prod"}))).await.expect(201);
    let body = json!({"task": "Drop the staging database", "project_id": project["id"], "risk_level": "high"});
    let gated = app.call("POST", "/v1/agents/devops_engineer/execute", Some(&key), Some(body)).await.expect(202);
    let run_id = gated["id"].as_str().unwrap().to_owned();

    // Someone long-polls the run while nobody decides.
    let waiter = {
        let (router, key, path) = (app.router.clone(), key.clone(), format!("/v1/runs/{run_id}/result?wait=30"));
        tokio::spawn(async move {
            use tower::ServiceExt;
            let request = axum::http::Request::get(path)
                .header("authorization", format!("Bearer {key}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let started = std::time::Instant::now();
            let response = router.oneshot(request).await.unwrap();
            (response.status().as_u16(), started.elapsed())
        })
    };
    assert_eq!(app.platform.expire_approvals().await.unwrap(), 0, "not due yet");
    app.clock.advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    assert_eq!(app.platform.expire_approvals().await.unwrap(), 1);

    let (status, waited) = waiter.await.unwrap();
    assert_eq!(status, 200, "the waiter got the final run");
    assert!(waited < std::time::Duration::from_secs(5), "woken by the expiry, not by its 30 s deadline: {waited:?}");
    let run = app.call("GET", &format!("/v1/runs/{run_id}"), Some(&key), None).await.expect(200);
    assert_eq!((run["status"].as_str(), run["error"].as_str()), (Some("denied"), Some("approval expired")));
    let expired = app.events_of("approval.expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].data["run_id"].as_str(), Some(run_id.as_str()));
    assert!(
        app.call("GET", "/v1/approvals?status=pending", Some(&key), None).await.expect(200)["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.platform.expire_approvals().await.unwrap(), 0, "expired once");
}

#[tokio::test]
async fn the_upkeep_loop_expires_overdue_requests() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let project = app.call("POST", "/v1/projects", Some(&key), Some(json!({"name": "Prod"}))).await.expect(201);
    let body = json!({"task": "Rotate the keys", "project_id": project["id"], "risk_level": "high"});
    let gated = app.call("POST", "/v1/agents/devops_engineer/execute", Some(&key), Some(body)).await.expect(202);
    app.clock.advance(chrono::Duration::hours(25));

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let platform = app.platform.clone();
    let upkeep = tokio::spawn(async move {
        platform
            .run_maintenance(async {
                let _ = stopped.await;
            })
            .await;
    });
    let path = format!("/v1/runs/{}/result?wait=5", gated["id"].as_str().unwrap());
    let run = app.call("GET", &path, Some(&key), None).await.expect(200);
    assert_eq!(run["status"], "denied");
    let _ = stop.send(());
    upkeep.await.unwrap();
}
