//! A scripted LLM for tests: host apps use it to test their agents without a model or a network.
//!
//! Replies come from, in order: the first [`rule`](MockProvider::when) whose matcher accepts the request, then
//! the queue of scripted steps ([`reply`](MockProvider::reply), [`tool_call`](MockProvider::tool_call),
//! [`error`](MockProvider::error), …), then the fallback (none for [`MockProvider::new`], an echo for
//! [`MockProvider::echo`]). Every request is recorded for assertions. Usage is counted deterministically (one token
//! per four characters, rounded up) unless a reply sets it.
//!
//! ```
//! use agentic_core::llm::{ChatRequest, LlmError, LlmProvider, Message, StopReason};
//! use agentic_llm::mock::{MockProvider, MockReply};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let llm = MockProvider::new()
//!     .tool_call("secret_detector", json!({"path": "src/"}))
//!     .reply("No secrets found.")
//!     .error(|| LlmError::RateLimited { retry_after: None });
//!
//! let ask = |text: &str| ChatRequest::new("any-model", vec![Message::user(text)]);
//! let first = llm.chat(ask("scan the repo")).await.unwrap();
//! assert_eq!(first.stop_reason, StopReason::ToolUse);
//! assert_eq!(first.tool_calls[0].name, "secret_detector");
//! assert_eq!(llm.chat(ask("and?")).await.unwrap().text, "No secrets found.");
//! assert!(matches!(llm.chat(ask("again")).await, Err(LlmError::RateLimited { .. })));
//! assert_eq!(llm.requests().len(), 3);
//! # }
//! ```

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use agentic_core::llm::{
    ChatRequest, ChatResponse, ChatStream, LlmError, LlmProvider, Message, StopReason, StreamEvent, ToolCall,
    ToolCallDelta, Usage,
};
use async_trait::async_trait;
use parking_lot::Mutex;

type ErrorFactory = Arc<dyn Fn() -> LlmError + Send + Sync>;
type Matcher = Arc<dyn Fn(&ChatRequest) -> bool + Send + Sync>;

/// One scripted answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MockReply {
    text: String,
    tool_calls: Vec<ToolCall>,
    stop_reason: Option<StopReason>,
    usage: Option<Usage>,
    model: Option<String>,
    delay: Option<Duration>,
}

impl MockReply {
    /// A text answer.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }

    /// An answer calling one tool.
    pub fn tool_call(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self::default().with_tool_call(name, arguments)
    }

    /// Adds a tool call (ids are `call_<n>` in order).
    pub fn with_tool_call(mut self, name: impl Into<String>, arguments: serde_json::Value) -> Self {
        let id = format!("call_{}", self.tool_calls.len() + 1);
        self.tool_calls.push(ToolCall { id, name: name.into(), arguments });
        self
    }

    /// Sets the reported usage instead of the estimate.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sets the stop reason (default: `tool_use` with tool calls, else `end_turn`).
    pub fn with_stop_reason(mut self, reason: StopReason) -> Self {
        self.stop_reason = Some(reason);
        self
    }

    /// Sets the reported model (default: the requested one).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Waits this long before answering (to test timeouts and concurrency).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

#[derive(Clone)]
enum Step {
    Reply(MockReply),
    Error(ErrorFactory),
}

enum Fallback {
    None,
    Echo,
}

struct State {
    rules: Vec<(Matcher, Step)>,
    queue: VecDeque<Step>,
    requests: VecDeque<ChatRequest>,
}

/// How many of the latest requests a mock keeps for [`MockProvider::requests`].
pub const RECORDED_REQUESTS: usize = 1024;

/// The scripted provider. Cheap to share (`Arc<MockProvider>` or `Arc<dyn LlmProvider>`).
pub struct MockProvider {
    name: String,
    fallback: Fallback,
    state: Mutex<State>,
}

impl std::fmt::Debug for MockProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("MockProvider")
            .field("name", &self.name)
            .field("queued", &state.queue.len())
            .field("rules", &state.rules.len())
            .field("requests", &state.requests.len())
            .finish()
    }
}

impl Default for MockProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl MockProvider {
    /// A mock that answers only what is scripted; past the script it fails with [`LlmError::NotConfigured`].
    pub fn new() -> Self {
        Self {
            name: "mock".into(),
            fallback: Fallback::None,
            state: Mutex::new(State { rules: Vec::new(), queue: VecDeque::new(), requests: VecDeque::new() }),
        }
    }

    /// A mock that, past any script, answers `mock reply to: <last user message>`.
    pub fn echo() -> Self {
        Self { fallback: Fallback::Echo, ..Self::new() }
    }

    /// Sets the provider name it reports (default `mock`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Queues a text answer.
    pub fn reply(self, text: impl Into<String>) -> Self {
        self.then(MockReply::text(text))
    }

    /// Queues an answer calling one tool.
    pub fn tool_call(self, name: impl Into<String>, arguments: serde_json::Value) -> Self {
        self.then(MockReply::tool_call(name, arguments))
    }

    /// Queues any answer.
    pub fn then(self, reply: MockReply) -> Self {
        self.state.lock().queue.push_back(Step::Reply(reply));
        self
    }

    /// Queues a failure.
    pub fn error(self, error: impl Fn() -> LlmError + Send + Sync + 'static) -> Self {
        self.state.lock().queue.push_back(Step::Error(Arc::new(error)));
        self
    }

    /// Answers every request `matcher` accepts with `reply` (before the queue is consulted).
    pub fn when(self, matcher: impl Fn(&ChatRequest) -> bool + Send + Sync + 'static, reply: MockReply) -> Self {
        self.state.lock().rules.push((Arc::new(matcher), Step::Reply(reply)));
        self
    }

    /// Answers every request whose last user message contains `needle` with `reply`.
    pub fn when_user_says(self, needle: impl Into<String>, reply: MockReply) -> Self {
        let needle = needle.into();
        self.when(move |request| last_user_text(request).is_some_and(|t| t.contains(&needle)), reply)
    }

    /// The requests received, in order: every one, up to the last [`RECORDED_REQUESTS`] (a long-lived mock,
    /// such as the reference server's default, must not grow without bound).
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.state.lock().requests.iter().cloned().collect()
    }

    /// How many steps of the queue are left.
    pub fn remaining(&self) -> usize {
        self.state.lock().queue.len()
    }

    fn next_step(&self, request: &ChatRequest) -> Step {
        let mut state = self.state.lock();
        if state.requests.len() == RECORDED_REQUESTS {
            state.requests.pop_front();
        }
        state.requests.push_back(request.clone());
        if let Some((_, step)) = state.rules.iter().find(|(matcher, _)| matcher(request)) {
            return step.clone();
        }
        if let Some(step) = state.queue.pop_front() {
            return step;
        }
        match self.fallback {
            Fallback::Echo => {
                Step::Reply(MockReply::text(format!("mock reply to: {}", last_user_text(request).unwrap_or_default())))
            }
            Fallback::None => Step::Error(Arc::new(|| LlmError::NotConfigured("mock: the script is exhausted".into()))),
        }
    }

    async fn answer(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let reply = match self.next_step(request) {
            Step::Reply(reply) => reply,
            Step::Error(factory) => return Err(factory()),
        };
        if let Some(delay) = reply.delay {
            tokio::time::sleep(delay).await;
        }
        let usage = reply.usage.unwrap_or_else(|| estimate_usage(request, &reply));
        let stop_reason = reply.stop_reason.unwrap_or(if reply.tool_calls.is_empty() {
            StopReason::EndTurn
        } else {
            StopReason::ToolUse
        });
        Ok(ChatResponse {
            text: reply.text,
            tool_calls: reply.tool_calls,
            stop_reason,
            model: reply.model.unwrap_or_else(|| request.model.clone()),
            usage,
            latency: reply.delay.unwrap_or_default(),
            provider: None,
        })
    }
}

#[async_trait]
impl LlmProvider for MockProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        self.answer(&request).await
    }

    async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let answer = self.answer(&request).await?;
        let mut events: Vec<Result<StreamEvent, LlmError>> =
            chunks(&answer.text, 8).into_iter().map(|c| Ok(StreamEvent::TextDelta(c))).collect();
        for (index, call) in answer.tool_calls.into_iter().enumerate() {
            events.push(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                index,
                id: Some(call.id),
                name: Some(call.name),
                arguments: call.arguments.to_string(),
            })));
        }
        events.push(Ok(StreamEvent::Done {
            stop_reason: answer.stop_reason,
            model: answer.model,
            usage: answer.usage,
        }));
        Ok(Box::pin(futures_util::stream::iter(events)))
    }
}

fn last_user_text(request: &ChatRequest) -> Option<&str> {
    request.messages.iter().rev().find_map(|m| match m {
        Message::User { content } => Some(content.as_str()),
        _ => None,
    })
}

fn tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

fn estimate_usage(request: &ChatRequest, reply: &MockReply) -> Usage {
    let input_chars = request.system.as_ref().map_or(0, |s| s.chars().count())
        + request
            .messages
            .iter()
            .map(|m| match m {
                Message::User { content } | Message::Tool { content, .. } => content.chars().count(),
                Message::Assistant { content, tool_calls } => {
                    content.chars().count() + tool_calls.iter().map(|c| c.arguments.to_string().len()).sum::<usize>()
                }
            })
            .sum::<usize>();
    let output_chars =
        reply.text.chars().count() + reply.tool_calls.iter().map(|c| c.arguments.to_string().len()).sum::<usize>();
    Usage {
        input_tokens: tokens(input_chars).max(1),
        output_tokens: tokens(output_chars).max(1),
        cached_input_tokens: 0,
        cache_write_input_tokens: 0,
    }
}

fn chunks(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}
