//! `PromptGuard`: the outgoing guardrail's scanner (a core [`PromptScanner`]): credentials by
//! [`SecretDetector`]'s rules, and personal data — e-mail addresses, phone numbers, payment card numbers that pass
//! the Luhn check, IBANs that pass their ISO 13616 checksum. Checksums keep order numbers and dates from being
//! taken for cards and accounts.

use agentic_core::llm::{Detection, PromptScanner};
use regex::{Regex, RegexSet};

use crate::SecretDetector;

/// What a match must also pass to be a detection (a checksum, a digit count).
type Check = fn(&str) -> bool;

/// The scanner the reference server installs with `PlatformBuilder::guardrails`.
#[derive(Debug)]
pub struct PromptGuard {
    /// A PEM private key block, BEGIN to END (or to the end of the text when cut off).
    private_key: Option<Regex>,
    /// Every pattern at once: most prompts hold nothing, and one pass over them says so (a pass per pattern costs
    /// several times more).
    any: Option<RegexSet>,
    secrets: SecretDetector,
    /// `(kind, pattern, check)`: a match is a detection when `check` accepts it.
    patterns: Vec<(&'static str, Regex, Check)>,
}

impl Default for PromptGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// The personal-data patterns: kind, pattern, and what a match must also pass.
const PATTERNS: [(&str, &str, Check); 4] = [
    ("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", |_| true),
    ("card_number", r"\b\d(?:[ -]?\d){12,18}\b", luhn),
    ("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", iban),
    (
        "phone_number",
        r"(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\b\d{3}[.-]\d{3}[.-]\d{4})\b",
        phone,
    ),
];

/// A PEM private key, its body included.
const PRIVATE_KEY_BLOCK: &str =
    r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|\z)";

/// The Luhn checksum of a card number (13 to 19 digits, spaces and dashes allowed between them).
pub fn luhn(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// The ISO 13616 checksum of an IBAN (spaces allowed): the country and check digits moved to the end, letters
/// as numbers, the whole number modulo 97 is 1.
pub fn iban(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) || !compact.is_ascii() {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder = 0_u32;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        // Letters are two digits (A = 10 … Z = 35), digits one.
        remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
    }
    remainder == 1
}

/// `text` with the JSON escapes `\n`, `\t`, `\r` and `\/` replaced by two spaces: the same length, so a
/// detection's range in it is its range in `text`.
fn unescape_mask(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut at = 0;
    while at + 1 < bytes.len() {
        if bytes[at] == b'\\' {
            if matches!(bytes[at + 1], b'n' | b't' | b'r' | b'/') {
                out[at] = b' ';
                out[at + 1] = b' ';
            }
            at += 2;
        } else {
            at += 1;
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// The longest part of a match that passes its check, on the boundaries of its digit and letter groups: a card
/// number followed by its security code, or an IBAN followed by a currency, is still found.
fn checked_span(text: &str, range: std::ops::Range<usize>, check: Check) -> Option<std::ops::Range<usize>> {
    let whole = &text[range.clone()];
    if check(whole) {
        return Some(range);
    }
    let groups: Vec<(usize, usize)> = whole.match_indices(|c: char| c.is_ascii_alphanumeric()).fold(
        Vec::new(),
        |mut groups: Vec<(usize, usize)>, (at, c)| {
            match groups.last_mut() {
                Some(last) if last.1 == at => last.1 = at + c.len(),
                _ => groups.push((at, at + c.len())),
            }
            groups
        },
    );
    let mut best: Option<(usize, usize)> = None;
    for first in 0..groups.len() {
        for last in (first..groups.len()).rev() {
            let (start, end) = (groups[first].0, groups[last].1);
            if best.is_some_and(|(s, e)| e - s >= end - start) {
                break;
            }
            if check(&whole[start..end]) {
                best = Some((start, end));
                break;
            }
        }
    }
    best.map(|(start, end)| range.start + start..range.start + end)
}

/// A phone number has 7 to 15 digits (ITU E.164).
fn phone(text: &str) -> bool {
    (7..=15).contains(&text.chars().filter(char::is_ascii_digit).count())
}

impl PromptGuard {
    /// The guard with its patterns compiled (a unit test proves every pattern compiles).
    pub fn new() -> Self {
        let patterns = PATTERNS
            .iter()
            .filter_map(|(kind, pattern, check)| Regex::new(pattern).ok().map(|r| (*kind, r, *check)))
            .collect();
        let every = crate::secrets::patterns().chain(PATTERNS.iter().map(|(_, pattern, _)| *pattern));
        let private_key = Regex::new(PRIVATE_KEY_BLOCK).ok();
        Self { any: RegexSet::new(every).ok(), private_key, secrets: SecretDetector::new(), patterns }
    }
}

impl PromptScanner for PromptGuard {
    fn scan(&self, text: &str) -> Vec<Detection> {
        // Files and tool results reach the model as JSON, where a line break is the two characters `\n`: masked
        // to spaces (same length, so ranges hold on the original), a value at a line's start is at a word start.
        let masked = unescape_mask(text);
        let text = masked.as_str();
        if self.any.as_ref().is_some_and(|any| !any.is_match(text)) {
            return Vec::new();
        }
        // A private key is its whole block, not only the BEGIN line the secret rules find.
        let mut found: Vec<Detection> = self
            .private_key
            .iter()
            .flat_map(|block| block.find_iter(text))
            .map(|m| Detection::new("private_key", m.range()))
            .collect();
        for secret in self.secrets.matches(text) {
            if !found.iter().any(|d| d.range.start < secret.range.end && secret.range.start < d.range.end) {
                found.push(Detection::new(secret.rule, secret.range));
            }
        }
        for (kind, regex, check) in &self.patterns {
            for m in regex.find_iter(text) {
                let taken = found.iter().any(|d| d.range.start < m.end() && m.start() < d.range.end);
                if taken {
                    continue;
                }
                if let Some(range) = checked_span(text, m.range(), *check) {
                    found.push(Detection::new(*kind, range));
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> =
            PromptGuard::new().scan(text).into_iter().map(|d| (d.kind, text[d.range].to_owned())).collect();
        found.sort();
        found
    }

    #[test]
    fn every_pattern_compiles() {
        let guard = PromptGuard::new();
        assert_eq!(guard.patterns.len(), PATTERNS.len());
        assert!(guard.any.is_some() && guard.private_key.is_some(), "the one-pass set and the key block compile");
    }

    #[test]
    fn credentials_and_personal_data_are_found_where_they_are() {
        let text = "key AKIAIOSFODNN7EXAMPLE, mail jane.doe@example.co.uk, card 4111 1111 1111 1111,\n\
                    iban GB82 WEST 1234 5698 7654 32, call +44 20 7946 0958 or (212) 555-0123.";
        let expected = [
            ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"),
            ("card_number", "4111 1111 1111 1111"),
            ("email", "jane.doe@example.co.uk"),
            ("iban", "GB82 WEST 1234 5698 7654 32"),
            ("phone_number", "(212) 555-0123"),
            ("phone_number", "+44 20 7946 0958"),
        ];
        assert_eq!(kinds(text), expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }

    #[test]
    fn what_json_escaping_and_neighbours_would_hide_is_still_found() {
        // A pasted file as the model receives it: JSON text, line breaks as `\n`, quotes as `\"`.
        let file = "creds:\nAKIAIOSFODNN7EXAMPLE\n4111 1111 1111 1111\ndb_password = \"h7#Lq9!vR2@xZ4$kP8wN\"\n";
        let escaped =
            serde_json::to_string(&serde_json::json!({"files": [{"path": "a.txt", "content": file}]})).unwrap();
        let got: Vec<String> = kinds(&escaped).into_iter().map(|(k, _)| k).collect();
        assert_eq!(got, ["aws_access_key_id", "card_number", "high_entropy_assignment"], "{escaped}");
        // A card followed by its security code or expiry, an IBAN by a currency.
        assert_eq!(
            kinds("pay with 4111 1111 1111 1111 123 now"),
            [("card_number".to_owned(), "4111 1111 1111 1111".to_owned())]
        );
        assert_eq!(kinds("card 4111 1111 1111 1111 12/27")[0].1, "4111 1111 1111 1111");
        assert_eq!(kinds("to BE68 5390 0754 7034 EUR")[0], ("iban".to_owned(), "BE68 5390 0754 7034".to_owned()));
        // A private key is redacted whole, its body with it.
        let pem =
            "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\nabcd\n-----END RSA PRIVATE KEY-----\nafter";
        let found = PromptGuard::new().scan(pem);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(&pem[found[0].range.clone()], &pem[5..pem.len() - 6]);
    }

    #[test]
    fn checksums_keep_numbers_that_are_not_cards_or_accounts_out() {
        assert!(luhn("4111-1111-1111-1111") && luhn("5500005555555559"));
        assert!(!luhn("4111 1111 1111 1112") && !luhn("1234"));
        assert!(iban("DE89370400440532013000") && iban("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33") && !iban("GB82"));
        let ordinary = "order 1234567890123 shipped on 2026-12-05, version 1.2.3, port 8080, id 42.";
        assert_eq!(kinds(ordinary), Vec::<(String, String)>::new());
    }
}
