//! Value parsers of the settings: each setting is parsed and range-checked by one parser, whether it comes from a
//! flag, the environment or the config file (file values reach clap as defaults, see [`super::file`]).

use std::net::SocketAddr;

use agentic_core::MIN_MASTER_KEY_LEN;
use agentic_core::auth::jwt::MIN_HS256_SECRET;
use agentic_core::limit::{FailMode, Quota, RateLimitPolicy};
use agentic_llm::registry::canonical_name;
use std::ops::RangeInclusive;

use clap::builder::{StringValueParser, TypedValueParser};
use secrecy::SecretString;

/// Seconds, bytes or a count within `range`.
pub(super) fn whole_number(range: RangeInclusive<u64>) -> impl TypedValueParser<Value = u64> {
    StringValueParser::new().try_map(move |text| {
        let number: u64 = text.trim().parse().map_err(|_| format!("`{text}` is not a whole number"))?;
        if !range.contains(&number) {
            return Err(format!("must be between {} and {}", range.start(), range.end()));
        }
        Ok(number)
    })
}

/// A count within `range` (which fits `u32`).
pub(super) fn small_number(range: RangeInclusive<u32>) -> impl TypedValueParser<Value = u32> {
    let wide = u64::from(*range.start())..=u64::from(*range.end());
    whole_number(wide).try_map(u32::try_from)
}

/// How long something is kept: a duration such as `30d`, `12h` or `90min` (humantime's forms), from a second
/// (a soak's) to ten years.
pub(super) fn retention(text: &str) -> Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); e.g. 30d, 12h, 90min"))?;
    let (least, most) = (std::time::Duration::from_secs(1), std::time::Duration::from_secs(3650 * 86_400));
    if duration < least || duration > most {
        return Err("must be between 1s and 3650d".to_owned());
    }
    Ok(duration)
}

/// `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`; empty is false (an exported but empty variable).
pub(super) fn boolean(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        other => Err(format!("`{other}` is not true or false (on or off)")),
    }
}

/// A secret of at least [`MIN_MASTER_KEY_LEN`] characters (the master key, the metrics token).
pub(super) fn long_secret(text: &str) -> Result<SecretString, String> {
    if text.chars().count() < MIN_MASTER_KEY_LEN {
        return Err(format!("must be at least {MIN_MASTER_KEY_LEN} characters"));
    }
    Ok(SecretString::from(text))
}

/// The HS256 signing secret: at least [`MIN_HS256_SECRET`] bytes.
pub(super) fn jwt_secret(text: &str) -> Result<SecretString, String> {
    if text.len() < MIN_HS256_SECRET {
        return Err(format!("must be at least {MIN_HS256_SECRET} bytes"));
    }
    Ok(SecretString::from(text))
}

/// An API key in the platform's format (`agk_` + at least 32 characters).
pub(super) fn api_key(text: &str) -> Result<SecretString, String> {
    agentic_core::auth::api_key::import(text).map_err(|e| e.message)?;
    Ok(SecretString::from(text))
}

/// A password the platform accepts for a new account.
pub(super) fn new_password(text: &str) -> Result<SecretString, String> {
    let password = SecretString::from(text);
    agentic_core::auth::password::validate_new_password(&password).map_err(|e| e.message)?;
    Ok(password)
}

/// An e-mail address.
pub(super) fn email(text: &str) -> Result<String, String> {
    agentic_core::model::Email::parse(text).map_err(|e| e.message)?;
    Ok(text.to_owned())
}

/// A `tracing` EnvFilter directive.
pub(super) fn log_filter(text: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

/// An http(s) URL; empty means unset.
pub(super) fn http_url(text: &str) -> Result<String, String> {
    if !(text.is_empty() || text.starts_with("http://") || text.starts_with("https://")) {
        return Err(format!("`{text}` is not an http(s) URL"));
    }
    Ok(text.to_owned())
}

/// A provider name the LLM registry knows; empty means unset.
pub(super) fn provider_name(text: &str) -> Result<String, String> {
    if !text.trim().is_empty() && canonical_name(text).is_none() {
        let known = agentic_llm::registry::PROVIDER_NAMES.join(", ");
        return Err(format!("`{text}` is not a provider ({known})"));
    }
    Ok(text.to_owned())
}

/// `open` or `closed`.
pub(super) fn fail_mode(text: &str) -> Result<FailMode, String> {
    match text.trim() {
        "open" => Ok(FailMode::Open),
        "closed" => Ok(FailMode::Closed),
        other => Err(format!("`{other}` is not open or closed")),
    }
}

/// What the outgoing guardrail does: `block`, `redact` or `off`.
pub(super) fn guardrail_action(text: &str) -> Result<agentic_core::llm::GuardrailAction, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "block" => Ok(agentic_core::llm::GuardrailAction::Block),
        "redact" => Ok(agentic_core::llm::GuardrailAction::Redact),
        "off" => Ok(agentic_core::llm::GuardrailAction::Off),
        other => Err(format!("`{other}` is not block, redact or off")),
    }
}

/// Provider names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Providers(pub(crate) Vec<String>);

/// Provider names, comma-separated (empty: none).
pub(super) fn provider_list(text: &str) -> Result<Providers, String> {
    text.split(',').map(str::trim).filter(|p| !p.is_empty()).map(provider_name).collect::<Result<_, _>>().map(Providers)
}

/// A quota such as `100/hour`, or `unlimited` (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate(pub(crate) Option<Quota>);

/// Parses a [`Rate`].
pub(super) fn rate(text: &str) -> Result<Rate, String> {
    RateLimitPolicy::parse_rate(text).map(Rate).map_err(|e| e.to_string())
}

/// A listener address, or `off` (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionalAddr(pub(crate) Option<SocketAddr>);

/// Parses an [`OptionalAddr`].
pub(super) fn optional_addr(text: &str) -> Result<OptionalAddr, String> {
    match text.trim() {
        "off" => Ok(OptionalAddr(None)),
        text => text
            .parse()
            .map(|addr| OptionalAddr(Some(addr)))
            .map_err(|_| format!("`{text}` is not an address like 127.0.0.1:9464, or `off`")),
    }
}

/// An address to listen on.
pub(super) fn addr(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| format!("`{text}` is not an address like 127.0.0.1:9000"))
}

/// The key webhook secrets are sealed with: base64 of exactly 32 bytes.
pub(super) fn webhook_key(text: &str) -> Result<SecretString, String> {
    agentic_core::webhooks::cipher::SecretCipher::from_base64(text).map_err(|e| e.to_string())?;
    Ok(SecretString::from(text.trim()))
}

/// Address ranges webhooks may reach although not public: comma-separated CIDRs (`10.1.0.0/16,127.0.0.1/32`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ranges(pub(crate) Vec<ipnet::IpNet>);

pub(super) fn ranges(text: &str) -> Result<Ranges, String> {
    let parts = text.split(',').map(str::trim).filter(|p| !p.is_empty());
    let nets = parts.map(|p| p.parse().map_err(|_| format!("`{p}` is not an address range like 10.0.0.0/8")));
    Ok(Ranges(nets.collect::<Result<_, _>>()?))
}

/// The delays of a webhook delivery's attempts, in seconds, comma-separated (`0,5,300`): 1 to 20 of them, each
/// at most a day.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Delays(pub(crate) Vec<std::time::Duration>);

pub(super) fn delays(text: &str) -> Result<Delays, String> {
    let mut delays = Vec::new();
    for part in text.split(',').map(str::trim) {
        let seconds: f64 = part.parse().map_err(|_| format!("`{part}` is not a number of seconds"))?;
        if !(0.0..=86_400.0).contains(&seconds) {
            return Err(format!("`{part}` must be between 0 and 86400 seconds"));
        }
        delays.push(std::time::Duration::from_secs_f64(seconds));
    }
    if !(1..=20).contains(&delays.len()) {
        return Err("must list 1 to 20 delays".into());
    }
    Ok(Delays(delays))
}

/// A share between 0 and 1.
pub(super) fn ratio(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(format!("`{text}` is not a number between 0 and 1")),
    }
}
