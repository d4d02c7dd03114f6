//! How serious a finding is: one scale for every analyzer (ours and a host app's), mapped to SARIF's three levels in one
//! place.

use serde::{Deserialize, Serialize};

/// How serious a finding is, most serious first.
///
/// Read from any case and from the words other scales use for the same level (SARIF's `error`/`warning`/`note`,
/// advisories' `moderate`), so findings a model copies from elsewhere still sort and count right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Severity {
    /// Exploitable now or leaking credentials: fix before anything else.
    Critical,
    /// A defect that breaks security, accessibility or the build for real users (SARIF `error`).
    High,
    /// Should be fixed; a weakness rather than a break (SARIF `warning`).
    Medium,
    /// Worth knowing; fix when convenient.
    Low,
    /// A suggestion (SARIF `note`).
    Info,
}

/// A SARIF 2.1.0 result level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SarifLevel {
    /// `error`.
    Error,
    /// `warning`.
    Warning,
    /// `note`.
    Note,
}

impl SarifLevel {
    /// The SARIF spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Note => "note",
        }
    }
}

impl Severity {
    /// The SARIF level code-scanning UIs show: critical and high are errors, medium and low warnings, info a note.
    pub fn sarif_level(self) -> SarifLevel {
        match self {
            Self::Critical | Self::High => SarifLevel::Error,
            Self::Medium | Self::Low => SarifLevel::Warning,
            Self::Info => SarifLevel::Note,
        }
    }

    /// Reads a severity word in any case: ours, SARIF's (`error`, `warning`, `note`) or an advisory database's
    /// (`CRITICAL`, `IMPORTANT`, `MODERATE`, …). An unknown word is `None` rather than a guess.
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Self::Critical),
            "high" | "error" | "important" => Some(Self::High),
            "medium" | "warning" | "moderate" => Some(Self::Medium),
            "low" => Some(Self::Low),
            "info" | "note" | "informational" | "none" => Some(Self::Info),
            _ => None,
        }
    }

    /// The lower-case name (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Info => "info",
        }
    }
}

impl TryFrom<String> for Severity {
    type Error = String;

    fn try_from(word: String) -> Result<Self, Self::Error> {
        Self::parse(&word).ok_or_else(|| format!("unknown severity `{word}` (critical, high, medium, low, info)"))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_read_sarif_and_advisory_words_and_map_to_sarif_levels() {
        let read = |word: &str| serde_json::from_value::<Severity>(serde_json::json!(word)).ok();
        assert_eq!(read("error"), Some(Severity::High));
        assert_eq!(read("warning"), Some(Severity::Medium));
        assert_eq!(read("note"), Some(Severity::Info));
        assert_eq!(read("CRITICAL"), Some(Severity::Critical));
        assert_eq!(read("severe"), None);
        assert_eq!(Severity::parse("MODERATE"), Some(Severity::Medium));
        assert_eq!(Severity::parse("whatever"), None);
        let levels: Vec<&str> = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info]
            .map(|s| s.sarif_level().as_str())
            .to_vec();
        assert_eq!(levels, ["error", "error", "warning", "warning", "note"]);
        assert_eq!(serde_json::to_value(Severity::High).ok(), Some(serde_json::json!("high")));
    }
}
