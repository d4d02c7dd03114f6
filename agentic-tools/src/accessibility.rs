//! `accessibility_checker`: WCAG checks on HTML parsed with a real HTML5 parser (html5ever via `scraper`):
//! images without `alt`, unlabelled form fields, a missing `lang`, skipped heading levels, empty links and
//! buttons, duplicate ids, and inline colour pairs below the contrast minimum.

use std::collections::BTreeMap;

use async_trait::async_trait;
use scraper::{ElementRef, Html, Selector};
use serde::{Deserialize, Serialize};

use agentic_core::tools::{Tool, ToolContext, ToolError};

use crate::Severity;

/// One accessibility finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct A11yFinding {
    /// Rule id.
    pub rule: String,
    /// WCAG 2.x success criterion.
    pub wcag: String,
    /// `high` (fails the criterion) or `medium` (likely to).
    pub severity: Severity,
    /// The element, e.g. `img#logo` or `a.nav`.
    pub element: String,
    /// What to fix.
    pub message: String,
}

/// The checker.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessibilityChecker;

fn selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

fn describe(element: &ElementRef<'_>) -> String {
    let value = element.value();
    let mut out = value.name().to_owned();
    if let Some(id) = value.id() {
        out.push('#');
        out.push_str(id);
    } else if let Some(class) = value.classes().next() {
        out.push('.');
        out.push_str(class);
    }
    out
}

fn finding(rule: &str, wcag: &str, severity: Severity, element: String, message: &str) -> A11yFinding {
    A11yFinding { rule: rule.into(), wcag: wcag.into(), severity, element, message: message.into() }
}

/// The accessible name from text, `aria-label`, `aria-labelledby`, `title`, or the `alt` of images inside.
fn has_accessible_name(element: &ElementRef<'_>) -> bool {
    let attr_named = ["aria-label", "aria-labelledby", "title"]
        .iter()
        .any(|a| element.value().attr(a).is_some_and(|v| !v.trim().is_empty()));
    let text = element.text().collect::<String>();
    let image_alt = selector("img[alt]").is_some_and(|s| {
        element.select(&s).any(|img| img.value().attr("alt").is_some_and(|alt| !alt.trim().is_empty()))
    });
    attr_named || !text.trim().is_empty() || image_alt
}

fn parse_hex(color: &str) -> Option<(f64, f64, f64)> {
    let hex = color.trim().strip_prefix('#').filter(|h| h.is_ascii())?;
    let expand = |s: &str| -> Option<u8> { u8::from_str_radix(s, 16).ok() };
    let (r, g, b) = match hex.len() {
        3 => {
            let c: Vec<String> = hex.chars().map(|c| format!("{c}{c}")).collect();
            (expand(&c[0])?, expand(&c[1])?, expand(&c[2])?)
        }
        6 => (expand(&hex[0..2])?, expand(&hex[2..4])?, expand(&hex[4..6])?),
        _ => return None,
    };
    Some((f64::from(r), f64::from(g), f64::from(b)))
}

fn luminance((r, g, b): (f64, f64, f64)) -> f64 {
    let channel = |c: f64| {
        let c = c / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// The WCAG contrast ratio of two colours (1 to 21).
pub fn contrast_ratio(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (luminance(parse_hex(a)?), luminance(parse_hex(b)?));
    let (light, dark) = if la > lb { (la, lb) } else { (lb, la) };
    Some((light + 0.05) / (dark + 0.05))
}

fn style_value<'a>(style: &'a str, property: &str) -> Option<&'a str> {
    style.split(';').find_map(|decl| {
        let (name, value) = decl.split_once(':')?;
        (name.trim().eq_ignore_ascii_case(property)).then_some(value.trim())
    })
}

impl AccessibilityChecker {
    /// Checks one HTML document.
    pub fn check(&self, html: &str) -> Vec<A11yFinding> {
        Self::findings(&Html::parse_document(html), true)
    }

    /// Checks a fragment of a page, such as what a component renders: every rule but the page's language.
    pub fn check_fragment(&self, html: &str) -> Vec<A11yFinding> {
        Self::findings(&Html::parse_fragment(html), false)
    }

    fn findings(document: &Html, whole_page: bool) -> Vec<A11yFinding> {
        let mut findings = Vec::new();
        let select = |css: &str| -> Vec<ElementRef<'_>> {
            selector(css).map(|s| document.select(&s).collect()).unwrap_or_default()
        };

        if whole_page
            && let Some(root) = select("html").first()
            && root.value().attr("lang").is_none_or(|l| l.trim().is_empty())
        {
            findings.push(finding(
                "missing-lang",
                "3.1.1",
                Severity::High,
                "html".into(),
                "set the page language: <html lang=\"…\">",
            ));
        }
        for img in select("img") {
            let decorative = img.value().attr("role").is_some_and(|r| r == "presentation" || r == "none");
            if img.value().attr("alt").is_none() && !decorative {
                findings.push(finding(
                    "img-alt",
                    "1.1.1",
                    Severity::High,
                    describe(&img),
                    "add alt text (alt=\"\" if decorative)",
                ));
            }
        }
        let labelled: Vec<String> =
            select("label[for]").iter().filter_map(|l| l.value().attr("for").map(str::to_owned)).collect();
        for field in select("input, select, textarea") {
            let kind = field.value().attr("type").unwrap_or("text").to_ascii_lowercase();
            if matches!(kind.as_str(), "hidden" | "submit" | "button" | "reset" | "image") {
                continue;
            }
            let by_for = field.value().id().is_some_and(|id| labelled.iter().any(|f| f == id));
            let wrapped = field.ancestors().filter_map(ElementRef::wrap).any(|a| a.value().name() == "label");
            let aria = ["aria-label", "aria-labelledby", "title"]
                .iter()
                .any(|a| field.value().attr(a).is_some_and(|v| !v.trim().is_empty()));
            if !(by_for || wrapped || aria) {
                findings.push(finding(
                    "form-label",
                    "1.3.1",
                    Severity::High,
                    describe(&field),
                    "give the field a <label> (or aria-label)",
                ));
            }
        }
        let mut previous = 0_u8;
        for heading in select("h1, h2, h3, h4, h5, h6") {
            let level = heading.value().name()[1..].parse::<u8>().unwrap_or(1);
            if previous != 0 && level > previous + 1 {
                findings.push(finding(
                    "heading-order",
                    "1.3.1",
                    Severity::Medium,
                    describe(&heading),
                    &format!("heading level jumps from h{previous} to h{level}"),
                ));
            }
            previous = level;
        }
        for link in select("a[href]") {
            if !has_accessible_name(&link) {
                findings.push(finding(
                    "empty-link",
                    "2.4.4",
                    Severity::High,
                    describe(&link),
                    "the link has no text or accessible name",
                ));
            }
        }
        for button in select("button") {
            if !has_accessible_name(&button) {
                findings.push(finding(
                    "empty-button",
                    "4.1.2",
                    Severity::High,
                    describe(&button),
                    "the button has no text or accessible name",
                ));
            }
        }
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        for element in select("[id]") {
            if let Some(id) = element.value().id() {
                *ids.entry(id).or_insert(0) += 1;
            }
        }
        for (id, count) in ids {
            if count > 1 {
                findings.push(finding(
                    "duplicate-id",
                    "4.1.1",
                    Severity::High,
                    format!("#{id}"),
                    &format!("id `{id}` is used {count} times"),
                ));
            }
        }
        for styled in select("[style]") {
            let style = styled.value().attr("style").unwrap_or("");
            let (Some(fg), Some(bg)) = (
                style_value(style, "color"),
                style_value(style, "background-color").or_else(|| style_value(style, "background")),
            ) else {
                continue;
            };
            if let Some(ratio) = contrast_ratio(fg, bg)
                && ratio < 4.5
            {
                findings.push(finding(
                    "color-contrast",
                    "1.4.3",
                    Severity::High,
                    describe(&styled),
                    &format!("contrast {ratio:.2}:1 between {fg} and {bg} is below 4.5:1"),
                ));
            }
        }
        findings
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    html: String,
}

#[async_trait]
impl Tool for AccessibilityChecker {
    fn name(&self) -> &str {
        "accessibility_checker"
    }

    fn description(&self) -> &str {
        "Checks an HTML page against WCAG: missing alt text, unlabelled form fields, missing lang, skipped heading \
         levels, empty links and buttons, duplicate ids, low inline colour contrast."
    }

    fn input_schema(&self) -> serde_json::Value {
        serde_json::json!({"type": "object", "properties": {"html": {"type": "string"}}, "required": ["html"]})
    }

    async fn call(&self, _context: &ToolContext, input: serde_json::Value) -> Result<serde_json::Value, ToolError> {
        let input: Input = serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
        Ok(serde_json::json!({"findings": self.check(&input.html)}))
    }

    fn analyzer(&self) -> Option<&dyn agentic_core::tools::Analyzer> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(html: &str) -> Vec<(String, String)> {
        AccessibilityChecker.check(html).into_iter().map(|f| (f.rule, f.element)).collect()
    }

    #[test]
    fn an_inaccessible_page_gets_every_finding() {
        let html = r##"<html><head><title>x</title></head><body>
            <h1>Shop</h1><h3 id="deals">Deals</h3>
            <img src="logo.png" id="logo"><img src="spacer.gif" role="presentation">
            <form><input type="text" name="q"><input type="hidden" name="t"><select class="size"></select></form>
            <a href="/cart" class="cart"><i class="icon"></i></a>
            <button id="go"></button>
            <p id="deals" style="color: #999; background-color: #fff">Sale</p>
        </body></html>"##;
        let mut got = rules(html);
        got.sort();
        let mut expected: Vec<(String, String)> = [
            ("missing-lang", "html"),
            ("img-alt", "img#logo"),
            ("form-label", "input"),
            ("form-label", "select.size"),
            ("heading-order", "h3#deals"),
            ("empty-link", "a.cart"),
            ("empty-button", "button#go"),
            ("duplicate-id", "#deals"),
            ("color-contrast", "p#deals"),
        ]
        .iter()
        .map(|(r, e)| ((*r).to_owned(), (*e).to_owned()))
        .collect();
        expected.sort();
        assert_eq!(got, expected);
    }

    #[test]
    fn an_accessible_page_is_clean() {
        let html = r##"<!doctype html><html lang="en"><body>
            <h1>Shop</h1><h2>Deals</h2><h3>Today</h3><h2>More</h2>
            <img src="logo.png" alt="Acme"><img src="spacer.gif" alt="">
            <label for="q">Search</label><input id="q" type="search">
            <label>Size <select><option>M</option></select></label>
            <input type="email" aria-label="Email"><input type="submit" value="Go">
            <a href="/cart"><img src="cart.svg" alt="Cart"></a><a href="/help">Help</a>
            <button aria-label="Close">×</button>
            <p style="color:#222222;background-color:#ffffff">Readable</p>
        </body></html>"##;
        assert_eq!(rules(html), vec![]);
    }

    #[test]
    fn a_fragment_is_checked_without_the_pages_language() {
        let fragment = "<form><input name=\"q\"><button>Go</button></form>";
        let rules: Vec<String> = AccessibilityChecker.check_fragment(fragment).into_iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["form-label"]);
        assert!(AccessibilityChecker.check(fragment).iter().any(|f| f.rule == "missing-lang"));
    }

    #[test]
    fn contrast_ratios() {
        assert!((contrast_ratio("#000", "#fff").unwrap() - 21.0).abs() < 0.01);
        assert!((contrast_ratio("#777777", "#ffffff").unwrap() - 4.48).abs() < 0.01);
        assert_eq!(contrast_ratio("red", "#fff"), None);
        // Not a colour, and no panic on the bytes of a multi-byte character.
        assert_eq!(contrast_ratio("#aébcd", "#fff"), None);
        assert!(AccessibilityChecker.check_fragment("<p style=\"color:#aébcd;background:#fff\">x</p>").is_empty());
    }
}
