//! Output: aligned tables for people, JSON for scripts, and the live progress of a run. Colours and spinners only
//! when standard output is a terminal.
//!
//! The table is a dozen lines over the standard library: the table crates bring box drawing, wrapping and width
//! detection that plain aligned columns (what `kubectl` and `gh` print, and what `cut`/`awk` read) do not need.

use std::io::{IsTerminal, Write};

use agentic_sdk::events::{Event, EventKind};
use serde::Serialize;

use crate::error::CliError;

/// Where output goes, and in which form.
pub(crate) struct Output {
    pub(crate) json: bool,
    /// Whether standard output is a terminal (spinners and colours only then).
    pub(crate) terminal: bool,
}

impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Self { json, terminal: std::io::stdout().is_terminal() }
    }

    /// Prints `value` as JSON (with `--json`), else as the table `rows` gives.
    pub(crate) fn show<T: Serialize>(
        &self,
        value: &T,
        headers: &[&str],
        rows: impl FnOnce() -> Vec<Vec<String>>,
    ) -> Result<(), CliError> {
        if self.json {
            return self.json(value);
        }
        print_table(headers, &rows())
    }

    /// Prints `value` as pretty JSON.
    pub(crate) fn json<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        writeln!(std::io::stdout().lock(), "{text}")?;
        Ok(())
    }

    /// Prints a line of text.
    pub(crate) fn line(&self, text: &str) -> Result<(), CliError> {
        writeln!(std::io::stdout().lock(), "{text}")?;
        Ok(())
    }
}

/// The wire name of an enum value (`awaiting_approval`, `builtin`, …), as the API writes it.
pub(crate) fn wire_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Prints rows under headers, each column as wide as its widest cell, two spaces apart.
pub(crate) fn print_table(headers: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

/// The live view of a run: on a terminal, a spinner on standard error with the current step and the tokens and
/// cost so far; otherwise nothing (the result is printed at the end either way).
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    tokens: u64,
    cost: f64,
}

impl Progress {
    pub(crate) fn new(output: &Output) -> Self {
        let bar = (output.terminal && !output.json && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self { bar, tokens: 0, cost: 0.0 }
    }

    /// Whether a spinner is shown (on a terminal, without `--json`).
    pub(crate) fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Shows what `event` says.
    pub(crate) fn event(&mut self, event: &Event) {
        let data = &event.data;
        let step = match event.kind {
            EventKind::RunLlmCall => {
                let tokens = ["input_tokens", "output_tokens"].iter().filter_map(|f| data[*f].as_u64()).sum::<u64>();
                self.tokens += tokens;
                self.cost += data["cost"].as_str().and_then(|c| c.parse::<f64>().ok()).unwrap_or(0.0);
                format!("model {} answered", data["model"].as_str().unwrap_or("?"))
            }
            EventKind::RunToolCall => {
                let outcome = if data["ok"].as_bool() == Some(true) { "done" } else { "failed" };
                format!("tool {} {outcome}", data["tool"].as_str().unwrap_or("?"))
            }
            kind => kind.as_str().to_owned(),
        };
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{step} · {} tokens · ${:.4}", self.tokens, self.cost));
        }
    }

    /// Removes the spinner.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
