//! The console's operations pages in process: costs (the budget table, the chart stacked by agent and its table,
//! the breakdowns), webhooks and schedules (status, pause and resume with the session's token), what each role
//! may do there, tenant isolation, and the accessibility checker on each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use agentic_core::api::{CreateProjectRequest, CreateScheduleRequest, CreateWebhookRequest};
use agentic_core::clock::ManualClock;
use agentic_core::engine::LlmCall;
use agentic_core::llm::{ChatRequest, ChatResponse, Message, StopReason, Usage};
use agentic_core::model::{Money, Project, ScheduleSpec, ScheduleTarget};
use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use common::{Console, assert_accessible, csrf_of};

/// A call of `agent` on claude-sonnet-4 with 1,000 tokens in and 500 out: $0.003 + $0.0075 = $0.0105.
async fn spend(console: &Console, project: &Project, agent: &str) {
    let request = ChatRequest::new("claude-sonnet-4", vec![Message::user("Check the release")]);
    let held =
        console.platform.reserve_llm_call(console.admin.tenant_id, project.id, "anthropic", &request).await.unwrap();
    let response = ChatResponse {
        text: "Done.".into(),
        tool_calls: Vec::new(),
        stop_reason: StopReason::EndTurn,
        model: "claude-sonnet-4".into(),
        usage: Usage { input_tokens: 1_000, output_tokens: 500, cached_input_tokens: 0, cache_write_input_tokens: 0 },
        latency: std::time::Duration::from_millis(40),
        provider: None,
    };
    let call = LlmCall {
        provider: "anthropic",
        model: "claude-sonnet-4",
        run_id: None,
        agent: Some(agent),
        response: &response,
    };
    console.platform.settle_llm_call(&held, call).await.unwrap();
}

async fn project(console: &Console, name: &str, budget: Option<&str>) -> Project {
    let request = CreateProjectRequest {
        name: name.into(),
        description: None,
        department_id: None,
        budget: budget.map(|b| b.parse::<Money>().unwrap()),
    };
    console.platform.create_project(&console.admin, request).await.unwrap()
}

#[tokio::test]
async fn the_costs_page_draws_each_day_stacked_by_agent_with_the_budget_and_breakdowns() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap());
    let console = Console::with(|builder| builder.clock(std::sync::Arc::new(clock.clone()))).await;
    let release = project(&console, "Release", Some("0.07")).await;
    let quiet = project(&console, "Quiet", None).await;
    let frozen = project(&console, "Frozen", Some("0")).await;
    // 3 December: one QA call. 4 December: three DevOps calls and one QA call. 5 December (today): nothing.
    spend(&console, &release, "qa_tester").await;
    clock.advance(Duration::days(1));
    for _ in 0..3 {
        spend(&console, &release, "devops_engineer").await;
    }
    spend(&console, &release, "qa_tester").await;
    clock.advance(Duration::days(1));
    let viewer = console.sign_in("acme", "viewer@acme.test").await;

    let page = console.get(&format!("/console/costs?project={}&days=7", release.id), &viewer).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    // The chart: a named image, one segment per agent and day with spending, the costliest agent at the bottom.
    assert!(html.contains(r#"<svg class="chart""#) && html.contains(r#"role="img""#), "{html}");
    for segment in ["12-03 · qa_tester: $0.0105", "12-04 · devops_engineer: $0.0315", "12-04 · qa_tester: $0.0105"] {
        assert!(html.contains(&format!("<title>{segment}</title>")), "no segment {segment}:\n{html}");
    }
    let chart = &html[html.find(r#"<svg class="chart""#).unwrap()..html.find("</figure>").unwrap()];
    assert_eq!(chart.matches("<title>12-").count(), 3, "{chart}");
    assert!(chart.find("devops_engineer · $").unwrap() < chart.find("qa_tester · $").unwrap(), "costliest first");
    // The same figures as a table, the legend's totals, the budget used, and the breakdowns.
    for shown in [
        "<th scope=\"row\">2026-12-04</th>",
        "devops_engineer · $0.0315",
        "qa_tester · $0.021",
        "$0.0525",
        "75%",
        "claude-sonnet-4",
        "anthropic",
        r#"<option value="7" selected>Last 7 days</option>"#,
    ] {
        assert!(html.contains(shown), "the costs page lacks {shown}:\n{html}");
    }
    assert!(html.contains(r#"<meter min="0" max="100""#), "{html}");
    assert_accessible(html, "costs");

    // The first project is shown by default; a project without spending says so; the table lists every project.
    let default = console.get("/console/costs", &viewer).await;
    assert!(default.body.contains("Project Release") && default.body.contains("Quiet"), "{}", default.body);
    let nothing = console.get(&format!("/console/costs?project={}", quiet.id), &viewer).await;
    assert!(nothing.body.contains("Nothing was spent in this window.") && nothing.body.contains("unlimited"));
    assert_accessible(&nothing.body, "costs (nothing spent)");
    let zero = console.get(&format!("/console/costs?project={}", frozen.id), &viewer).await;
    assert!(zero.body.contains("no budget: paid calls are refused"), "{}", zero.body);
    // Bad choices are a clear 400; another tenant's project is not found.
    let bad = console.get(&format!("/console/costs?project={}&days=9", release.id), &viewer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("days must be 7, 14 or 30"), "{}", bad.body);
    assert_eq!(console.get("/console/costs?project=nope", &viewer).await.status, StatusCode::BAD_REQUEST);
    let intruder = console.other_tenant("initech").await;
    let foreign = console.get(&format!("/console/costs?project={}", release.id), &intruder).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(!foreign.body.contains("Release"), "{}", foreign.body);
}

#[tokio::test]
async fn webhooks_show_their_health_and_pause_and_resume_with_the_token() {
    let console = Console::new().await;
    let request = CreateWebhookRequest {
        url: "https://93.184.216.34/hooks/agentic".into(),
        events: vec!["run.*".into()],
        description: Some("Deploy bot".into()),
        enabled: None,
        secret: None,
    };
    let hook = console.platform.create_webhook(&console.admin, request).await.unwrap().webhook;
    let admin = console.sign_in("acme", "admin@acme.test").await;
    let page = console.get("/console/webhooks", &admin).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for shown in ["https://93.184.216.34/hooks/agentic", "Deploy bot", "run.*", "healthy", "No delivery yet."] {
        assert!(page.body.contains(shown), "the webhooks page lacks {shown}:\n{}", page.body);
    }
    assert_accessible(&page.body, "webhooks");

    let pause = format!("/console/webhooks/{}/pause", hook.id);
    let forged = console.send("POST", &pause, Some(&admin), Some(&[("csrf", "forged")])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(console.platform.get_webhook(&console.admin, hook.id).await.unwrap().enabled);
    let token = csrf_of(&page.body);
    let paused = console.send("POST", &pause, Some(&admin), Some(&[("csrf", &token)])).await;
    assert_eq!((paused.status, paused.location()), (StatusCode::SEE_OTHER, "/console/webhooks"));
    assert!(!console.platform.get_webhook(&console.admin, hook.id).await.unwrap().enabled);
    let page = console.get("/console/webhooks", &admin).await;
    assert!(page.body.contains(">paused<") && page.body.contains("Resume deliveries"), "{}", page.body);
    let resume = format!("/console/webhooks/{}/resume", hook.id);
    console.send("POST", &resume, Some(&admin), Some(&[("csrf", &token)])).await;
    assert!(console.platform.get_webhook(&console.admin, hook.id).await.unwrap().enabled);
    let explode = format!("/console/webhooks/{}/explode", hook.id);
    let unknown = console.send("POST", &explode, Some(&admin), Some(&[("csrf", &token)])).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // A manager may not manage endpoints: told so, and a forged pause is refused by the engine.
    let manager = console.sign_in("acme", "manager@acme.test").await;
    let page = console.get("/console/webhooks", &manager).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("managed by administrators") && !page.body.contains("93.184.216.34"));
    assert_accessible(&page.body, "webhooks (no permission)");
    let forged = console.send("POST", &pause, Some(&manager), Some(&[("csrf", &csrf_of(&page.body))])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Another tenant's admin finds no such endpoint.
    let intruder = console.other_tenant("initech").await;
    let token = csrf_of(&console.get("/console/webhooks", &intruder).await.body);
    let reply = console.send("POST", &pause, Some(&intruder), Some(&[("csrf", &token)])).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(console.platform.get_webhook(&console.admin, hook.id).await.unwrap().enabled);
}

#[tokio::test]
async fn schedules_show_their_next_fire_times_and_pause_and_resume_for_those_allowed() {
    // In winter, when Berlin is an hour ahead of UTC.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap());
    let console = Console::with(|builder| builder.clock(std::sync::Arc::new(clock))).await;
    let nightly = project(&console, "Nightly", None).await;
    let request = CreateScheduleRequest {
        name: "Nightly regression".into(),
        target: ScheduleTarget {
            agent: Some("qa_tester".into()),
            task: Some("Run the regression suite".into()),
            ..ScheduleTarget::default()
        },
        project_id: nightly.id,
        risk_level: None,
        spec: ScheduleSpec {
            cron: Some("0 2 * * *".into()),
            timezone: Some("Europe/Berlin".into()),
            ..ScheduleSpec::default()
        },
        overlap_policy: None,
        catchup_window: None,
        jitter: None,
        paused: None,
        note: None,
    };
    let schedule = console.platform.create_schedule(&console.admin, request).await.unwrap();
    let developer = console.sign_in("acme", "dev@acme.test").await;
    let page = console.get("/console/schedules", &developer).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for shown in [
        "Nightly regression",
        "qa_tester: Run the regression suite",
        "cron 0 2 * * * (Europe/Berlin)",
        "Nightly",
        "active",
        "0 started, 0 skipped",
        "never",
    ] {
        assert!(page.body.contains(shown), "the schedules page lacks {shown}:\n{}", page.body);
    }
    // The next three fire times, each at 02:00 in Berlin (01:00 UTC).
    for day in [4, 5, 6] {
        let fire = format!("2026-12-0{day} 01:00:00 UTC</time> (02:00 in Europe/Berlin)");
        assert!(page.body.contains(&fire), "no fire {fire}:\n{}", page.body);
    }
    assert_accessible(&page.body, "schedules");

    let pause = format!("/console/schedules/{}/pause", schedule.id);
    let token = csrf_of(&page.body);
    let reply = console.send("POST", &pause, Some(&developer), Some(&[("csrf", &token)])).await;
    assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, "/console/schedules"));
    assert!(console.platform.get_schedule(&console.admin, schedule.id).await.unwrap().paused);
    let page = console.get("/console/schedules", &developer).await;
    assert!(page.body.contains(">paused<") && page.body.contains(">Resume <"), "{}", page.body);
    assert!(!page.body.contains(" in Europe/Berlin)"), "a paused schedule lists no fire times");
    let resume = format!("/console/schedules/{}/resume", schedule.id);
    console.send("POST", &resume, Some(&developer), Some(&[("csrf", &token)])).await;
    assert!(!console.platform.get_schedule(&console.admin, schedule.id).await.unwrap().paused);

    // A viewer reads, without buttons; a forged pause is refused; another tenant finds nothing.
    let viewer = console.sign_in("acme", "viewer@acme.test").await;
    let page = console.get("/console/schedules", &viewer).await;
    assert!(page.body.contains("Nightly regression") && !page.body.contains(&pause), "{}", page.body);
    let forged = console.send("POST", &pause, Some(&viewer), Some(&[("csrf", &csrf_of(&page.body))])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let intruder = console.other_tenant("initech").await;
    let page = console.get("/console/schedules", &intruder).await;
    assert!(!page.body.contains("Nightly regression"));
    let reply = console.send("POST", &pause, Some(&intruder), Some(&[("csrf", &csrf_of(&page.body))])).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(!console.platform.get_schedule(&console.admin, schedule.id).await.unwrap().paused);
}
