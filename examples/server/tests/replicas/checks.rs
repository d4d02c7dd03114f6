//! What the suite checks once the load and the faults are over, each printing its figures.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use agentic_core::model::Money;
use agentic_core::testing::receiver::Receiver;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::cluster::{Api, REPLICAS};

/// The rate-limited route's quota, and how many requests try it.
pub(crate) const QUOTA: usize = 40;
const ATTEMPTS: usize = 120;
/// The capped project's budget, in nanodollars ($0.10: four holds at once, five calls at most), and how many
/// runs race for it.
const BUDGET_NANOS: i64 = 100_000_000;
const RACERS: usize = 100;

/// An amount as the API writes it (`"0.018"`), in nanodollars.
pub(crate) fn nanos(money: &Value) -> i64 {
    let text = money.as_str().unwrap_or_else(|| panic!("not an amount: {money}"));
    text.parse::<Money>().unwrap_or_else(|e| panic!("{e}")).nanos()
}

/// The ledger number a load run's task carries (`ledger-17: …`).
pub(crate) fn ledger_number(text: &str) -> Option<usize> {
    let start = text.find("ledger-")? + "ledger-".len();
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A route limited to `QUOTA` an hour, tried `ATTEMPTS` times at once across the servers: exactly `QUOTA` pass
/// (LiteLLM's proxy counts per replica and lets through up to the quota times the replicas). `round` names the
/// departments; after Redis was restarted (its counts gone) the quota is whole again, and still held: the
/// servers count in the new Redis rather than letting everything through.
pub(crate) async fn rate_limits_hold_across_replicas(api: &Api, round: &str) {
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..ATTEMPTS {
        let api = api.clone();
        let round = round.to_owned();
        attempts.spawn(async move {
            let body = json!({"name": format!("Department {round} {i}")});
            let (status, answer) = api.once(i, Method::POST, "/v1/departments", Some(&body), None).await.unwrap();
            (i, status, answer)
        });
    }
    let mut created = HashSet::new();
    let mut refused = 0;
    while let Some(attempt) = attempts.join_next().await {
        match attempt.unwrap() {
            (i, 201, _) => {
                created.insert(format!("Department {round} {i}"));
            }
            (_, 429, problem) => {
                assert_eq!(problem["status"], 429, "{problem}");
                refused += 1;
            }
            (_, status, answer) => panic!("a rate-limited request answered {status}: {answer}"),
        }
    }
    let stored: HashSet<String> = api
        .all("/v1/departments?", None)
        .await
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .filter(|name| name.starts_with(&format!("Department {round} ")))
        .collect();
    println!(
        "rate limits, {round}: {} of {ATTEMPTS} requests allowed across {REPLICAS} servers (quota {QUOTA}), {refused} \
         refused; {} stored",
        created.len(),
        stored.len()
    );
    assert_eq!(created.len(), QUOTA, "the quota holds across the servers");
    assert_eq!(stored, created, "every allowed request is stored, and nothing else");
}

/// `RACERS` runs at once, spread over the servers, against a budget that pays for a fraction of them: the
/// project never spends past it, and its spending is the sum of its cost records.
pub(crate) async fn budgets_are_never_overspent(api: &Api) {
    let budget = Money::from_nanos(BUDGET_NANOS);
    let project = api.post("/v1/projects", &json!({"name": "Capped", "budget": budget})).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..RACERS {
        let (api, project_id) = (api.clone(), project_id.clone());
        racers.spawn(async move {
            let body = json!({"task": format!("budget race {i}"), "project_id": project_id, "wait": 60});
            api.once(i, Method::POST, "/v1/agents/qa_tester/execute", Some(&body), None).await.unwrap()
        });
    }
    let (mut completed, mut refused) = (Vec::new(), 0);
    while let Some(racer) = racers.join_next().await {
        match racer.unwrap() {
            (200, run) if run["status"] == "completed" => completed.push(run["id"].as_str().unwrap().to_owned()),
            (402, problem) => {
                assert!(problem["type"].as_str().unwrap().ends_with("budget-exceeded"), "{problem}");
                refused += 1;
            }
            (200, run) if run["status"] == "failed" && run["error_code"] == "budget-exceeded" => refused += 1,
            (status, answer) => panic!("a budgeted run answered {status}: {answer}"),
        }
    }
    let mut charged = 0;
    for run in &completed {
        let records = api.get(&format!("/v1/runs/{run}/costs")).await;
        charged += records.as_array().unwrap().iter().map(|r| nanos(&r["cost"])).sum::<i64>();
    }
    let costs = api.get(&format!("/v1/projects/{project_id}/costs")).await;
    let spent = nanos(&costs["total"]["cost"]);
    println!(
        "budgets: {RACERS} concurrent runs against ${budget}: {} completed, {refused} refused; spent {spent} of \
         {BUDGET_NANOS} nanodollars, overspend {}",
        completed.len(),
        (spent - BUDGET_NANOS).max(0)
    );
    assert!(spent <= BUDGET_NANOS, "overspent: {spent} > {BUDGET_NANOS}");
    assert!(!completed.is_empty() && refused > 0, "the budget paid for some runs and refused the rest");
    assert_eq!(charged, spent, "the project's spending is its runs' cost records");
}

/// Waits for every ledger run to end, then checks each ended once, with its model calls and charges in line
/// with its attempts. Returns the project's runs.
pub(crate) async fn runs_end_exactly_once(
    api: &Api,
    project_id: &str,
    ledger: &[(usize, String)],
    upstream: &MockServer,
) -> Vec<Value> {
    let ended = |status: &str| matches!(status, "completed" | "failed" | "cancelled" | "denied");
    let deadline = Instant::now() + Duration::from_secs(120);
    let runs = loop {
        let runs = api.all(&format!("/v1/runs?project_id={project_id}"), None).await;
        let open = runs.iter().filter(|r| !ended(r["status"].as_str().unwrap())).count();
        if open == 0 {
            break runs;
        }
        assert!(Instant::now() < deadline, "{open} runs still not ended two minutes after the load");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let by_id: HashMap<&str, &Value> = runs.iter().map(|r| (r["id"].as_str().unwrap(), r)).collect();

    // None lost, none started twice: the load's runs are exactly the ledger's.
    let load_runs: Vec<&Value> =
        runs.iter().filter(|r| ledger_number(r["input"]["task"].as_str().unwrap_or("")).is_some()).collect();
    let promised: HashSet<&str> = ledger.iter().map(|(_, id)| id.as_str()).collect();
    let missing: Vec<_> = promised.iter().filter(|id| !by_id.contains_key(**id)).collect();
    assert!(missing.is_empty(), "accepted runs missing afterwards: {missing:?}");
    assert_eq!(load_runs.len(), ledger.len(), "one run per accepted request, retries included");

    // Each ended exactly once.
    let mut end_events: HashMap<String, usize> = HashMap::new();
    for kind in ["agent.completed", "agent.failed", "agent.cancelled"] {
        for event in api.all(&format!("/v1/events?type={kind}&project_id={project_id}"), Some(NIL)).await {
            *end_events.entry(event["run_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    let not_once: Vec<_> = runs
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .filter(|id| end_events.get(*id).copied().unwrap_or(0) != 1)
        .map(|id| (id, end_events.get(id).copied().unwrap_or(0)))
        .collect();
    assert!(not_once.is_empty(), "runs without exactly one end event: {not_once:?}");
    let failed: Vec<_> = runs
        .iter()
        .filter(|r| r["status"] != "completed")
        .map(|r| (r["id"].clone(), r["status"].clone(), r["error"].clone()))
        .collect();

    // Model calls: none more than the run's attempts; charges: a call each, none for a call not made.
    let mut calls: HashMap<usize, usize> = HashMap::new();
    let mut project_calls = 0;
    for request in upstream.received_requests().await.unwrap_or_default() {
        let body = String::from_utf8_lossy(&request.body);
        if let Some(n) = ledger_number(&body) {
            *calls.entry(n).or_default() += 1;
            project_calls += 1;
        } else if body.contains("scheduled ping") {
            project_calls += 1;
        }
    }
    let mut taken_over = 0;
    for (n, id) in ledger {
        let run = by_id[id.as_str()];
        let attempts = usize::try_from(run["attempts"].as_u64().unwrap()).unwrap();
        let made = calls.get(n).copied().unwrap_or(0);
        assert!(made <= attempts, "run {id} called the model {made} times in {attempts} attempts");
        if attempts > 1 {
            taken_over += 1;
            let records = api.get(&format!("/v1/runs/{id}/costs")).await;
            let charged = records.as_array().unwrap().len();
            assert!((1..=made).contains(&charged), "run {id} was charged for {charged} calls, {made} made");
        }
    }
    let costs = api.get(&format!("/v1/projects/{project_id}/costs")).await;
    let charged = usize::try_from(costs["total"]["calls"].as_u64().unwrap()).unwrap();
    println!(
        "runs: {} accepted across the faults, {} runs in the project (scheduled ones included) ended once each, \
         {} not completed {failed:?}; {taken_over} taken over after their server died; the model answered \
         {project_calls} calls for the project and {charged} were charged",
        ledger.len(),
        runs.len(),
        failed.len(),
    );
    assert!(failed.is_empty(), "every run completed");
    assert!((runs.len()..=project_calls).contains(&charged), "every run charged, and no call charged twice");
    runs
}

/// The nil event id: `after` it lists events oldest first from the start.
const NIL: &str = "00000000-0000-0000-0000-000000000000";

/// Every `agent.*` event stored is delivered at least once (within a minute), never two attempts at once.
pub(crate) async fn webhooks_deliver_every_event_once_at_a_time(api: &Api, receiver: &Receiver) {
    let events: HashSet<String> = api
        .all("/v1/events?", Some(NIL))
        .await
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("agent."))
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let all =
        receiver.wait_until(Duration::from_secs(60), |r| events.iter().all(|id| r.delivered_ids().contains(id))).await;
    let delivered = receiver.delivered_ids();
    let undelivered = events.iter().filter(|id| !delivered.contains(*id)).count();
    println!(
        "webhooks: {} agent events, {} delivered in {} requests, {undelivered} undelivered; at most {} attempt \
         of one event in flight at once",
        events.len(),
        events.iter().filter(|id| delivered.contains(*id)).count(),
        receiver.received().len(),
        receiver.most_in_flight()
    );
    assert!(all, "{undelivered} events were not delivered within a minute");
    assert_eq!(receiver.most_in_flight(), 1, "no event was in flight twice at once");
}

/// The schedule's runs: one per fire time from the first to the last, no gap, none twice.
pub(crate) async fn schedules_fire_once_per_time(api: &Api, schedule_id: &str, runs: &[Value]) {
    let scheduled = api.all(&format!("/v1/schedules/{schedule_id}/runs?"), None).await;
    let mut per_fire: BTreeMap<i64, usize> = BTreeMap::new();
    for run in &scheduled {
        let key = run["idempotency_key"].as_str().expect("a scheduled run names its fire");
        let millis: i64 = key.rsplit(':').next().unwrap().parse().unwrap();
        *per_fire.entry(millis).or_default() += 1;
    }
    let twice: Vec<_> = per_fire.iter().filter(|(_, n)| **n > 1).collect();
    let (first, last) = (*per_fire.keys().next().unwrap(), *per_fire.keys().last().unwrap());
    let missing: Vec<i64> =
        (0..=(last - first) / 1000).map(|i| first + i * 1000).filter(|t| !per_fire.contains_key(t)).collect();
    let ended = scheduled.iter().filter(|r| runs.iter().any(|p| p["id"] == r["id"])).count();
    println!(
        "schedules: {} fire times, {} runs ({ended} of them ended and counted above), {} fired twice, {} missed",
        per_fire.len(),
        scheduled.len(),
        twice.len(),
        missing.len()
    );
    assert!(twice.is_empty(), "fire times with more than one run: {twice:?}");
    assert!(missing.is_empty(), "fire times without a run: {missing:?}");
}
