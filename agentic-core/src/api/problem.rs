//! The catalogue of problem types: every `type` an error response of the API can carry.
//!
//! One table ([`ProblemType::ALL`]) names each type's slug, HTTP status and title; the server renders every error
//! from it and clients branch on it ([`ProblemType::from_uri`]). A slug never changes meaning once shipped.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The base of every problem `type` URI.
pub const PROBLEM_TYPE_BASE: &str = "https://agentic.dev/problems/";

macro_rules! problem_types {
    ($( $(#[doc = $doc:literal])* $variant:ident = ($slug:literal, $status:literal, $title:literal), )*) => {
        /// A kind of failure the API reports, as the `type` of its problem document (`{PROBLEM_TYPE_BASE}{slug}`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "kebab-case")]
        #[non_exhaustive]
        pub enum ProblemType {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ProblemType {
            /// Every problem type, in the order the documentation lists them.
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant),*];

            /// The stable slug, the last segment of the type URI (e.g. `budget-exceeded`).
            pub const fn slug(self) -> &'static str {
                match self { $(ProblemType::$variant => $slug,)* }
            }

            /// The HTTP status every response of this type has.
            pub const fn status(self) -> u16 {
                match self { $(ProblemType::$variant => $status,)* }
            }

            /// The short, fixed summary of the type (the problem document's `title`).
            pub const fn title(self) -> &'static str {
                match self { $(ProblemType::$variant => $title,)* }
            }

            /// What the type means, for documentation.
            pub fn description(self) -> &'static str {
                match self { $(ProblemType::$variant => concat!($($doc),*).trim_start(),)* }
            }
        }
    };
}

problem_types! {
    /// No valid credential was presented (missing, malformed, expired or revoked token or key).
    Unauthenticated = ("unauthenticated", 401, "Authentication required"),
    /// The principal lacks a permission (named in `permission`) or may not act on this object.
    Forbidden = ("forbidden", 403, "Permission denied"),
    /// No such object in the caller's tenant (another tenant's object is also not found), or no such route.
    NotFound = ("not-found", 404, "Not found"),
    /// The request is well-formed but a field is invalid; `errors` names each field and why.
    Validation = ("validation", 422, "Invalid input"),
    /// The request conflicts with the current state (a duplicate name, an already decided approval).
    Conflict = ("conflict", 409, "Conflict"),
    /// The feature this route serves is switched off on this server.
    Disabled = ("disabled", 404, "Feature disabled"),
    /// The project's budget cannot cover the call; `budget`, `spent`, `reserved` and `requested` say by how much.
    BudgetExceeded = ("budget-exceeded", 402, "Budget exceeded"),
    /// The LLM provider failed or answered something unusable.
    LlmFailed = ("llm-failed", 502, "LLM provider failed"),
    /// The agent used its iteration allowance without finishing.
    AgentUnfinished = ("agent-unfinished", 422, "Agent did not finish"),
    /// A call to a third-party LLM provider carried sensitive text (a credential, an e-mail address, a card
    /// number, …) and the tenant's outgoing guardrail is set to `block`; `kinds` names what was found, never the
    /// text itself.
    GuardrailBlocked = ("guardrail-blocked", 422, "Blocked by a guardrail"),
    /// The model has no price in the pricing table, so its cost cannot be budgeted.
    UnpricedModel = ("unpriced-model", 422, "Model has no price"),
    /// A rate limit or attempt limit refused the request; `Retry-After` says when to retry.
    RateLimited = ("rate-limited", 429, "Too many requests"),
    /// The server is at its concurrency limit; retry after `Retry-After`.
    Overloaded = ("overloaded", 503, "Server busy"),
    /// A backing service (database, cache) is unavailable; retry later.
    Unavailable = ("unavailable", 503, "Service unavailable"),
    /// The rate limiter cannot decide (its store is unreachable); retry shortly.
    RateLimiterUnavailable = ("rate-limiter-unavailable", 503, "Rate limiter unavailable"),
    /// The server failed; the cause is logged, not shown.
    Internal = ("internal", 500, "Internal error"),
    /// The route exists but does not accept this method.
    MethodNotAllowed = ("method-not-allowed", 405, "Method not allowed"),
    /// The body's `Content-Type` is not one the route reads; `detail` names the expected one.
    UnsupportedMediaType = ("unsupported-media-type", 415, "Unsupported media type"),
    /// The body, or a value in it, exceeds a size limit.
    PayloadTooLarge = ("payload-too-large", 413, "Request body too large"),
    /// A precondition of the request (`If-Match`, `If-None-Match`) does not hold: read the current version and
    /// try again.
    PreconditionFailed = ("precondition-failed", 412, "Precondition failed"),
    /// The body cannot be read or parsed (malformed JSON, not UTF-8).
    MalformedBody = ("malformed-body", 400, "Malformed request body"),
    /// A path parameter does not parse (e.g. an id that is not a UUID).
    BadPath = ("bad-path", 400, "Invalid path parameter"),
    /// A query parameter does not parse or is unknown.
    BadQuery = ("bad-query", 400, "Invalid query parameter"),
}

impl ProblemType {
    /// The type's URI, the problem document's `type`.
    pub fn uri(self) -> String {
        format!("{PROBLEM_TYPE_BASE}{}", self.slug())
    }

    /// The type a slug names, if it is one of ours.
    pub fn from_slug(slug: &str) -> Option<ProblemType> {
        Self::ALL.iter().copied().find(|t| t.slug() == slug)
    }

    /// The type a problem document's `type` URI names, if it is one of ours.
    pub fn from_uri(uri: &str) -> Option<ProblemType> {
        uri.strip_prefix(PROBLEM_TYPE_BASE).and_then(Self::from_slug)
    }

    /// The catalogue as Markdown, one row per type (the OpenAPI document's description embeds it).
    pub fn markdown_table() -> String {
        let mut table = String::from("| type | status | title | meaning |\n|---|---|---|---|\n");
        for t in Self::ALL {
            table.push_str(&format!("| `{}` | {} | {} | {} |\n", t.slug(), t.status(), t.title(), t.description()));
        }
        table
    }
}

impl std::fmt::Display for ProblemType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug())
    }
}

/// An RFC 9457 problem document (`application/problem+json`): every error the API returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A stable URI naming the kind of problem; clients branch on this, not on `detail`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request, for a human.
    pub detail: String,
    /// For validation problems: each failing field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<crate::model::ValidationError>,
    /// For permission problems: the permission that was missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<crate::model::Permission>,
    /// Members specific to the problem type (e.g. `budget`, `spent` for `budget-exceeded`).
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    /// A problem document of `kind` with its catalogued status and title.
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Problem {
        Problem {
            kind: kind.uri(),
            title: kind.title().to_owned(),
            status: kind.status(),
            detail: detail.into(),
            errors: Vec::new(),
            permission: None,
            extensions: serde_json::Map::new(),
        }
    }

    /// The catalogued type this document carries, if its `type` is one of ours.
    pub fn problem_type(&self) -> Option<ProblemType> {
        ProblemType::from_uri(&self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slug_is_unique_round_trips_and_matches_its_serde_name() {
        let mut seen = std::collections::HashSet::new();
        for &t in ProblemType::ALL {
            assert!(seen.insert(t.slug()), "duplicate slug {}", t.slug());
            assert_eq!(ProblemType::from_uri(&t.uri()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::Value::String(t.slug().into()));
            assert!((400..600).contains(&t.status()), "{t}");
            assert!(!t.description().is_empty() && !t.description().starts_with(' '), "{t}");
        }
        assert_eq!(ProblemType::from_uri("https://example.com/problems/not-found"), None);
        assert_eq!(ProblemType::from_slug("no-such-type"), None);
    }
}
