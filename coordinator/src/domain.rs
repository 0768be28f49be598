//! The coordinator's vocabulary as types: what a request names, parsed once
//! at the edge so the scheduler never sees an unchecked value.

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};

/// Longest holder, request id or lease id accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// How urgent a request is. Waiting requests are served in this order (with
/// aging, see [`crate::scheduler`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Served first; may use the quota's reserve.
    High,
    /// Served after every `High`.
    Medium,
    /// Served last, but rises with waiting.
    Low,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    /// 0 for `High`, 1 for `Medium`, 2 for `Low`.
    pub fn rank(self) -> u64 {
        match self {
            Priority::High => 0,
            Priority::Medium => 1,
            Priority::Low => 2,
        }
    }

    /// The lower-case name, for metric labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

/// A non-empty printable identifier of bounded length (holders, request
/// ids, lease ids): no control characters, so it is safe in logs, metric-free
/// audit records and KV keys once encoded.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ident(String);

/// Why a string is not an [`Ident`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    /// Empty (or only whitespace).
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_ID_LEN`] bytes.
    #[error("longer than {MAX_ID_LEN} bytes ({0})")]
    TooLong(usize),
    /// Contains a control character.
    #[error("contains a control character")]
    ControlCharacter,
}

impl Ident {
    /// Checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, IdentError> {
        if raw.trim().is_empty() {
            return Err(IdentError::Empty);
        }
        if raw.len() > MAX_ID_LEN {
            return Err(IdentError::TooLong(raw.len()));
        }
        if raw.chars().any(char::is_control) {
            return Err(IdentError::ControlCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Ident {
    type Error = IdentError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Ident> for String {
    fn from(ident: Ident) -> Self {
        ident.0
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A lease's identity: `l-<fencing token>`, unique because fencing tokens are.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LeaseId(FencingToken);

impl LeaseId {
    /// The id of the lease granted with `token`.
    pub fn new(token: FencingToken) -> Self {
        Self(token)
    }

    /// Parses `l-<n>`; anything else names no lease.
    pub fn parse(raw: &str) -> Option<Self> {
        let digits = raw.strip_prefix("l-")?;
        if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(|n| Self(FencingToken(n)))
    }

    /// The fencing token it was granted with.
    pub fn token(self) -> FencingToken {
        self.0
    }
}

impl TryFrom<String> for LeaseId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw).ok_or_else(|| format!("not a lease id: {raw:?}"))
    }
}

impl From<LeaseId> for String {
    fn from(id: LeaseId) -> Self {
        id.to_string()
    }
}

impl fmt::Display for LeaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "l-{}", self.0.0)
    }
}

impl fmt::Debug for LeaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// A number that only ever grows across all grants, also across restarts,
/// so a resource's user can reject work from a holder whose lease was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FencingToken(pub u64);

/// A point in time: wall-clock time since the UNIX epoch, so expiries mean
/// the same to a restarted coordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct At(#[serde(with = "nanos")] Duration);

impl At {
    /// The time `since_epoch` after the UNIX epoch.
    pub const fn from_unix(since_epoch: Duration) -> Self {
        Self(since_epoch)
    }

    /// Time since the UNIX epoch.
    pub fn since_epoch(self) -> Duration {
        self.0
    }

    /// `self + d`, saturating.
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d))
    }

    /// How long from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: At) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

mod nanos {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents_refuse_empty_long_and_control_characters() {
        assert_eq!(Ident::parse(""), Err(IdentError::Empty));
        assert_eq!(Ident::parse("  "), Err(IdentError::Empty));
        assert_eq!(
            Ident::parse(&"x".repeat(MAX_ID_LEN + 1)),
            Err(IdentError::TooLong(MAX_ID_LEN + 1))
        );
        assert_eq!(Ident::parse("a\nb"), Err(IdentError::ControlCharacter));
        assert_eq!(Ident::parse("a\u{7f}"), Err(IdentError::ControlCharacter));
        assert_eq!(Ident::parse("trainer/0 ü").unwrap().as_str(), "trainer/0 ü");
    }

    #[test]
    fn lease_ids_round_trip_and_refuse_anything_else() {
        let id = LeaseId::new(FencingToken(42));
        assert_eq!(id.to_string(), "l-42");
        assert_eq!(LeaseId::parse("l-42"), Some(id));
        for bad in [
            "",
            "l-",
            "42",
            "l-4x",
            "l--1",
            "l-99999999999999999999999",
            "L-1",
        ] {
            assert_eq!(LeaseId::parse(bad), None, "{bad}");
        }
    }
}
