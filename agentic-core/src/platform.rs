//! [`Platform`]: the assembled runtime a host app builds once and shares.
//!
//! It owns the store, the clock, the token codec, the authenticator and the metrics registry (no globals), and
//! exposes the engine's operations as methods taking the calling [`Principal`](crate::auth::Principal), so a host
//! app calling the engine directly gets the same permission checks as an HTTP client.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::agents::KnownNames;
use crate::auth::jwt::{JwtCodec, JwtSettings, KeyPair, VerificationKey};
use crate::auth::{AuthError, Authenticator, PlatformAuthenticator};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::events::{EventSink, LogEventSink};
use crate::limit::{RateLimitPolicy, RateLimiter};
use crate::llm::{LlmError, LlmProvider, ProviderResolver};
use crate::metrics::Metrics;
use crate::pricing::PricingTable;
use crate::store::Store;
use crate::tools::ToolRegistry;

/// Shortest accepted platform master key.
pub const MIN_MASTER_KEY_LEN: usize = 32;

/// A cheaply clonable handle to the platform.
#[derive(Clone)]
pub struct Platform {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) jwt: Arc<JwtCodec>,
    pub(crate) authenticator: Arc<dyn Authenticator>,
    pub(crate) master_key: Option<SecretString>,
    pub(crate) metrics: Metrics,
    pub(crate) limits: HttpLimits,
    pub(crate) llm: Option<Arc<dyn ProviderResolver>>,
    pub(crate) pricing: Arc<PricingTable>,
    pub(crate) events: Arc<dyn EventSink>,
    pub(crate) reservation_ttl: chrono::Duration,
    pub(crate) rate_limits: Option<(Arc<dyn RateLimiter>, RateLimitPolicy)>,
    pub(crate) tools: ToolRegistry,
    pub(crate) approval_ttl: chrono::Duration,
    /// How long stored events, ended runs and cost records are kept.
    pub(crate) retention: crate::engine::Retention,
    pub(crate) run_lease: chrono::Duration,
    /// How often the upkeep loop samples the usage gauges.
    pub(crate) usage_sample: std::time::Duration,
    /// Bearer token that opens `/metrics` on the API router; without one, metrics are served only by
    /// `Platform::metrics_router` (on an address of the operator's choosing).
    pub(crate) metrics_token: Option<SecretString>,
    /// Bounds the password hashes in progress.
    pub(crate) hashing: crate::auth::password::HashingGate,
    /// Failed sign-in streaks per account.
    pub(crate) lockout: crate::auth::lockout::LoginLockout,
    /// LLM charges whose settlement failed, for the upkeep loop to settle.
    pub(crate) pending_charges: parking_lot::Mutex<Vec<crate::engine::PendingCharge>>,
    /// Wakes this process's workers when a run is queued and its waiters when one ends, so nobody sleeps out a
    /// poll interval for work done here (runs queued or ended by other replicas are seen by polling).
    pub(crate) run_signals: crate::engine::RunSignals,
    /// Whether this process works waited runs itself, and how many at once.
    pub(crate) inline_runs: crate::engine::InlineRuns,
    /// Wakes this process's event streams when an event is stored here (other replicas' are seen by polling).
    pub(crate) event_wakeup: tokio::sync::Notify,
    /// Wakes this process's relay when events were stored (it also polls for other replicas').
    pub(crate) relay_wakeup: tokio::sync::Notify,
    /// Wakes this process's dispatchers when deliveries were made due.
    pub(crate) dispatch_wakeup: tokio::sync::Notify,
    /// Wakes this process's scheduler when a schedule was created or changed here.
    pub(crate) schedule_wakeup: tokio::sync::Notify,
    pub(crate) webhooks: crate::webhooks::WebhookSettings,
    /// Where projects' shared context lives.
    pub(crate) context: Arc<dyn crate::store::ContextStore>,
    pub(crate) context_limits: crate::model::ContextLimits,
    pub(crate) webhook_cipher: crate::webhooks::cipher::SecretCipher,
    pub(crate) webhook_sender: crate::webhooks::sender::Sender,
    /// The outgoing guardrail, if the host installed one, and each tenant's setting of it.
    pub(crate) guardrails: Option<crate::llm::Guardrails>,
    pub(crate) guardrail_settings: crate::store::TenantCache<Option<crate::llm::GuardrailAction>>,
    /// What reads uploaded documents: the host's, then [`PlainReader`](crate::knowledge::PlainReader).
    pub(crate) document_readers: Vec<Arc<dyn crate::knowledge::DocumentReader>>,
    pub(crate) knowledge_limits: crate::engine::KnowledgeLimits,
    /// The embedding model of dense retrieval, if any.
    pub(crate) embedder: Option<Arc<dyn crate::knowledge::Embedder>>,
    /// The proxies whose forwarding headers name the client.
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
}

/// Limits on HTTP requests.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { max_body_bytes: 1024 * 1024 }
    }
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform").field("tenant_creation", &self.inner.master_key.is_some()).finish_non_exhaustive()
    }
}

impl Platform {
    /// Starts building a platform.
    pub fn builder() -> PlatformBuilder {
        PlatformBuilder::default()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The authenticator, e.g. to mount [`AuthLayer`](crate::http::layer::auth::AuthLayer) on a host app's own routes.
    pub fn authenticator(&self) -> Arc<dyn Authenticator> {
        Arc::clone(&self.inner.authenticator)
    }

    /// The access-token codec.
    pub fn jwt(&self) -> &JwtCodec {
        &self.inner.jwt
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The pricing table.
    pub fn pricing(&self) -> &PricingTable {
        &self.inner.pricing
    }

    /// Where events go.
    pub fn events(&self) -> &Arc<dyn EventSink> {
        &self.inner.events
    }

    /// The rate limiter and policy, when rate limits are on.
    pub fn rate_limits(&self) -> Option<&(Arc<dyn RateLimiter>, RateLimitPolicy)> {
        self.inner.rate_limits.as_ref()
    }

    /// The proxies whose forwarding headers name the client.
    pub fn trusted_proxies(&self) -> &[ipnet::IpNet] {
        &self.inner.trusted_proxies
    }

    /// Bounds on knowledge bases' uploads.
    pub fn knowledge_limits(&self) -> crate::engine::KnowledgeLimits {
        self.inner.knowledge_limits
    }

    /// HTTP limits.
    pub fn http_limits(&self) -> HttpLimits {
        self.inner.limits
    }

    /// The LLM provider for an agent's provider name.
    pub fn llm_provider(&self, name: &str) -> std::result::Result<Arc<dyn LlmProvider>, LlmError> {
        match &self.inner.llm {
            Some(resolver) => resolver.resolve(name),
            None => Err(LlmError::NotConfigured("this platform has no LLM providers".into())),
        }
    }

    /// Whether `presented` is the metrics token (compared in constant time); `false` when none is configured.
    pub fn check_metrics_token(&self, presented: Option<&str>) -> bool {
        match (&self.inner.metrics_token, presented) {
            (Some(expected), Some(presented)) => expected.expose_secret().as_bytes().ct_eq(presented.as_bytes()).into(),
            _ => false,
        }
    }

    /// Whether the API router serves `/metrics` (to bearers of the metrics token).
    pub fn metrics_on_api(&self) -> bool {
        self.inner.metrics_token.is_some()
    }

    /// The tool and provider names an agent's specification may use here: the registered tools and the LLM
    /// resolver's [known names](ProviderResolver::known_names) (any provider name when there is no resolver: its
    /// runs fail saying so).
    pub fn known_names(&self) -> KnownNames {
        let names = KnownNames::any().tools(self.inner.tools.names()).analyzers(self.inner.tools.analyzer_names());
        match self.inner.llm.as_ref().and_then(|llm| llm.known_names()) {
            Some(providers) => names.providers(providers),
            None => names,
        }
    }

    /// The tools agents may call.
    pub fn tools(&self) -> &ToolRegistry {
        &self.inner.tools
    }

    /// Checks a presented platform master key in constant time.
    pub fn check_master_key(&self, presented: Option<&str>) -> Result<()> {
        let expected = self
            .inner
            .master_key
            .as_ref()
            .ok_or(Error::Disabled("tenant administration is disabled (no master key is configured)"))?;
        let presented = presented.ok_or(AuthError::InvalidMasterKey)?;
        let equal: bool = expected.expose_secret().as_bytes().ct_eq(presented.as_bytes()).into();
        if equal { Ok(()) } else { Err(AuthError::InvalidMasterKey.into()) }
    }
}

/// Builds a [`Platform`].
#[derive(Default)]
pub struct PlatformBuilder {
    store: Option<Arc<dyn Store>>,
    clock: Option<Arc<dyn Clock>>,
    jwt_settings: JwtSettings,
    jwt_key: Option<KeyPair>,
    jwt_previous: Vec<VerificationKey>,
    master_key: Option<SecretString>,
    limits: HttpLimits,
    llm: Option<Arc<dyn ProviderResolver>>,
    pricing: Option<PricingTable>,
    events: Option<Arc<dyn EventSink>>,
    reservation_ttl: Option<chrono::Duration>,
    rate_limits: Option<(Arc<dyn RateLimiter>, RateLimitPolicy)>,
    tools: Option<ToolRegistry>,
    approval_ttl: Option<chrono::Duration>,
    retention: crate::engine::Retention,
    run_lease: Option<chrono::Duration>,
    metrics_token: Option<SecretString>,
    metrics_settings: crate::metrics::MetricsSettings,
    usage_sample: Option<std::time::Duration>,
    password_hashing: Option<(usize, usize)>,
    webhooks: Option<crate::webhooks::WebhookSettings>,
    webhook_cipher: Option<crate::webhooks::cipher::SecretCipher>,
    context: Option<Arc<dyn crate::store::ContextStore>>,
    context_limits: crate::model::ContextLimits,
    guardrails: Option<crate::llm::Guardrails>,
    document_readers: Vec<Arc<dyn crate::knowledge::DocumentReader>>,
    knowledge_limits: crate::engine::KnowledgeLimits,
    embedder: Option<Arc<dyn crate::knowledge::Embedder>>,
    trusted_proxies: Vec<ipnet::IpNet>,
}

impl PlatformBuilder {
    /// How long a worker holds a run before another may take it over (default 10 minutes; a run should finish
    /// well within it).
    pub fn run_lease(mut self, lease: chrono::Duration) -> Self {
        self.run_lease = Some(lease);
        self
    }

    /// How long an approval request stays open (default 24 hours).
    pub fn approval_ttl(mut self, ttl: chrono::Duration) -> Self {
        self.approval_ttl = Some(ttl);
        self
    }

    /// How long stored events, ended runs and cost records are kept before the upkeep loop deletes them
    /// (default 30 days each; see [`Retention`](crate::engine::Retention)).
    pub fn retention(mut self, retention: crate::engine::Retention) -> Self {
        self.retention = retention;
        self
    }

    /// How long stored events are kept before the upkeep loop deletes them (default 30 days): the `events` of
    /// [`retention`](Self::retention).
    pub fn event_retention(mut self, retention: chrono::Duration) -> Self {
        self.retention.events = retention;
        self
    }

    /// The tools agents may call, replacing any added before (default: none; the built-in agents' tools are
    /// `agentic_tools::builtin_tools()`).
    pub fn tools(mut self, tools: ToolRegistry) -> Self {
        self.tools = Some(tools);
        self
    }

    /// Adds one tool (a host app's own beside the built-in ones); agents name it in their YAML's `tools`.
    pub fn tool(mut self, tool: Arc<dyn crate::tools::Tool>) -> Self {
        self.tools = Some(self.tools.take().unwrap_or_default().with(tool));
        self
    }

    /// Enforces `policy` with `limiter` on the HTTP API (default: no rate limits).
    pub fn rate_limits(mut self, limiter: Arc<dyn RateLimiter>, policy: RateLimitPolicy) -> Self {
        self.rate_limits = Some((limiter, policy));
        self
    }

    /// How webhooks are delivered (default: [`WebhookSettings::default`](crate::webhooks::WebhookSettings)).
    pub fn webhooks(mut self, settings: crate::webhooks::WebhookSettings) -> Self {
        self.webhooks = Some(settings);
        self
    }

    /// The key webhook signing secrets are sealed with at rest. Without one, a random key is made at start: the
    /// secrets of endpoints stored under it cannot be opened after a restart (right for the memory store only).
    pub fn webhook_secret_key(mut self, cipher: crate::webhooks::cipher::SecretCipher) -> Self {
        self.webhook_cipher = Some(cipher);
        self
    }

    /// Where projects' shared context lives (default: the store's own, [`Store::context_store`]; the reference
    /// server gives `agentic_store_redis::RedisContextStore` when Redis is configured).
    pub fn context_store(mut self, store: Arc<dyn crate::store::ContextStore>) -> Self {
        self.context = Some(store);
        self
    }

    /// Scans what every LLM call sends to a provider that is not exempt, and blocks or redacts what is found as
    /// each tenant's setting says (`PUT /v1/settings/guardrails`; default: [`Guardrails::default_action`]).
    /// Without one, prompts leave as they are (the reference server installs `agentic_tools::PromptGuard`).
    ///
    /// [`Guardrails::default_action`]: crate::llm::Guardrails::default_action
    pub fn guardrails(mut self, guardrails: crate::llm::Guardrails) -> Self {
        self.guardrails = Some(guardrails);
        self
    }

    /// Reads uploaded documents of more types than plain text and Markdown, which the platform reads itself
    /// (`agentic_tools::DocumentReaders` reads HTML and PDF). Readers added first are asked first, the platform's own last.
    pub fn document_reader(mut self, reader: Arc<dyn crate::knowledge::DocumentReader>) -> Self {
        self.document_readers.push(reader);
        self
    }

    /// Dense retrieval: uploads are embedded with `embedder` and searches fuse the nearest chunks with the lexical
    /// ranking (reciprocal rank fusion). Without one, search is lexical only. Documents uploaded before it was set
    /// have no vectors and are found lexically.
    pub fn embedder(mut self, embedder: Arc<dyn crate::knowledge::Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// The load balancers and ingresses in front of the platform: a request from one of them is from the client
    /// its `Forwarded` / `X-Forwarded-For` names (the rightmost hop not in these networks), for the per-IP limit
    /// and the logs. Default none: the peer is the client and the headers are ignored.
    pub fn trusted_proxies(mut self, networks: Vec<ipnet::IpNet>) -> Self {
        self.trusted_proxies = networks;
        self
    }

    /// Bounds on knowledge bases' uploads (default: 10 MiB a document, 5,000 chunks).
    pub fn knowledge_limits(mut self, limits: crate::engine::KnowledgeLimits) -> Self {
        self.knowledge_limits = limits;
        self
    }

    /// Bounds on each project's context (default: 256 KiB per value, 1,000 keys).
    pub fn context_limits(mut self, limits: crate::model::ContextLimits) -> Self {
        self.context_limits = limits;
        self
    }

    /// LLM prices (default: [`PricingTable::builtin`]).
    pub fn pricing(mut self, pricing: PricingTable) -> Self {
        self.pricing = Some(pricing);
        self
    }

    /// Where events go (default: [`LogEventSink`]).
    pub fn event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Some(sink);
        self
    }

    /// How long a budget reservation holds if its call never settles (default 10 minutes). Never shorter than
    /// the providers' longest call ([`ProviderResolver::longest_call`]) plus a minute, so a hold cannot lapse
    /// while its call is still running.
    pub fn reservation_ttl(mut self, ttl: chrono::Duration) -> Self {
        self.reservation_ttl = Some(ttl);
        self
    }

    /// The LLM providers agents resolve their `llm.provider` against (`agentic_llm::ProviderRegistry` reads
    /// them from the environment). Without a resolver (or [`llm`](Self::llm)) every run fails with "this platform
    /// has no LLM providers".
    pub fn llm_providers(mut self, resolver: Arc<dyn ProviderResolver>) -> Self {
        self.llm = Some(resolver);
        self
    }

    /// One provider for every agent, whatever its `llm.provider` says: the one-model case, e.g.
    /// `agentic_llm::MockProvider` in a host app's tests.
    pub fn llm(self, provider: Arc<dyn LlmProvider>) -> Self {
        self.llm_providers(Arc::new(crate::llm::SingleProvider(provider)))
    }

    /// The store (required).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Token issuer, audience, lifetime and leeway.
    pub fn jwt_settings(mut self, settings: JwtSettings) -> Self {
        self.jwt_settings = settings;
        self
    }

    /// The key that signs access tokens. Without one, a random HS256 key is generated, so tokens do not survive a
    /// restart and are not accepted by other replicas.
    pub fn jwt_key(mut self, key: KeyPair) -> Self {
        self.jwt_key = Some(key);
        self
    }

    /// An older key still accepted for verification during rotation.
    pub fn jwt_previous_key(mut self, key: VerificationKey) -> Self {
        self.jwt_previous.push(key);
        self
    }

    /// The platform master key that allows creating tenants (at least [`MIN_MASTER_KEY_LEN`] characters).
    pub fn master_key(mut self, key: SecretString) -> Self {
        self.master_key = Some(key);
        self
    }

    /// Serves `/metrics` on the API router too, to requests bearing this token (at least
    /// [`MIN_MASTER_KEY_LEN`] characters). Without one, `/metrics` is served only by the separate
    /// `Platform::metrics_router`, so that the public listener does not expose every tenant's figures.
    pub fn metrics_token(mut self, token: SecretString) -> Self {
        self.metrics_token = Some(token);
        self
    }

    /// How labels drawn from tenants' data (tenant and project ids, model names) are exported: capped per metric,
    /// or off (default: [`MetricsSettings::default`](crate::metrics::MetricsSettings)).
    pub fn metrics_settings(mut self, settings: crate::metrics::MetricsSettings) -> Self {
        self.metrics_settings = settings;
        self
    }

    /// How often the upkeep loop samples the usage gauges from the store (default [`USAGE_SAMPLE`](crate::engine::USAGE_SAMPLE);
    /// on PostgreSQL each sample scans every tenant's rows).
    pub fn usage_sample_interval(mut self, interval: std::time::Duration) -> Self {
        self.usage_sample = Some(interval);
        self
    }

    /// Password hashes run at once (`concurrency`, default one per core, at least two) and waiting (`queue`,
    /// default four per core); sign-ins beyond are refused with 503 and `Retry-After` rather than queued.
    pub fn password_hashing(mut self, concurrency: usize, queue: usize) -> Self {
        self.password_hashing = Some((concurrency, queue));
        self
    }

    /// HTTP limits.
    pub fn http_limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether a signing key was configured (otherwise [`build`](Self::build) generates an ephemeral one).
    pub fn has_jwt_key(&self) -> bool {
        self.jwt_key.is_some()
    }

    /// Builds the platform. Only a store is required: without LLM providers it builds and serves, and every run
    /// fails with "this platform has no LLM providers"; without tools, agent YAML may name none.
    pub fn build(self) -> Result<Platform> {
        let store = self.store.ok_or_else(|| Error::Config("a store is required".into()))?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        if let Some(key) = &self.master_key
            && key.expose_secret().chars().count() < MIN_MASTER_KEY_LEN
        {
            return Err(Error::Config(format!("the master key must be at least {MIN_MASTER_KEY_LEN} characters")));
        }
        if let Some(token) = &self.metrics_token
            && token.expose_secret().chars().count() < MIN_MASTER_KEY_LEN
        {
            return Err(Error::Config(format!("the metrics token must be at least {MIN_MASTER_KEY_LEN} characters")));
        }
        let jwt_key = match self.jwt_key {
            Some(key) => key,
            None => {
                let mut secret = [0_u8; 32];
                getrandom::fill(&mut secret)
                    .map_err(|e| Error::Internal(format!("operating system RNG failed: {e}")))?;
                KeyPair::hs256("ephemeral", &secret)?
            }
        };
        let jwt = Arc::new(JwtCodec::new(self.jwt_settings, jwt_key, self.jwt_previous)?);
        let authenticator =
            Arc::new(PlatformAuthenticator::new(Arc::clone(&store), Arc::clone(&jwt), Arc::clone(&clock)));
        let metrics = Metrics::with_settings(self.metrics_settings)?;
        // A hold must outlive the longest call it covers (retries included), with a minute to settle.
        let longest_call = self.llm.as_ref().and_then(|llm| llm.longest_call()).map(|longest| {
            chrono::Duration::from_std(longest).unwrap_or(chrono::Duration::MAX) + chrono::Duration::minutes(1)
        });
        let reservation_ttl =
            self.reservation_ttl.unwrap_or(chrono::Duration::minutes(10)).max(longest_call.unwrap_or_default());
        let webhooks = self.webhooks.unwrap_or_default();
        let webhook_cipher = match self.webhook_cipher {
            Some(cipher) => cipher,
            None => crate::webhooks::cipher::SecretCipher::ephemeral().map_err(|e| Error::Internal(e.to_string()))?,
        };
        let webhook_sender = crate::webhooks::sender::Sender::new(webhooks.targets.clone(), webhooks.attempt_timeout)
            .map_err(|e| Error::Config(format!("the webhook client cannot be built: {e}")))?;
        let context = self.context.unwrap_or_else(|| store.context_store());
        // The context tools and `knowledge_search` are the platform's own: every agent that lists them gets them.
        let mut tools = self.tools.unwrap_or_default();
        let knowledge_tool: Arc<dyn crate::tools::Tool> = Arc::new(crate::tools::KnowledgeSearchTool);
        for tool in crate::tools::context_tools().into_iter().chain([knowledge_tool]) {
            if !tools.contains(tool.name()) {
                tools = tools.with(tool);
            }
        }
        // A setting changed on another replica applies within a minute, like a plan.
        let guardrail_settings =
            crate::store::TenantCache::reading(Arc::clone(&store), std::time::Duration::from_secs(60), |tenant| {
                tenant.and_then(|t| crate::llm::GuardrailAction::of_settings(&t.settings))
            });
        let platform = Platform {
            inner: Arc::new(Inner {
                store,
                clock,
                jwt,
                authenticator,
                master_key: self.master_key,
                metrics,
                limits: self.limits,
                llm: self.llm,
                pricing: Arc::new(self.pricing.unwrap_or_default()),
                events: self.events.unwrap_or_else(|| Arc::new(LogEventSink)),
                reservation_ttl,
                rate_limits: self.rate_limits,
                tools,
                approval_ttl: self.approval_ttl.unwrap_or(chrono::Duration::hours(24)),
                retention: self.retention,
                run_lease: self.run_lease.unwrap_or(crate::engine::LEASE),
                metrics_token: self.metrics_token,
                usage_sample: self.usage_sample.unwrap_or(crate::engine::USAGE_SAMPLE),
                hashing: match self.password_hashing {
                    Some((concurrency, queue)) => crate::auth::password::HashingGate::new(concurrency, queue),
                    None => crate::auth::password::HashingGate::for_this_machine(),
                },
                lockout: crate::auth::lockout::LoginLockout::default(),
                pending_charges: parking_lot::Mutex::default(),
                run_signals: crate::engine::RunSignals::default(),
                inline_runs: crate::engine::InlineRuns::default(),
                event_wakeup: tokio::sync::Notify::new(),
                relay_wakeup: tokio::sync::Notify::new(),
                dispatch_wakeup: tokio::sync::Notify::new(),
                schedule_wakeup: tokio::sync::Notify::new(),
                webhooks,
                context,
                context_limits: self.context_limits,
                webhook_cipher,
                webhook_sender,
                guardrails: self.guardrails,
                guardrail_settings,
                document_readers: self
                    .document_readers
                    .into_iter()
                    .chain([Arc::new(crate::knowledge::PlainReader) as Arc<dyn crate::knowledge::DocumentReader>])
                    .collect(),
                knowledge_limits: self.knowledge_limits,
                embedder: self.embedder,
                trusted_proxies: self.trusted_proxies,
            }),
        };
        // A built-in agent naming a tool the host left out still runs, with the tools it has; say so once.
        if let Err((agent, error)) = crate::agents::Catalog::check_builtin(&platform.known_names()) {
            tracing::warn!(%agent, %error, "a built-in agent names what this platform lacks (register agentic_tools::builtin_tools() for its tools)");
        }
        Ok(platform)
    }
}
