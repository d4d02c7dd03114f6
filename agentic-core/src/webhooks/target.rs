//! Where a webhook may be delivered: an https URL whose every address is public (the SSRF guard).
//!
//! A URL is checked when an endpoint is created and again, resolved, before each delivery; the delivery then
//! connects to the address that was checked ([`Target::addr`]), so a DNS answer that changes between the check
//! and the connection (DNS rebinding) cannot send it elsewhere.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use url::Url;

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not a URL with a host.
    #[error("`{0}` is not an absolute URL with a host")]
    Malformed(String),
    /// `http` while the operator allows only `https`.
    #[error("webhook URLs must use https")]
    NotHttps,
    /// Another scheme than http(s).
    #[error("webhook URLs must use https (not `{0}`)")]
    Scheme(String),
    /// User name or password in the URL (they would be sent to the receiver and logged).
    #[error("webhook URLs must not carry credentials")]
    Credentials,
    /// The host does not resolve.
    #[error("`{host}` does not resolve: {reason}")]
    Unresolvable {
        /// The host.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// The host is, or resolves to, an address deliveries may not reach.
    #[error("`{host}` resolves to {addr}, a {reason} address, which webhooks may not reach")]
    Forbidden {
        /// The host.
        host: String,
        /// The address.
        addr: IpAddr,
        /// Which kind of address it is (loopback, private, link-local, ...).
        reason: &'static str,
    },
}

/// Where deliveries may go: https only unless `allow_http`, never to a non-public address unless it is in
/// `allowed` (an operator's allow-list, e.g. a receiver on the same network; tests use it for loopback).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Accept `http://` URLs too.
    pub allow_http: bool,
    /// Address ranges that are allowed even though they are not public.
    pub allowed: Vec<IpNet>,
}

/// A checked destination: the URL, and the one address to connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL, as given.
    pub url: Url,
    /// The address that was checked; connect to it (with the URL's host name for TLS and `Host`).
    pub addr: SocketAddr,
}

impl TargetPolicy {
    /// Checks a URL's form (scheme, host, no credentials) and, when its host is an address literal, that address.
    pub fn check_url(&self, text: &str) -> Result<Url, TargetError> {
        let url = Url::parse(text.trim()).map_err(|_| TargetError::Malformed(text.to_owned()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(TargetError::NotHttps),
            other => return Err(TargetError::Scheme(other.to_owned())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials);
        }
        let host = url.host().ok_or_else(|| TargetError::Malformed(text.to_owned()))?;
        let literal = match host {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        };
        if let Some(addr) = literal {
            self.check_addr(&host.to_string(), addr)?;
        }
        Ok(url)
    }

    /// Resolves the URL's host and checks every address it has (one forbidden address refuses the URL, so that
    /// no answer order can reach it); the first is the one to connect to.
    pub async fn resolve(&self, url: &Url) -> Result<Target, TargetError> {
        let host = url.host_str().ok_or_else(|| TargetError::Malformed(url.to_string()))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = self.resolve_host(host, port).await?;
        let first = addrs.first().copied();
        let addr =
            first.ok_or_else(|| TargetError::Unresolvable { host: host.to_owned(), reason: "no address".into() })?;
        Ok(Target { url: url.clone(), addr })
    }

    /// Every address of `host` (a name, or an address literal with or without brackets), each checked: one
    /// forbidden address refuses them all. The delivery client resolves through this, so the addresses it
    /// connects to are the ones checked, in the same lookup.
    pub async fn resolve_host(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, TargetError> {
        let unresolvable = |reason: String| TargetError::Unresolvable { host: host.to_owned(), reason };
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| unresolvable(e.to_string()))?
            .collect();
        if addrs.is_empty() {
            return Err(unresolvable("no address".into()));
        }
        for addr in &addrs {
            self.check_addr(host, addr.ip())?;
        }
        Ok(addrs)
    }

    fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), TargetError> {
        match forbidden_reason(addr) {
            Some(reason) if !self.allowed.iter().any(|net| net.contains(&addr)) => {
                Err(TargetError::Forbidden { host: host.to_owned(), addr, reason })
            }
            _ => Ok(()),
        }
    }
}

/// The address ranges deliveries may not reach, with what each is. IPv4-mapped IPv6 addresses are checked as
/// the IPv4 address they map.
const FORBIDDEN: &[(&str, &str)] = &[
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata)"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
];

/// [`FORBIDDEN`], parsed once.
static FORBIDDEN_RANGES: std::sync::LazyLock<Vec<(IpNet, &'static str)>> = std::sync::LazyLock::new(|| {
    FORBIDDEN.iter().filter_map(|(net, reason)| net.parse().ok().map(|net| (net, *reason))).collect()
});

/// Why deliveries may not reach `addr`, or `None` for a public address.
pub fn forbidden_reason(addr: IpAddr) -> Option<&'static str> {
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    // The most specific range names the address (`::1` is loopback, not merely IPv4-compatible).
    FORBIDDEN_RANGES
        .iter()
        .filter(|(net, _)| net.contains(&addr))
        .max_by_key(|(net, _)| net.prefix_len())
        .map(|(_, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_of_the_table_parses() {
        assert_eq!(FORBIDDEN_RANGES.len(), FORBIDDEN.len());
    }

    #[test]
    fn non_public_addresses_are_refused_with_their_kind() {
        let policy = TargetPolicy { allow_http: true, ..TargetPolicy::default() };
        for (url, reason) in [
            ("http://127.0.0.1/hook", "loopback"),
            ("http://[::1]/hook", "loopback"),
            ("http://169.254.169.254/latest/meta-data", "link-local (cloud metadata)"),
            ("http://10.0.0.1/", "private (RFC 1918)"),
            ("http://192.168.1.10/", "private (RFC 1918)"),
            ("http://100.64.0.1/", "shared (CGNAT)"),
            ("http://[::ffff:127.0.0.1]/", "loopback"),
            ("http://[fd00:ec2::254]/", "unique-local"),
            ("http://[fe80::1]/", "link-local"),
            ("http://224.0.0.1/", "multicast"),
            ("http://0.0.0.0/", "unspecified"),
            ("http://[::]/", "unspecified"),
            ("http://172.31.255.1/", "private (RFC 1918)"),
            ("http://255.255.255.255/", "reserved"),
        ] {
            match policy.check_url(url) {
                Err(TargetError::Forbidden { reason: got, .. }) => assert_eq!(got, reason, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        assert!(policy.check_url("https://93.184.215.14/hook").is_ok());
        assert!(policy.check_url("https://[2606:4700::1111]/hook").is_ok());
    }

    #[test]
    fn only_https_without_credentials_unless_allowed() {
        let strict = TargetPolicy::default();
        assert_eq!(strict.check_url("http://example.com/hook"), Err(TargetError::NotHttps));
        assert_eq!(strict.check_url("ftp://example.com/"), Err(TargetError::Scheme("ftp".into())));
        assert_eq!(strict.check_url("https://user:pw@example.com/"), Err(TargetError::Credentials));
        assert!(matches!(strict.check_url("not a url"), Err(TargetError::Malformed(_))));
        assert!(strict.check_url("https://example.com/hook?x=1").is_ok());
        let loopback = TargetPolicy { allow_http: true, allowed: vec!["127.0.0.0/8".parse().unwrap()] };
        assert!(loopback.check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(loopback.check_url("http://10.0.0.1/").is_err(), "only the allowed range");
    }

    #[tokio::test]
    async fn a_name_is_checked_on_every_address_it_resolves_to() {
        let policy = TargetPolicy { allow_http: true, ..TargetPolicy::default() };
        let url = policy.check_url("http://localhost:9/hook").unwrap();
        match policy.resolve(&url).await {
            Err(TargetError::Forbidden { host, reason, .. }) => {
                assert_eq!((host.as_str(), reason), ("localhost", "loopback"))
            }
            other => panic!("{other:?}"),
        }
        let allowed = TargetPolicy {
            allow_http: true,
            allowed: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        };
        let target = allowed.resolve(&url).await.unwrap();
        assert!(target.addr.ip().is_loopback() && target.addr.port() == 9);
        let missing = policy.check_url("http://no-such-host.invalid/").unwrap();
        assert!(matches!(policy.resolve(&missing).await, Err(TargetError::Unresolvable { .. })));
    }
}
