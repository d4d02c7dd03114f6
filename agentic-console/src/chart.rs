//! A stacked bar chart drawn by the server as inline SVG: no script, no CDN, nothing for the CSP to allow (SVG
//! presentation attributes are not inline styles). Hand-written rather than a charting crate: the one chart the
//! console draws is ~150 lines, and the crates that draw SVG (plotters, charts-rs) bring fonts, a layout engine and
//! inline `style` attributes the console's CSP refuses.
//!
//! The chart is an image with a name and a description; every segment carries a `<title>` (its value on hover or
//! to a screen reader exploring it), and the caller shows the same figures as a table for anyone who cannot read a
//! chart.

use agentic_core::model::Money;
use maud::{Markup, html};

/// Series colours, in order: each has at least 3:1 contrast on white (WCAG 1.4.11 for graphics), and neighbours
/// differ in hue and lightness. Segments are also separated by a white line, so colour is not the only cue.
pub(crate) const PALETTE: [&str; 8] =
    ["#0072b2", "#d55e00", "#009e73", "#7b1fa2", "#a15c00", "#cc79a7", "#5f6368", "#1b1f24"];

/// One stacked series: a name and one amount per bar.
pub(crate) struct Series {
    /// What the legend calls it.
    pub(crate) name: String,
    /// Its amount in each bar, in the bars' order.
    pub(crate) values: Vec<Money>,
}

impl Series {
    /// Its amount over every bar.
    pub(crate) fn total(&self) -> i64 {
        self.values.iter().fold(0i64, |sum, v| sum.saturating_add(v.nanos()))
    }
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;
const GRID_LINES: u32 = 4;

/// The axis: a round step (1, 2 or 5 times a power of ten, in dollars) such that `GRID_LINES` steps cover `max`.
fn axis_step(max_usd: f64) -> f64 {
    if max_usd <= 0.0 {
        return 0.01;
    }
    let rough = max_usd / f64::from(GRID_LINES);
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|step| *step >= rough).unwrap_or(10.0 * power)
}

/// An axis label: as many decimals as the step needs, no more.
fn axis_label(usd: f64, step: f64) -> String {
    // A hair below the exact power of ten, so 0.01 is two decimals even when log10 lands just above -2.
    let decimals = if step >= 1.0 { 0 } else { (-step.log10() - 1e-9).ceil() as usize };
    format!("${usd:.decimals$}")
}

fn dollars(amount: i64) -> f64 {
    amount as f64 / 1e9
}

/// One drawn piece of a bar: a series' non-zero amount, stacked on those below it.
struct Segment {
    series: usize,
    value: Money,
    /// Its top edge and height, in dollars.
    top: f64,
    height: f64,
}

/// The segments of bar `bar`, bottom first (a series with nothing there draws nothing).
fn segments(series: &[Series], bar: usize) -> Vec<Segment> {
    let mut base = 0.0;
    let mut drawn = Vec::new();
    for (n, each) in series.iter().enumerate() {
        let value = each.values.get(bar).copied().unwrap_or(Money::ZERO);
        if value.nanos() > 0 {
            let height = dollars(value.nanos());
            base += height;
            drawn.push(Segment { series: n, value, top: base, height });
        }
    }
    drawn
}

/// The chart: one bar per label, each the stack of `series` (bottom first). `id` prefixes the element ids the
/// chart's name and description use; `summary` is that description.
pub(crate) fn stacked_bars(id: &str, name: &str, summary: &str, labels: &[String], series: &[Series]) -> Markup {
    let bar_totals: Vec<i64> = (0..labels.len())
        .map(|bar| series.iter().filter_map(|s| s.values.get(bar)).fold(0i64, |sum, v| sum.saturating_add(v.nanos())))
        .collect();
    let max = dollars(bar_totals.iter().copied().max().unwrap_or(0));
    let step = axis_step(max);
    let top = step * f64::from(GRID_LINES);
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y = |usd: f64| TOP + plot_height * (1.0 - usd / top);
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    let bar_width = (slot * 0.7).max(1.0);
    // Every label when they fit, else every few: a label is ~40 px wide.
    let label_every = ((40.0 / slot).ceil() as usize).max(1);
    let (title_id, desc_id) = (format!("{id}-title"), format!("{id}-desc"));
    html! {
        svg class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img" aria-labelledby={(title_id) " " (desc_id)}
            xmlns="http://www.w3.org/2000/svg" {
            title id=(title_id) { (name) }
            desc id=(desc_id) { (summary) }
            @for line in 0..=GRID_LINES {
                @let usd = step * f64::from(line);
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(usd)) y2=(y(usd)) stroke="#c9ced6" stroke-width="1" {}
                text x=(LEFT - 6.0) y=(y(usd) + 4.0) text-anchor="end" font-size="11" fill="#4a5260" { (axis_label(usd, step)) }
            }
            @for (bar, label) in labels.iter().enumerate() {
                @let x = LEFT + slot * bar as f64 + (slot - bar_width) / 2.0;
                @for segment in segments(series, bar) {
                    rect x=(x) y=(y(segment.top)) width=(bar_width) height=(segment.height / top * plot_height)
                        fill=(PALETTE[segment.series % PALETTE.len()]) stroke="#ffffff" stroke-width="1" {
                        title { (label) " · " (series[segment.series].name) ": $" (segment.value) }
                    }
                }
                @if bar % label_every == 0 {
                    text x=(x + bar_width / 2.0) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle" font-size="11" fill="#4a5260" { (label) }
                }
            }
            line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(0.0)) y2=(y(0.0)) stroke="#4a5260" stroke-width="1" {}
        }
    }
}

/// The legend: each series' colour (a small SVG square, as a CSS colour would need an inline style) and name.
pub(crate) fn legend(series: &[Series]) -> Markup {
    html! {
        ul class="legend" {
            @for (n, each) in series.iter().enumerate() {
                li {
                    svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false" {
                        rect width="14" height="14" fill=(PALETTE[n % PALETTE.len()]) {}
                    }
                    " " (each.name) " · $" (Money::from_nanos(each.total()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_steps_are_round_and_cover_the_tallest_bar() {
        for (max, step) in [(0.0, 0.01), (0.0034, 0.001), (0.9, 0.5), (3.2, 1.0), (7.9, 2.0), (41.0, 20.0), (4.0, 1.0)]
        {
            assert!((axis_step(max) - step).abs() < 1e-12, "max {max}: {} not {step}", axis_step(max));
            assert!(axis_step(max) * f64::from(GRID_LINES) >= max);
        }
        assert_eq!(axis_label(0.002, 0.001), "$0.002");
        assert_eq!(axis_label(40.0, 20.0), "$40");
    }

    #[test]
    fn bars_stack_their_series_and_every_segment_names_its_value() {
        let labels = vec!["12-01".to_owned(), "12-02".to_owned()];
        let series = vec![
            Series { name: "qa_tester".into(), values: vec![Money::from_nanos(1_000_000_000), Money::ZERO] },
            Series { name: "devops_engineer".into(), values: vec![Money::from_nanos(3_000_000_000); 2] },
        ];
        let svg = stacked_bars("c", "Cost per day", "two days", &labels, &series).into_string();
        // Three segments (a zero draws nothing), each titled with its day, series and amount.
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("<title>12-01 · qa_tester: $1.00</title>"), "{svg}");
        assert!(svg.contains("<title>12-02 · devops_engineer: $3.00</title>"), "{svg}");
        // The tallest bar ($4) fits under the axis's top ($4 in steps of $1).
        assert!(svg.contains(">$4</text>"), "{svg}");
        assert!(svg.contains(r#"role="img" aria-labelledby="c-title c-desc""#), "{svg}");
        assert_eq!(series[1].total(), 6_000_000_000);
    }
}
