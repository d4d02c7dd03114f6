//! Configuration: command-line flags, environment variables and an optional TOML file, in that order of
//! precedence, validated as a whole before anything starts.
//!
//! One parser per setting ([`values`]) serves all three sources: clap reads flags and the environment, and the
//! file's values reach clap as the flags' defaults ([`file`]). A bad value's message names its environment
//! variable and where the value came from.

mod cli;
mod file;
#[cfg(test)]
mod reference;
mod values;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use agentic_core::limit::{RateLimitPolicy, RouteOverride};
use agentic_core::model::{Plan, Role};
use agentic_llm::registry::ProviderSettings;
use agentic_store_postgres::PgStoreOptions;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches, Parser};
use secrecy::{ExposeSecret, SecretString};

pub(crate) use cli::{Cli, Command, LogFormat};
use file::RateLimitsFile;

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
    pub(crate) max_document_bytes: usize,
    /// Dense retrieval's embeddings API: its base URL, model and key.
    pub(crate) embeddings: Option<Embeddings>,
    pub(crate) database_url: Option<SecretString>,
    pub(crate) migrate: bool,
    pub(crate) db: PgStoreOptions,
    pub(crate) redis_url: Option<SecretString>,
    pub(crate) rate_limits: Option<RateLimitPolicy>,
    pub(crate) workers: u32,
    pub(crate) inline_runs: u32,
    pub(crate) run_lease: Duration,
    pub(crate) approval_ttl: Duration,
    /// How long events, ended runs and cost records are kept.
    pub(crate) retention: agentic_core::engine::Retention,
    pub(crate) webhook_secret_key: Option<SecretString>,
    pub(crate) webhooks: agentic_core::webhooks::WebhookSettings,
    /// The proxies whose forwarding headers name the client.
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
    pub(crate) pricing: Option<agentic_core::pricing::PricingTable>,
    /// The outgoing guardrail's action for tenants without a setting, and the providers it does not apply to.
    pub(crate) guardrail: (agentic_core::llm::GuardrailAction, Vec<String>),
    /// The OSV advisory directory, and how often it is looked at for changes.
    pub(crate) advisories: Option<(std::path::PathBuf, Duration)>,
    pub(crate) log: String,
    pub(crate) log_format: LogFormat,
    /// Where the separate `/metrics` listener binds; `None`: no such listener.
    pub(crate) metrics_bind: Option<SocketAddr>,
    pub(crate) metrics_token: Option<SecretString>,
    pub(crate) metrics_labels: agentic_core::metrics::MetricsSettings,
    pub(crate) metrics_sample: std::time::Duration,
    /// Where traces are exported (OTLP/HTTP), under which service name, and the share of new traces recorded.
    pub(crate) otlp: Option<Otlp>,
    pub(crate) llm: ProviderSettings,
}

/// How webhooks are delivered, from their settings.
fn webhook_settings(
    allow_http: bool,
    allowed: values::Ranges,
    timeout_secs: u64,
    schedule: Option<values::Delays>,
    disable_after_hours: u64,
) -> agentic_core::webhooks::WebhookSettings {
    let targets = agentic_core::webhooks::target::TargetPolicy { allow_http, allowed: allowed.0 };
    let mut settings = agentic_core::webhooks::WebhookSettings::with_targets(targets);
    settings.attempt_timeout = Duration::from_secs(timeout_secs);
    if let Some(delays) = schedule {
        settings.schedule.delays = delays.0;
    }
    settings.disable_after = chrono::Duration::hours(i64::try_from(disable_after_hours).unwrap_or(120));
    settings
}

/// A configuration that cannot be used; the message names the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// Help, version, or a malformed command line: clap prints it and picks the exit code.
    #[error(transparent)]
    CommandLine(clap::Error),
    #[error("cannot read config file {path}: {source}")]
    ReadFile { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("invalid {key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.to_owned(), message: message.into() }
}

impl Config {
    /// Parses `args` (the program name first) and the environment over the config file, and validates the
    /// result; the subcommand, if any, comes with it.
    pub(crate) fn load<I>(args: I) -> Result<(Option<Command>, Config), ConfigError>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        // First without the file, to find it (and to answer --help and --version).
        let first = Cli::try_parse_from(&args).map_err(|e| value_error(e, &Cli::command(), &args, &[]))?;
        let mut command = Cli::command();
        let mut from_file = Vec::new();
        let mut rate_limits_file = RateLimitsFile::default();
        if let Some(path) = &first.config {
            let flags: Vec<String> = command.get_arguments().map(|a| a.get_id().to_string()).collect();
            let file = file::read(path, &flags)?;
            for (flag, key, value) in file.defaults {
                command = command.mut_arg(&flag, |arg| arg.default_value(value));
                from_file.push((flag, key));
            }
            rate_limits_file = file.rate_limits;
        }
        let cli = command
            .try_get_matches_from_mut(&args)
            .and_then(|matches| Cli::from_arg_matches(&matches))
            .map_err(|e| value_error(e, &command, &args, &from_file))?;
        let command = cli.command;
        Ok((command, Config::from_cli(cli, rate_limits_file)?))
    }

    /// The settings that are more than one value: the pricing file, the rate-limit policy, the providers.
    fn from_cli(cli: Cli, rate_limits_file: RateLimitsFile) -> Result<Config, ConfigError> {
        let pricing = match &cli.pricing_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| invalid("AGENTIC_PRICING_FILE", format!("{}: {e}", path.display())))?;
                let extra = agentic_core::pricing::PricingTable::from_toml(&text)
                    .map_err(|e| invalid("AGENTIC_PRICING_FILE", e.to_string()))?;
                Some(agentic_core::pricing::PricingTable::builtin().merge(extra))
            }
            None => None,
        };
        let rate_limits = rate_limit_policy(&cli, &rate_limits_file)?;
        let non_empty = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let non_empty_secret = |v: Option<SecretString>| v.filter(|v| !v.expose_secret().trim().is_empty());
        let embeddings = non_empty(cli.embeddings_url).map(|url| Embeddings {
            url,
            model: cli.embeddings_model.trim().to_owned(),
            api_key: non_empty(cli.embeddings_api_key),
        });
        let llm = ProviderSettings {
            anthropic_api_key: non_empty(cli.anthropic_api_key),
            anthropic_base_url: non_empty(cli.anthropic_base_url),
            openai_api_key: non_empty(cli.openai_api_key),
            openai_base_url: non_empty(cli.openai_base_url),
            ollama_host: non_empty(cli.ollama_host),
            default_provider: non_empty(cli.llm_default_provider),
            timeout: None,
            retry: None,
        };
        let runtime_role = cli.db_runtime_role;
        Ok(Config {
            llm,
            bind: cli.bind,
            master_key: cli.master_key,
            bootstrap_api_key: cli.bootstrap_api_key,
            bootstrap_admin_email: cli.bootstrap_admin_email,
            bootstrap_admin_password: cli.bootstrap_admin_password,
            jwt_secret: cli.jwt_secret,
            jwt_issuer: cli.jwt_issuer,
            jwt_audience: cli.jwt_audience,
            jwt_ttl: Duration::from_secs(cli.jwt_ttl_secs),
            max_body_bytes: usize::try_from(cli.max_body_bytes)
                .map_err(|_| invalid("AGENTIC_MAX_BODY_BYTES", "too large for this machine"))?,
            embeddings,
            max_document_bytes: usize::try_from(cli.max_document_bytes)
                .map_err(|_| invalid("AGENTIC_MAX_DOCUMENT_BYTES", "too large for this machine"))?,
            database_url: non_empty_secret(cli.database_url),
            migrate: cli.migrate,
            db: PgStoreOptions {
                max_connections: cli.db_pool_size,
                acquire_timeout: Duration::from_secs(cli.db_acquire_timeout_secs),
                runtime_role: (!runtime_role.is_empty()).then_some(runtime_role),
            },
            redis_url: non_empty_secret(cli.redis_url),
            rate_limits,
            workers: cli.workers,
            inline_runs: cli.inline_runs,
            run_lease: Duration::from_secs(cli.run_lease_secs),
            approval_ttl: Duration::from_secs(cli.approval_ttl_secs),
            retention: agentic_core::engine::Retention {
                events: chrono_duration(cli.event_retention),
                runs: chrono_duration(cli.run_retention),
                cost_records: chrono_duration(cli.cost_record_retention),
            },
            webhook_secret_key: cli.webhook_secret_key,
            trusted_proxies: cli.trusted_proxies.0,
            webhooks: webhook_settings(
                cli.webhook_allow_http,
                cli.webhook_allowed_ranges,
                cli.webhook_timeout_secs,
                cli.webhook_retry_schedule,
                cli.webhook_disable_after_hours,
            ),
            pricing,
            guardrail: (cli.guardrail, cli.guardrail_exempt.0),
            advisories: cli
                .advisories
                .filter(|dir| !dir.as_os_str().is_empty())
                .map(|dir| (dir, Duration::from_secs(cli.advisories_reload_secs))),
            log: cli.log,
            log_format: cli.log_format,
            metrics_bind: cli.metrics_bind.0,
            metrics_token: cli.metrics_token,
            metrics_sample: std::time::Duration::from_secs(cli.metrics_sample_secs),
            otlp: cli.otlp_endpoint.filter(|endpoint| !endpoint.is_empty()).map(|endpoint| Otlp {
                endpoint,
                service_name: cli.otlp_service_name,
                sample_ratio: cli.otlp_sample_ratio,
            }),
            metrics_labels: agentic_core::metrics::MetricsSettings {
                tenant_labels: label_limit(cli.metrics_tenant_labels),
                project_labels: label_limit(cli.metrics_project_labels),
                model_labels: label_limit(cli.metrics_model_labels),
            },
        })
    }
}

/// Turns clap's error about a bad value into one that names the setting's environment variable and the value's
/// source (flag, environment or file key); other errors (help, unknown flags) stay clap's.
fn value_error(
    error: clap::Error,
    command: &clap::Command,
    args: &[OsString],
    from_file: &[(String, String)],
) -> ConfigError {
    if !matches!(error.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue) {
        return ConfigError::CommandLine(error);
    }
    let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else {
        return ConfigError::CommandLine(error);
    };
    let mut command = command.clone();
    command.build();
    let Some(arg) = command.get_arguments().find(|arg| arg.to_string() == *shown) else {
        return ConfigError::CommandLine(error);
    };
    let long = arg.get_long().map(|long| format!("--{long}")).unwrap_or_default();
    let env = arg.get_env().map(|env| env.to_string_lossy().into_owned());
    let given_as_flag = !long.is_empty()
        && args.iter().skip(1).any(|a| a.to_str().is_some_and(|a| a == long || a.starts_with(&format!("{long}="))));
    let origin = if given_as_flag {
        format!("flag {long}")
    } else if let Some(env) = env.as_ref().filter(|env| std::env::var_os(env).is_some()) {
        format!("environment variable {env}")
    } else if let Some((_, key)) = from_file.iter().find(|(flag, _)| flag.as_str() == arg.get_id().as_str()) {
        format!("config file key `{key}`")
    } else {
        long.clone()
    };
    let key = env.unwrap_or(long);
    let message = match (std::error::Error::source(&error), error.get(ContextKind::InvalidValue)) {
        (Some(source), _) => source.to_string(),
        (None, Some(ContextValue::String(value))) => format!("`{value}` is not accepted"),
        (None, _) => error.kind().to_string(),
    };
    ConfigError::Invalid { key: format!("{key} (from {origin})"), message }
}

/// The rate-limit policy: defaults, then the file's section, then the flags (which carry the file's
/// `enabled`, `fail_mode` and `per_ip` as their defaults).
fn rate_limit_policy(cli: &Cli, file: &RateLimitsFile) -> Result<Option<RateLimitPolicy>, ConfigError> {
    if !cli.rate_limits {
        return Ok(None);
    }
    let rate = |key: &str, text: &str| RateLimitPolicy::parse_rate(text).map_err(|e| invalid(key, e.to_string()));
    let mut policy = RateLimitPolicy::default();
    if let Some(per_ip) = cli.rate_limit_per_ip {
        policy.per_ip = per_ip.0;
    }
    if let Some(text) = &file.per_principal {
        policy.per_principal = rate("rate_limits.per_principal", text)?;
    }
    if let Some(text) = &file.login_per_account {
        policy.login_per_account = rate("rate_limits.login_per_account", text)?;
    }
    policy.fail_mode = cli.rate_limit_fail_mode;
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

/// Trace export over OTLP/HTTP.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "otlp"), allow(dead_code))] // a build without export only reports the endpoint
pub(crate) struct Otlp {
    pub(crate) endpoint: String,
    pub(crate) service_name: String,
    pub(crate) sample_ratio: f64,
}

/// A label cap from the command line: 0 is off.
fn label_limit(cap: usize) -> agentic_core::metrics::LabelLimit {
    match cap {
        0 => agentic_core::metrics::LabelLimit::Off,
        cap => agentic_core::metrics::LabelLimit::Capped(cap),
    }
}

/// An OpenAI-compatible embeddings API.
#[derive(Clone, Debug)]
pub(crate) struct Embeddings {
    pub(crate) url: String,
    pub(crate) model: String,
    pub(crate) api_key: Option<String>,
}

/// A duration the parsers bounded (ten years at most), as the platform takes it.
fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentic_core::limit::FailMode;

    fn load(args: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec!["agentic-server"];
        argv.extend_from_slice(args);
        Config::load(argv).map(|(_, config)| config)
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
        check(&["--workers", "65"], "between 0 and 64");
        check(&["--jwt-ttl-secs=ten"], "flag --jwt-ttl-secs");
        check(&["--max-body-bytes", "12"], "between 1024 and 67108864");
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

        // A file value goes through the flag's parser and range, and the message names the file key.
        std::fs::write(&path, "approval_ttl_secs = 5\n").unwrap();
        let error = load(&["--config", path_text]).unwrap_err().to_string();
        assert!(error.contains("AGENTIC_APPROVAL_TTL_SECS") && error.contains("`approval_ttl_secs`"), "{error}");
        assert!(error.contains("between 60 and 2592000"), "{error}");
        std::fs::write(&path, "[rate_limits]\nfail_mode = \"ajar\"\n").unwrap();
        let error = load(&["--config", path_text]).unwrap_err().to_string();
        assert!(error.contains("`rate_limits.fail_mode`") && error.contains("not open or closed"), "{error}");
        std::fs::write(&path, "run_retention = \"90min\"\n").unwrap();
        let config = load(&["--config", path_text, "--cost-record-retention", "2d"]).unwrap();
        assert_eq!(config.retention.runs, chrono::Duration::minutes(90));
        assert_eq!(config.retention.cost_records, chrono::Duration::days(2));
        assert_eq!(config.retention.events, chrono::Duration::days(30), "the default");
        for (text, says) in [("500ms", "between 1s and 3650d"), ("forever", "not a duration"), ("4000d", "between")] {
            let error = load(&["--event-retention", text]).unwrap_err().to_string();
            assert!(error.contains("AGENTIC_EVENT_RETENTION") && error.contains(says), "{text}: {error}");
        }
        std::fs::write(&path, "migrate = true\nworkers = 0\n").unwrap();
        let config = load(&["--config", path_text]).unwrap();
        assert!(config.migrate);
        assert_eq!(config.workers, 0);
        assert_eq!(load(&["--config", path_text, "--workers", "3"]).unwrap().workers, 3, "the flag wins");
        std::fs::write(&path, "workers = [1]\n").unwrap();
        assert!(load(&["--config", path_text]).unwrap_err().to_string().contains("whole number"));
        std::fs::write(&path, "rate_limit_per_ip = \"1/second\"\n").unwrap();
        let error = load(&["--config", path_text]).unwrap_err().to_string();
        assert!(error.contains("unknown field `rate_limit_per_ip`"), "it belongs in [rate_limits]: {error}");

        std::fs::write(&path, "bnd = \"127.0.0.1:9100\"\n").unwrap();
        let error = load(&["--config", path_text]).unwrap_err().to_string();
        assert!(error.contains("unknown field"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
