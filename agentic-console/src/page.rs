//! The frame every console page shares: the document head, a skip link, the navigation with the signed-in user
//! and sign-out, and `<main>` holding the page's one `<h1>`.

use maud::{DOCTYPE, Markup, html};

use crate::session::{CSRF_FIELD, Session};

/// The console's sections, in the navigation's order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Approvals,
    Runs,
    Costs,
    Webhooks,
    Schedules,
}

impl Section {
    const ALL: [Section; 5] =
        [Section::Approvals, Section::Runs, Section::Costs, Section::Webhooks, Section::Schedules];

    fn label(self) -> &'static str {
        match self {
            Section::Approvals => "Approvals",
            Section::Runs => "Runs",
            Section::Costs => "Costs",
            Section::Webhooks => "Webhooks",
            Section::Schedules => "Schedules",
        }
    }

    fn href(self) -> &'static str {
        match self {
            Section::Approvals => "/console/approvals",
            Section::Runs => "/console/runs",
            Section::Costs => "/console/costs",
            Section::Webhooks => "/console/webhooks",
            Section::Schedules => "/console/schedules",
        }
    }
}

/// An instant as a `<time>` element, read in UTC.
pub(crate) fn when(at: &chrono::DateTime<chrono::Utc>) -> Markup {
    html! { time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M:%S UTC")) } }
}

/// An amount of money as the console shows it: US dollars.
pub(crate) fn usd(amount: agentic_core::model::Money) -> String {
    format!("${amount}")
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · agentic console" }
            link rel="icon" href="/console/assets/icon.svg" type="image/svg+xml";
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// A page of a signed-in session in `section`, titled `title`.
pub(crate) fn page(session: &Session, section: Section, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a class="skip" href="#main" { "Skip to the content" }
                header class="bar" {
                    span class="brand" { "agentic console" }
                    nav aria-label="Sections" {
                        ul {
                            @for each in Section::ALL {
                                li {
                                    a href=(each.href()) aria-current=[(each == section).then_some("page")] {
                                        (each.label())
                                    }
                                }
                            }
                        }
                    }
                    form class="signout" method="post" action="/console/logout" {
                        input type="hidden" name=(CSRF_FIELD) value=(session.csrf());
                        span class="who" { (session.user.email.as_str()) }
                        button type="submit" { "Sign out" }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page outside a session (sign-in, errors): no navigation.
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header class="bar" { span class="brand" { "agentic console" } }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}
