//! The command line: every setting as a typed flag with its environment variable, parsed by [`super::values`].

use std::net::SocketAddr;
use std::path::PathBuf;

use agentic_core::limit::FailMode;
use clap::{ArgAction, Parser};
use secrecy::SecretString;

use super::values::{self, OptionalAddr, Rate, small_number, whole_number};

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
    /// Address to listen on. Port 0 picks a free port (printed at start-up).
    #[arg(long, env = "AGENTIC_BIND", value_name = "ADDR", default_value = "127.0.0.1:9000", value_parser = values::addr)]
    pub(crate) bind: SocketAddr,
    /// Platform master key (at least 32 characters); enables POST /v1/tenants. Unset: tenant creation is off.
    #[arg(long, env = "AGENTIC_MASTER_KEY", value_name = "KEY", hide_env_values = true, value_parser = values::long_secret)]
    pub(crate) master_key: Option<SecretString>,
    /// API key (`agk_` + at least 32 characters) given to the admin of tenant `default` when it is created.
    /// Unset: one is generated and printed once.
    #[arg(long, env = "AGENTIC_BOOTSTRAP_API_KEY", value_name = "KEY", hide_env_values = true, value_parser = values::api_key)]
    pub(crate) bootstrap_api_key: Option<SecretString>,
    /// E-mail of the bootstrap admin.
    #[arg(long, env = "AGENTIC_BOOTSTRAP_ADMIN_EMAIL", value_name = "EMAIL", default_value = "admin@example.com", value_parser = values::email)]
    pub(crate) bootstrap_admin_email: String,
    /// Password of the bootstrap admin (at least 12 characters). Unset: one is generated and printed once.
    #[arg(long, env = "AGENTIC_BOOTSTRAP_ADMIN_PASSWORD", value_name = "PASSWORD", hide_env_values = true, value_parser = values::new_password)]
    pub(crate) bootstrap_admin_password: Option<SecretString>,
    /// HS256 secret (at least 32 bytes) that signs access tokens. Unset: a random one per process, so tokens do
    /// not survive a restart.
    #[arg(long, env = "AGENTIC_JWT_SECRET", value_name = "SECRET", hide_env_values = true, value_parser = values::jwt_secret)]
    pub(crate) jwt_secret: Option<SecretString>,
    /// `iss` of access tokens.
    #[arg(long, env = "AGENTIC_JWT_ISSUER", value_name = "ISSUER", default_value = "agentic")]
    pub(crate) jwt_issuer: String,
    /// `aud` of access tokens.
    #[arg(long, env = "AGENTIC_JWT_AUDIENCE", value_name = "AUDIENCE", default_value = "agentic-api")]
    pub(crate) jwt_audience: String,
    /// Lifetime of access tokens in seconds (30 to 86400).
    #[arg(long, env = "AGENTIC_JWT_TTL_SECS", value_name = "SECONDS", default_value = "900", value_parser = whole_number(30..=86_400))]
    pub(crate) jwt_ttl_secs: u64,
    /// Largest accepted request body in bytes (1024 to 67108864).
    #[arg(long, env = "AGENTIC_MAX_BODY_BYTES", value_name = "BYTES", default_value = "1048576", value_parser = whole_number(1024..=64 * 1024 * 1024))]
    pub(crate) max_body_bytes: u64,
    /// Largest knowledge-base document upload in bytes (1024 to 268435456).
    #[arg(long, env = "AGENTIC_MAX_DOCUMENT_BYTES", value_name = "BYTES", default_value = "10485760", value_parser = whole_number(1024..=256 * 1024 * 1024))]
    pub(crate) max_document_bytes: u64,
    /// PostgreSQL URL for the persistent store. Unset or empty: the in-memory store.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub(crate) database_url: Option<SecretString>,
    /// Apply database migrations at start-up (as DATABASE_URL's role) before serving.
    #[arg(long, env = "AGENTIC_DB_MIGRATE", value_name = "BOOL", num_args = 0..=1, default_value = "false", default_missing_value = "true", action = ArgAction::Set, value_parser = values::boolean)]
    pub(crate) migrate: bool,
    /// Largest number of pooled database connections (1 to 1000).
    #[arg(long, env = "AGENTIC_DB_POOL_SIZE", value_name = "N", default_value = "10", value_parser = small_number(1..=1000))]
    pub(crate) db_pool_size: u32,
    /// Seconds a request waits for a database connection before failing with 503 (1 to 300).
    #[arg(long, env = "AGENTIC_DB_ACQUIRE_TIMEOUT_SECS", value_name = "SECONDS", default_value = "5", value_parser = whole_number(1..=300))]
    pub(crate) db_acquire_timeout_secs: u64,
    /// Role the server switches to on every database connection (no BYPASSRLS, owns nothing); empty: stay as
    /// DATABASE_URL's role.
    #[arg(long, env = "AGENTIC_DB_RUNTIME_ROLE", value_name = "ROLE", default_value = "agentic_app")]
    pub(crate) db_runtime_role: String,
    /// Run workers in this process (they claim queued agent runs from the store); 0: none, at most 64.
    #[arg(long, env = "AGENTIC_WORKERS", value_name = "N", default_value = "2", value_parser = small_number(0..=64))]
    pub(crate) workers: u32,
    /// Runs this server works at once for requests that wait for them (`wait` > 0), beside its workers: such a run
    /// is stored already claimed by this server and started at once, without the queue (0 to 4096; 0, or no
    /// workers: every run is queued). Past this many, waited runs are queued like the others.
    #[arg(long, env = "AGENTIC_INLINE_RUNS", value_name = "N", default_value = "64", value_parser = small_number(0..=4096))]
    pub(crate) inline_runs: u32,
    /// Seconds a run stays with a worker that stopped renewing its lease (it renews every third; 1 to 86400).
    #[arg(long, env = "AGENTIC_RUN_LEASE_SECS", value_name = "SECONDS", default_value = "600", value_parser = whole_number(1..=86_400))]
    pub(crate) run_lease_secs: u64,
    /// Seconds an approval request may wait for a decision before it expires and its run ends `denied`
    /// (60 to 2592000, i.e. 30 days).
    #[arg(long, env = "AGENTIC_APPROVAL_TTL_SECS", value_name = "SECONDS", default_value = "86400", value_parser = whole_number(60..=30 * 86_400))]
    pub(crate) approval_ttl_secs: u64,
    /// How long stored events (with their webhook deliveries) are kept before the upkeep deletes them (`30d`,
    /// `12h`, `90min`; 1s to 3650d).
    #[arg(long, env = "AGENTIC_EVENT_RETENTION", value_name = "DURATION", default_value = "30d", value_parser = values::retention)]
    pub(crate) event_retention: std::time::Duration,
    /// How long ended runs (with their approval requests) are kept after they end before the upkeep deletes them
    /// (1s to 3650d). A deleted run's idempotency key is free again.
    #[arg(long, env = "AGENTIC_RUN_RETENTION", value_name = "DURATION", default_value = "30d", value_parser = values::retention)]
    pub(crate) run_retention: std::time::Duration,
    /// How long cost records are kept before the upkeep folds them into per-day roll-ups (per project, agent,
    /// operation, provider and model), which cost summaries keep counting (1s to 3650d).
    #[arg(long, env = "AGENTIC_COST_RECORD_RETENTION", value_name = "DURATION", default_value = "30d", value_parser = values::retention)]
    pub(crate) cost_record_retention: std::time::Duration,
    /// The key webhook signing secrets are sealed with at rest: base64 of 32 random bytes (`openssl rand -base64
    /// 32`). Required with PostgreSQL; without it (memory store) a per-process key is used.
    #[arg(long, env = "AGENTIC_WEBHOOK_SECRET_KEY", value_name = "BASE64", hide_env_values = true, value_parser = values::webhook_key)]
    pub(crate) webhook_secret_key: Option<SecretString>,
    /// Let webhooks use http:// URLs (default off: https only).
    #[arg(long, env = "AGENTIC_WEBHOOK_ALLOW_HTTP", value_name = "on|off", default_value = "off", action = ArgAction::Set, value_parser = values::boolean)]
    pub(crate) webhook_allow_http: bool,
    /// The load balancers and ingresses in front of the server, comma-separated CIDRs (`10.0.0.0/8`): a request
    /// from one is from the client its `Forwarded` / `X-Forwarded-For` names (the rightmost hop outside these
    /// ranges), for the per-IP limit and the logs. Default: none (the peer is the client; the headers are ignored).
    #[arg(long, env = "AGENTIC_TRUSTED_PROXIES", value_name = "CIDRS", default_value = "", value_parser = values::ranges)]
    pub(crate) trusted_proxies: values::Ranges,
    /// Address ranges webhooks may reach although they are not public (loopback, private, link-local), comma-separated
    /// CIDRs, e.g. `10.20.0.0/16`. Default: none.
    #[arg(long, env = "AGENTIC_WEBHOOK_ALLOWED_RANGES", value_name = "CIDRS", default_value = "", value_parser = values::ranges)]
    pub(crate) webhook_allowed_ranges: values::Ranges,
    /// Seconds one webhook delivery attempt may take (1 to 60).
    #[arg(long, env = "AGENTIC_WEBHOOK_TIMEOUT_SECS", value_name = "SECONDS", default_value = "15", value_parser = whole_number(1..=60))]
    pub(crate) webhook_timeout_secs: u64,
    /// Seconds before each attempt of a delivery, comma-separated; after the last, it fails
    /// [default: 0,5,300,1800,7200,18000,36000,36000]. Each is moved by up to ±20%.
    #[arg(long, env = "AGENTIC_WEBHOOK_RETRY_SCHEDULE", value_name = "SECONDS,...", value_parser = values::delays)]
    pub(crate) webhook_retry_schedule: Option<values::Delays>,
    /// Hours an endpoint may fail every attempt before it is disabled (1 to 720).
    #[arg(long, env = "AGENTIC_WEBHOOK_DISABLE_AFTER_HOURS", value_name = "HOURS", default_value = "120", value_parser = whole_number(1..=720))]
    pub(crate) webhook_disable_after_hours: u64,
    /// A TOML pricing file merged over the built-in prices (same format as `pricing.toml`), e.g. to mark a
    /// self-hosted OpenAI-compatible server free.
    #[arg(long, env = "AGENTIC_PRICING_FILE", value_name = "FILE")]
    pub(crate) pricing_file: Option<PathBuf>,
    /// A directory of OSV advisories (JSON files, such as OSV's per-ecosystem exports unzipped) that
    /// `dependency_checker` matches lockfiles against; read at start, and again when it changes. Unset: the checker
    /// says that it checked nothing.
    #[arg(long, env = "AGENTIC_ADVISORIES", value_name = "DIR")]
    pub(crate) advisories: Option<PathBuf>,
    /// What the outgoing guardrail does to a prompt for a third-party LLM provider that holds a credential or
    /// personal data, for tenants that have not chosen (`PUT /v1/settings/guardrails`): `block`, `redact` or `off`.
    #[arg(long, env = "AGENTIC_GUARDRAIL", value_name = "block|redact|off", default_value = "redact", value_parser = values::guardrail_action)]
    pub(crate) guardrail: agentic_core::llm::GuardrailAction,
    /// Providers whose prompts are not scanned, comma-separated: self-hosted models, where prompts stay on the
    /// operator's network (e.g. `ollama`, or `openai` when OPENAI_BASE_URL is a local server).
    #[arg(long, env = "AGENTIC_GUARDRAIL_EXEMPT", value_name = "PROVIDERS", default_value = "", value_parser = values::provider_list)]
    pub(crate) guardrail_exempt: values::Providers,
    /// Seconds between looks at the advisory directory for changes (1 to 86400).
    #[arg(long, env = "AGENTIC_ADVISORIES_RELOAD_SECS", value_name = "SECONDS", default_value = "60", value_parser = whole_number(1..=86_400))]
    pub(crate) advisories_reload_secs: u64,
    /// Rate limits on or off. Their quotas are set in the config file's [rate_limits] section (`enabled` there).
    #[arg(long, env = "AGENTIC_RATE_LIMITS", value_name = "on|off", default_value = "on", action = ArgAction::Set, value_parser = values::boolean)]
    pub(crate) rate_limits: bool,
    /// When the rate limiter cannot decide (Redis down): `open` lets requests through, `closed` answers 503
    /// (`fail_mode` in the file's [rate_limits]).
    #[arg(long, env = "AGENTIC_RATE_LIMIT_FAIL_MODE", value_name = "open|closed", default_value = "open", value_parser = values::fail_mode)]
    pub(crate) rate_limit_fail_mode: FailMode,
    /// Requests per client IP before authentication, e.g. `1200/minute`, or `unlimited` [default: 1200/minute]
    /// (`per_ip` in the file's [rate_limits]).
    #[arg(long, env = "AGENTIC_RATE_LIMIT_PER_IP", value_name = "RATE", value_parser = values::rate)]
    pub(crate) rate_limit_per_ip: Option<Rate>,
    /// Redis URL for the distributed rate limiter. Unset or empty: in-memory limits.
    #[arg(long, env = "REDIS_URL", value_name = "URL", hide_env_values = true)]
    pub(crate) redis_url: Option<SecretString>,
    /// API key of provider `claude`/`anthropic`.
    #[arg(long, env = "ANTHROPIC_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub(crate) anthropic_api_key: Option<String>,
    /// Base URL of the Anthropic Messages API [default: https://api.anthropic.com].
    #[arg(long, env = "ANTHROPIC_BASE_URL", value_name = "URL", value_parser = values::http_url)]
    pub(crate) anthropic_base_url: Option<String>,
    /// API key of provider `openai` (any OpenAI-compatible server).
    #[arg(long, env = "OPENAI_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub(crate) openai_api_key: Option<String>,
    /// Base URL of the OpenAI-compatible API, including `/v1` [default: https://api.openai.com/v1].
    #[arg(long, env = "OPENAI_BASE_URL", value_name = "URL", value_parser = values::http_url)]
    pub(crate) openai_base_url: Option<String>,
    /// Base URL (including `/v1`) of an OpenAI-compatible embeddings API (llama.cpp with `--embedding`, vLLM,
    /// OpenAI): knowledge bases then embed their chunks and fuse dense with lexical search. Unset: lexical only.
    #[arg(long, env = "AGENTIC_EMBEDDINGS_URL", value_name = "URL", value_parser = values::http_url)]
    pub(crate) embeddings_url: Option<String>,
    /// The embedding model to ask for.
    #[arg(long, env = "AGENTIC_EMBEDDINGS_MODEL", value_name = "MODEL", default_value = "text-embedding-3-small")]
    pub(crate) embeddings_model: String,
    /// API key of the embeddings API, if it needs one.
    #[arg(long, env = "AGENTIC_EMBEDDINGS_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub(crate) embeddings_api_key: Option<String>,
    /// Address of an Ollama server (enables provider `ollama`).
    #[arg(long, env = "OLLAMA_HOST", value_name = "URL")]
    pub(crate) ollama_host: Option<String>,
    /// Provider used for agents whose own provider is not configured.
    #[arg(long, env = "AGENTIC_LLM_DEFAULT_PROVIDER", value_name = "NAME", value_parser = values::provider_name)]
    pub(crate) llm_default_provider: Option<String>,
    /// Address of the separate, unauthenticated `/metrics` listener (keep it private: the figures span every
    /// tenant), or `off`.
    #[arg(long, env = "AGENTIC_METRICS_BIND", value_name = "ADDR|off", default_value = "127.0.0.1:9464", value_parser = values::optional_addr)]
    pub(crate) metrics_bind: OptionalAddr,
    /// Token (at least 32 characters) that also opens `/metrics` on the API listener to `Authorization: Bearer
    /// <token>`. Unset: the API listener has no `/metrics`.
    #[arg(long, env = "AGENTIC_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true, value_parser = values::long_secret)]
    pub(crate) metrics_token: Option<SecretString>,
    /// Distinct tenant ids each metric labelled by tenant keeps (the rest are folded into `other`); 0 turns
    /// tenant labels off.
    #[arg(long, env = "AGENTIC_METRICS_TENANT_LABELS", value_name = "N", default_value_t = 1000)]
    pub(crate) metrics_tenant_labels: usize,
    /// Distinct project ids each metric labelled by project keeps (`project_cost_usd`, `project_budget_usd`; the
    /// budget alert needs them); 0 turns project labels off.
    #[arg(long, env = "AGENTIC_METRICS_PROJECT_LABELS", value_name = "N", default_value_t = 1000)]
    pub(crate) metrics_project_labels: usize,
    /// Distinct model names each metric labelled by model keeps (tenants' own agents may name any model of a free
    /// provider); 0 exports every model as `other`.
    #[arg(long, env = "AGENTIC_METRICS_MODEL_LABELS", value_name = "N", default_value_t = 100)]
    pub(crate) metrics_model_labels: usize,
    /// Seconds between samples of the usage gauges (runs by status, tenants, users, storage per tenant); each
    /// sample scans every tenant's rows.
    #[arg(long, env = "AGENTIC_METRICS_SAMPLE_SECS", value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) metrics_sample_secs: u64,
    /// OTLP/HTTP endpoint that receives traces (e.g. `http://collector:4318/v1/traces`); unset, no trace leaves
    /// the process.
    #[arg(long, env = "AGENTIC_OTLP_ENDPOINT", value_name = "URL", value_parser = values::http_url)]
    pub(crate) otlp_endpoint: Option<String>,
    /// The `service.name` traces are exported under.
    #[arg(long, env = "AGENTIC_OTLP_SERVICE_NAME", value_name = "NAME", default_value = "agentic-server")]
    pub(crate) otlp_service_name: String,
    /// Share of new traces recorded, 0 to 1 (a request that arrives with a sampled `traceparent` follows its
    /// caller's decision).
    #[arg(long, env = "AGENTIC_OTLP_SAMPLE_RATIO", value_name = "RATIO", default_value = "1", value_parser = values::ratio)]
    pub(crate) otlp_sample_ratio: f64,
    /// Log filter, in `tracing` EnvFilter syntax.
    #[arg(long, env = "AGENTIC_LOG", value_name = "FILTER", default_value = "info", value_parser = values::log_filter)]
    pub(crate) log: String,
    /// Log format: `text` or `json`.
    #[arg(long, env = "AGENTIC_LOG_FORMAT", value_name = "FORMAT", default_value = "text", value_enum)]
    pub(crate) log_format: LogFormat,
}

/// What to do instead of serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub(crate) enum Command {
    /// Apply the database migrations to DATABASE_URL (as its role, which must own the schema) and exit.
    Migrate,
    /// Ask the server on AGENTIC_BIND for `/health` (on loopback when it binds every address): exit 0 when it
    /// answers 200, 1 otherwise. A container's health check, which needs no shell or curl in the image.
    Healthcheck,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
