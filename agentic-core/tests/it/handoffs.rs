//! Handoffs on the mock model: the Developer hands work to the QA Tester and gets its answer back in its tool
//! loop; a handoff back up the chain is refused as a cycle; the child runs are recorded under their parent.

use std::sync::Arc;

use agentic_llm::mock::{MockProvider, MockReply};
use serde_json::json;

use crate::support::TestApp;

async fn project(app: &TestApp) -> String {
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "Site"}))).await;
    project.expect(201)["id"].as_str().unwrap().to_owned()
}

crate::both_backends!(developer_to_qa, the_developer_hands_off_to_qa_and_gets_its_answer_back);

async fn the_developer_hands_off_to_qa_and_gets_its_answer_back(app: TestApp) {
    // The model is asked in this order: the Developer (hands off), the QA Tester (answers), the Developer again.
    let handoff = json!({"to": "qa_tester", "instructions": "Test the signup form", "context": {"file": "signup.tsx"}});
    let mock = MockProvider::new()
        .then(MockReply::tool_call("handoff", handoff))
        .reply("3 tests written, all pass")
        .reply("Shipped: QA wrote 3 passing tests");
    let mock = Arc::new(mock);
    let app = app.with_llm(Arc::clone(&mock));
    let project = project(&app).await;
    let body = json!({"task": "Build the signup form", "project_id": project});
    let run = app.call("POST", "/v1/agents/developer/execute", Some(&app.admin_key), Some(body)).await.expect(202);
    assert!(app.platform.work_once("w").await.unwrap());
    let id = run["id"].as_str().unwrap();
    let done = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output"]["answer"], "Shipped: QA wrote 3 passing tests");
    let call = &done["output"]["steps"][1];
    assert_eq!((call["name"].as_str(), call["ok"].as_bool()), (Some("handoff"), Some(true)));
    assert_eq!(call["output"]["answer"], "3 tests written, all pass", "QA's answer came back to the Developer");
    // QA was asked what the Developer handed over, as a QA Tester.
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    let qa = serde_json::to_string(&requests[1]).unwrap();
    assert!(qa.contains("Test the signup form") && qa.contains("signup.tsx") && qa.contains("QA"), "{qa}");
    assert!(requests[0].tools.iter().any(|t| t.name == "handoff"), "the Developer is offered the tool");
    assert!(requests[1].tools.iter().all(|t| t.name != "handoff"), "QA names no targets, so it is not");

    let handoffs = app.call("GET", &format!("/v1/runs/{id}/handoffs"), Some(&app.admin_key), None).await.expect(200);
    let list = handoffs["data"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let child = &list[0];
    assert_eq!(
        (child["from"].as_str(), child["to"].as_str(), child["depth"].as_u64()),
        (Some("developer"), Some("qa_tester"), Some(1))
    );
    assert_eq!(
        (child["status"].as_str(), child["instructions"].as_str()),
        (Some("completed"), Some("Test the signup form"))
    );
    assert_eq!(child["context_hash"].as_str().unwrap().len(), 64);
    let child_id = child["run_id"].as_str().unwrap();
    let child_run = app.call("GET", &format!("/v1/runs/{child_id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!((child_run["parent_run_id"].as_str(), child_run["agent"].as_str()), (Some(id), Some("qa_tester")));

    // Every call was charged to the project; the parent's cost includes the child's.
    let costs = app.call("GET", &format!("/v1/projects/{project}/costs"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(costs["total"]["calls"], 3);
    assert_eq!(costs["total"]["cost"], done["cost"]);
    let events = app.events_of("agent.handoff").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].data["child_run_id"].as_str(), events[0].run_id.map(|r| r.to_string())),
        (Some(child_id), Some(id.to_owned()))
    );
}

#[tokio::test]
async fn a_handoff_back_up_the_chain_is_refused_as_a_cycle() {
    let mock = MockProvider::new()
        .then(MockReply::tool_call("handoff", json!({"to": "reviewer", "instructions": "Review this"})))
        .then(MockReply::tool_call("handoff", json!({"to": "author", "instructions": "Fix it yourself"})))
        .reply("Reviewed: fine")
        .reply("Done");
    let mock = Arc::new(mock);
    let app = TestApp::new().await.with_llm(Arc::clone(&mock));
    let project = project(&app).await;
    let yaml = |name: &str, to: &str| {
        format!(
            "name: {name}\nrole: R\ngoal: G\nbackstory: B.\ntools: []\nhandoffs: [{to}]\nllm:\n  provider: mock\n  model: mock\n"
        )
    };
    app.put_agent("author", &yaml("Author", "reviewer")).await;
    app.put_agent("reviewer", &yaml("Reviewer", "author")).await;
    let body = json!({"task": "Write it", "project_id": project});
    let run = app.call("POST", "/v1/agents/author/execute", Some(&app.admin_key), Some(body)).await.expect(202);
    assert!(app.platform.work_once("w").await.unwrap());
    let id = run["id"].as_str().unwrap();
    let done = app.call("GET", &format!("/v1/runs/{id}"), Some(&app.admin_key), None).await.expect(200);
    assert_eq!(done["status"], "completed", "{done}");
    let handoffs = app.call("GET", &format!("/v1/runs/{id}/handoffs"), Some(&app.admin_key), None).await.expect(200);
    let child_id = handoffs["data"][0]["run_id"].as_str().unwrap().to_owned();
    let child = app.call("GET", &format!("/v1/runs/{child_id}"), Some(&app.admin_key), None).await.expect(200);
    let refused = &child["output"]["steps"][1];
    assert_eq!((refused["name"].as_str(), refused["ok"].as_bool()), (Some("handoff"), Some(false)));
    let reason = refused["output"]["error"].as_str().unwrap();
    assert!(reason.contains("cycle") && reason.contains("author → reviewer → author"), "{reason}");
    assert_eq!(mock.requests().len(), 4, "the refused handoff ran nothing");
    let nested =
        app.call("GET", &format!("/v1/runs/{child_id}/handoffs"), Some(&app.admin_key), None).await.expect(200);
    assert!(nested["data"].as_array().unwrap().is_empty());

    // A spec may name only agent names, each once.
    let bad = "name: X\nrole: R\ngoal: G\nbackstory: B.\ntools: []\nhandoffs: [Not-An-Agent]\nllm:\n  provider: mock\n  model: mock\n";
    let problem = app
        .send(
            axum::http::Request::builder()
                .method("PUT")
                .uri("/v1/agents/broken")
                .header("authorization", format!("Bearer {}", app.admin_key))
                .header("content-type", "application/yaml")
                .body(axum::body::Body::from(bad))
                .unwrap(),
        )
        .await;
    assert_eq!(problem.status.as_u16(), 422, "{}", problem.body);
    assert!(problem.body.to_string().contains("handoffs[0]"), "{}", problem.body);

    // Another tenant's run has no handoffs to show.
    let (_, other) = app.second_tenant("globex").await;
    app.call("GET", &format!("/v1/runs/{id}/handoffs"), Some(&other), None).await.expect(404);
}
