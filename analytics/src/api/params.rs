//! Query-string parameters, parsed into typed filters with a clear error for
//! anything unknown, repeated, malformed or out of range.

use std::collections::BTreeMap;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::error::ApiError;
use crate::{
    domain::{Outcome, SessionName},
    store::{Page, RunFilter},
};

/// Rows per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 100;
/// Most rows per page.
pub const MAX_LIMIT: u32 = 1000;
/// Largest `offset` accepted.
pub const MAX_OFFSET: u64 = 1_000_000_000;
/// Longest value accepted for any parameter.
const MAX_VALUE_LEN: usize = 256;

/// The parameters of a query string, each given at most once.
#[derive(Debug)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `query`, accepting only the names in `known`.
    pub fn parse(query: Option<&str>, known: &[&str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| ApiError::bad("query", format!("not a valid query string: {e}")))?;
        let mut params = BTreeMap::new();
        for (name, value) in pairs {
            if !known.contains(&name.as_str()) {
                let shown: String = name.chars().take(64).collect();
                return Err(ApiError::bad(
                    &shown,
                    format!(
                        "unknown parameter; known: {}",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
            if value.len() > MAX_VALUE_LEN {
                return Err(ApiError::bad(
                    &name,
                    format!("longer than {MAX_VALUE_LEN} bytes"),
                ));
            }
            if params.contains_key(&name) {
                return Err(ApiError::bad(&name, "given more than once"));
            }
            params.insert(name, value);
        }
        Ok(Self(params))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `limit` and `offset`.
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = match self.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| {
                    ApiError::bad(
                        "limit",
                        format!("must be an integer from 1 to {MAX_LIMIT}, got {raw:?}"),
                    )
                })?,
        };
        let offset = match self.get("offset") {
            None => 0,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|o| *o <= MAX_OFFSET)
                .ok_or_else(|| {
                    ApiError::bad(
                        "offset",
                        format!("must be an integer from 0 to {MAX_OFFSET}, got {raw:?}"),
                    )
                })?,
        };
        Ok(Page { limit, offset })
    }

    /// `session`, `from`, `to` and `outcome`.
    pub fn run_filter(&self) -> Result<RunFilter, ApiError> {
        let session = match self.get("session") {
            Some("") => return Err(ApiError::bad("session", "must not be empty")),
            Some(raw) => Some(SessionName::from_user(raw)),
            None => None,
        };
        let from_ms = self
            .get("from")
            .map(|raw| time_ms("from", raw))
            .transpose()?;
        let to_ms = self.get("to").map(|raw| time_ms("to", raw)).transpose()?;
        if let (Some(from), Some(to)) = (from_ms, to_ms)
            && from > to
        {
            return Err(ApiError::bad("to", "must not be before `from`"));
        }
        let outcome = self
            .get("outcome")
            .map(|raw| {
                Outcome::parse(raw).ok_or_else(|| {
                    ApiError::bad(
                        "outcome",
                        format!(
                            "must be one of {}, got {raw:?}",
                            Outcome::ALL.map(Outcome::as_str).join(", ")
                        ),
                    )
                })
            })
            .transpose()?;
        Ok(RunFilter {
            session,
            from_ms,
            to_ms,
            outcome,
        })
    }
}

/// An RFC 3339 time (`2026-01-31T12:00:00Z`) or epoch milliseconds.
fn time_ms(name: &str, raw: &str) -> Result<i64, ApiError> {
    let bad = || {
        ApiError::bad(
            name,
            format!(
                "must be an RFC 3339 time (2026-01-31T12:00:00Z) or epoch milliseconds, got {raw:?}"
            ),
        )
    };
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse::<i64>()
            .ok()
            .filter(|ms| *ms <= 253_402_300_799_999)
            .ok_or_else(bad);
    }
    let time = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| bad())?;
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNS: &[&str] = &["session", "from", "to", "outcome", "limit", "offset"];

    fn page(query: &str) -> Result<Page, ApiError> {
        Params::parse(Some(query), RUNS)?.page()
    }

    #[test]
    fn pages_default_and_bound() {
        assert_eq!(
            page("").unwrap(),
            Page {
                limit: DEFAULT_LIMIT,
                offset: 0
            }
        );
        assert_eq!(
            page("limit=5&offset=10").unwrap(),
            Page {
                limit: 5,
                offset: 10
            }
        );
        for bad in [
            "limit=0",
            "limit=-1",
            "limit=1001",
            "limit=abc",
            "offset=-5",
            "offset=1000000001",
            "offset=99999999999999999999999999",
            "limit=1.5",
        ] {
            let err = page(bad).expect_err(bad);
            assert!(matches!(err, ApiError::BadParameter { .. }), "{bad}");
        }
    }

    #[test]
    fn unknown_repeated_and_oversized_parameters_are_refused() {
        for bad in [
            "colour=red",
            "limit=1&limit=2",
            &format!("session={}", "a".repeat(300)),
        ] {
            assert!(Params::parse(Some(bad), RUNS).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_are_rfc3339_or_epoch_ms() {
        let filter = Params::parse(Some("from=2026-01-01T00:00:00Z&to=1767225600001"), RUNS)
            .unwrap()
            .run_filter()
            .unwrap();
        assert_eq!(filter.from_ms, Some(1_767_225_600_000));
        assert_eq!(filter.to_ms, Some(1_767_225_600_001));
        for bad in [
            "from=yesterday",
            "from=-1",
            "to=2026-13-01T00:00:00Z",
            "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        ] {
            assert!(
                Params::parse(Some(bad), RUNS)
                    .unwrap()
                    .run_filter()
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn outcomes_are_named() {
        let filter = Params::parse(Some("outcome=won"), RUNS)
            .unwrap()
            .run_filter()
            .unwrap();
        assert_eq!(filter.outcome, Some(Outcome::Won));
        assert!(
            Params::parse(Some("outcome=WON' OR 1=1"), RUNS)
                .unwrap()
                .run_filter()
                .is_err()
        );
    }
}
