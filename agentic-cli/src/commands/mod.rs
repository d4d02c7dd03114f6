//! Running a parsed command: the client from the profile, then one module per group of commands.

mod admin;
mod knowledge;
mod runs;

use agentic_sdk::AgenticClient;
use agentic_sdk::ids::ProjectId;
use agentic_sdk::query::PageRequest;

use crate::cli::{Cli, Command};
use crate::config::{self, Config};
use crate::error::CliError;
use crate::output::Output;

/// What a command works with.
pub(crate) struct Context {
    pub(crate) client: AgenticClient,
    pub(crate) out: Output,
}

/// Runs `cli`'s command.
pub(crate) async fn run(cli: Cli) -> Result<(), CliError> {
    let out = Output::new(cli.json);
    let path = config::path(cli.config.as_deref())?;
    if let Command::Login(login) = &cli.command {
        let url = cli.url.as_deref().ok_or_else(|| CliError::Usage("login needs --url (or AGENTIC_URL)".into()))?;
        return admin::login(&path, cli.profile.as_deref(), url, login, &out).await;
    }
    let context = Context { client: client(&cli, &path)?, out };
    match cli.command {
        Command::Login(_) => Ok(()),
        Command::Agents(command) => runs::agents(&context, command).await,
        Command::Workflows(command) => runs::workflows(&context, command).await,
        Command::Runs(command) => runs::runs(&context, command).await,
        Command::Approvals(command) => admin::approvals(&context, command).await,
        Command::Projects(command) => admin::projects(&context, command).await,
        Command::Costs(costs) => admin::costs(&context, costs).await,
        Command::Webhooks(command) => admin::webhooks(&context, command).await,
        Command::Events(command) => admin::events(&context, command).await,
        Command::Settings(command) => admin::settings(&context, command).await,
        Command::Knowledge(command) => knowledge::knowledge(&context, command).await,
    }
}

/// The client of the chosen profile, with `--url` / `--api-key` (or their variables) overriding it.
fn client(cli: &Cli, path: &std::path::Path) -> Result<AgenticClient, CliError> {
    let config = Config::load(path)?;
    let name = config.profile_name(cli.profile.as_deref());
    let profile = config.profiles.get(&name);
    let url = cli.url.clone().or_else(|| profile.map(|p| p.url.clone())).ok_or_else(|| {
        CliError::Config(format!(
            "no profile `{name}` in {} and no --url: run `agentic login --url <URL> --key <API key>` first",
            path.display()
        ))
    })?;
    let key = cli.api_key.clone().or_else(|| profile.map(|p| p.api_key.clone()));
    let mut builder = AgenticClient::builder(url).user_agent(concat!("agentic-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(key) = key {
        builder = builder.api_key(key);
    }
    Ok(builder.build()?)
}

/// A project named by id or by name (names are matched ignoring case).
pub(crate) async fn project(client: &AgenticClient, given: &str) -> Result<ProjectId, CliError> {
    if let Ok(id) = given.trim().parse::<ProjectId>() {
        return Ok(id);
    }
    let mut page = PageRequest { limit: 200, after: None };
    loop {
        let projects = client.projects().list(page).await?;
        if let Some(found) = projects.data.iter().find(|p| p.name.eq_ignore_ascii_case(given.trim())) {
            return Ok(found.id);
        }
        match projects.next_cursor {
            Some(cursor) => page.after = Some(cursor),
            None => return Err(CliError::Usage(format!("no project named `{given}`"))),
        }
    }
}
