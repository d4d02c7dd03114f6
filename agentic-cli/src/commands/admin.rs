//! Everything but starting and following runs: `login`, `approvals`, `projects`, `costs`, `webhooks`, `events`,
//! `settings`.

use std::path::Path;

use agentic_sdk::api::{
    CostQuery, CreateApiKeyRequest, CreateProjectRequest, CreateWebhookRequest, DeliveryListQuery, LoginRequest,
    RotateSecretRequest,
};
use agentic_sdk::ids::{ApprovalId, RunId, WebhookId};
use agentic_sdk::model::{ApprovalStatus, CostGroupBy, Money};
use agentic_sdk::query::{EventQuery, PageRequest};
use agentic_sdk::{AgenticClient, GuardrailAction};
use futures_util::StreamExt;
use secrecy::SecretString;

use super::{Context, project};
use crate::cli::{
    ApprovalsCommand, Costs, EventsCommand, GroupBy, Login, ProjectsCommand, SettingsCommand, WebhooksCommand,
};
use crate::config::{Config, Profile};
use crate::error::{CliError, parse_id};
use crate::output::{Output, wire_name};

/// Saves a profile. With `--key` the key is checked first; with `--tenant`/`--email` the password is read from
/// standard input, and an API key carrying all of the user's permissions is created for this machine and saved
/// (an access token would expire within the hour).
pub(crate) async fn login(
    path: &Path,
    profile: Option<&str>,
    url: &str,
    login: &Login,
    out: &Output,
) -> Result<(), CliError> {
    // The config is read first: a key created for a file that cannot be read would be left live and unsaved.
    let mut config = Config::load(path)?;
    let key = match (&login.key, &login.tenant, &login.email) {
        (Some(key), _, _) => key.clone(),
        (None, Some(tenant), Some(email)) => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let anonymous = AgenticClient::builder(url).build()?;
            let request = LoginRequest {
                tenant: tenant.clone(),
                email: email.clone(),
                password: SecretString::from(password.to_owned()),
            };
            let token = anonymous.auth().login(&request).await?;
            let signed_in = AgenticClient::builder(url).token(token.access_token).build()?;
            let me = signed_in.auth().me().await?;
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "this machine".to_owned());
            let request = CreateApiKeyRequest {
                name: format!("agentic CLI on {host}"),
                scopes: me.permissions.clone(),
                expires_at: None,
            };
            signed_in.api_keys().create(&request).await?.key
        }
        _ => return Err(CliError::Usage("login needs --key, or --tenant and --email".into())),
    };
    let client = AgenticClient::builder(url).api_key(&key).build()?;
    let me = client.auth().me().await?;
    let name = config.profile_name(profile);
    config.profiles.insert(name.clone(), Profile { url: url.to_owned(), api_key: key });
    if config.default_profile.is_none() {
        config.default_profile = Some(name.clone());
    }
    config.save(path)?;
    if out.json {
        return out.json(&serde_json::json!({"profile": name, "url": url, "user": me.user}));
    }
    out.line(&format!("logged in to {url} as {} (profile `{name}`, saved in {})", me.user.email, path.display()))
}

pub(crate) async fn approvals(ctx: &Context, command: ApprovalsCommand) -> Result<(), CliError> {
    let approvals = ctx.client.approvals();
    match command {
        ApprovalsCommand::List { status } => {
            let status: ApprovalStatus = serde_json::from_value(serde_json::Value::String(status))
                .map_err(|_| CliError::Usage("unknown --status (see `agentic approvals list --help`)".into()))?;
            let list = approvals.list(Some(status)).await?;
            ctx.out.show(&list.data, &["ID", "RUN", "STATUS", "REQUESTED BY", "EXPIRES"], || {
                list.data
                    .iter()
                    .map(|a| {
                        vec![
                            a.id.to_string(),
                            a.run_id.to_string(),
                            a.status.as_str().to_owned(),
                            a.requested_by.to_string(),
                            a.expires_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        ]
                    })
                    .collect()
            })
        }
        ApprovalsCommand::Approve { id, comment } => {
            let decided = approvals.approve(parse_id::<ApprovalId>(&id, "approval")?, comment.as_deref()).await?;
            decision(ctx, &decided)
        }
        ApprovalsCommand::Deny { id, comment } => {
            let decided = approvals.deny(parse_id::<ApprovalId>(&id, "approval")?, comment.as_deref()).await?;
            decision(ctx, &decided)
        }
    }
}

fn decision(ctx: &Context, approval: &agentic_sdk::model::Approval) -> Result<(), CliError> {
    if ctx.out.json {
        return ctx.out.json(approval);
    }
    ctx.out.line(&format!("approval {}: {} (run {})", approval.id, approval.status.as_str(), approval.run_id))
}

pub(crate) async fn projects(ctx: &Context, command: ProjectsCommand) -> Result<(), CliError> {
    match command {
        ProjectsCommand::List => {
            let page = ctx.client.projects().list(PageRequest { limit: 200, after: None }).await?;
            ctx.out.show(&page.data, &["ID", "NAME", "BUDGET", "CREATED"], || {
                page.data
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.to_string(),
                            p.name.clone(),
                            p.budget.map_or_else(|| "-".to_owned(), |b| b.to_string()),
                            p.created_at.format("%Y-%m-%d").to_string(),
                        ]
                    })
                    .collect()
            })
        }
        ProjectsCommand::Create { name, budget } => {
            let budget = budget
                .map(|b| b.parse::<Money>())
                .transpose()
                .map_err(|e| CliError::Usage(format!("--budget: {e}")))?;
            let request = CreateProjectRequest { name, description: None, department_id: None, budget };
            let created = ctx.client.projects().create(&request).await?;
            if ctx.out.json {
                return ctx.out.json(&created);
            }
            ctx.out.line(&format!("project {} `{}` created", created.id, created.name))
        }
    }
}

pub(crate) async fn costs(ctx: &Context, costs: Costs) -> Result<(), CliError> {
    let id = project(&ctx.client, &costs.project).await?;
    let (group_by, column) = match costs.by {
        GroupBy::Agent => (CostGroupBy::Agent, "AGENT"),
        GroupBy::Model => (CostGroupBy::Model, "MODEL"),
        GroupBy::Provider => (CostGroupBy::Provider, "PROVIDER"),
        GroupBy::Day => (CostGroupBy::Day, "DAY"),
    };
    let report = ctx.client.projects().costs(id, CostQuery { group_by: Some(group_by), from: None, to: None }).await?;
    ctx.out.show(&report, &[column, "CALLS", "INPUT TOKENS", "OUTPUT TOKENS", "COST (USD)"], || {
        let row = |key: String, t: &agentic_sdk::model::CostTotals| {
            vec![key, t.calls.to_string(), t.input_tokens.to_string(), t.output_tokens.to_string(), t.cost.to_string()]
        };
        let mut rows: Vec<Vec<String>> =
            report.groups.iter().map(|g| row(g.key.clone().unwrap_or_else(|| "-".into()), g)).collect();
        rows.push(row("TOTAL".into(), &report.total));
        rows
    })
}

pub(crate) async fn webhooks(ctx: &Context, command: WebhooksCommand) -> Result<(), CliError> {
    let webhooks = ctx.client.webhooks();
    match command {
        WebhooksCommand::List => {
            let page = webhooks.list(PageRequest { limit: 200, after: None }).await?;
            ctx.out.show(&page.data, &["ID", "URL", "EVENTS", "ENABLED", "DISABLED BECAUSE"], || {
                page.data
                    .iter()
                    .map(|w| {
                        let events: Vec<String> = w.events.iter().map(ToString::to_string).collect();
                        vec![
                            w.id.to_string(),
                            w.url.clone(),
                            events.join(","),
                            w.enabled.to_string(),
                            w.disabled_reason.clone().unwrap_or_default(),
                        ]
                    })
                    .collect()
            })
        }
        WebhooksCommand::Create { url, events, description } => {
            let request = CreateWebhookRequest { url, events, description, enabled: None, secret: None };
            let created = webhooks.create(&request).await?;
            if ctx.out.json {
                return ctx.out.json(&created);
            }
            ctx.out.line(&format!("webhook {} created", created.webhook.id))?;
            ctx.out.line(&format!("signing secret (shown once): {}", created.secret))
        }
        WebhooksCommand::Delete { id } => {
            webhooks.delete(parse_id::<WebhookId>(&id, "webhook")?).await?;
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({"deleted": id}));
            }
            ctx.out.line(&format!("webhook {id} deleted"))
        }
        WebhooksCommand::Deliveries { id } => {
            let query = DeliveryListQuery { status: None, limit: Some(200), after: None };
            let page = webhooks.deliveries(parse_id::<WebhookId>(&id, "webhook")?, query).await?;
            ctx.out.show(&page.data, &["ID", "EVENT", "STATUS", "ATTEMPTS", "LAST CODE", "LAST ERROR"], || {
                page.data
                    .iter()
                    .map(|d| {
                        vec![
                            d.id.to_string(),
                            d.event_type.as_str().to_owned(),
                            wire_name(&d.status),
                            d.attempts.to_string(),
                            d.last_status_code.map(|c| c.to_string()).unwrap_or_default(),
                            d.last_error.clone().unwrap_or_default(),
                        ]
                    })
                    .collect()
            })
        }
        WebhooksCommand::Rotate { id } => {
            let request = RotateSecretRequest { secret: None, grace_seconds: None };
            let rotated = webhooks.rotate_secret(parse_id::<WebhookId>(&id, "webhook")?, &request).await?;
            if ctx.out.json {
                return ctx.out.json(&rotated);
            }
            ctx.out.line(&format!("new signing secret (shown once): {}", rotated.secret))?;
            ctx.out.line(&format!("the old one signs too until {}", rotated.previous_secret_expires_at))
        }
    }
}

pub(crate) async fn events(ctx: &Context, command: EventsCommand) -> Result<(), CliError> {
    let EventsCommand::Tail { kind, project: named, run, count } = command;
    let kind = kind
        .map(|k| agentic_sdk::events::EventKind::parse(&k).ok_or(k))
        .transpose()
        .map_err(|k| CliError::Usage(format!("`{k}` is no event type (see GET /v1/events/types)")))?;
    let project_id = match named {
        Some(named) => Some(project(&ctx.client, &named).await?),
        None => None,
    };
    let run_id = run.map(|r| parse_id::<RunId>(&r, "run")).transpose()?;
    let query = EventQuery { kind, project_id, run_id, ..EventQuery::default() };
    let mut stream = ctx.client.events().stream(&query);
    let mut seen = 0;
    while count.is_none_or(|count| seen < count) {
        let Some(event) = stream.next().await else { break };
        let event = event?;
        if ctx.out.json {
            let line = serde_json::to_string(&event).map_err(|e| CliError::Output(std::io::Error::other(e)))?;
            ctx.out.line(&line)?;
        } else {
            let run = event.run_id.map(|r| format!(" run {r}")).unwrap_or_default();
            ctx.out.line(&format!("{}  {}{run}  {}", event.occurred_at.format("%H:%M:%S"), event.kind, event.data))?;
        }
        seen += 1;
    }
    Ok(())
}

pub(crate) async fn settings(ctx: &Context, command: SettingsCommand) -> Result<(), CliError> {
    match command {
        SettingsCommand::Guardrails { set } => {
            let settings = match set.as_deref() {
                Some(action) => {
                    let action: GuardrailAction = serde_json::from_value(serde_json::json!(action))
                        .map_err(|e| CliError::Usage(format!("guardrails: {e}")))?;
                    ctx.client.settings().set_guardrails(action).await?
                }
                None => ctx.client.settings().guardrails().await?,
            };
            if ctx.out.json {
                return ctx.out.json(&settings);
            }
            let scanned = if settings.installed { "" } else { " (this server scans nothing)" };
            let exempt = if settings.exempt_providers.is_empty() {
                String::new()
            } else {
                format!("; not scanned: {}", settings.exempt_providers.join(", "))
            };
            ctx.out.line(&format!(
                "outgoing guardrail: {} ({}){scanned}{exempt}",
                settings.outgoing.as_str(),
                settings.source
            ))
        }
    }
}
