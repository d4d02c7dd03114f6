//! Retention through the platform: the upkeep's sweep deletes events and ended runs past their retention and
//! folds old cost records into roll-ups, and what the API reports of costs is the same before and after.

use agentic_llm::mock::MockProvider;
use serde_json::json;

use crate::events::one_run;
use crate::support::TestApp;

crate::both_backends!(retention_sweep, the_sweep_deletes_what_is_past_retention_and_keeps_cost_totals);

async fn the_sweep_deletes_what_is_past_retention_and_keeps_cost_totals(app: TestApp) {
    let app = app.with_llm(MockProvider::echo());
    let key = app.admin_key.clone();
    let (project, run) = one_run(&app, &key).await;
    let costs = format!("/v1/projects/{project}/costs?group_by=agent");
    let before = app.call("GET", &costs, Some(&key), None).await.expect(200);
    assert_eq!(before["total"]["calls"], 1, "{before}");
    let tenant_costs = app.call("GET", "/v1/costs?group_by=day", Some(&key), None).await.expect(200);
    let sweep = app.platform.apply_retention().await.unwrap();
    assert_eq!(sweep, agentic_core::engine::RetentionSweep::default(), "nothing is old yet");

    app.clock.advance(chrono::Duration::days(31));
    // A run queued long ago and never worked is kept: only ended runs go.
    let body = json!({"task": "Later", "project_id": project});
    let waiting = app.call("POST", "/v1/agents/qa_tester/execute", Some(&key), Some(body)).await.expect(202);
    app.clock.advance(chrono::Duration::days(31));
    let sweep = app.platform.apply_retention().await.unwrap();
    assert_eq!((sweep.events, sweep.runs, sweep.cost_records), (3, 1, 1), "{sweep:?}");

    app.call("GET", &format!("/v1/runs/{run}"), Some(&key), None).await.expect(404);
    app.call("GET", &format!("/v1/runs/{}", waiting["id"].as_str().unwrap()), Some(&key), None).await.expect(200);
    assert_eq!(app.call("GET", &costs, Some(&key), None).await.expect(200), before, "the totals are kept");
    assert_eq!(app.call("GET", "/v1/costs?group_by=day", Some(&key), None).await.expect(200), tenant_costs);
    assert_eq!(app.platform.apply_retention().await.unwrap(), agentic_core::engine::RetentionSweep::default());
}

#[tokio::test]
async fn each_kind_has_its_own_retention() {
    let retention = agentic_core::engine::Retention {
        events: chrono::Duration::days(1),
        runs: chrono::Duration::days(10),
        cost_records: chrono::Duration::days(100),
    };
    let app = TestApp::new().await.with_llm_and(MockProvider::echo(), |b| b.retention(retention));
    let key = app.admin_key.clone();
    one_run(&app, &key).await;
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(app.platform.apply_retention().await.unwrap().events, 3, "started, the model call, completed");
    assert_eq!(app.call("GET", "/v1/events", Some(&key), None).await.expect(200)["data"], json!([]));
    app.clock.advance(chrono::Duration::days(10));
    let sweep = app.platform.apply_retention().await.unwrap();
    assert_eq!((sweep.runs, sweep.cost_records), (1, 0));
    app.clock.advance(chrono::Duration::days(100));
    assert_eq!(app.platform.apply_retention().await.unwrap().cost_records, 1);
}
