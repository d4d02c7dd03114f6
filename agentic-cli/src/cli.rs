//! The command line: every command, argument and flag, as clap derives them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, as `--help` documents them.
pub(crate) const EXIT_CODES: &str = "Exit codes: 0 success; 1 the API or the connection failed; 2 usage or \
configuration error; 3 refused by a budget (money or tokens); 4 the run ended unsuccessfully (failed, denied, \
cancelled) or still waits for approval; 5 timed out waiting.";

/// The agentic platform from a terminal.
#[derive(Debug, Parser)]
#[command(name = "agentic", version, about, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// The profile to use (default: the config file's `default_profile`, else `default`).
    #[arg(long, global = true, env = "AGENTIC_PROFILE")]
    pub(crate) profile: Option<String>,
    /// The config file (default: `$XDG_CONFIG_HOME/agentic/config.toml` or `~/.config/agentic/config.toml`).
    #[arg(long, global = true, env = "AGENTIC_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// The platform's URL, overriding the profile's.
    #[arg(long, global = true, env = "AGENTIC_URL")]
    pub(crate) url: Option<String>,
    /// An API key, overriding the profile's credential.
    #[arg(long, global = true, env = "AGENTIC_API_KEY", hide_env_values = true)]
    pub(crate) api_key: Option<String>,
    /// Print JSON (for scripts) instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Save a profile: the platform's URL (--url) and an API key (given, or created for you after signing in).
    Login(Login),
    /// Agents: the catalog, and executing one.
    #[command(subcommand)]
    Agents(AgentsCommand),
    /// Workflows.
    #[command(subcommand)]
    Workflows(WorkflowsCommand),
    /// Runs: list, show, wait, cancel.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Approval requests of risky runs.
    #[command(subcommand)]
    Approvals(ApprovalsCommand),
    /// Projects.
    #[command(subcommand)]
    Projects(ProjectsCommand),
    /// A project's costs, grouped.
    Costs(Costs),
    /// Webhook endpoints and their deliveries.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// The tenant's events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// The tenant's settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Knowledge bases: create, upload documents, search.
    #[command(subcommand)]
    Knowledge(KnowledgeCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum KnowledgeCommand {
    /// The tenant's knowledge bases, with their counts.
    List,
    /// Create a knowledge base (needs knowledge:manage).
    Create {
        /// Its name, unique in the tenant.
        name: String,
        /// What it holds.
        #[arg(long)]
        description: Option<String>,
        /// The language of its documents (english by default; simple for none).
        #[arg(long)]
        language: Option<String>,
        /// The project it belongs to (id or name); without, the whole tenant's.
        #[arg(long)]
        project: Option<String>,
    },
    /// Upload files (Markdown, text, HTML, PDF) to a knowledge base, with a progress bar; a file already there
    /// is left unchanged.
    Upload {
        /// The knowledge base: its id or its name.
        base: String,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The document's title (one file only; default: the one the document names).
        #[arg(long)]
        title: Option<String>,
    },
    /// Search a knowledge base.
    Search {
        /// The knowledge base: its id or its name.
        base: String,
        /// What to look for.
        query: String,
        /// How many chunks (1–50).
        #[arg(short, long, default_value_t = 5)]
        k: u32,
    },
    /// Delete a knowledge base and its documents (needs knowledge:manage).
    Delete {
        /// The knowledge base: its id or its name.
        base: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SettingsCommand {
    /// The outgoing guardrail on prompts to third-party providers; with an action, set it (needs users:manage).
    Guardrails {
        /// `block`, `redact` or `off`.
        #[arg(value_parser = ["block", "redact", "off"])]
        set: Option<String>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Login {
    /// Sign in with this tenant's slug (with --email); an API key for this machine is created and saved.
    #[arg(long, requires = "email", conflicts_with = "key")]
    pub(crate) tenant: Option<String>,
    /// The e-mail to sign in with; the password is read from standard input.
    #[arg(long, requires = "tenant")]
    pub(crate) email: Option<String>,
    /// Save this API key instead of signing in.
    #[arg(long, value_name = "API_KEY", required_unless_present = "tenant")]
    pub(crate) key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AgentsCommand {
    /// Every agent the tenant can run.
    List,
    /// One agent, with its YAML.
    Show {
        /// The agent's name.
        name: String,
    },
    /// Run an agent on a task.
    Execute(Execute),
}

#[derive(Debug, Args)]
pub(crate) struct Execute {
    /// The agent's name (e.g. qa_tester).
    pub(crate) agent: String,
    /// The task, in words.
    pub(crate) task: String,
    #[command(flatten)]
    pub(crate) start: Start,
    /// Raise the run's risk level (low, medium, high).
    #[arg(long)]
    pub(crate) risk: Option<Risk>,
}

/// What every run start shares.
#[derive(Debug, Args)]
pub(crate) struct Start {
    /// The project charged: its id or its name.
    #[arg(long)]
    pub(crate) project: String,
    /// Extra context, as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub(crate) context: Option<String>,
    /// The most tokens the run may use.
    #[arg(long)]
    pub(crate) budget_tokens: Option<u64>,
    /// Repeating the command with the same key within 24 hours returns the same run.
    #[arg(long)]
    pub(crate) idempotency_key: Option<String>,
    /// Follow the run to its end, showing its progress, then print its result.
    #[arg(long)]
    pub(crate) wait: bool,
    /// With --wait, give up after this many seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub(crate) timeout: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Risk {
    Low,
    Medium,
    High,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowsCommand {
    /// Start the project pipeline: the Overseer plans, the agents work, the QA Tester reviews.
    Start {
        /// What the project should achieve.
        #[arg(long)]
        goal: String,
        #[command(flatten)]
        start: Start,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// The tenant's runs, newest first.
    List {
        /// Only runs with this status (queued, awaiting_approval, running, completed, failed, denied, cancelled).
        #[arg(long)]
        status: Option<String>,
        /// Only runs of this agent (or workflow).
        #[arg(long)]
        agent: Option<String>,
        /// Only runs charged to this project (id or name).
        #[arg(long)]
        project: Option<String>,
        /// At most this many (1–200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One run: status, output, cost.
    Show {
        /// The run's id.
        id: String,
    },
    /// Wait for a run to end, showing its progress; exits by its outcome.
    Wait {
        /// The run's id.
        id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
        timeout: u64,
    },
    /// Cancel a run (a running one stops at its next step).
    Cancel {
        /// The run's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApprovalsCommand {
    /// Approval requests (pending ones by default).
    List {
        /// pending, approved, denied, expired or cancelled.
        #[arg(long, default_value = "pending")]
        status: String,
    },
    /// Approve a request: its run is queued.
    Approve {
        /// The request's id.
        id: String,
        /// A comment for the record.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Deny a request: its run ends denied.
    Deny {
        /// The request's id.
        id: String,
        /// A comment for the record.
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProjectsCommand {
    /// The tenant's projects.
    List,
    /// Create a project.
    Create {
        /// Its name.
        name: String,
        /// Its budget in USD (e.g. 25.00).
        #[arg(long)]
        budget: Option<String>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Costs {
    /// The project (id or name).
    pub(crate) project: String,
    /// Group the costs by this.
    #[arg(long, value_enum, default_value_t = GroupBy::Agent)]
    pub(crate) by: GroupBy,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum GroupBy {
    Agent,
    Model,
    Provider,
    Day,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksCommand {
    /// The tenant's endpoints.
    List,
    /// Create an endpoint; its signing secret is shown this once.
    Create {
        /// Where to send events (https).
        #[arg(long)]
        url: String,
        /// Event types or patterns (`agent.failed`, `workflow.*`, `*`); repeat or separate with commas.
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        /// What it is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete an endpoint with its deliveries.
    Delete {
        /// The endpoint's id.
        id: String,
    },
    /// An endpoint's deliveries, newest first.
    Deliveries {
        /// The endpoint's id.
        id: String,
    },
    /// Replace an endpoint's secret (the old one keeps signing for a day).
    Rotate {
        /// The endpoint's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum EventsCommand {
    /// Follow the tenant's events as they happen (one line each; JSON lines with --json).
    Tail {
        /// Only this type (e.g. agent.completed).
        #[arg(long = "type")]
        kind: Option<String>,
        /// Only this project's (id or name).
        #[arg(long)]
        project: Option<String>,
        /// Only this run's.
        #[arg(long)]
        run: Option<String>,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<usize>,
    },
}
