//! `coverage_analyzer`: LCOV, Cobertura XML, Go cover profiles and JaCoCo XML → per-file coverage and the
//! uncovered lines.

use std::collections::BTreeMap;

use async_trait::async_trait;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use agentic_core::tools::{Tool, ToolContext, ToolError};

/// Coverage of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCoverage {
    /// Path as the report names it.
    pub path: String,
    /// Instrumented lines.
    pub lines_total: usize,
    /// Lines hit at least once.
    pub lines_covered: usize,
    /// Percentage with one decimal, e.g. `"83.3"` (`"100.0"` for a file with no instrumented lines).
    pub percent: String,
    /// Uncovered lines as ranges, e.g. `["3-5", "9"]`.
    pub uncovered: Vec<String>,
}

/// The analyzer.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoverageAnalyzer;

pub(crate) type Hits = BTreeMap<String, BTreeMap<usize, u64>>;

fn record(files: &mut Hits, path: &str, line: usize, hits: u64) {
    let entry = files.entry(path.to_owned()).or_default().entry(line).or_insert(0);
    *entry = (*entry).max(hits);
}

/// Parses LCOV (`SF:`, `DA:line,hits`, `end_of_record`).
pub fn parse_lcov(text: &str) -> Result<Hits, ToolError> {
    let mut files = Hits::new();
    let mut current: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(path) = line.strip_prefix("SF:") {
            current = Some(path.to_owned());
            files.entry(path.to_owned()).or_default();
        } else if let Some(data) = line.strip_prefix("DA:") {
            let path = current.as_deref().ok_or_else(|| bad(index, "DA before any SF"))?;
            let mut parts = data.split(',');
            let number = parts
                .next()
                .and_then(|n| n.trim().parse::<usize>().ok())
                .ok_or_else(|| bad(index, "bad line number"))?;
            let hits =
                parts.next().and_then(|h| h.trim().parse::<u64>().ok()).ok_or_else(|| bad(index, "bad hit count"))?;
            record(&mut files, path, number, hits);
        } else if line == "end_of_record" {
            current = None;
        }
    }
    if files.is_empty() {
        return Err(ToolError::InvalidInput("no `SF:` records: this is not an LCOV report".into()));
    }
    Ok(files)
}

fn bad(index: usize, what: &str) -> ToolError {
    ToolError::InvalidInput(format!("LCOV line {}: {what}", index + 1))
}

/// Parses Cobertura XML: `<class filename=…>` with `<lines><line number=… hits=…/>` (lines under `<methods>`
/// repeat the class's and are skipped).
pub fn parse_cobertura(text: &str) -> Result<Hits, ToolError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut files = Hits::new();
    let mut file: Option<String> = None;
    let mut in_method = 0_usize;
    let mut saw_coverage = false;
    loop {
        let event = reader.read_event().map_err(|e| ToolError::InvalidInput(format!("Cobertura XML: {e}")))?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "coverage" => saw_coverage = true,
            Event::Start(e) if e.name().as_ref() == "class" => {
                file = attribute(&e, "filename")?;
                if let Some(f) = &file {
                    files.entry(f.clone()).or_default();
                }
            }
            Event::Start(e) if e.name().as_ref() == "method" => in_method += 1,
            Event::End(e) if e.name().as_ref() == "method" => in_method = in_method.saturating_sub(1),
            Event::End(e) if e.name().as_ref() == "class" => file = None,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "line" && in_method == 0 => {
                if let Some(path) = &file {
                    let (number, hits) = line_hits(&e, ("number", "hits"), "Cobertura")?;
                    record(&mut files, path, number, hits);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_coverage {
        return Err(ToolError::InvalidInput("no <coverage> element: this is not a Cobertura report".into()));
    }
    Ok(files)
}

/// The longest block a Go cover profile may give (a block is a span of lines; a larger one is not a real block).
const MAX_GO_BLOCK_LINES: usize = 10_000;

/// Parses a Go cover profile (`go test -coverprofile`): a `mode:` line, then `file:start.col,end.col statements
/// count` per block. A line is covered when any block spanning it ran.
pub fn parse_go_cover(text: &str) -> Result<Hits, ToolError> {
    let bad =
        |index: usize, what: &str| ToolError::InvalidInput(format!("Go cover profile line {}: {what}", index + 1));
    let mut lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
    if !lines.next().is_some_and(|(_, first)| first.trim().starts_with("mode:")) {
        return Err(ToolError::InvalidInput("no `mode:` line: this is not a Go cover profile".into()));
    }
    let mut files = Hits::new();
    for (index, raw) in lines {
        let mut fields = raw.trim().rsplitn(3, ' ');
        let (Some(count), Some(_statements), Some(location)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad(index, "expected `file:start.col,end.col statements count`"));
        };
        let count = count.parse::<u64>().map_err(|_| bad(index, "bad count"))?;
        let (path, span) = location.rsplit_once(':').ok_or_else(|| bad(index, "no `:` before the block"))?;
        let line_of = |position: &str| position.split_once('.').and_then(|(line, _)| line.parse::<usize>().ok());
        let (start, end) = span
            .split_once(',')
            .and_then(|(start, end)| Some((line_of(start)?, line_of(end)?)))
            .ok_or_else(|| bad(index, "bad block position"))?;
        if start == 0 || end < start || end - start >= MAX_GO_BLOCK_LINES {
            return Err(bad(index, "bad block lines"));
        }
        for line in start..=end {
            record(&mut files, path, line, count);
        }
    }
    Ok(files)
}

/// Parses JaCoCo XML: `<package name=…><sourcefile name=…><line nr=… ci=…/>`, a line covered when it has covered
/// instructions (`ci`); the path is the package's directory and the file's name.
pub fn parse_jacoco(text: &str) -> Result<Hits, ToolError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut files = Hits::new();
    let (mut package, mut file) = (None::<String>, None::<String>);
    let mut saw_report = false;
    loop {
        let event = reader.read_event().map_err(|e| ToolError::InvalidInput(format!("JaCoCo XML: {e}")))?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "report" => saw_report = true,
            Event::Start(e) if e.name().as_ref() == "package" => package = attribute(&e, "name")?,
            Event::End(e) if e.name().as_ref() == "package" => package = None,
            Event::Start(e) if e.name().as_ref() == "sourcefile" => {
                file = attribute(&e, "name")?.map(|name| match &package {
                    Some(package) if !package.is_empty() => format!("{package}/{name}"),
                    _ => name,
                });
                if let Some(path) = &file {
                    files.entry(path.clone()).or_default();
                }
            }
            Event::End(e) if e.name().as_ref() == "sourcefile" => file = None,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "line" => {
                if let Some(path) = &file {
                    let (number, covered) = line_hits(&e, ("nr", "ci"), "JaCoCo")?;
                    record(&mut files, path, number, covered);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_report {
        return Err(ToolError::InvalidInput("no <report> element: this is not a JaCoCo report".into()));
    }
    Ok(files)
}

/// A `<line>` element's number and hit count, from the two attributes a `format` names them by.
fn line_hits(
    element: &quick_xml::events::BytesStart<'_>,
    (number, hits): (&str, &str),
    format: &str,
) -> Result<(usize, u64), ToolError> {
    let parsed = (
        attribute(element, number)?.and_then(|n| n.parse::<usize>().ok()),
        attribute(element, hits)?.and_then(|h| h.parse::<u64>().ok()),
    );
    match parsed {
        (Some(number), Some(hits)) => Ok((number, hits)),
        _ => Err(ToolError::InvalidInput(format!("{format} <line> without {number}/{hits}"))),
    }
}

fn attribute(element: &quick_xml::events::BytesStart<'_>, name: &str) -> Result<Option<String>, ToolError> {
    for attr in element.attributes() {
        let attr = attr.map_err(|e| ToolError::InvalidInput(format!("Cobertura XML: {e}")))?;
        if attr.key.as_ref() == name {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::default())
                .map_err(|e| ToolError::InvalidInput(format!("Cobertura XML: {e}")))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// Compresses sorted line numbers into ranges.
fn ranges(lines: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    let mut iter = lines.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        out.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
    }
    out
}

fn percent(covered: usize, total: usize) -> String {
    if total == 0 {
        return "100.0".into();
    }
    // Tenths of a percent, rounded down: never reports more coverage than there is.
    let tenths = covered * 1000 / total;
    format!("{}.{}", tenths / 10, tenths % 10)
}

impl CoverageAnalyzer {
    /// Per-file coverage, sorted by path, and the totals.
    pub fn summarize(&self, files: &Hits) -> (Vec<FileCoverage>, FileCoverage) {
        let mut all = Vec::new();
        let (mut total, mut covered) = (0, 0);
        for (path, lines) in files {
            let uncovered: Vec<usize> = lines.iter().filter(|(_, h)| **h == 0).map(|(n, _)| *n).collect();
            let file_covered = lines.len() - uncovered.len();
            total += lines.len();
            covered += file_covered;
            all.push(FileCoverage {
                path: path.clone(),
                lines_total: lines.len(),
                lines_covered: file_covered,
                percent: percent(file_covered, lines.len()),
                uncovered: ranges(&uncovered),
            });
        }
        let totals = FileCoverage {
            path: "(total)".into(),
            lines_total: total,
            lines_covered: covered,
            percent: percent(covered, total),
            uncovered: Vec::new(),
        };
        (all, totals)
    }
}

/// Reads a report in `format` (`lcov`, `cobertura`, `go`, `jacoco`), or in the format its first bytes show.
pub(crate) fn read_report(report: &str, format: Option<&str>) -> Result<Hits, ToolError> {
    let report = report.trim_start();
    let format = match format {
        Some(format @ ("lcov" | "cobertura" | "go" | "jacoco")) => format,
        Some(other) => {
            return Err(ToolError::InvalidInput(format!("unknown format `{other}` (lcov, cobertura, go, jacoco)")));
        }
        None if report.starts_with("mode:") => "go",
        // JaCoCo's root is <report>, Cobertura's <coverage>.
        None if report.starts_with('<') && report.contains("<report") => "jacoco",
        None if report.starts_with('<') => "cobertura",
        None => "lcov",
    };
    match format {
        "cobertura" => parse_cobertura(report),
        "go" => parse_go_cover(report),
        "jacoco" => parse_jacoco(report),
        _ => parse_lcov(report),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    format: Option<String>,
    report: String,
}

#[async_trait]
impl Tool for CoverageAnalyzer {
    fn name(&self) -> &str {
        "coverage_analyzer"
    }

    fn description(&self) -> &str {
        "Reads a coverage report (LCOV, Cobertura XML, a Go cover profile or JaCoCo XML) and returns per-file line \
         coverage and uncovered lines."
    }

    fn input_schema(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "object",
            "properties": {
                "format": {"type": "string", "enum": ["lcov", "cobertura", "go", "jacoco"],
                    "description": "read from the report when absent"},
                "report": {"type": "string"}
            },
            "required": ["report"]
        })
    }

    async fn call(&self, _context: &ToolContext, input: serde_json::Value) -> Result<serde_json::Value, ToolError> {
        let input: Input = serde_json::from_value(input).map_err(|e| ToolError::InvalidInput(e.to_string()))?;
        let files = read_report(&input.report, input.format.as_deref())?;
        let (files, total) = self.summarize(&files);
        Ok(serde_json::json!({"files": files, "total": total}))
    }

    fn analyzer(&self) -> Option<&dyn agentic_core::tools::Analyzer> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LCOV: &str = "TN:\nSF:src/lib.rs\nDA:1,5\nDA:2,0\nDA:3,0\nDA:4,1\nDA:6,0\nLF:5\nLH:2\nend_of_record\nSF:src/main.rs\nDA:1,1\nend_of_record\n";

    const COBERTURA: &str = r#"<?xml version="1.0" ?>
<coverage line-rate="0.6" version="7.4">
  <packages><package name="app"><classes>
    <class name="views" filename="app/views.py" line-rate="0.5">
      <methods><method name="index"><lines><line number="10" hits="0"/></lines></method></methods>
      <lines><line number="10" hits="3"/><line number="11" hits="0"/><line number="12" hits="0"/><line number="20" hits="1"/></lines>
    </class>
    <class name="models" filename="app/models.py"><lines><line number="1" hits="1"/></lines></class>
  </classes></package></packages>
</coverage>"#;

    #[test]
    fn lcov_reports() {
        let (files, total) = CoverageAnalyzer.summarize(&parse_lcov(LCOV).unwrap());
        assert_eq!(files[0].path, "src/lib.rs");
        assert_eq!((files[0].lines_total, files[0].lines_covered), (5, 2));
        assert_eq!(files[0].percent, "40.0");
        assert_eq!(files[0].uncovered, vec!["2-3", "6"]);
        assert_eq!((files[1].percent.as_str(), files[1].uncovered.len()), ("100.0", 0));
        assert_eq!((total.lines_total, total.lines_covered, total.percent.as_str()), (6, 3, "50.0"));
    }

    #[test]
    fn cobertura_reports_skip_method_lines() {
        let (files, total) = CoverageAnalyzer.summarize(&parse_cobertura(COBERTURA).unwrap());
        let views = files.iter().find(|f| f.path == "app/views.py").unwrap();
        assert_eq!((views.lines_total, views.lines_covered), (4, 2));
        assert_eq!(views.uncovered, vec!["11-12"]);
        assert_eq!(total.percent, "60.0");
    }

    const GO: &str = "mode: set\ngithub.com/acme/notes/store.go:10.30,12.16 2 1\n\
        github.com/acme/notes/store.go:12.16,14.3 1 0\ngithub.com/acme/notes/store.go:15.2,15.12 1 0\n";

    const JACOCO: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="notes">
  <sessioninfo id="s" start="1" dump="2"/>
  <package name="com/acme/notes">
    <class name="com/acme/notes/Store" sourcefilename="Store.java">
      <method name="save" desc="()V" line="10"><counter type="LINE" missed="1" covered="2"/></method>
    </class>
    <sourcefile name="Store.java">
      <line nr="10" mi="0" ci="3" mb="0" cb="0"/>
      <line nr="11" mi="0" ci="2" mb="0" cb="0"/>
      <line nr="12" mi="4" ci="0" mb="0" cb="0"/>
      <counter type="LINE" missed="1" covered="2"/>
    </sourcefile>
  </package>
</report>"#;

    #[test]
    fn go_cover_profiles_count_a_line_covered_by_any_block_that_ran() {
        let (files, total) = CoverageAnalyzer.summarize(&parse_go_cover(GO).unwrap());
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "github.com/acme/notes/store.go");
        // Lines 10-12 ran (line 12 also starts the block that did not); 13-14 and 15 did not.
        assert_eq!(files[0].uncovered, vec!["13-15"]);
        assert_eq!((total.lines_total, total.lines_covered, total.percent.as_str()), (6, 3, "50.0"));
        assert!(parse_go_cover("mode: set\na.go:1.1,2.2 1\n").unwrap_err().to_string().contains("line 2"));
        assert!(parse_go_cover("mode: set\na.go:5.1,1.2 1 1\n").unwrap_err().to_string().contains("bad block lines"));
        assert!(parse_go_cover("mode: set\na.go:1.1,99999.2 1 1\n").is_err(), "a block of 100k lines is refused");
        assert!(parse_go_cover("a.go:1.1,2.2 1 1\n").unwrap_err().to_string().contains("mode:"));
    }

    #[test]
    fn jacoco_reports_read_lines_by_covered_instructions() {
        let (files, total) = CoverageAnalyzer.summarize(&parse_jacoco(JACOCO).unwrap());
        assert_eq!(files[0].path, "com/acme/notes/Store.java");
        assert_eq!(files[0].uncovered, vec!["12"]);
        assert_eq!(total.percent, "66.6");
        assert!(parse_jacoco(COBERTURA).is_err(), "a Cobertura report is not JaCoCo");
        assert!(
            parse_jacoco(
                "<report><package name='a'><sourcefile name='B.java'><line nr='1'/></sourcefile></package></report>"
            )
            .is_err()
        );
    }

    #[tokio::test]
    async fn the_format_is_read_from_the_report_when_not_given() {
        let context = ToolContext::new(agentic_core::ids::TenantId::new(), agentic_core::ids::ProjectId::new(), "qa");
        for (report, path) in [
            (LCOV, "src/lib.rs"),
            (COBERTURA, "app/models.py"),
            (GO, "github.com/acme/notes/store.go"),
            (JACOCO, "com/acme/notes/Store.java"),
        ] {
            let out = CoverageAnalyzer.call(&context, serde_json::json!({"report": report})).await.unwrap();
            assert_eq!(out["files"][0]["path"], path);
        }
        let unknown = CoverageAnalyzer.call(&context, serde_json::json!({"report": "x", "format": "clover"})).await;
        assert!(unknown.unwrap_err().to_string().contains("jacoco"));
    }

    #[test]
    fn garbage_is_refused_clearly() {
        assert!(parse_lcov("hello").is_err());
        assert!(parse_lcov("DA:1,1\n").is_err());
        assert!(parse_lcov("SF:a\nDA:x,1\n").unwrap_err().to_string().contains("line 2"));
        assert!(parse_cobertura("<html></html>").is_err());
        assert!(
            parse_cobertura("<coverage><class filename='a'><lines><line number='1'/></lines></class></coverage>")
                .is_err()
        );
        assert_eq!(percent(2, 3), "66.6");
    }
}
