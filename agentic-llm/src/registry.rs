//! Building providers from configuration, and resolving an agent's `llm: {provider, model}` to one.
//!
//! Names: `claude` and `anthropic` are one provider; `openai` is any OpenAI-compatible server; `ollama`;
//! `mock`. Every real provider is wrapped in [`Timeout`] and [`Retry`]. With no provider configured at all the
//! registry is *mock-only*: every name resolves to an echoing [`MockProvider`], and the host says so at start-up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use agentic_core::llm::{LlmError, LlmProvider, ProviderResolver};

use crate::mock::MockProvider;
use crate::retry::{Retry, RetryPolicy};
use crate::timeout::Timeout;
use crate::{anthropic, ollama, openai};

/// Per-attempt timeout of a configured provider unless the settings say otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The canonical name of a provider name, or `None` if unknown.
pub fn canonical_name(name: &str) -> Option<&'static str> {
    // Keep in step with PROVIDER_NAMES.
    match name.trim().to_ascii_lowercase().as_str() {
        "claude" | "anthropic" => Some("anthropic"),
        "openai" => Some("openai"),
        "ollama" => Some("ollama"),
        "mock" => Some("mock"),
        _ => None,
    }
}

/// Every provider name an agent's `llm.provider` may use (`claude` is another name for `anthropic`).
pub const PROVIDER_NAMES: [&str; 5] = ["claude", "anthropic", "openai", "ollama", "mock"];

/// Where each provider is and how to call it.
#[derive(Clone, Debug, Default)]
pub struct ProviderSettings {
    /// `ANTHROPIC_API_KEY`.
    pub anthropic_api_key: Option<String>,
    /// `ANTHROPIC_BASE_URL`.
    pub anthropic_base_url: Option<String>,
    /// `OPENAI_API_KEY`.
    pub openai_api_key: Option<String>,
    /// `OPENAI_BASE_URL`.
    pub openai_base_url: Option<String>,
    /// `OLLAMA_HOST`.
    pub ollama_host: Option<String>,
    /// `AGENTIC_LLM_DEFAULT_PROVIDER`: used for agents whose own provider is not configured.
    pub default_provider: Option<String>,
    /// Per-attempt timeout (default 120 s).
    pub timeout: Option<Duration>,
    /// Retry policy (default [`RetryPolicy::default`]).
    pub retry: Option<RetryPolicy>,
}

impl ProviderSettings {
    /// Reads the environment variables named on each field through `get` (empty values count as unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        Self {
            anthropic_api_key: var("ANTHROPIC_API_KEY"),
            anthropic_base_url: var("ANTHROPIC_BASE_URL"),
            openai_api_key: var("OPENAI_API_KEY"),
            openai_base_url: var("OPENAI_BASE_URL"),
            ollama_host: var("OLLAMA_HOST"),
            default_provider: var("AGENTIC_LLM_DEFAULT_PROVIDER"),
            timeout: None,
            retry: None,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// The configured providers.
#[derive(Debug, Clone)]
pub struct ProviderRegistry {
    providers: BTreeMap<&'static str, Arc<dyn LlmProvider>>,
    default: Option<&'static str>,
    mock_only: bool,
    longest_call: Option<Duration>,
}

impl ProviderRegistry {
    /// An empty registry (add providers with [`insert`](Self::insert)).
    pub fn new() -> Self {
        Self { providers: BTreeMap::new(), default: None, mock_only: false, longest_call: None }
    }

    /// A registry where every provider name resolves to `mock`.
    pub fn mock_only(mock: Arc<dyn LlmProvider>) -> Self {
        let mut registry = Self::new();
        registry.providers.insert("mock", mock);
        registry.mock_only = true;
        registry
    }

    /// Builds every provider `settings` configures. None configured → [`mock_only`](Self::mock_only) with an
    /// echoing mock.
    pub fn from_settings(settings: &ProviderSettings) -> Result<Self, LlmError> {
        let (per_attempt, retry) = (settings.timeout.unwrap_or(DEFAULT_TIMEOUT), settings.retry.unwrap_or_default());
        let wrap = |provider: Arc<dyn LlmProvider>| -> Arc<dyn LlmProvider> {
            Arc::new(Retry::new(Arc::new(Timeout::new(provider, per_attempt)), retry))
        };
        let mut registry = Self::new();
        registry.longest_call = Some(retry.longest_call(per_attempt));
        if settings.anthropic_api_key.is_some() || settings.anthropic_base_url.is_some() {
            let mut builder = anthropic::Client::builder();
            if let Some(key) = &settings.anthropic_api_key {
                builder = builder.api_key(key.clone());
            }
            if let Some(url) = &settings.anthropic_base_url {
                builder = builder.base_url(url.clone());
            }
            registry.providers.insert("anthropic", wrap(Arc::new(builder.build()?)));
        }
        if settings.openai_api_key.is_some() || settings.openai_base_url.is_some() {
            let mut builder = openai::Client::builder();
            if let Some(key) = &settings.openai_api_key {
                builder = builder.api_key(key.clone());
            }
            if let Some(url) = &settings.openai_base_url {
                builder = builder.base_url(url.clone());
            }
            registry.providers.insert("openai", wrap(Arc::new(builder.build()?)));
        }
        if let Some(host) = &settings.ollama_host {
            registry.providers.insert("ollama", wrap(Arc::new(ollama::Client::builder().host(host.clone()).build()?)));
        }
        if registry.providers.is_empty() {
            return Ok(Self::mock_only(Arc::new(MockProvider::echo())));
        }
        if let Some(default) = &settings.default_provider {
            let name = canonical_name(default)
                .ok_or_else(|| LlmError::NotConfigured(format!("unknown default provider `{default}`")))?;
            if !registry.providers.contains_key(name) {
                return Err(LlmError::NotConfigured(format!("the default provider `{name}` is not configured")));
            }
            registry.default = Some(name);
        }
        Ok(registry)
    }

    /// Adds (or replaces) a provider under a known name.
    pub fn insert(&mut self, name: &str, provider: Arc<dyn LlmProvider>) -> Result<(), LlmError> {
        let name = canonical_name(name).ok_or_else(|| LlmError::NotConfigured(format!("unknown provider `{name}`")))?;
        self.providers.insert(name, provider);
        self.mock_only = false;
        Ok(())
    }

    /// The provider for `name`: itself if configured, else the default provider, else an error naming what is
    /// missing. In a mock-only registry every known name resolves to the mock.
    pub fn resolve(&self, name: &str) -> Result<Arc<dyn LlmProvider>, LlmError> {
        let canonical = canonical_name(name).ok_or_else(|| {
            LlmError::NotConfigured(format!("unknown provider `{name}` ({})", PROVIDER_NAMES.join(", ")))
        })?;
        if self.mock_only {
            return self.providers.get("mock").cloned().ok_or_else(|| LlmError::NotConfigured("no mock".into()));
        }
        if let Some(provider) = self.providers.get(canonical) {
            return Ok(Arc::clone(provider));
        }
        if let Some(provider) = self.default.and_then(|d| self.providers.get(d)) {
            return Ok(Arc::clone(provider));
        }
        Err(LlmError::NotConfigured(format!(
            "provider `{canonical}` is not configured and no default provider is set (configured: {})",
            self.configured().join(", ")
        )))
    }

    /// Names of the configured providers.
    pub fn configured(&self) -> Vec<&'static str> {
        self.providers.keys().copied().collect()
    }

    /// Whether every agent gets the mock.
    pub fn is_mock_only(&self) -> bool {
        self.mock_only
    }
}

impl ProviderResolver for ProviderRegistry {
    fn resolve(&self, name: &str) -> Result<Arc<dyn LlmProvider>, LlmError> {
        ProviderRegistry::resolve(self, name)
    }

    fn known_names(&self) -> Option<Vec<String>> {
        Some(PROVIDER_NAMES.iter().map(|name| (*name).to_owned()).collect())
    }

    fn is_mock_only(&self) -> bool {
        self.mock_only
    }

    fn longest_call(&self) -> Option<Duration> {
        self.longest_call
    }
}

impl Default for ProviderRegistry {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_call_counts_every_attempt_and_wait() {
        let registry = ProviderRegistry::from_settings(&settings(&[("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")]));
        // 4 attempts of 120 s and 3 waits of at most 60 s (the Retry-After cap).
        assert_eq!(registry.unwrap().longest_call(), Some(Duration::from_secs(660)));
        assert_eq!(ProviderRegistry::mock_only(Arc::new(MockProvider::echo())).longest_call(), None);
    }

    fn settings(vars: &[(&str, &str)]) -> ProviderSettings {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        ProviderSettings::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn nothing_configured_means_mock_for_every_known_name() {
        let registry = ProviderRegistry::from_settings(&settings(&[])).unwrap();
        assert!(registry.is_mock_only());
        for name in PROVIDER_NAMES {
            assert_eq!(registry.resolve(name).unwrap().name(), "mock");
            assert_eq!(canonical_name(name).map(|c| canonical_name(c) == Some(c)), Some(true), "{name}");
        }
        assert!(registry.resolve("gemini").is_err());
    }

    #[test]
    fn configured_providers_resolve_and_others_fail_clearly() {
        let registry = ProviderRegistry::from_settings(&settings(&[("ANTHROPIC_API_KEY", "sk-ant-x")])).unwrap();
        assert!(!registry.is_mock_only());
        assert_eq!(registry.resolve("claude").unwrap().name(), "anthropic");
        let error = registry.resolve("openai").unwrap_err().to_string();
        assert!(error.contains("`openai` is not configured"), "{error}");
    }

    #[test]
    fn the_default_provider_stands_in() {
        let registry = ProviderRegistry::from_settings(&settings(&[
            ("OLLAMA_HOST", "127.0.0.1:11434"),
            ("AGENTIC_LLM_DEFAULT_PROVIDER", "ollama"),
        ]))
        .unwrap();
        assert_eq!(registry.resolve("claude").unwrap().name(), "ollama");
        let bad = ProviderRegistry::from_settings(&settings(&[
            ("OLLAMA_HOST", "127.0.0.1:11434"),
            ("AGENTIC_LLM_DEFAULT_PROVIDER", "openai"),
        ]));
        assert!(bad.is_err());
    }
}
