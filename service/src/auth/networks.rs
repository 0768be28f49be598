//! Client networks allowed by address (CIDR), for clients that cannot send a
//! key: the game mod sends no headers of its own.

use std::{fmt, net::IpAddr, str::FromStr, sync::Arc};

use ipnet::IpNet;

use super::AuthConfigError;

/// A list of networks; a peer inside any of them is allowed. Shared, so the
/// middleware's per-request clone of its state does not copy it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Networks(Arc<[IpNet]>);

impl fmt::Debug for Networks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(ToString::to_string))
            .finish()
    }
}

impl Networks {
    /// The loopback networks, `127.0.0.0/8` and `::1/128`.
    pub fn loopback() -> Self {
        Self(Arc::new([
            IpNet::from_str("127.0.0.0/8").expect("valid"),
            IpNet::from_str("::1/128").expect("valid"),
        ]))
    }

    /// Whether `peer` is inside one of the networks. An IPv4 peer seen on an
    /// IPv6 socket (`::ffff:10.1.2.3`) counts as its IPv4 address.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.0.iter().any(|net| net.contains(&peer))
    }

    /// Whether the list allows nobody (`none`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for Networks {
    type Err = AuthConfigError;

    /// Comma-separated CIDRs (`10.0.0.0/8,fd00::/8`); a bare address is a
    /// single host; `none` allows no network.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(Self::default());
        }
        let mut nets = Vec::new();
        for (index, raw) in text.split(',').map(str::trim).enumerate() {
            let net = IpNet::from_str(raw)
                .or_else(|_| IpAddr::from_str(raw).map(IpNet::from))
                .map_err(|_| AuthConfigError::Network {
                    at: index + 1,
                    value: raw.to_owned(),
                })?;
            // `10.1.2.3/8` is almost certainly meant as `10.0.0.0/8`.
            nets.push(net.trunc());
        }
        Ok(Self(nets.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn contains_checks_every_network() {
        let nets: Networks = "10.0.0.0/8, 192.168.1.7, fd00::/8".parse().expect("valid");
        assert!(nets.contains(ip("10.200.3.4")));
        assert!(nets.contains(ip("192.168.1.7")));
        assert!(!nets.contains(ip("192.168.1.8")));
        assert!(nets.contains(ip("fd12::1")));
        assert!(!nets.contains(ip("fe80::1")));
        assert!(nets.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped");
    }

    #[test]
    fn loopback_and_none() {
        assert!(Networks::loopback().contains(ip("127.0.0.1")));
        assert!(Networks::loopback().contains(ip("::1")));
        assert!(!Networks::loopback().contains(ip("10.0.0.1")));
        let none: Networks = "none".parse().expect("valid");
        assert!(none.is_empty() && !none.contains(ip("127.0.0.1")));
    }

    #[test]
    fn bad_networks_are_named() {
        for (text, expected) in [
            ("10.0.0.0/33", "entry 1"),
            ("10.0.0.0/8,bogus", "entry 2"),
            ("", "entry 1"),
            ("10.0.0.0/8,", "entry 2"),
        ] {
            let error = text.parse::<Networks>().expect_err(text).to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
