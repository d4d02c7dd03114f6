//! Guardrails before a prompt leaves: every LLM call to a provider that is not exempt (a self-hosted model) is
//! scanned by a [`PromptScanner`], and the tenant's [`GuardrailAction`] decides what happens to what it finds —
//! the call is refused (`block`), the findings are replaced by typed placeholders (`redact`), or nothing is done
//! (`off`).
//!
//! The scanner is the host's choice: `agentic_tools::PromptGuard` (credentials by `secret_detector`'s rules,
//! e-mail addresses, phone numbers, card numbers that pass the Luhn check, IBANs that pass their checksum) is what
//! the reference server installs.
//!
//! ```
//! use agentic_core::llm::{ChatRequest, Detection, Message, PromptScanner, screen};
//!
//! #[derive(Debug)]
//! struct Shouting;
//!
//! impl PromptScanner for Shouting {
//!     fn scan(&self, text: &str) -> Vec<Detection> {
//!         text.match_indices("SECRET").map(|(at, s)| Detection::new("shout", at..at + s.len())).collect()
//!     }
//! }
//!
//! let mut request = ChatRequest::new("m", vec![Message::user("the SECRET is out")]);
//! let found = screen(&Shouting, &mut request, true);
//! assert_eq!(found["shout"], 1);
//! assert_eq!(request.messages[0], Message::user("the [REDACTED:shout] is out"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ChatRequest, Message};

/// What happens to a call whose outgoing text holds something sensitive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GuardrailAction {
    /// The call is not made: it fails with a `guardrail-blocked` problem naming the kinds found (never the text).
    Block,
    /// Each finding is replaced by `[REDACTED:<kind>]` and the call goes on.
    #[default]
    Redact,
    /// Nothing is scanned.
    Off,
}

impl GuardrailAction {
    /// The lower-case name (`block`, `redact`, `off`), as settings and metric labels spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::Redact => "redact",
            Self::Off => "off",
        }
    }

    /// The action a tenant's settings choose (`{"guardrails": {"outgoing": "block"}}`), if any.
    pub fn of_settings(settings: &serde_json::Value) -> Option<Self> {
        serde_json::from_value(settings.pointer("/guardrails/outgoing")?.clone()).ok()
    }
}

/// Something sensitive in a text: its kind (a fixed vocabulary such as `aws_access_key_id` or `email`: it is a
/// metric label) and where it is, in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The kind.
    pub kind: String,
    /// Its byte range in the text scanned (on character boundaries).
    pub range: Range<usize>,
}

impl Detection {
    /// A detection of `kind` at `range`.
    pub fn new(kind: impl Into<String>, range: Range<usize>) -> Self {
        Self { kind: kind.into(), range }
    }
}

/// Finds sensitive text in what is about to be sent to a provider.
pub trait PromptScanner: Send + Sync + std::fmt::Debug {
    /// Every detection in `text`.
    fn scan(&self, text: &str) -> Vec<Detection>;
}

/// The platform's outgoing guardrail: the scanner, the providers it does not apply to, and the action for tenants
/// whose settings choose none.
#[derive(Clone, Debug)]
pub struct Guardrails {
    scanner: Arc<dyn PromptScanner>,
    exempt: BTreeSet<String>,
    default_action: GuardrailAction,
}

impl Guardrails {
    /// Every provider guarded with `scanner`; tenants without a setting get [`GuardrailAction::Redact`].
    pub fn new(scanner: Arc<dyn PromptScanner>) -> Self {
        Self { scanner, exempt: BTreeSet::new(), default_action: GuardrailAction::default() }
    }

    /// Providers (as agents name them, compared in lower case) whose calls are not scanned: self-hosted models,
    /// where the prompt does not leave the operator's network.
    pub fn exempt<S: AsRef<str>>(mut self, providers: impl IntoIterator<Item = S>) -> Self {
        self.exempt.extend(providers.into_iter().map(|p| p.as_ref().trim().to_ascii_lowercase()));
        self
    }

    /// The action for tenants whose settings choose none.
    pub fn default_action(mut self, action: GuardrailAction) -> Self {
        self.default_action = action;
        self
    }

    /// The scanner.
    pub fn scanner(&self) -> &dyn PromptScanner {
        &*self.scanner
    }

    /// Whether calls to `provider` go unscanned.
    pub fn is_exempt(&self, provider: &str) -> bool {
        self.exempt.contains(&provider.to_ascii_lowercase())
    }

    /// The exempt providers.
    pub fn exempt_providers(&self) -> impl Iterator<Item = &str> {
        self.exempt.iter().map(String::as_str)
    }

    /// The action for tenants whose settings choose none.
    pub fn fallback_action(&self) -> GuardrailAction {
        self.default_action
    }
}

/// `text` with each detection replaced by `[REDACTED:<kind>]` (overlapping detections become one, named by the
/// first).
fn redacted(text: &str, mut detections: Vec<Detection>) -> String {
    detections.sort_by_key(|d| (d.range.start, std::cmp::Reverse(d.range.end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for detection in detections {
        let (start, end) = (detection.range.start.max(at), detection.range.end.min(text.len()));
        if start >= end || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&format!("[REDACTED:{}]", detection.kind));
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Scans every text of `request` that is sent as text (the system prompt, and each message's content), and
/// redacts what is found when `redact` is set. Returns how many of each kind were found. Tool-call arguments are
/// not scanned: the model wrote them from what it was sent, which was scanned.
pub fn screen(scanner: &dyn PromptScanner, request: &mut ChatRequest, redact: bool) -> BTreeMap<String, usize> {
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    let mut visit = |text: &mut String| {
        let detections = scanner.scan(text);
        if detections.is_empty() {
            return;
        }
        for detection in &detections {
            *found.entry(detection.kind.clone()).or_default() += 1;
        }
        if redact {
            *text = redacted(text, detections);
        }
    };
    if let Some(system) = request.system.as_mut() {
        visit(system);
    }
    for message in &mut request.messages {
        match message {
            Message::User { content } | Message::Assistant { content, .. } | Message::Tool { content, .. } => {
                visit(content);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Words(&'static [(&'static str, &'static str)]);

    impl PromptScanner for Words {
        fn scan(&self, text: &str) -> Vec<Detection> {
            self.0
                .iter()
                .flat_map(|(kind, word)| {
                    text.match_indices(word).map(|(at, w)| Detection::new(*kind, at..at + w.len()))
                })
                .collect()
        }
    }

    #[test]
    fn every_text_is_scanned_and_overlaps_redact_once() {
        let scanner = Words(&[("key", "AKIA123"), ("long_key", "AKIA1234"), ("email", "a@b.c")]);
        let mut request = ChatRequest::new(
            "m",
            vec![
                Message::user("key AKIA1234 and a@b.c"),
                Message::assistant("mail a@b.c?"),
                Message::Tool {
                    tool_call_id: "1".into(),
                    name: "t".into(),
                    content: "é a@b.c é".into(),
                    is_error: false,
                },
            ],
        )
        .with_system("system AKIA123");
        let found = screen(&scanner, &mut request, true);
        assert_eq!(found, BTreeMap::from([("email".into(), 3), ("key".into(), 2), ("long_key".into(), 1)]));
        assert_eq!(request.system.as_deref(), Some("system [REDACTED:key]"));
        assert_eq!(request.messages[0], Message::user("key [REDACTED:long_key] and [REDACTED:email]"));
        assert_eq!(request.messages[1], Message::assistant("mail [REDACTED:email]?"));
        let Message::Tool { content, .. } = &request.messages[2] else { panic!("a tool message") };
        assert_eq!(content, "é [REDACTED:email] é");

        let mut untouched = ChatRequest::new("m", vec![Message::user("a@b.c")]);
        assert_eq!(screen(&scanner, &mut untouched, false)["email"], 1);
        assert_eq!(untouched.messages[0], Message::user("a@b.c"), "block and count mode changes nothing");
    }

    #[test]
    fn settings_and_exemptions() {
        let settings = serde_json::json!({"guardrails": {"outgoing": "block"}});
        assert_eq!(GuardrailAction::of_settings(&settings), Some(GuardrailAction::Block));
        assert_eq!(GuardrailAction::of_settings(&serde_json::json!({"guardrails": {"outgoing": "loud"}})), None);
        assert_eq!(GuardrailAction::of_settings(&serde_json::json!({})), None);
        let guard = Guardrails::new(Arc::new(Words(&[]))).exempt([" Ollama "]);
        assert!(guard.is_exempt("ollama") && guard.is_exempt("OLLAMA") && !guard.is_exempt("openai"));
        assert_eq!(guard.fallback_action(), GuardrailAction::Redact);
    }
}
