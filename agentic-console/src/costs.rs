//! `GET /console/costs`: what the tenant's agents cost. Every project's budget and how much of it is used; for the
//! chosen project, its cost per day over the last week, two weeks or month, stacked by agent (an SVG the server
//! draws, with the figures as a table beside it), and the same window broken down by model and by provider.
//!
//! The figures are the engine's cost summaries, which also count what retention rolled up: the chart's is one
//! summary grouped by day and agent over the window.

use agentic_core::Platform;
use agentic_core::ids::ProjectId;
use agentic_core::model::{CostFilter, CostGroupBy, CostTotals, Money, Project};
use axum::extract::{Query, State};
use chrono::{Duration, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use crate::ConsoleError;
use crate::chart::{self, PALETTE, Series};
use crate::page::{self, Section, usd};

/// The windows the page offers, in days.
const WINDOWS: [u32; 3] = [7, 14, 30];
/// The window shown when none is chosen.
const DEFAULT_WINDOW: u32 = 14;

/// The page's choices, as its form sends them.
#[derive(Deserialize, Default)]
pub(crate) struct CostsQuery {
    project: Option<String>,
    days: Option<String>,
}

impl CostsQuery {
    fn project(&self) -> Result<Option<ProjectId>, ConsoleError> {
        match self.project.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => Ok(None),
            Some(id) => id.parse().map(Some).map_err(|_| ConsoleError::BadForm("project is not a project id".into())),
        }
    }

    fn days(&self) -> Result<u32, ConsoleError> {
        match self.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => Ok(DEFAULT_WINDOW),
            Some(days) => days
                .parse()
                .ok()
                .filter(|days| WINDOWS.contains(days))
                .ok_or_else(|| ConsoleError::BadForm("days must be 7, 14 or 30".into())),
        }
    }
}

/// `GET /console/costs`.
pub(crate) async fn show(
    State(platform): State<Platform>,
    session: crate::session::Session,
    query: Result<Query<CostsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Markup, ConsoleError> {
    let Query(query) = query?;
    let (chosen, days) = (query.project()?, query.days()?);
    let principal = &session.principal;
    let projects = crate::projects(&platform, principal).await?;
    // Spending of every project in one summary; the chosen project's status below is read exactly (with what
    // reservations hold).
    let (_, spent) = platform.cost_summary(principal, CostFilter::default(), Some(CostGroupBy::Project)).await?;
    let spent_by = |project: &Project| {
        let key = project.id.to_string();
        spent.iter().find(|t| t.key.as_deref() == Some(key.as_str())).map_or(Money::ZERO, |t| t.cost)
    };
    // A project named in the query must be the caller's (another tenant's is "not found", from the engine).
    let shown = match chosen {
        Some(id) => Some(platform.get_project(principal, id).await?),
        None => projects.first().cloned(),
    };
    let detail = match &shown {
        Some(project) => Some(project_detail(&platform, &session, project, days).await?),
        None => None,
    };
    let body = html! {
        section aria-labelledby="budgets-heading" {
            h2 id="budgets-heading" { "Budgets" }
            @if projects.is_empty() {
                p { "There are no projects yet: costs are charged to a project." }
            } @else {
                table {
                    caption class="visually-hidden" { "Each project's budget and what it has spent" }
                    thead { tr { th scope="col" { "Project" } th scope="col" { "Budget" } th scope="col" { "Spent" } th scope="col" { "Used" } } }
                    tbody {
                        @for project in &projects {
                            @let spent = spent_by(project);
                            tr {
                                td { a href={"/console/costs?project=" (project.id) "&days=" (days)} aria-current=[shown.as_ref().is_some_and(|s| s.id == project.id).then_some("true")] { (project.name) } }
                                td class="number" { (project.budget.map_or_else(|| "unlimited".to_owned(), usd)) }
                                td class="number" { (usd(spent)) }
                                td { (utilisation(project.budget, spent, &project.name)) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(detail) = detail { (detail) }
    };
    Ok(page::page(&session, Section::Costs, "Costs", body))
}

/// How much of `budget` is spent, as a meter and in words; nothing to measure for an unlimited budget.
fn utilisation(budget: Option<Money>, spent: Money, name: &str) -> Markup {
    let Some(budget) = budget else {
        return html! { span class="hint" { "no limit" } };
    };
    if budget.nanos() <= 0 {
        // A zero budget admits no paid call at all.
        return html! { span class="used used-over" { "no budget: paid calls are refused" } };
    }
    let percent = (spent.nanos() as f64 / budget.nanos() as f64 * 100.0).max(0.0);
    let class = if percent >= 100.0 {
        "over"
    } else if percent >= 90.0 {
        "near"
    } else {
        "fine"
    };
    html! {
        span class={"used used-" (class)} {
            meter min="0" max="100" low="75" high="90" optimum="0" value=(format!("{:.1}", percent.min(100.0)))
                aria-label={"Budget used by " (name)} {}
            " " (format!("{percent:.0}%"))
        }
    }
}

/// The last `days` UTC days, oldest first, ending today.
fn window(today: NaiveDate, days: u32) -> Vec<NaiveDate> {
    (0..i64::from(days)).rev().map(|back| today - Duration::days(back)).collect()
}

fn day_start(day: NaiveDate) -> chrono::DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

async fn project_detail(
    platform: &Platform,
    session: &crate::session::Session,
    project: &Project,
    days: u32,
) -> Result<Markup, ConsoleError> {
    let principal = &session.principal;
    let status = platform.budget_status(principal, project.id).await?;
    let dates = window(platform.clock().now().date_naive(), days);
    let (Some(first), Some(last)) = (dates.first().copied(), dates.last().copied()) else {
        return Ok(html! {});
    };
    let range = CostFilter {
        project: Some(project.id),
        from: Some(day_start(first)),
        to: Some(day_start(last + Duration::days(1))),
    };
    let (_, cells) = platform.cost_summary(principal, range, Some(CostGroupBy::DayAgent)).await?;
    let (total, by_model) = platform.cost_summary(principal, range, Some(CostGroupBy::Model)).await?;
    let (_, by_provider) = platform.cost_summary(principal, range, Some(CostGroupBy::Provider)).await?;
    let series = agent_series(&dates, &cells);
    let labels: Vec<String> = dates.iter().map(|d| d.format("%m-%d").to_string()).collect();
    let summary = format!(
        "Cost per UTC day of project {} from {first} to {last}, stacked by agent: {} in all. The table below \
         holds the same figures.",
        project.name,
        usd(total.cost)
    );
    let days_choice = html! {
        form class="card filters" method="get" action="/console/costs" {
            input type="hidden" name="project" value=(project.id);
            div {
                label for="days" { "Window" }
                select id="days" name="days" {
                    @for each in WINDOWS {
                        option value=(each) selected[each == days] { "Last " (each) " days" }
                    }
                }
            }
            div class="actions" { button type="submit" { "Show" } }
        }
    };
    Ok(html! {
        section aria-labelledby="project-heading" {
            h2 id="project-heading" { "Project " (project.name) }
            dl class="card" {
                dt { "Budget" } dd { (status.budget.map_or_else(|| "unlimited".to_owned(), usd)) }
                dt { "Spent" } dd { (usd(status.spent)) }
                dt { "Held by calls in flight" } dd { (usd(status.reserved)) }
                @if let Some(available) = status.available() {
                    dt { "Left" } dd { (usd(available)) }
                }
                dt { "Used" } dd { (utilisation(status.budget, status.spent, &project.name)) }
            }
            (days_choice)
            h3 { "Cost per UTC day, by agent" }
            @if total.calls == 0 {
                p { "Nothing was spent in this window." }
            } @else {
                figure class="card" {
                    (chart::stacked_bars("cost-chart", &format!("Cost per day of {}", project.name), &summary, &labels, &series))
                    figcaption { (chart::legend(&series)) }
                }
                details {
                    summary { "The figures as a table" }
                    (day_table(&dates, &series))
                }
            }
            h3 { "By model" }
            (breakdown("Model", &by_model, "What each model cost in the window"))
            h3 { "By provider" }
            (breakdown("Provider", &by_provider, "What each provider cost in the window"))
        }
    })
}

/// A `DayAgent` summary's cell: the index of its day in `dates`, its agent and its cost (`None` for a key
/// outside the window or of another shape).
fn cell<'a>(dates: &[NaiveDate], totals: &'a CostTotals) -> Option<(usize, &'a str, Money)> {
    let (day, agent) = totals.key.as_deref()?.split_once(' ')?;
    let day: NaiveDate = day.parse().ok()?;
    Some((dates.iter().position(|d| *d == day)?, agent, totals.cost))
}

/// One series per agent over `dates`, the costliest at the bottom; agents past the palette's size share one
/// "other agents" series.
fn agent_series(dates: &[NaiveDate], cells: &[CostTotals]) -> Vec<Series> {
    let cells: Vec<(usize, &str, Money)> = cells.iter().filter_map(|totals| cell(dates, totals)).collect();
    let mut agents: Vec<(String, i64)> = Vec::new();
    for (_, name, cost) in &cells {
        match agents.iter_mut().find(|(known, _)| known == name) {
            Some((_, sum)) => *sum = sum.saturating_add(cost.nanos()),
            None => agents.push(((*name).to_owned(), cost.nanos())),
        }
    }
    agents.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let named = if agents.len() > PALETTE.len() { PALETTE.len() - 1 } else { agents.len() };
    let mut series: Vec<Series> = agents[..named]
        .iter()
        .map(|(name, _)| Series { name: name.clone(), values: vec![Money::ZERO; dates.len()] })
        .collect();
    if agents.len() > named {
        series.push(Series { name: "other agents".into(), values: vec![Money::ZERO; dates.len()] });
    }
    for (day, name, cost) in cells {
        // An agent not named is one folded into the last series, "other agents".
        let Some(index) = series.iter().position(|s| s.name == name).or(series.len().checked_sub(1)) else {
            continue;
        };
        if let Some(value) = series[index].values.get_mut(day) {
            *value = value.checked_add(cost).unwrap_or(Money::MAX);
        }
    }
    series
}

fn day_table(dates: &[NaiveDate], series: &[Series]) -> Markup {
    html! {
        table {
            caption { "Cost per UTC day and agent" }
            thead {
                tr {
                    th scope="col" { "Day (UTC)" }
                    @for each in series { th scope="col" { (each.name) } }
                    th scope="col" { "Total" }
                }
            }
            tbody {
                @for (n, day) in dates.iter().enumerate() {
                    tr {
                        th scope="row" { (day) }
                        @for each in series { td class="number" { (usd(each.values[n])) } }
                        td class="number" { (usd(Money::from_nanos(series.iter().fold(0i64, |sum, s| sum.saturating_add(s.values[n].nanos()))))) }
                    }
                }
            }
        }
    }
}

fn breakdown(key: &str, groups: &[CostTotals], caption: &str) -> Markup {
    html! {
        @if groups.is_empty() {
            p { "Nothing in this window." }
        } @else {
            table {
                caption class="visually-hidden" { (caption) }
                thead { tr { th scope="col" { (key) } th scope="col" { "Calls" } th scope="col" { "Tokens in" } th scope="col" { "Tokens out" } th scope="col" { "Cost" } } }
                tbody {
                    @for group in groups {
                        tr {
                            td { (group.key.as_deref().unwrap_or("")) }
                            td class="number" { (group.calls) }
                            td class="number" { (group.input_tokens + group.cached_input_tokens) }
                            td class="number" { (group.output_tokens) }
                            td class="number" { (usd(group.cost)) }
                        }
                    }
                }
            }
        }
    }
}
