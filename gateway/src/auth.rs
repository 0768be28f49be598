//! Who may call the gateway: API keys for programs, client networks for the
//! game mod, which cannot send headers.
//!
//! - The mod's own routes (event ingest, `/events/health`, the command poll)
//!   take a peer inside `--ingest-allow-cidr`, or a valid key from anywhere.
//!   Unset, that list is open while no key is configured, and loopback once
//!   one is: the mod polls `http://localhost:8080` whatever its event URL,
//!   so it always runs on this host.
//! - Everything else (queueing commands, replay, the gRPC `EventBus`) needs
//!   `Authorization: Bearer <key>` once a key is configured.
//! - Health and metrics stay open, for probes and Prometheus.
//!
//! [`AuthPolicy::is_enabled`] says whether API keys are configured.

use jimbot_service::auth::{Access, ApiKeys, AuthConfigError, KeyArgs, Networks};

/// The authentication flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub keys: KeyArgs,

    /// Networks (comma-separated CIDRs or addresses, or `none`) from which
    /// the mod's routes (event ingest and the command poll) are served
    /// without a key. Default: anywhere while no API key is configured,
    /// loopback (127.0.0.0/8, ::1) once one is.
    #[arg(
        long,
        env = "GATEWAY_INGEST_ALLOW_CIDR",
        value_name = "CIDR,...",
        value_parser = parse_networks
    )]
    pub ingest_allow_cidr: Option<Networks>,
}

impl AuthArgs {
    /// The policy these flags describe.
    pub fn policy(&self) -> AuthPolicy {
        AuthPolicy::new(self.keys.keys(), self.ingest_allow_cidr.clone())
    }
}

fn parse_networks(text: &str) -> Result<Networks, AuthConfigError> {
    text.parse()
}

/// The gateway's access rules (see the module docs). The default is open.
#[derive(Debug, Clone, Default)]
pub struct AuthPolicy {
    keys: ApiKeys,
    ingest_networks: Option<Networks>,
}

impl AuthPolicy {
    /// Keys required by the API; the mod's routes also served to
    /// `ingest_networks` (unset: see the module docs).
    pub fn new(keys: ApiKeys, ingest_networks: Option<Networks>) -> Self {
        let ingest_networks = match ingest_networks {
            None if keys.is_enabled() => Some(Networks::loopback()),
            other => other,
        };
        Self {
            keys,
            ingest_networks,
        }
    }

    /// Whether API keys are configured, i.e. whether the REST API and gRPC
    /// refuse callers without one. (A network list alone leaves them open.)
    pub fn is_enabled(&self) -> bool {
        self.keys.is_enabled()
    }

    /// The accepted keys.
    pub fn keys(&self) -> &ApiKeys {
        &self.keys
    }

    /// The networks the mod's routes are served to without a key, if limited.
    pub fn ingest_networks(&self) -> Option<&Networks> {
        self.ingest_networks.as_ref()
    }

    /// Who may call the mod's routes.
    pub fn game_access(&self) -> Access {
        match &self.ingest_networks {
            Some(networks) => Access::keys_or_networks(self.keys.clone(), networks.clone()),
            None => Access::keys(self.keys.clone()),
        }
    }

    /// Who may call the rest of the API (and gRPC).
    pub fn api_access(&self) -> Access {
        Access::keys(self.keys.clone())
    }

    /// Logs what is enforced (names only, never keys).
    pub fn log(&self) {
        let keys: Vec<&str> = self.keys.names().collect();
        match (&self.ingest_networks, self.keys.is_enabled()) {
            (None, false) => tracing::info!("authentication off: no API keys configured"),
            (networks, _) => tracing::info!(
                ?keys,
                ingest_networks = ?networks,
                "authentication on"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jimbot_service::auth::hash_key;

    #[test]
    fn keys_default_the_mod_to_loopback() {
        let keys = ApiKeys::parse_list(&hash_key(b"k")).expect("valid");
        let policy = AuthPolicy::new(keys.clone(), None);
        assert!(policy.is_enabled());
        assert_eq!(policy.ingest_networks(), Some(&Networks::loopback()));
        let none: Networks = "none".parse().expect("valid");
        let policy = AuthPolicy::new(keys, Some(none.clone()));
        assert_eq!(policy.ingest_networks(), Some(&none));
    }

    #[test]
    fn default_is_open() {
        let policy = AuthPolicy::default();
        assert!(!policy.is_enabled());
        assert!(!policy.game_access().is_restricted());
        assert!(!policy.api_access().is_restricted());
        let nets: Networks = "10.0.0.0/8".parse().expect("valid");
        let policy = AuthPolicy::new(ApiKeys::none(), Some(nets));
        assert!(
            !policy.is_enabled(),
            "a network list alone leaves the API open"
        );
        assert!(policy.game_access().is_restricted());
    }
}
