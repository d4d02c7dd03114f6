//! The client's address behind trusted proxies. Every replica sits behind a load balancer, whose address would
//! otherwise be every client's: when (and only when) the peer is a trusted proxy, the client is the rightmost
//! untrusted hop of `Forwarded` (RFC 7239), or else of `X-Forwarded-For`. Headers from an untrusted peer are
//! ignored, so a client cannot name another address to leave its rate-limit bucket. The per-IP limit and the
//! request span read the [`ClientIp`] this layer puts in the request's extensions.
//!
//! Written here rather than taken from a crate: the ones that read these headers choose a hop by position, not by
//! the operator's trusted networks, which is what keeps a spoofed header from mattering.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::{HeaderMap, Request};
use ipnet::IpNet;

/// The client's address, as this layer decided it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Puts the request's [`ClientIp`] in its extensions (nothing when the peer address is unknown).
pub fn layer<B>(trusted: Vec<IpNet>) -> tower::util::MapRequestLayer<impl Fn(Request<B>) -> Request<B> + Clone> {
    tower::util::MapRequestLayer::new(move |mut request: Request<B>| {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        if let Some(peer) = peer {
            let client = client_ip(&trusted, peer, request.headers());
            request.extensions_mut().insert(ClientIp(client));
        }
        request
    })
}

/// The client of a request from `peer`: `peer` itself unless it is in `trusted`; then the rightmost hop of the
/// forwarding headers that is not trusted (the leftmost when all are). A hop that does not parse ends the walk
/// at the last trusted one (a garbled header never frees a client from its proxy's bucket).
pub fn client_ip(trusted: &[IpNet], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in hops(headers).into_iter().rev() {
        match hop {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// The hops the headers list, oldest first (`None` for one that does not parse): `Forwarded`'s `for=` when it is
/// present, else `X-Forwarded-For`.
fn hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().map(|v| v.to_str().map(str::to_owned).unwrap_or_default()).collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    values("x-forwarded-for").iter().flat_map(|line| line.split(',')).map(parse_node).collect()
}

/// An address as the headers write it: bare, quoted, bracketed (IPv6), with or without a port.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    node.strip_prefix('[').and_then(|rest| rest.split_once(']')).and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let spoof = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(client_ip(&trusted, ip("203.0.113.9"), &spoof), ip("203.0.113.9"));
        assert_eq!(client_ip(&[], ip("10.0.0.1"), &spoof), ip("10.0.0.1"), "nothing is trusted by default");
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()];
        let peer = ip("10.0.0.2");
        // The client prepended a spoofed hop; the proxies appended the real one.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7"), ("x-forwarded-for", "10.1.1.1")]);
        assert_eq!(client_ip(&trusted, peer, &chain), ip("198.51.100.7"));
        let forwarded = headers(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For="198.51.100.8:443";by=10.0.0.2"#,
        )]);
        assert_eq!(client_ip(&trusted, peer, &forwarded), ip("198.51.100.8"), "Forwarded wins over XFF");
        assert_eq!(client_ip(&trusted, peer, &headers(&[("x-forwarded-for", "10.9.9.9")])), ip("10.9.9.9"));
        assert_eq!(client_ip(&trusted, peer, &HeaderMap::new()), peer, "no header: the proxy itself");
        // Garbage stops the walk at the last trusted hop.
        let garbled = headers(&[("x-forwarded-for", "198.51.100.7, nonsense, 10.1.1.1")]);
        assert_eq!(client_ip(&trusted, peer, &garbled), ip("10.1.1.1"));
        assert_eq!(client_ip(&trusted, peer, &headers(&[("forwarded", "for=unknown")])), peer);
    }

    #[test]
    fn nodes_are_read_in_every_form_the_headers_use() {
        for (node, expected) in [
            ("192.0.2.60", Some("192.0.2.60")),
            ("\"192.0.2.60:8080\"", Some("192.0.2.60")),
            ("\"[2001:db8::1]:4711\"", Some("2001:db8::1")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("_hidden", None),
            ("", None),
        ] {
            assert_eq!(parse_node(node), expected.map(ip), "{node}");
        }
    }
}
