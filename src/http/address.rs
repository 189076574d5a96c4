//! The client's address: one canonical form for every address, and the walk along
//! X-Forwarded-For that believes only our trusted proxies. Pure functions: the settings use them
//! for their network lists, the extractors for each request.

use axum::http::HeaderValue;

/// One form for every address: an IPv4 address written as IPv6 (`::ffff:10.20.1.5`, as a socket
/// bound to `[::]` reports its IPv4 peers, or as a proxy may forward them) becomes the IPv4
/// address, so that network lists, throttle keys, audit entries and logs see one address as one.
pub fn canonical_ip(ip: std::net::IpAddr) -> std::net::IpAddr {
    ip.to_canonical()
}

/// A configured network in the same form: `::ffff:10.20.0.0/112` is `10.20.0.0/16` (a range that
/// only partly covers the mapped addresses is kept as written: no IPv4 address is in it).
pub fn canonical_net(net: ipnet::IpNet) -> ipnet::IpNet {
    match net {
        ipnet::IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(|v4| ipnet::IpNet::V4(v4.trunc()))
                .unwrap_or(net),
            None => net,
        },
        other => other,
    }
}

/// Walks X-Forwarded-For from the right past trusted proxies; the first other hop is the client.
/// Entries to its left were written by the client itself and are never believed, and a hop that
/// does not parse ends the walk at the last trusted address: what lies beyond it is unknown.
/// Every address is made canonical (`canonical_ip`) before it is compared or returned.
pub fn client_address<'a>(
    peer: std::net::IpAddr,
    forwarded: impl Iterator<Item = &'a HeaderValue>,
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = canonical_ip(peer);
    if !is_trusted(&peer) {
        return peer;
    }
    // Several header lines read as one list, in order.
    let lines: Vec<&HeaderValue> = forwarded.collect();
    let mut last_trusted = peer;
    for line in lines.iter().rev() {
        let Ok(line) = line.to_str() else {
            return last_trusted;
        };
        for hop in line.rsplit(',') {
            match hop.trim().parse::<std::net::IpAddr>().map(canonical_ip) {
                Ok(ip) if is_trusted(&ip) => last_trusted = ip,
                Ok(ip) => return ip,
                Err(_) => return last_trusted,
            }
        }
    }
    last_trusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let header = HeaderValue::from_static("198.51.100.7, 203.0.113.9, 10.0.0.3");
        // From a trusted proxy: the first untrusted hop from the right (the left part is client-written).
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::once(&header), &trusted),
            ip("203.0.113.9")
        );
        // From anyone else, the header is ignored.
        assert_eq!(
            client_address(ip("192.0.2.1"), std::iter::once(&header), &trusted),
            ip("192.0.2.1")
        );
        // A trusted peer with no header is itself the client.
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
        let garbage = HeaderValue::from_static("not-an-ip");
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::once(&garbage), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_hop_that_does_not_parse_ends_the_walk_at_the_last_trusted_address() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let walk = |value: &'static str| {
            client_address(
                ip("10.0.0.2"),
                std::iter::once(&HeaderValue::from_static(value)),
                &trusted,
            )
        };
        // The client wrote "198.51.100.7, garbage": before, the walk stopped at the garbage from
        // the left and believed 198.51.100.7; the proxy chain ends at 10.0.0.3.
        assert_eq!(walk("198.51.100.7, garbage, 10.0.0.3"), ip("10.0.0.3"));
        assert_eq!(
            walk("198.51.100.7, 203.0.113.9:4711, 10.0.0.3"),
            ip("10.0.0.3")
        );
        assert_eq!(walk("198.51.100.7,,10.0.0.3"), ip("10.0.0.3"));
        assert_eq!(walk("garbage"), ip("10.0.0.2"));
        // Only trusted hops: the leftmost of them.
        assert_eq!(walk("10.0.0.9, 10.0.0.3"), ip("10.0.0.9"));
        // Header lines are one list: the last line is nearest.
        let lines = [
            HeaderValue::from_static("198.51.100.7"),
            HeaderValue::from_static("203.0.113.9, 10.0.0.3"),
        ];
        assert_eq!(
            client_address(ip("10.0.0.2"), lines.iter(), &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ipv4_written_as_ipv6_is_one_address_with_its_ipv4_form() {
        let trusted: Vec<ipnet::IpNet> = vec!["127.0.0.1/32".parse().expect("net")];
        let walk = |peer: &str, value: &'static str| {
            client_address(
                ip(peer),
                std::iter::once(&HeaderValue::from_static(value)),
                &trusted,
            )
        };
        // A server bound to [::] sees its IPv4 proxy as ::ffff:127.0.0.1: still the trusted proxy.
        assert_eq!(walk("::ffff:127.0.0.1", "10.20.1.5"), ip("10.20.1.5"));
        // The client as the proxy wrote it in IPv6 form lands on the IPv4 address.
        assert_eq!(walk("127.0.0.1", "::ffff:10.20.1.5"), ip("10.20.1.5"));
        assert_eq!(
            walk("::ffff:127.0.0.1", "::FFFF:10.20.1.5"),
            ip("10.20.1.5")
        );
        // A mapped hop of the trusted proxy is skipped like its IPv4 form.
        assert_eq!(
            walk("127.0.0.1", "198.51.100.7, ::ffff:127.0.0.1"),
            ip("198.51.100.7")
        );
        // An untrusted peer is itself the client, in IPv4 form, and its header is ignored.
        assert_eq!(walk("::ffff:192.0.2.1", "10.20.1.5"), ip("192.0.2.1"));
        // Real IPv6 addresses are kept, and so is the old IPv4-compatible form (not a mapping).
        assert_eq!(walk("2001:db8::1", "10.20.1.5"), ip("2001:db8::1"));
        assert_eq!(walk("127.0.0.1", "2001:db8::7"), ip("2001:db8::7"));
        assert_eq!(walk("::7f00:1", "10.20.1.5"), ip("::7f00:1"));
        // Trusted to the end: the leftmost trusted hop, in IPv4 form.
        assert_eq!(walk("127.0.0.1", "::ffff:127.0.0.1"), ip("127.0.0.1"));
        // Garbage after a mapped proxy ends the walk at that proxy, in IPv4 form.
        assert_eq!(walk("::ffff:127.0.0.1", "::ffff:zz"), ip("127.0.0.1"));
    }

    #[test]
    fn configured_networks_in_ipv6_form_cover_the_ipv4_addresses() {
        let net = |s: &str| -> ipnet::IpNet { s.parse().expect("net") };
        assert_eq!(
            canonical_net(net("::ffff:10.20.0.0/112")),
            net("10.20.0.0/16")
        );
        assert_eq!(
            canonical_net(net("::ffff:10.20.1.5/128")),
            net("10.20.1.5/32")
        );
        assert_eq!(canonical_net(net("::ffff:0:0/96")), net("0.0.0.0/0"));
        // Host bits are dropped as the IPv4 range would have them.
        assert_eq!(
            canonical_net(net("::ffff:10.20.1.5/112")),
            net("10.20.0.0/16")
        );
        // Ranges that are not within the mapped block are kept as written.
        for kept in [
            "2001:db8::/32",
            "::/0",
            "::ffff:0:0/95",
            "10.0.0.0/8",
            "fd00::/8",
        ] {
            assert_eq!(canonical_net(net(kept)), net(kept), "{kept}");
        }
        assert!(
            canonical_net(net("::ffff:10.20.0.0/112"))
                .contains(&canonical_ip(ip("::ffff:10.20.9.9")))
        );
    }
}
