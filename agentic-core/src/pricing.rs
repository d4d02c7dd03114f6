//! Money for LLM calls, as data: the pricing table of per-million-token prices, with aliases and longest-prefix
//! matching. Budgets (reserve the worst case, settle the actual) are in `engine/budgets.rs`.
//!
//! ```
//! use agentic_core::pricing::PricingTable;
//! use agentic_core::llm::Usage;
//!
//! let prices = PricingTable::builtin();
//! let usage = Usage { input_tokens: 1_000, output_tokens: 500, cached_input_tokens: 0, cache_write_input_tokens: 0 };
//! // claude-sonnet-4: $3 in, $15 out per million tokens → $0.003 + $0.0075.
//! let cost = prices.cost("anthropic", "claude-sonnet-4-20250514", &usage).unwrap();
//! assert_eq!(cost.to_string(), "0.0105");
//! assert_eq!(prices.cost("ollama", "qwen2.5-coder:7b", &usage).unwrap().nanos(), 0);
//! assert!(prices.cost("openai", "some-new-model", &usage).is_err());
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use crate::llm::Usage;
use crate::model::Money;

const BUILTIN: &str = include_str!("../pricing.toml");

/// Prices of one model, per one million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelPrice {
    /// Uncached input tokens.
    pub input: Money,
    /// Output tokens.
    pub output: Money,
    /// Input tokens served from the provider's cache.
    pub cached_input: Money,
    /// Input tokens written to the provider's cache (Anthropic bills them above the input price).
    pub cache_write: Money,
}

impl ModelPrice {
    /// Costs nothing.
    pub const FREE: ModelPrice =
        ModelPrice { input: Money::ZERO, output: Money::ZERO, cached_input: Money::ZERO, cache_write: Money::ZERO };
}

/// Why a price could not be found or computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PricingError {
    /// The model is not in the table, its provider is not free, and there is no fallback price.
    #[error("no price for model `{model}` of provider `{provider}`: add it to the pricing table or set a fallback")]
    UnknownModel {
        /// The provider.
        provider: String,
        /// The model.
        model: String,
    },
    /// The pricing file is malformed.
    #[error("invalid pricing table: {0}")]
    Invalid(String),
    /// The cost does not fit in [`Money`].
    #[error("cost overflow")]
    Overflow,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    free: Option<FreeSection>,
    #[serde(default)]
    models: BTreeMap<String, FileModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FreeSection {
    providers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    input: Money,
    output: Money,
    #[serde(default)]
    cached_input: Option<Money>,
    #[serde(default)]
    cache_write: Option<Money>,
    #[serde(default)]
    aliases: Vec<String>,
}

/// Model prices, aliases, free providers and an optional fallback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricingTable {
    models: HashMap<String, ModelPrice>,
    aliases: HashMap<String, String>,
    /// Names sorted longest first, for prefix matching.
    by_length: Vec<String>,
    free_providers: HashSet<String>,
    fallback: Option<ModelPrice>,
}

impl PricingTable {
    /// The table shipped with this crate (`pricing.toml`).
    pub fn builtin() -> Self {
        // The shipped file is checked by a unit test; should it ever be broken, an empty table (every paid model
        // an error) is the safe outcome, never a silent zero price.
        Self::from_toml(BUILTIN).unwrap_or_else(|_| Self::empty())
    }

    /// A table with no models and no free providers.
    pub fn empty() -> Self {
        Self {
            models: HashMap::new(),
            aliases: HashMap::new(),
            by_length: Vec::new(),
            free_providers: HashSet::new(),
            fallback: None,
        }
    }

    /// Parses a table in the format of `pricing.toml`.
    pub fn from_toml(text: &str) -> Result<Self, PricingError> {
        let file: File = toml::from_str(text).map_err(|e| PricingError::Invalid(e.to_string()))?;
        let mut table = Self::empty();
        for provider in file.free.map(|f| f.providers).unwrap_or_default() {
            table.free_providers.insert(provider.to_ascii_lowercase());
        }
        for (name, model) in file.models {
            let price = ModelPrice {
                input: model.input,
                output: model.output,
                cached_input: model.cached_input.unwrap_or(model.input),
                cache_write: model.cache_write.unwrap_or(model.input),
            };
            if [price.input, price.output, price.cached_input, price.cache_write].iter().any(|m| m.is_negative()) {
                return Err(PricingError::Invalid(format!("model `{name}` has a negative price")));
            }
            let name = name.to_ascii_lowercase();
            for alias in model.aliases {
                table.aliases.insert(alias.to_ascii_lowercase(), name.clone());
            }
            table.models.insert(name, price);
        }
        table.reindex();
        Ok(table)
    }

    /// Adds or replaces the models and free providers of `other`.
    pub fn merge(mut self, other: PricingTable) -> Self {
        self.models.extend(other.models);
        self.aliases.extend(other.aliases);
        self.free_providers.extend(other.free_providers);
        self.fallback = other.fallback.or(self.fallback);
        self.reindex();
        self
    }

    /// Prices unknown paid models at `price` instead of failing (an explicit policy, never a silent zero).
    pub fn with_fallback(mut self, price: ModelPrice) -> Self {
        self.fallback = Some(price);
        self
    }

    /// Marks a provider as free (self-hosted).
    pub fn with_free_provider(mut self, provider: &str) -> Self {
        self.free_providers.insert(provider.to_ascii_lowercase());
        self
    }

    fn reindex(&mut self) {
        let mut names: Vec<String> = self.models.keys().cloned().collect();
        names.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.by_length = names;
    }

    /// The price of `model` served by `provider`.
    pub fn price(&self, provider: &str, model: &str) -> Result<ModelPrice, PricingError> {
        if self.free_providers.contains(&provider.to_ascii_lowercase()) {
            return Ok(ModelPrice::FREE);
        }
        let wanted = model.trim().to_ascii_lowercase();
        let name = self.aliases.get(&wanted).unwrap_or(&wanted);
        if let Some(price) = self.models.get(name) {
            return Ok(*price);
        }
        let prefixed = self.by_length.iter().find(|candidate| {
            wanted.strip_prefix(candidate.as_str()).is_some_and(|rest| rest.starts_with(['-', ':', '@']))
        });
        if let Some(price) = prefixed.and_then(|name| self.models.get(name)) {
            return Ok(*price);
        }
        self.fallback
            .ok_or_else(|| PricingError::UnknownModel { provider: provider.to_owned(), model: model.to_owned() })
    }

    /// The cost of a call's `usage`, rounded up to the nano-dollar (never under-charged).
    pub fn cost(&self, provider: &str, model: &str, usage: &Usage) -> Result<Money, PricingError> {
        let price = self.price(provider, model)?;
        let parts = [
            per_million(usage.input_tokens, price.input)?,
            per_million(usage.output_tokens, price.output)?,
            per_million(usage.cached_input_tokens, price.cached_input)?,
            per_million(usage.cache_write_input_tokens, price.cache_write)?,
        ];
        parts.iter().try_fold(Money::ZERO, |sum, part| sum.checked_add(*part)).ok_or(PricingError::Overflow)
    }

    /// The most a call can cost: `input_tokens` (an upper estimate) at the input or cache-write price, whichever
    /// is higher (any of them may be written to the cache), plus `max_tokens` of output.
    pub fn worst_case(
        &self,
        provider: &str,
        model: &str,
        input_tokens: u64,
        max_tokens: u64,
    ) -> Result<Money, PricingError> {
        let price = self.price(provider, model)?;
        let input = per_million(input_tokens, price.input.max(price.cache_write))?;
        input.checked_add(per_million(max_tokens, price.output)?).ok_or(PricingError::Overflow)
    }
}

impl Default for PricingTable {
    fn default() -> Self {
        Self::builtin()
    }
}

/// `tokens × price / 1,000,000`, rounded up.
fn per_million(tokens: u64, price: Money) -> Result<Money, PricingError> {
    let nanos = u128::from(tokens) * u128::try_from(price.nanos()).map_err(|_| PricingError::Overflow)?;
    let cost = nanos.div_ceil(1_000_000);
    i64::try_from(cost).map(Money::from_nanos).map_err(|_| PricingError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cached: u64) -> Usage {
        Usage { input_tokens: input, output_tokens: output, cached_input_tokens: cached, cache_write_input_tokens: 0 }
    }

    #[test]
    fn the_builtin_table_parses() {
        let table = PricingTable::from_toml(BUILTIN).unwrap();
        assert!(table.models.len() >= 8);
        assert_eq!(table, PricingTable::builtin());
    }

    #[test]
    fn costs() {
        let table = PricingTable::builtin();
        // (provider, model, usage, expected USD or None for an error)
        let cases: &[(&str, &str, Usage, Option<&str>)] = &[
            ("anthropic", "claude-sonnet-4", usage(1_000_000, 0, 0), Some("3.00")),
            ("anthropic", "claude-sonnet-4-20250514", usage(1_000, 500, 0), Some("0.0105")),
            ("claude", "CLAUDE-SONNET-4-20250514", usage(1_000, 500, 0), Some("0.0105")),
            ("anthropic", "claude-4-sonnet", usage(0, 1_000_000, 0), Some("15.00")),
            ("anthropic", "claude-sonnet-4-20250514", usage(100, 0, 10_000), Some("0.0033")),
            ("anthropic", "claude-opus-4-1-20250805", usage(0, 1_000, 0), Some("0.075")),
            ("openai", "gpt-4o-mini", usage(1_000_000, 1_000_000, 0), Some("0.75")),
            ("openai", "gpt-4o-2024-08-06", usage(1_000_000, 0, 1_000_000), Some("3.75")),
            ("openai", "gpt-4o-mini-2024-07-18", usage(0, 1_000_000, 0), Some("0.60")),
            // One token of a $0.15/M model is 150 nano-dollars; a third of that rounds up.
            ("openai", "gpt-4o-mini", usage(1, 0, 0), Some("0.00000015")),
            ("ollama", "qwen2.5-coder:7b", usage(5_000_000, 5_000_000, 0), Some("0.00")),
            ("mock", "anything", usage(1, 1, 1), Some("0.00")),
            // The plan's models, and the current families beside the older ones they share a prefix with.
            ("openai", "gpt-4", usage(1_000_000, 1_000_000, 0), Some("90.00")),
            ("openai", "gpt-4-0613", usage(0, 1_000_000, 0), Some("60.00")),
            ("openai", "gpt-3.5-turbo-0125", usage(1_000_000, 1_000_000, 0), Some("2.00")),
            ("openai", "gpt-4-turbo-2024-04-09", usage(1_000_000, 0, 0), Some("10.00")),
            ("openai", "gpt-5-2025-08-07", usage(1_000_000, 0, 1_000_000), Some("1.375")),
            ("openai", "o1-mini", usage(1_000_000, 0, 0), Some("1.10")),
            ("openai", "o1-2024-12-17", usage(1_000_000, 0, 0), Some("15.00")),
            ("anthropic", "claude-sonnet-4-5-20250929", usage(0, 1_000_000, 0), Some("15.00")),
            ("anthropic", "claude-haiku-4-5", usage(1_000_000, 0, 0), Some("1.00")),
            ("openai", "gpt-6", usage(1, 1, 0), None),
            ("openai", "gpt-4oz", usage(1, 1, 0), None),
            ("anthropic", "claude", usage(1, 1, 0), None),
        ];
        for (provider, model, usage, expected) in cases {
            let got = table.cost(provider, model, usage).ok().map(|m| m.to_string());
            assert_eq!(got.as_deref(), *expected, "{provider}/{model} {usage:?}");
        }
    }

    #[test]
    fn rounding_never_undercharges() {
        let table = PricingTable::from_toml("[models.m]\ninput = \"0.000001\"\noutput = \"0\"\n").unwrap();
        // 1 token × $0.000001/M = 0.001 nano-dollars: charged 1.
        assert_eq!(table.cost("p", "m", &usage(1, 0, 0)).unwrap().nanos(), 1);
        assert_eq!(table.cost("p", "m", &usage(0, 0, 0)).unwrap().nanos(), 0);
    }

    #[test]
    fn cache_writes_have_their_own_price_and_bound_the_worst_case() {
        let table = PricingTable::builtin();
        let writes = Usage { cache_write_input_tokens: 1_000_000, ..usage(1_000_000, 0, 0) };
        // claude-sonnet-4: $3 per million in, $3.75 per million written to the cache.
        assert_eq!(table.cost("anthropic", "claude-sonnet-4-20250514", &writes).unwrap().to_string(), "6.75");
        assert_eq!(table.price("anthropic", "claude-3-haiku").unwrap().cache_write.to_string(), "0.30");
        // Without a cache-write price, writes cost what input costs.
        assert_eq!(
            table.price("openai", "gpt-4o").unwrap().cache_write,
            table.price("openai", "gpt-4o").unwrap().input
        );
        // The worst case prices every input token as a cache write when that is dearer.
        assert_eq!(table.worst_case("anthropic", "claude-sonnet-4", 1_000_000, 0).unwrap().to_string(), "3.75");
        assert_eq!(table.worst_case("openai", "gpt-4o", 1_000_000, 1_000_000).unwrap().to_string(), "12.50");
    }

    #[test]
    fn fallback_and_overrides_are_explicit() {
        let fallback = ModelPrice {
            input: "1".parse().unwrap(),
            output: "2".parse().unwrap(),
            cached_input: "0.5".parse().unwrap(),
            cache_write: "1.25".parse().unwrap(),
        };
        let table = PricingTable::builtin().with_fallback(fallback);
        assert_eq!(table.cost("openai", "brand-new", &usage(1_000_000, 0, 0)).unwrap().to_string(), "1.00");
        let custom = PricingTable::from_toml(
            "[free]\nproviders = [\"vllm\"]\n[models.\"gpt-4o\"]\ninput = \"1\"\noutput = \"1\"\n",
        )
        .unwrap();
        let merged = PricingTable::builtin().merge(custom);
        assert_eq!(merged.cost("openai", "gpt-4o", &usage(1_000_000, 0, 0)).unwrap().to_string(), "1.00");
        assert_eq!(merged.cost("vllm", "llama", &usage(9, 9, 9)).unwrap(), Money::ZERO);
        assert!(PricingTable::from_toml("[models.x]\ninput = 1.5\noutput = \"1\"\n").is_err(), "floats are refused");
        assert!(PricingTable::from_toml("[models.x]\ninput = \"-1\"\noutput = \"1\"\n").is_err());
        assert!(PricingTable::from_toml("[modles.x]\n").is_err());
    }

    #[test]
    fn worst_case_uses_max_tokens() {
        let table = PricingTable::builtin();
        // 1,000 input tokens at the cache-write price ($3.75/M, dearer than input) and 1,000 output at $15/M.
        let worst = table.worst_case("anthropic", "claude-sonnet-4", 1_000, 1_000).unwrap();
        assert_eq!(worst.to_string(), "0.01875");
    }
}
