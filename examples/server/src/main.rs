//! `agentic-server`: the reference server. Reads configuration, picks backends, bootstraps an empty platform,
//! and serves `Platform::router()` with the web console (`agentic-console`) until SIGTERM or Ctrl-C. Wiring only:
//! behaviour lives in `agentic-core` and `agentic-console`.

mod config;
mod telemetry;

use std::process::ExitCode;
use std::sync::Arc;

use agentic_core::auth::jwt::{JwtSettings, KeyPair};
use agentic_core::engine::{BackgroundOptions, Bootstrap};
use agentic_core::limit::RateLimiter;
use agentic_core::llm::Guardrails;
use agentic_core::model::Plan;
use agentic_core::store::Store;
use agentic_core::tools::ToolRegistry;
use agentic_core::{HttpLimits, Platform};
use agentic_llm::registry::ProviderRegistry;
use agentic_store_memory::{MemoryRateLimiter, MemoryStore};
use agentic_store_postgres::PgStore;
use agentic_store_redis::{RedisContextOptions, RedisContextStore, RedisLimiterOptions, RedisRateLimiter};
use agentic_tools::AdvisoryDatabase;
use secrecy::{ExposeSecret, SecretString};

use config::{Command, Config, ConfigError};

/// mimalloc rather than glibc's malloc, whose arena locks the request path contends on (`observability_overhead`
/// measured 43% more runs/s on the memory store with it). Built `no_thp` (the workspace's dependency): by default
/// mimalloc asks for transparent huge pages on its arena, so every 2 MiB region it touched stayed resident (49 MB of
/// an idle server's 57 MB of anonymous memory were huge pages).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let (command, config) = match Config::load(std::env::args_os()) {
        Ok(loaded) => loaded,
        Err(ConfigError::CommandLine(error)) => error.exit(),
        Err(error) => {
            eprintln!("agentic-server: {error}");
            return ExitCode::from(2);
        }
    };
    agentic_llm::install_crypto_provider();
    let telemetry = match telemetry::init(&config) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("agentic-server: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("agentic-server: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Some(Command::Migrate) => runtime.block_on(migrate(&config)),
        Some(Command::Healthcheck) => runtime.block_on(healthcheck(&config)),
        None => runtime.block_on(run(config)),
    };
    // Sends the spans still buffered (a blocking call: outside the runtime).
    drop(runtime);
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("agentic-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `agentic-server healthcheck`.
async fn healthcheck(config: &Config) -> Result<(), String> {
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        let loopback: std::net::IpAddr = match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        };
        addr.set_ip(loopback);
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .map_err(|e| format!("healthcheck: {e}"))?;
    let url = format!("http://{addr}/health");
    let response = client.get(&url).send().await.map_err(|e| format!("healthcheck: {url}: {e}"))?;
    match response.status().as_u16() {
        200 => Ok(()),
        status => Err(format!("healthcheck: {url} answered {status}")),
    }
}

/// `agentic-server migrate`.
async fn migrate(config: &Config) -> Result<(), String> {
    let url = config.database_url.as_ref().ok_or("`migrate` needs DATABASE_URL")?;
    agentic_store_postgres::migrate(url.expose_secret()).await.map_err(|e| e.to_string())?;
    println!("database migrations applied");
    Ok(())
}

/// The configured store: PostgreSQL when DATABASE_URL is set (migrated first with --migrate), else memory.
async fn store(config: &Config) -> Result<Arc<dyn Store>, String> {
    let Some(url) = &config.database_url else {
        tracing::info!("store: in-memory (nothing survives a restart)");
        return Ok(Arc::new(MemoryStore::new()));
    };
    if config.migrate {
        agentic_store_postgres::migrate(url.expose_secret()).await.map_err(|e| e.to_string())?;
        tracing::info!("database migrations applied");
    }
    let store = PgStore::connect(url.expose_secret(), config.db.clone()).await.map_err(|e| e.to_string())?;
    tracing::info!(pool_size = config.db.max_connections, "store: PostgreSQL");
    Ok(Arc::new(store))
}

/// The rate limiter: Redis when REDIS_URL is set (exact across replicas), else in-process memory.
async fn limiter(config: &Config) -> Result<Arc<dyn RateLimiter>, String> {
    match &config.redis_url {
        Some(url) => {
            let limiter = RedisRateLimiter::connect(url.expose_secret(), RedisLimiterOptions::default())
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!("rate limits: Redis");
            Ok(Arc::new(limiter))
        }
        None => {
            tracing::info!("rate limits: in-memory (per process)");
            Ok(Arc::new(MemoryRateLimiter::new()))
        }
    }
}

/// The operator's advisory database, when AGENTIC_ADVISORIES names one.
fn advisories(config: &Config) -> Result<Option<Arc<AdvisoryDatabase>>, String> {
    let Some((directory, _)) = &config.advisories else {
        tracing::info!("AGENTIC_ADVISORIES is unset: dependency_checker reports that it checked nothing");
        return Ok(None);
    };
    let database = AdvisoryDatabase::open(directory).map_err(|e| format!("AGENTIC_ADVISORIES: {e}"))?;
    let status = database.status();
    tracing::info!(advisories = status.advisories, packages = status.packages, directory = %status.directory, "advisories loaded");
    for skipped in &status.skipped {
        tracing::warn!(%skipped, "advisory file skipped");
    }
    Ok(Some(Arc::new(database)))
}

/// Reads the advisory directory again whenever it changes, until the server stops.
async fn reload_advisories(database: Arc<AdvisoryDatabase>, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let reading = Arc::clone(&database);
        match tokio::task::spawn_blocking(move || reading.reload_if_changed()).await {
            Ok(Ok(true)) => {
                let status = database.status();
                tracing::info!(
                    advisories = status.advisories,
                    packages = status.packages,
                    skipped = status.skipped.len(),
                    "advisories reloaded"
                );
            }
            Ok(Ok(false)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "advisories not reloaded; the loaded ones stay in use"),
            Err(error) => tracing::warn!(%error, "the advisory reload stopped"),
        }
    }
}

async fn run(config: Config) -> Result<(), String> {
    let providers = ProviderRegistry::from_settings(&config.llm).map_err(|e| format!("LLM providers: {e}"))?;
    if providers.is_mock_only() {
        println!(
            "no LLM provider configured: every agent uses the scripted mock provider (scripts/serve runs them on a real local model)"
        );
        tracing::warn!(
            "no LLM provider configured (ANTHROPIC_API_KEY, OPENAI_API_KEY/OPENAI_BASE_URL, OLLAMA_HOST): using mock"
        );
    } else {
        tracing::info!(providers = ?providers.configured(), "LLM providers configured");
    }
    let store = store(&config).await?;
    let advisories = advisories(&config)?;
    let mut tools = agentic_tools::BuiltinTools::new();
    if let Some(database) = &advisories {
        tools = tools.advisories(Arc::clone(database));
    }

    let mut builder = Platform::builder()
        .store(store)
        .llm_providers(Arc::new(providers))
        .tools(ToolRegistry::new().extend(tools.build()))
        .jwt_settings(JwtSettings {
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl: config.jwt_ttl,
            ..JwtSettings::default()
        })
        .http_limits(HttpLimits { max_body_bytes: config.max_body_bytes })
        .run_lease(chrono::Duration::from_std(config.run_lease).map_err(|e| e.to_string())?)
        .approval_ttl(chrono::Duration::from_std(config.approval_ttl).map_err(|e| e.to_string())?)
        .retention(config.retention);
    builder = builder.metrics_settings(config.metrics_labels).usage_sample_interval(config.metrics_sample);
    if let Some(token) = &config.metrics_token {
        builder = builder.metrics_token(token.clone());
    }
    let (action, exempt) = &config.guardrail;
    let guardrails =
        Guardrails::new(Arc::new(agentic_tools::PromptGuard::new())).default_action(*action).exempt(exempt);
    builder = builder.guardrails(guardrails);
    if let Some(embeddings) = &config.embeddings {
        // A whole embedding call (a batch of 32 chunks) within two minutes; an upload waits for its batches.
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("the embeddings client cannot be built: {e}"))?;
        let mut client =
            agentic_llm::openai::Client::builder().base_url(&embeddings.url).name("embeddings").http_client(http);
        if let Some(key) = &embeddings.api_key {
            client = client.api_key(key.clone());
        }
        let client = client.build().map_err(|e| format!("AGENTIC_EMBEDDINGS_URL: {e}"))?;
        builder = builder.embedder(Arc::new(client.embeddings(&embeddings.model)));
        tracing::info!(url = %embeddings.url, model = %embeddings.model, "knowledge search is hybrid (lexical and dense)");
    }
    builder = builder.trusted_proxies(config.trusted_proxies.clone());
    // Knowledge bases read HTML and PDF too.
    builder = builder.document_reader(Arc::new(agentic_tools::DocumentReaders)).knowledge_limits(
        agentic_core::engine::KnowledgeLimits {
            max_document_bytes: config.max_document_bytes,
            ..agentic_core::engine::KnowledgeLimits::default()
        },
    );
    if let Some(pricing) = &config.pricing {
        builder = builder.pricing(pricing.clone());
    }
    match &config.jwt_secret {
        Some(secret) => {
            let key = KeyPair::hs256("primary", secret.expose_secret().as_bytes()).map_err(|e| e.to_string())?;
            builder = builder.jwt_key(key);
        }
        None => tracing::warn!("AGENTIC_JWT_SECRET is unset: access tokens are signed with a per-process key"),
    }
    match &config.master_key {
        Some(key) => builder = builder.master_key(key.clone()),
        None => tracing::info!("AGENTIC_MASTER_KEY is unset: POST /v1/tenants is disabled"),
    }
    builder = builder.webhooks(config.webhooks.clone());
    match &config.webhook_secret_key {
        Some(key) => {
            let cipher = agentic_core::webhooks::cipher::SecretCipher::from_base64(key.expose_secret())
                .map_err(|e| format!("AGENTIC_WEBHOOK_SECRET_KEY: {e}"))?;
            builder = builder.webhook_secret_key(cipher);
        }
        None if config.database_url.is_some() => {
            return Err("AGENTIC_WEBHOOK_SECRET_KEY is required with DATABASE_URL: webhook secrets sealed with a \
                        per-process key could not be opened after a restart (make one: openssl rand -base64 32)"
                .into());
        }
        None => {
            tracing::info!("AGENTIC_WEBHOOK_SECRET_KEY is unset: webhook secrets are sealed with a per-process key")
        }
    }
    // Projects' shared context: Redis when REDIS_URL is set (shared by every replica), else the store's own.
    match &config.redis_url {
        Some(url) => {
            let context = RedisContextStore::connect(url.expose_secret(), RedisContextOptions::default())
                .await
                .map_err(|e| format!("the context store: {e}"))?;
            builder = builder.context_store(Arc::new(context));
            tracing::info!("project context: Redis");
        }
        None => tracing::info!("project context: the store's own"),
    }
    if let Some(policy) = &config.rate_limits {
        builder = builder.rate_limits(limiter(&config).await?, policy.clone());
    } else {
        tracing::warn!("rate limits are off (AGENTIC_RATE_LIMITS=off)");
    }
    let platform = builder.build().map_err(|e| e.to_string())?;

    bootstrap(&platform, &config).await?;

    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let signals = ShutdownSignals::install();
    println!("agentic-server listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let mut options = BackgroundOptions::workers(config.workers);
    options.inline_runs = config.inline_runs;
    let background = platform.spawn_background(options);
    // Metrics on their own listener (loopback by default): they span every tenant, so the API listener serves
    // them only with the metrics token.
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut metrics_task = None;
    if let Some(metrics_bind) = config.metrics_bind {
        let listener = tokio::net::TcpListener::bind(metrics_bind)
            .await
            .map_err(|e| format!("cannot listen on {metrics_bind} for metrics: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%addr, "serving /metrics");
        let router = platform.metrics_router();
        metrics_task = Some(tokio::spawn(async move {
            let shutdown = async move {
                let _ = metrics_stopped.await;
            };
            if let Err(error) = agentic_core::http::serve(listener, router, shutdown).await {
                tracing::error!(%error, "the metrics listener failed");
            }
        }));
    }
    let reloading = advisories.zip(config.advisories.as_ref().map(|(_, every)| *every));
    let reload_task = reloading.map(|(database, every)| tokio::spawn(reload_advisories(database, every)));
    // The API, and beside it the web console at /console (its routes add no fallback; the API's answers the rest).
    let app = platform.router().merge(agentic_console::router(platform.clone()));
    let served = serve_until_signalled(listener, app, background, signals).await;
    if let Some(task) = reload_task {
        task.abort();
    }
    let _ = stop_metrics.send(());
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    served?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Creates tenant `default` with an admin on an empty store, printing generated secrets once (to stdout, not to
/// the log).
async fn bootstrap(platform: &Platform, config: &Config) -> Result<(), String> {
    let (password, password_generated) = match &config.bootstrap_admin_password {
        Some(password) => (password.clone(), false),
        None => {
            let material = agentic_core::auth::api_key::generate().map_err(|e| e.to_string())?;
            let text = material.plaintext.expose_secret();
            (SecretString::from(format!("pw-{}", &text[text.len() - 24..])), true)
        }
    };
    let request = Bootstrap {
        slug: "default".into(),
        plan: Plan::Enterprise,
        admin_email: config.bootstrap_admin_email.clone(),
        admin_password: password.clone(),
        api_key: config.bootstrap_api_key.clone(),
    };
    let Some(report) = platform.bootstrap(request).await.map_err(|e| format!("bootstrap failed: {e}"))? else {
        return Ok(());
    };
    tracing::info!(tenant_id = %report.tenant.id, admin = %report.admin.email, "created tenant `default`");
    println!("created tenant `default` (id {}) with admin {}", report.tenant.id, report.admin.email);
    if password_generated {
        println!("  admin password (shown once): {}", password.expose_secret());
    }
    if report.api_key_generated {
        println!("  admin API key (shown once):  {}", report.api_key.expose_secret());
    } else {
        println!("  admin API key: the value of AGENTIC_BOOTSTRAP_API_KEY");
    }
    Ok(())
}

/// How long requests may still run after SIGTERM or Ctrl-C. An open event stream never ends by itself, and the
/// manifests give a pod 60 s to stop.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves `app` until SIGTERM or Ctrl-C. Then, at once, new connections are refused and the background work stops
/// (workers give their unfinished runs back, attempts uncounted, for another replica to take), while requests in
/// flight finish for up to [`DRAIN_LIMIT`]; whatever is still open then (event streams) is closed.
async fn serve_until_signalled(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    background: agentic_core::engine::Background,
    signals: ShutdownSignals,
) -> Result<(), String> {
    let (signalled, signal) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        signals.received().await;
        let _ = signalled.send(true);
    });
    let on_signal = |mut signal: tokio::sync::watch::Receiver<bool>| async move {
        let _ = signal.wait_for(|signalled| *signalled).await;
    };
    let mut serving = tokio::spawn(agentic_core::http::serve(listener, app, on_signal(signal.clone())));
    let ended_early = tokio::select! {
        joined = &mut serving => Some(joined),
        () = on_signal(signal) => None,
    };
    let drain = async {
        match ended_early {
            Some(joined) => joined,
            None => match tokio::time::timeout(DRAIN_LIMIT, &mut serving).await {
                Ok(joined) => joined,
                Err(_) => {
                    tracing::warn!(
                        limit_secs = DRAIN_LIMIT.as_secs(),
                        "requests still open at the drain limit: closed"
                    );
                    serving.abort();
                    Ok(Ok(()))
                }
            },
        }
    };
    let (joined, ()) = tokio::join!(drain, background.shutdown());
    joined.map_err(|e| format!("server task: {e}"))?.map_err(|e| format!("server error: {e}"))
}

/// SIGTERM and Ctrl-C, listened for from before the server says it is listening: a signal that arrives while the
/// first requests are served must start the drain, not kill the process with the default action.
struct ShutdownSignals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    /// Installs the handlers now (needs the runtime); a handler that cannot be installed is logged and never fires.
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let install = |kind: SignalKind, name: &str| {
                signal(kind).map_err(|error| tracing::warn!(%error, "cannot listen for {name}")).ok()
            };
            Self {
                terminate: install(SignalKind::terminate(), "SIGTERM"),
                interrupt: install(SignalKind::interrupt(), "Ctrl-C"),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for the first of the two signals.
    async fn received(self) {
        #[cfg(unix)]
        {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(self.interrupt) => tracing::info!("Ctrl-C received, shutting down"),
                () = wait(self.terminate) => tracing::info!("SIGTERM received, shutting down"),
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::warn!(%error, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
            tracing::info!("Ctrl-C received, shutting down");
        }
    }
}
