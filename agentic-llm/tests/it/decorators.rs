//! Retry, timeout and failover, on the scripted mock.

use std::sync::Arc;
use std::time::Duration;

use agentic_core::llm::{ChatRequest, LlmError, LlmProvider, Message, collect_stream};
use agentic_llm::failover::Failover;
use agentic_llm::mock::{MockProvider, MockReply};
use agentic_llm::retry::{Retry, RetryPolicy};
use agentic_llm::timeout::Timeout;

fn ask() -> ChatRequest {
    ChatRequest::new("m", vec![Message::user("hello")])
}

fn fast_policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn retry_gives_up_after_max_attempts_and_skips_permanent_errors() {
    let mock = Arc::new(
        MockProvider::new()
            .error(|| LlmError::Overloaded { retry_after: None })
            .error(|| LlmError::Timeout(Duration::ZERO))
            .error(|| LlmError::Unavailable { status: 503, excerpt: String::new(), retry_after: None })
            .reply("never reached"),
    );
    let retry = Retry::new(mock.clone(), fast_policy(3));
    assert!(matches!(retry.chat(ask()).await, Err(LlmError::Unavailable { .. })));
    assert_eq!(mock.requests().len(), 3);

    let mock = Arc::new(
        MockProvider::new().error(|| LlmError::InvalidRequest { status: 400, message: "no".into() }).reply("x"),
    );
    let retry = Retry::new(mock.clone(), fast_policy(5));
    assert!(matches!(retry.chat(ask()).await, Err(LlmError::InvalidRequest { .. })));
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn timeout_bounds_calls_and_streams() {
    let slow = Arc::new(MockProvider::new().then(MockReply::text("late").with_delay(Duration::from_millis(500))));
    let bounded = Timeout::new(slow, Duration::from_millis(50));
    assert!(matches!(bounded.chat(ask()).await, Err(LlmError::Timeout(_))));

    let fast = Arc::new(MockProvider::new().reply("quick answer"));
    let bounded = Timeout::new(fast, Duration::from_secs(5));
    let answer = collect_stream(bounded.chat_stream(ask()).await.unwrap()).await.unwrap();
    assert_eq!(answer.text, "quick answer");
}

#[tokio::test]
async fn failover_moves_on_from_transient_failures_only() {
    let primary = Arc::new(MockProvider::new().named("primary").error(|| LlmError::RateLimited { retry_after: None }));
    let secondary = Arc::new(MockProvider::new().named("secondary").reply("from the backup"));
    let chain = Failover::new(vec![primary.clone(), secondary.clone()]).unwrap();
    let answer = chain.chat(ask()).await.unwrap();
    assert_eq!(answer.text, "from the backup");
    assert_eq!(answer.provider.as_deref(), Some("secondary"), "the answer names who gave it");
    assert_eq!(chain.name(), "primary");
    // The guardrail exempts a call only when every provider it may reach is exempt: the chain names them all,
    // through the wrappers around it.
    assert_eq!(chain.reaches(), ["primary", "secondary"]);
    let wrapped = agentic_llm::retry::Retry::new(Arc::new(chain.clone()) as Arc<dyn LlmProvider>, Default::default());
    assert_eq!(wrapped.reaches(), ["primary", "secondary"]);

    let primary = Arc::new(MockProvider::new().error(|| LlmError::ContextTooLong { message: "big".into() }));
    let secondary = Arc::new(MockProvider::new().reply("unused"));
    let chain = Failover::new(vec![primary, secondary.clone()]).unwrap();
    assert!(matches!(chain.chat(ask()).await, Err(LlmError::ContextTooLong { .. })));
    assert!(secondary.requests().is_empty());

    let all_down = Failover::new(vec![
        Arc::new(MockProvider::new().error(|| LlmError::Timeout(Duration::ZERO))) as Arc<dyn LlmProvider>,
        Arc::new(MockProvider::new().error(|| LlmError::Auth { status: 401, message: "bad".into() })),
    ])
    .unwrap();
    assert!(matches!(all_down.chat(ask()).await, Err(LlmError::Auth { .. })));
    assert!(Failover::new(vec![]).is_err());
}

#[tokio::test]
async fn mock_rules_recording_and_streaming() {
    let mock = MockProvider::new()
        .when_user_says("weather", MockReply::tool_call("get_weather", serde_json::json!({"city": "Oslo"})))
        .reply("first")
        .reply("second");
    assert_eq!(mock.chat(ask()).await.unwrap().text, "first");
    let weather = ChatRequest::new("m", vec![Message::user("what's the weather?")]);
    assert_eq!(mock.chat(weather.clone()).await.unwrap().tool_calls[0].name, "get_weather");
    assert_eq!(mock.chat(weather).await.unwrap().tool_calls[0].name, "get_weather");
    let streamed = collect_stream(mock.chat_stream(ask()).await.unwrap()).await.unwrap();
    assert_eq!(streamed.text, "second");
    assert!(streamed.usage.input_tokens > 0 && streamed.usage.output_tokens > 0);
    assert!(matches!(mock.chat(ask()).await, Err(LlmError::NotConfigured(_))));
    assert_eq!(mock.requests().len(), 5);
    assert_eq!(mock.remaining(), 0);
}

#[tokio::test]
async fn a_long_lived_mock_keeps_only_the_latest_requests() {
    let mock = MockProvider::echo();
    for n in 0..agentic_llm::mock::RECORDED_REQUESTS + 5 {
        mock.chat(ChatRequest::new("m", vec![Message::user(format!("q{n}"))])).await.unwrap();
    }
    let requests = mock.requests();
    assert_eq!(requests.len(), agentic_llm::mock::RECORDED_REQUESTS);
    let first = serde_json::to_string(&requests[0].messages).unwrap();
    assert!(first.contains("\"q5\""), "the oldest five were dropped: {first}");
}
