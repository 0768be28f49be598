//! Which addresses the gateway may listen on. It binds loopback by default;
//! an address other machines can reach, without API keys, would let anyone
//! on the network queue commands into games and read every session, so it
//! is refused at start unless explicitly allowed.

use std::net::SocketAddr;

/// The flag that allows serving other machines without authentication.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BindArgs {
    /// Listen on non-loopback addresses even without API keys configured:
    /// anyone who can reach them may then use the whole API. Only for
    /// networks that are themselves trusted (a container network, say).
    #[arg(long, env = "GATEWAY_ALLOW_UNAUTHENTICATED_REMOTE")]
    pub allow_unauthenticated_remote: bool,
}

/// A listen address other machines can reach, with no authentication.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to listen on {addr} ({kind}) without authentication: anyone who can reach it \
     could queue commands and read every session. Configure API keys (--api-keys-file or \
     --api-key-hashes), or pass --allow-unauthenticated-remote \
     (GATEWAY_ALLOW_UNAUTHENTICATED_REMOTE=true) if that network is trusted"
)]
pub struct UnauthenticatedRemote {
    /// The first such address.
    pub addr: SocketAddr,
    /// `HTTP` or `gRPC`.
    pub kind: &'static str,
}

impl BindArgs {
    /// Checks the listen addresses against the authentication settings:
    /// every address must be loopback unless `authenticated` (API keys are
    /// configured) or the flag allows it.
    pub fn check(
        &self,
        http: &[SocketAddr],
        grpc: &[SocketAddr],
        authenticated: bool,
    ) -> Result<(), UnauthenticatedRemote> {
        let remote = http
            .iter()
            .map(|addr| (*addr, "HTTP"))
            .chain(grpc.iter().map(|addr| (*addr, "gRPC")))
            .find(|(addr, _)| !addr.ip().is_loopback());
        let Some((addr, kind)) = remote else {
            return Ok(());
        };
        if authenticated {
            return Ok(());
        }
        if self.allow_unauthenticated_remote {
            tracing::warn!(
                %addr,
                kind,
                "listening beyond loopback without authentication (--allow-unauthenticated-remote)"
            );
            return Ok(());
        }
        Err(UnauthenticatedRemote { addr, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().expect("address")).collect()
    }

    #[test]
    fn loopback_is_always_fine_and_anything_else_needs_keys_or_the_flag() {
        let refuse = BindArgs::default();
        let allow = BindArgs {
            allow_unauthenticated_remote: true,
        };
        let loopback = addrs(&["127.0.0.1:8080", "[::1]:8080", "127.0.0.2:1"]);
        assert_eq!(refuse.check(&loopback, &loopback, false), Ok(()));
        for remote in ["0.0.0.0:8080", "[::]:8080", "192.168.1.5:8080"] {
            let remote = addrs(&[remote]);
            let err = refuse
                .check(&loopback, &remote, false)
                .expect_err("remote gRPC without keys");
            assert_eq!(err.addr, remote[0]);
            assert_eq!(err.kind, "gRPC");
            assert!(refuse.check(&remote, &loopback, false).is_err(), "HTTP");
            assert_eq!(refuse.check(&remote, &remote, true), Ok(()), "keys");
            assert_eq!(allow.check(&remote, &remote, false), Ok(()), "flag");
        }
    }
}
