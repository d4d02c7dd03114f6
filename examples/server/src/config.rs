//! Configuration: command-line flags, environment variables and an optional TOML file, in that order of
//! precedence, validated as a whole before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use agentic_core::MIN_MASTER_KEY_LEN;
use agentic_core::auth::api_key;
use agentic_core::auth::jwt::MIN_HS256_SECRET;
use agentic_llm::registry::{ProviderSettings, canonical_name};
use std::collections::BTreeMap;

use agentic_core::limit::{FailMode, RateLimitPolicy, RouteOverride};
use agentic_core::model::{Plan, Role};
use agentic_store_postgres::PgStoreOptions;
use clap::Parser;
use secrecy::SecretString;
use serde::Deserialize;

/// The reference server of the agentic platform.
///
/// With no configuration it serves on 127.0.0.1:9000 with the in-memory store and creates tenant `default` with
/// an admin whose API key is printed once. Every option can also be set by its environment variable or in the
/// TOML file given with --config (keys in snake_case, e.g. `bind = "0.0.0.0:9000"`); flags win over the
/// environment, which wins over the file.
#[derive(Debug, Parser)]
#[command(name = "agentic-server", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// TOML configuration file.
    #[arg(long, env = "AGENTIC_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:9000]. Port 0 picks a free port (printed at start-up).
    #[arg(long, env = "AGENTIC_BIND", value_name = "ADDR")]
    bind: Option<String>,
    /// Platform master key (at least 32 characters); enables POST /v1/tenants. Unset: tenant creation is off.
    #[arg(long, env = "AGENTIC_MASTER_KEY", value_name = "KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// API key (`agk_` + at least 32 characters) given to the admin of tenant `default` when it is created.
    /// Unset: one is generated and printed once.
    #[arg(long, env = "AGENTIC_BOOTSTRAP_API_KEY", value_name = "KEY", hide_env_values = true)]
    bootstrap_api_key: Option<String>,
    /// E-mail of the bootstrap admin [default: admin@example.com].
    #[arg(long, env = "AGENTIC_BOOTSTRAP_ADMIN_EMAIL", value_name = "EMAIL")]
    bootstrap_admin_email: Option<String>,
    /// Password of the bootstrap admin (at least 12 characters). Unset: one is generated and printed once.
    #[arg(long, env = "AGENTIC_BOOTSTRAP_ADMIN_PASSWORD", value_name = "PASSWORD", hide_env_values = true)]
    bootstrap_admin_password: Option<String>,
    /// HS256 secret (at least 32 bytes) that signs access tokens. Unset: a random one per process, so tokens do
    /// not survive a restart.
    #[arg(long, env = "AGENTIC_JWT_SECRET", value_name = "SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// `iss` of access tokens [default: agentic].
    #[arg(long, env = "AGENTIC_JWT_ISSUER", value_name = "ISSUER")]
    jwt_issuer: Option<String>,
    /// `aud` of access tokens [default: agentic-api].
    #[arg(long, env = "AGENTIC_JWT_AUDIENCE", value_name = "AUDIENCE")]
    jwt_audience: Option<String>,
    /// Lifetime of access tokens in seconds [default: 900].
    #[arg(long, env = "AGENTIC_JWT_TTL_SECS", value_name = "SECONDS")]
    jwt_ttl_secs: Option<String>,
    /// Largest accepted request body in bytes [default: 1048576].
    #[arg(long, env = "AGENTIC_MAX_BODY_BYTES", value_name = "BYTES")]
    max_body_bytes: Option<String>,
    /// PostgreSQL URL for the persistent store. Unset: the in-memory store.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Apply database migrations at start-up (as DATABASE_URL's role) before serving.
    #[arg(long, env = "AGENTIC_DB_MIGRATE", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    migrate: Option<String>,
    /// Largest number of pooled database connections [default: 10].
    #[arg(long, env = "AGENTIC_DB_POOL_SIZE", value_name = "N")]
    db_pool_size: Option<String>,
    /// Seconds a request waits for a database connection before failing with 503 [default: 5].
    #[arg(long, env = "AGENTIC_DB_ACQUIRE_TIMEOUT_SECS", value_name = "SECONDS")]
    db_acquire_timeout_secs: Option<String>,
    /// Role the server switches to on every database connection (no BYPASSRLS, owns nothing) [default: agentic_app].
    #[arg(long, env = "AGENTIC_DB_RUNTIME_ROLE", value_name = "ROLE")]
    db_runtime_role: Option<String>,
    /// Run workers in this process (they claim queued agent runs from the store) [default: 2; 0: none].
    #[arg(long, env = "AGENTIC_WORKERS", value_name = "N")]
    workers: Option<String>,
    /// Seconds a run stays with a worker that stopped renewing its lease (it renews every third) [default: 600].
    #[arg(long, env = "AGENTIC_RUN_LEASE_SECS", value_name = "SECONDS")]
    run_lease_secs: Option<String>,
    /// Seconds an approval request may wait for a decision before it expires and its run ends `denied`
    /// [default: 86400].
    #[arg(long, env = "AGENTIC_APPROVAL_TTL_SECS", value_name = "SECONDS")]
    approval_ttl_secs: Option<String>,
    /// A TOML pricing file merged over the built-in prices (same format as `pricing.toml`), e.g. to mark a
    /// self-hosted OpenAI-compatible server free.
    #[arg(long, env = "AGENTIC_PRICING_FILE", value_name = "FILE")]
    pricing_file: Option<PathBuf>,
    /// Rate limits on or off [default: on]. Their quotas are set in the config file's [rate_limits] section.
    #[arg(long, env = "AGENTIC_RATE_LIMITS", value_name = "on|off")]
    rate_limits: Option<String>,
    /// When the rate limiter cannot decide (Redis down): `open` lets requests through, `closed` answers 503
    /// [default: open].
    #[arg(long, env = "AGENTIC_RATE_LIMIT_FAIL_MODE", value_name = "open|closed")]
    rate_limit_fail_mode: Option<String>,
    /// Requests per client IP before authentication, e.g. `1200/minute`, or `unlimited` [default: 1200/minute].
    #[arg(long, env = "AGENTIC_RATE_LIMIT_PER_IP", value_name = "RATE")]
    rate_limit_per_ip: Option<String>,
    /// Redis URL for the distributed rate limiter. Unset: in-memory limits.
    #[arg(long, env = "REDIS_URL", value_name = "URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// API key of provider `claude`/`anthropic`.
    #[arg(long, env = "ANTHROPIC_API_KEY", value_name = "KEY", hide_env_values = true)]
    anthropic_api_key: Option<String>,
    /// Base URL of the Anthropic Messages API [default: https://api.anthropic.com].
    #[arg(long, env = "ANTHROPIC_BASE_URL", value_name = "URL")]
    anthropic_base_url: Option<String>,
    /// API key of provider `openai` (any OpenAI-compatible server).
    #[arg(long, env = "OPENAI_API_KEY", value_name = "KEY", hide_env_values = true)]
    openai_api_key: Option<String>,
    /// Base URL of the OpenAI-compatible API, including `/v1` [default: https://api.openai.com/v1].
    #[arg(long, env = "OPENAI_BASE_URL", value_name = "URL")]
    openai_base_url: Option<String>,
    /// Address of an Ollama server (enables provider `ollama`).
    #[arg(long, env = "OLLAMA_HOST", value_name = "URL")]
    ollama_host: Option<String>,
    /// Provider used for agents whose own provider is not configured.
    #[arg(long, env = "AGENTIC_LLM_DEFAULT_PROVIDER", value_name = "NAME")]
    llm_default_provider: Option<String>,
    /// Address of the separate, unauthenticated `/metrics` listener (keep it private: the figures span every
    /// tenant), or `off` [default: 127.0.0.1:9464].
    #[arg(long, env = "AGENTIC_METRICS_BIND", value_name = "ADDR|off")]
    metrics_bind: Option<String>,
    /// Token (at least 32 characters) that also opens `/metrics` on the API listener to `Authorization: Bearer
    /// <token>`. Unset: the API listener has no `/metrics`.
    #[arg(long, env = "AGENTIC_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Label `project_cost_usd` by project id (one series per project) [default: false].
    #[arg(long, env = "AGENTIC_METRICS_PROJECT_LABELS", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    metrics_project_labels: Option<String>,
    /// Log filter, in `tracing` EnvFilter syntax [default: info].
    #[arg(long, env = "AGENTIC_LOG", value_name = "FILTER")]
    log: Option<String>,
    /// Log format: `text` or `json` [default: text].
    #[arg(long, env = "AGENTIC_LOG_FORMAT", value_name = "FORMAT")]
    log_format: Option<String>,
}

/// What to do instead of serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub(crate) enum Command {
    /// Apply the database migrations to DATABASE_URL (as its role, which must own the schema) and exit.
    Migrate,
}

/// The same keys in a TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    master_key: Option<String>,
    bootstrap_api_key: Option<String>,
    bootstrap_admin_email: Option<String>,
    bootstrap_admin_password: Option<String>,
    jwt_secret: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    jwt_ttl_secs: Option<u64>,
    max_body_bytes: Option<usize>,
    database_url: Option<String>,
    migrate: Option<bool>,
    db_pool_size: Option<u32>,
    db_acquire_timeout_secs: Option<u64>,
    db_runtime_role: Option<String>,
    redis_url: Option<String>,
    workers: Option<u32>,
    run_lease_secs: Option<u64>,
    approval_ttl_secs: Option<u64>,
    pricing_file: Option<PathBuf>,
    rate_limits: Option<RateLimitsFile>,
    log: Option<String>,
    log_format: Option<String>,
    metrics_bind: Option<String>,
    metrics_token: Option<String>,
    metrics_project_labels: Option<bool>,
    anthropic_api_key: Option<String>,
    anthropic_base_url: Option<String>,
    openai_api_key: Option<String>,
    openai_base_url: Option<String>,
    ollama_host: Option<String>,
    llm_default_provider: Option<String>,
}

/// The `[rate_limits]` section: every quota is a rate like `100/hour`, or `unlimited`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitsFile {
    enabled: Option<bool>,
    fail_mode: Option<String>,
    per_ip: Option<String>,
    per_principal: Option<String>,
    login_per_account: Option<String>,
    #[serde(default)]
    plans: BTreeMap<String, String>,
    #[serde(default)]
    roles: BTreeMap<String, String>,
    #[serde(default)]
    routes: Vec<RouteLimitFile>,
}

/// One `[[rate_limits.routes]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteLimitFile {
    /// `"POST /v1/agents/{name}/execute"` (method optional).
    route: String,
    /// A rate.
    limit: String,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// The validated configuration.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) bind: SocketAddr,
    pub(crate) master_key: Option<SecretString>,
    pub(crate) bootstrap_api_key: Option<SecretString>,
    pub(crate) bootstrap_admin_email: String,
    pub(crate) bootstrap_admin_password: Option<SecretString>,
    pub(crate) jwt_secret: Option<SecretString>,
    pub(crate) jwt_issuer: String,
    pub(crate) jwt_audience: String,
    pub(crate) jwt_ttl: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) database_url: Option<SecretString>,
    pub(crate) migrate: bool,
    pub(crate) db: PgStoreOptions,
    pub(crate) redis_url: Option<SecretString>,
    pub(crate) rate_limits: Option<RateLimitPolicy>,
    pub(crate) workers: u32,
    pub(crate) run_lease: Duration,
    pub(crate) approval_ttl: Duration,
    pub(crate) pricing: Option<agentic_core::pricing::PricingTable>,
    pub(crate) log: String,
    pub(crate) log_format: LogFormat,
    /// Where the separate `/metrics` listener binds; `None`: no such listener.
    pub(crate) metrics_bind: Option<SocketAddr>,
    pub(crate) metrics_token: Option<SecretString>,
    pub(crate) metrics_project_labels: bool,
    pub(crate) llm: ProviderSettings,
}

/// A configuration that cannot be used; the message names the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("invalid {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, message: message.into() }
}

impl Config {
    /// Merges flags/environment over the file (if any) over defaults, and validates the result.
    pub(crate) fn load(cli: Cli) -> Result<Self, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let bind_text = cli.bind.or(file.bind).unwrap_or_else(|| "127.0.0.1:9000".to_owned());
        let bind = bind_text
            .parse::<SocketAddr>()
            .map_err(|_| invalid("AGENTIC_BIND", format!("`{bind_text}` is not an address like 127.0.0.1:9000")))?;

        let metrics_text = cli.metrics_bind.or(file.metrics_bind).unwrap_or_else(|| "127.0.0.1:9464".to_owned());
        let metrics_bind = match metrics_text.as_str() {
            "off" => None,
            text => Some(text.parse::<SocketAddr>().map_err(|_| {
                invalid("AGENTIC_METRICS_BIND", format!("`{text}` is not an address like 127.0.0.1:9464, or `off`"))
            })?),
        };
        let metrics_token = cli.metrics_token.or(file.metrics_token);
        if let Some(token) = &metrics_token
            && token.chars().count() < MIN_MASTER_KEY_LEN
        {
            return Err(invalid("AGENTIC_METRICS_TOKEN", format!("must be at least {MIN_MASTER_KEY_LEN} characters")));
        }
        let metrics_project_labels = match cli.metrics_project_labels {
            Some(text) => parse_bool("AGENTIC_METRICS_PROJECT_LABELS", &text)?,
            None => file.metrics_project_labels.unwrap_or(false),
        };

        let master_key = cli.master_key.or(file.master_key);
        if let Some(key) = &master_key
            && key.chars().count() < MIN_MASTER_KEY_LEN
        {
            return Err(invalid("AGENTIC_MASTER_KEY", format!("must be at least {MIN_MASTER_KEY_LEN} characters")));
        }
        let bootstrap_api_key = cli.bootstrap_api_key.or(file.bootstrap_api_key);
        if let Some(key) = &bootstrap_api_key {
            api_key::import(key).map_err(|e| invalid("AGENTIC_BOOTSTRAP_API_KEY", e.message))?;
        }
        let bootstrap_admin_email =
            cli.bootstrap_admin_email.or(file.bootstrap_admin_email).unwrap_or_else(|| "admin@example.com".to_owned());
        agentic_core::model::Email::parse(&bootstrap_admin_email)
            .map_err(|e| invalid("AGENTIC_BOOTSTRAP_ADMIN_EMAIL", e.message))?;
        let bootstrap_admin_password = cli.bootstrap_admin_password.or(file.bootstrap_admin_password);
        if let Some(password) = &bootstrap_admin_password {
            agentic_core::auth::password::validate_new_password(&SecretString::from(password.clone()))
                .map_err(|e| invalid("AGENTIC_BOOTSTRAP_ADMIN_PASSWORD", e.message))?;
        }
        let jwt_secret = cli.jwt_secret.or(file.jwt_secret);
        if let Some(secret) = &jwt_secret
            && secret.len() < MIN_HS256_SECRET
        {
            return Err(invalid("AGENTIC_JWT_SECRET", format!("must be at least {MIN_HS256_SECRET} bytes")));
        }
        let jwt_ttl_secs = match cli.jwt_ttl_secs {
            Some(text) => parse_number::<u64>("AGENTIC_JWT_TTL_SECS", &text)?,
            None => file.jwt_ttl_secs.unwrap_or(900),
        };
        if !(30..=86_400).contains(&jwt_ttl_secs) {
            return Err(invalid("AGENTIC_JWT_TTL_SECS", "must be between 30 and 86400 seconds"));
        }
        let max_body_bytes = match cli.max_body_bytes {
            Some(text) => parse_number::<usize>("AGENTIC_MAX_BODY_BYTES", &text)?,
            None => file.max_body_bytes.unwrap_or(1024 * 1024),
        };
        if !(1024..=64 * 1024 * 1024).contains(&max_body_bytes) {
            return Err(invalid("AGENTIC_MAX_BODY_BYTES", "must be between 1024 and 67108864"));
        }
        let log_format = match cli.log_format.or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(invalid("AGENTIC_LOG_FORMAT", format!("`{other}` is not `text` or `json`"))),
        };
        let log = cli.log.or(file.log).unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log).map_err(|e| invalid("AGENTIC_LOG", e.to_string()))?;
        let migrate = match cli.migrate {
            Some(text) => parse_bool("AGENTIC_DB_MIGRATE", &text)?,
            None => file.migrate.unwrap_or(false),
        };
        let pool_size = match cli.db_pool_size {
            Some(text) => parse_number::<u32>("AGENTIC_DB_POOL_SIZE", &text)?,
            None => file.db_pool_size.unwrap_or(10),
        };
        if !(1..=1000).contains(&pool_size) {
            return Err(invalid("AGENTIC_DB_POOL_SIZE", "must be between 1 and 1000"));
        }
        let acquire_secs = match cli.db_acquire_timeout_secs {
            Some(text) => parse_number::<u64>("AGENTIC_DB_ACQUIRE_TIMEOUT_SECS", &text)?,
            None => file.db_acquire_timeout_secs.unwrap_or(5),
        };
        if !(1..=300).contains(&acquire_secs) {
            return Err(invalid("AGENTIC_DB_ACQUIRE_TIMEOUT_SECS", "must be between 1 and 300 seconds"));
        }
        let runtime_role = cli.db_runtime_role.or(file.db_runtime_role).unwrap_or_else(|| "agentic_app".to_owned());
        let db = PgStoreOptions {
            max_connections: pool_size,
            acquire_timeout: Duration::from_secs(acquire_secs),
            runtime_role: (!runtime_role.is_empty()).then_some(runtime_role),
        };
        let workers = match cli.workers {
            Some(text) => parse_number::<u32>("AGENTIC_WORKERS", &text)?,
            None => file.workers.unwrap_or(2),
        };
        if workers > 64 {
            return Err(invalid("AGENTIC_WORKERS", "must be at most 64"));
        }
        let run_lease_secs = match cli.run_lease_secs {
            Some(text) => parse_number::<u64>("AGENTIC_RUN_LEASE_SECS", &text)?,
            None => file.run_lease_secs.unwrap_or(600),
        };
        if !(1..=86_400).contains(&run_lease_secs) {
            return Err(invalid("AGENTIC_RUN_LEASE_SECS", "must be between 1 and 86400"));
        }
        let approval_ttl_secs = match cli.approval_ttl_secs {
            Some(text) => parse_number::<u64>("AGENTIC_APPROVAL_TTL_SECS", &text)?,
            None => file.approval_ttl_secs.unwrap_or(86_400),
        };
        if !(60..=30 * 86_400).contains(&approval_ttl_secs) {
            return Err(invalid("AGENTIC_APPROVAL_TTL_SECS", "must be between 60 and 2592000 (30 days)"));
        }
        let pricing = match cli.pricing_file.or(file.pricing_file) {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| invalid("AGENTIC_PRICING_FILE", format!("{}: {e}", path.display())))?;
                let extra = agentic_core::pricing::PricingTable::from_toml(&text)
                    .map_err(|e| invalid("AGENTIC_PRICING_FILE", e.to_string()))?;
                Some(agentic_core::pricing::PricingTable::builtin().merge(extra))
            }
            None => None,
        };
        let rate_limits = rate_limit_policy(
            cli.rate_limits,
            cli.rate_limit_fail_mode,
            cli.rate_limit_per_ip,
            file.rate_limits.unwrap_or_default(),
        )?;
        let non_empty = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let llm = ProviderSettings {
            anthropic_api_key: non_empty(cli.anthropic_api_key.or(file.anthropic_api_key)),
            anthropic_base_url: non_empty(cli.anthropic_base_url.or(file.anthropic_base_url)),
            openai_api_key: non_empty(cli.openai_api_key.or(file.openai_api_key)),
            openai_base_url: non_empty(cli.openai_base_url.or(file.openai_base_url)),
            ollama_host: non_empty(cli.ollama_host.or(file.ollama_host)),
            default_provider: non_empty(cli.llm_default_provider.or(file.llm_default_provider)),
            timeout: None,
            retry: None,
        };
        if let Some(name) = &llm.default_provider
            && canonical_name(name).is_none()
        {
            return Err(invalid(
                "AGENTIC_LLM_DEFAULT_PROVIDER",
                format!("`{name}` is not a provider (claude, anthropic, openai, ollama, mock)"),
            ));
        }
        for (key, url) in [("ANTHROPIC_BASE_URL", &llm.anthropic_base_url), ("OPENAI_BASE_URL", &llm.openai_base_url)] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(invalid(key, format!("`{url}` is not an http(s) URL")));
            }
        }
        Ok(Config {
            llm,
            bind,
            master_key: master_key.map(SecretString::from),
            bootstrap_api_key: bootstrap_api_key.map(SecretString::from),
            bootstrap_admin_email,
            bootstrap_admin_password: bootstrap_admin_password.map(SecretString::from),
            jwt_secret: jwt_secret.map(SecretString::from),
            jwt_issuer: cli.jwt_issuer.or(file.jwt_issuer).unwrap_or_else(|| "agentic".to_owned()),
            jwt_audience: cli.jwt_audience.or(file.jwt_audience).unwrap_or_else(|| "agentic-api".to_owned()),
            jwt_ttl: Duration::from_secs(jwt_ttl_secs),
            max_body_bytes,
            database_url: cli.database_url.or(file.database_url).filter(|u| !u.is_empty()).map(SecretString::from),
            migrate,
            db,
            redis_url: cli.redis_url.or(file.redis_url).filter(|u| !u.is_empty()).map(SecretString::from),
            rate_limits,
            workers,
            run_lease: Duration::from_secs(run_lease_secs),
            approval_ttl: Duration::from_secs(approval_ttl_secs),
            pricing,
            log,
            log_format,
            metrics_bind,
            metrics_token: metrics_token.map(SecretString::from),
            metrics_project_labels,
        })
    }
}

/// A boolean setting: `true`/`1`/`yes` or `false`/`0`/`no` (empty is false).
fn parse_bool(key: &'static str, text: &str) -> Result<bool, ConfigError> {
    match text.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" | "" => Ok(false),
        other => Err(invalid(key, format!("`{other}` is not true or false"))),
    }
}

/// The rate-limit policy: defaults, then the file's section, then the environment/flags.
fn rate_limit_policy(
    enabled: Option<String>,
    fail_mode: Option<String>,
    per_ip: Option<String>,
    file: RateLimitsFile,
) -> Result<Option<RateLimitPolicy>, ConfigError> {
    let enabled = match enabled.as_deref().map(str::trim) {
        Some("on" | "true" | "1") => true,
        Some("off" | "false" | "0") => false,
        Some(other) => return Err(invalid("AGENTIC_RATE_LIMITS", format!("`{other}` is not on or off"))),
        None => file.enabled.unwrap_or(true),
    };
    if !enabled {
        return Ok(None);
    }
    let rate =
        |key: &'static str, text: &str| RateLimitPolicy::parse_rate(text).map_err(|e| invalid(key, e.to_string()));
    let mut policy = RateLimitPolicy::default();
    if let Some(text) = per_ip.as_deref().or(file.per_ip.as_deref()) {
        policy.per_ip = rate("AGENTIC_RATE_LIMIT_PER_IP", text)?;
    }
    if let Some(text) = &file.per_principal {
        policy.per_principal = rate("rate_limits.per_principal", text)?;
    }
    if let Some(text) = &file.login_per_account {
        policy.login_per_account = rate("rate_limits.login_per_account", text)?;
    }
    policy.fail_mode = match fail_mode.as_deref().or(file.fail_mode.as_deref()).map(str::trim) {
        None | Some("open") => FailMode::Open,
        Some("closed") => FailMode::Closed,
        Some(other) => {
            return Err(invalid("AGENTIC_RATE_LIMIT_FAIL_MODE", format!("`{other}` is not open or closed")));
        }
    };
    for (plan, text) in &file.plans {
        let quota = rate("rate_limits.plans", text)?;
        match plan.parse::<Plan>().map_err(|e| invalid("rate_limits.plans", e.message))? {
            Plan::Free => policy.plans.free = quota,
            Plan::Developer => policy.plans.developer = quota,
            Plan::Enterprise => policy.plans.enterprise = quota,
        }
    }
    for (role, text) in &file.roles {
        let role = role.parse::<Role>().map_err(|e| invalid("rate_limits.roles", e.to_string()))?;
        if let Some(quota) = rate("rate_limits.roles", text)? {
            policy.roles.push((role, quota));
        }
    }
    for route in &file.routes {
        let parsed = RouteOverride::parse(&route.route, &route.limit)
            .map_err(|e| invalid("rate_limits.routes", e.to_string()))?;
        policy.routes.retain(|r| !(r.route == parsed.route && r.method == parsed.method));
        policy.routes.push(parsed);
    }
    Ok(Some(policy))
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile { path: path.to_owned(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::ParseFile { path: path.to_owned(), message: e.to_string() })
}

fn parse_number<T: std::str::FromStr>(key: &'static str, text: &str) -> Result<T, ConfigError> {
    text.trim().parse().map_err(|_| invalid(key, format!("`{text}` is not a whole number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec!["agentic-server"];
        argv.extend_from_slice(args);
        Config::load(Cli::try_parse_from(argv).unwrap())
    }

    #[test]
    fn defaults() {
        let config = load(&[]).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:9000");
        assert!(config.master_key.is_none());
        assert_eq!(config.jwt_ttl, Duration::from_secs(900));
        assert_eq!((config.run_lease, config.approval_ttl), (Duration::from_secs(600), Duration::from_secs(86_400)));
    }

    #[test]
    fn malformed_values_name_their_key() {
        let check = |args: &[&str], key: &str| {
            let error = load(args).unwrap_err().to_string();
            assert!(error.contains(key), "{args:?}: {error}");
        };
        check(&["--bind", "localhost"], "AGENTIC_BIND");
        check(&["--master-key", "short"], "AGENTIC_MASTER_KEY");
        check(&["--bootstrap-api-key", "sk_live_123"], "AGENTIC_BOOTSTRAP_API_KEY");
        check(&["--bootstrap-admin-email", "nope"], "AGENTIC_BOOTSTRAP_ADMIN_EMAIL");
        check(&["--jwt-secret", "tiny"], "AGENTIC_JWT_SECRET");
        check(&["--jwt-ttl-secs", "ten"], "AGENTIC_JWT_TTL_SECS");
        check(&["--log-format", "xml"], "AGENTIC_LOG_FORMAT");
        check(&["--db-pool-size", "0"], "AGENTIC_DB_POOL_SIZE");
        check(&["--migrate", "maybe"], "AGENTIC_DB_MIGRATE");
        check(&["--rate-limits", "sometimes"], "AGENTIC_RATE_LIMITS");
        check(&["--rate-limit-fail-mode", "ajar"], "AGENTIC_RATE_LIMIT_FAIL_MODE");
        check(&["--rate-limit-per-ip", "lots"], "AGENTIC_RATE_LIMIT_PER_IP");
        check(&["--approval-ttl-secs", "5"], "AGENTIC_APPROVAL_TTL_SECS");
        check(&["--run-lease-secs", "0"], "AGENTIC_RUN_LEASE_SECS");
        assert_eq!(load(&["--approval-ttl-secs", "3600"]).unwrap().approval_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn file_values_apply_and_flags_win() {
        let dir = std::env::temp_dir().join(format!("agentic-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("server.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:9100\"\njwt_ttl_secs = 60\n").unwrap();
        let path_text = path.to_str().unwrap();
        let config = load(&["--config", path_text]).unwrap();
        assert_eq!(config.bind.port(), 9100);
        assert_eq!(config.jwt_ttl, Duration::from_secs(60));
        let config = load(&["--config", path_text, "--bind", "127.0.0.1:9200"]).unwrap();
        assert_eq!(config.bind.port(), 9200);

        std::fs::write(
            &path,
            "[rate_limits]\nfail_mode = \"closed\"\nper_ip = \"unlimited\"\nlogin_per_account = \"3/minute\"\n\
             [rate_limits.plans]\nfree = \"5/minute\"\n[rate_limits.roles]\nviewer = \"2/minute\"\n[[rate_limits.routes]]\n\
             route = \"GET /v1/projects\"\nlimit = \"1/second\"\n",
        )
        .unwrap();
        let policy = load(&["--config", path_text]).unwrap().rate_limits.unwrap();
        assert_eq!(policy.fail_mode, FailMode::Closed);
        assert_eq!(policy.per_ip, None);
        assert_eq!(policy.plans.free, Some(agentic_core::limit::Quota::per_minute(5)));
        assert_eq!(policy.roles.len(), 1);
        assert_eq!(policy.routes.len(), 3, "the default execute and workflow limits stay beside the new route");
        assert_eq!(policy.login_per_account, Some(agentic_core::limit::Quota::per_minute(3)));
        assert!(load(&["--config", path_text, "--rate-limits", "off"]).unwrap().rate_limits.is_none());
        std::fs::write(&path, "[rate_limits.plans]\ngold = \"1/hour\"\n").unwrap();
        assert!(load(&["--config", path_text]).unwrap_err().to_string().contains("rate_limits.plans"));

        std::fs::write(&path, "bnd = \"127.0.0.1:9100\"\n").unwrap();
        let error = load(&["--config", path_text]).unwrap_err().to_string();
        assert!(error.contains("unknown field"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
