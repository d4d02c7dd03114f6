//! What a run's caller can still decide while it works: cancel it (the worker stops at its next step), and how
//! many tokens it may use in all (`budget_tokens`). Shared by a run's agent turns, its LLM-backed tools and, for a
//! workflow, every step.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::llm::{ChatRequest, Usage};
use crate::model::Money;

/// The controls of one run; clones share them. The default has no token cap and is never cancelled unless
/// [`cancel`](Self::cancel) is called.
#[derive(Clone, Debug, Default)]
pub struct RunControl {
    inner: Arc<Controls>,
}

#[derive(Debug, Default)]
struct Controls {
    cancelled: AtomicBool,
    /// The most tokens (input, cached input and output) the run may use; `None`: no cap.
    token_cap: Option<u64>,
    tokens_used: AtomicU64,
    /// Nano-USD the calls this control saw cost.
    cost_nanos: AtomicI64,
}

impl RunControl {
    /// Controls with a cap on the run's tokens (`None`: no cap).
    pub fn with_token_cap(token_cap: Option<u64>) -> Self {
        Self { inner: Arc::new(Controls { token_cap, ..Controls::default() }) }
    }

    /// The controls of a stored run: its token cap from its input's `budget_tokens`.
    pub(crate) fn for_run(run: &crate::model::Run) -> Self {
        Self::with_token_cap(run.input.get("budget_tokens").and_then(serde_json::Value::as_u64))
    }

    /// Whether the run's tokens are capped.
    pub fn has_token_cap(&self) -> bool {
        self.inner.token_cap.is_some()
    }

    /// Counts what earlier attempts of the run used and cost (their cost records), so a resumed run does not get its
    /// cap afresh.
    pub(crate) fn record_earlier(&self, records: &[crate::model::CostRecord]) {
        for record in records {
            let usage = Usage {
                input_tokens: record.input_tokens,
                output_tokens: record.output_tokens,
                cached_input_tokens: record.cached_input_tokens,
                cache_write_input_tokens: 0,
            };
            self.record(usage, record.cost);
        }
    }

    /// Asks the run to stop at its next step.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Tokens used so far by the calls this control saw.
    pub fn tokens_used(&self) -> u64 {
        self.inner.tokens_used.load(Ordering::SeqCst)
    }

    /// What the calls this control saw cost so far (a cancelled run reports it).
    pub fn cost_so_far(&self) -> Money {
        Money::from_nanos(self.inner.cost_nanos.load(Ordering::SeqCst))
    }

    /// [`Error::Cancelled`] once cancelled: checked at every step boundary (before a model call, before a tool).
    pub(crate) fn check(&self) -> Result<()> {
        if self.is_cancelled() { Err(Error::Cancelled) } else { Ok(()) }
    }

    /// Admits `request` under the token cap: its output is clipped to what is left after its estimated input,
    /// and a request whose input alone (plus one token of answer) does not fit is refused with
    /// [`Error::TokenBudgetExceeded`] before anything is called or reserved.
    pub(crate) fn admit(&self, request: &mut ChatRequest) -> Result<()> {
        self.check()?;
        let Some(cap) = self.inner.token_cap else { return Ok(()) };
        let used = self.tokens_used();
        let input = super::budgets::estimate_input_tokens(request);
        let left = cap.saturating_sub(used).saturating_sub(input);
        if left == 0 {
            return Err(Error::TokenBudgetExceeded { limit: cap, used, needed: input.saturating_add(1) });
        }
        let clipped = u64::from(request.max_tokens).min(left);
        request.max_tokens = u32::try_from(clipped).unwrap_or(u32::MAX);
        Ok(())
    }

    /// Counts what a call used and cost.
    pub(crate) fn record(&self, usage: Usage, cost: Money) {
        let tokens = usage.input_tokens.saturating_add(usage.output_tokens).saturating_add(usage.cached_input_tokens);
        self.inner.tokens_used.fetch_add(tokens, Ordering::SeqCst);
        self.inner.cost_nanos.fetch_add(cost.nanos(), Ordering::SeqCst);
    }
}

/// The largest token cap a run may ask for.
pub const MAX_BUDGET_TOKENS: u64 = 100_000_000;

/// A run's token cap from its request: `budget_tokens`, and `context.budget_tokens` (the smaller applies), each
/// a whole number from 1 to [`MAX_BUDGET_TOKENS`].
pub(crate) fn requested_token_cap(
    budget_tokens: Option<u64>,
    context: Option<&serde_json::Value>,
) -> Result<Option<u64>> {
    let in_range = |field: &str, value: u64| {
        if (1..=MAX_BUDGET_TOKENS).contains(&value) {
            Ok(value)
        } else {
            let reason = format!("must be a whole number of tokens from 1 to {MAX_BUDGET_TOKENS}");
            Err(Error::from(crate::model::ValidationError::new(field, reason)))
        }
    };
    let field = budget_tokens.map(|v| in_range("budget_tokens", v)).transpose()?;
    let in_context = match context.and_then(|c| c.get("budget_tokens")) {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => Some(match value.as_u64() {
            Some(v) => in_range("context.budget_tokens", v)?,
            None => in_range("context.budget_tokens", 0)?,
        }),
    };
    Ok(match (field, in_context) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Message;

    fn request(max_tokens: u32) -> ChatRequest {
        ChatRequest::new("m", vec![Message::user("Say hello")]).with_max_tokens(max_tokens)
    }

    #[test]
    fn output_is_clipped_to_what_the_cap_leaves_and_a_spent_cap_refuses_before_calling() {
        let control = RunControl::with_token_cap(Some(200));
        let mut first = request(4_096);
        control.admit(&mut first).unwrap();
        let input = crate::engine::estimate_input_tokens(&first);
        assert_eq!(u64::from(first.max_tokens), 200 - input);
        control.record(
            Usage { input_tokens: 20, output_tokens: 150, cached_input_tokens: 10, cache_write_input_tokens: 0 },
            Money::from_nanos(7),
        );
        assert_eq!((control.tokens_used(), control.cost_so_far()), (180, Money::from_nanos(7)));
        match control.admit(&mut request(4_096)) {
            Err(Error::TokenBudgetExceeded { limit: 200, used: 180, needed }) => assert_eq!(needed, input + 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_cap_comes_from_the_field_or_the_context_and_the_smaller_wins() {
        let context = serde_json::json!({"budget_tokens": 100});
        assert_eq!(requested_token_cap(None, Some(&context)).unwrap(), Some(100));
        assert_eq!(requested_token_cap(Some(50), Some(&context)).unwrap(), Some(50));
        assert_eq!(requested_token_cap(Some(500), Some(&context)).unwrap(), Some(100));
        assert_eq!(requested_token_cap(None, None).unwrap(), None);
        for bad in [serde_json::json!({"budget_tokens": "many"}), serde_json::json!({"budget_tokens": -1})] {
            match requested_token_cap(None, Some(&bad)) {
                Err(Error::Validation(v)) => assert_eq!(v.field, "context.budget_tokens"),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(requested_token_cap(Some(0), None), Err(Error::Validation(_))));
    }

    #[test]
    fn no_cap_leaves_requests_alone_and_cancelling_stops_the_next_step() {
        let control = RunControl::default();
        let mut call = request(512);
        control.admit(&mut call).unwrap();
        assert_eq!(call.max_tokens, 512);
        let shared = control.clone();
        shared.cancel();
        assert!(matches!(control.admit(&mut request(512)), Err(Error::Cancelled)));
        assert!(matches!(control.check(), Err(Error::Cancelled)));
    }
}
