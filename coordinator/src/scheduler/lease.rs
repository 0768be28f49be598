//! What is asked for and what is granted.

use std::time::Duration;

use crate::domain::{At, FencingToken, Ident, LeaseId, Priority};

/// One request's reply slot, chosen by the caller.
pub type Ticket = u64;

/// A request for a lease, parsed (see [`crate::convert`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acquire {
    /// Resource name.
    pub resource: String,
    /// In the resource's unit.
    pub quantity: u64,
    /// Urgency.
    pub priority: Priority,
    /// Who will hold the lease.
    pub holder: Ident,
    /// How long the lease lasts unless renewed.
    pub lease_duration: Duration,
    /// How long to wait for capacity; zero: answer at once.
    pub wait_timeout: Duration,
    /// Idempotency key.
    pub request_id: Option<Ident>,
}

/// A granted lease.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lease {
    /// Its id (`l-<fencing token>`).
    pub id: LeaseId,
    /// Resource name.
    pub resource: String,
    /// Holder.
    pub holder: Ident,
    /// Quantity, in the resource's unit.
    pub quantity: u64,
    /// Priority it was requested with.
    pub priority: Priority,
    /// When granted.
    pub granted_at: At,
    /// When it expires unless renewed.
    pub expires_at: At,
    /// Its duration, applied again by a renewal that names none.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// Idempotency key it was requested with.
    pub request_id: Option<Ident>,
    /// The device a GPU memory lease is placed on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

impl Lease {
    /// Its fencing token.
    pub fn token(&self) -> FencingToken {
        self.id.token()
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
