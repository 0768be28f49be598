//! Serde for the floating-point values of the stored session state.
//!
//! They are written as strings: JSON has no infinity (late-game scores
//! overflow to `inf`), and a JSON number read back by `serde_json` can be
//! one unit in the last place off, which would make a restarted consumer's
//! sums differ from an uninterrupted one's. Rust's own formatting and
//! parsing of `f64` round-trip exactly.

use serde::{Deserialize, Deserializer, Serializer};

/// Writes a value as its exact decimal text (`"inf"`, `"-inf"`, `"NaN"` included).
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_string())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Number(f64),
    Text(String),
}

impl Stored {
    fn value<E: serde::de::Error>(self) -> Result<f64, E> {
        match self {
            Stored::Number(n) => Ok(n),
            Stored::Text(t) => t
                .parse()
                .map_err(|_| E::custom(format!("expected a number, got {t:?}"))),
        }
    }
}

/// Reads what [`serialize`] wrote (or a plain JSON number).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Stored::deserialize(deserializer)?.value()
}

/// The same for optional values.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `None` as `null`, a value as its exact text.
    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serializer.serialize_str(&v.to_string()),
            None => serializer.serialize_none(),
        }
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        Option::<super::Stored>::deserialize(deserializer)?
            .map(super::Stored::value)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Score(#[serde(with = "super")] f64);

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Money(#[serde(with = "super::option")] Option<f64>);

    #[test]
    fn values_survive_json_exactly() {
        for value in [
            0.0,
            61_375.2,
            61_375.199_999_999_99,
            0.1 + 0.2,
            1.5e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let text = serde_json::to_string(&Score(value)).expect("serialize");
            let back = serde_json::from_str::<Score>(&text).expect("deserialize");
            assert_eq!(back.0.to_bits(), value.to_bits(), "{text}");
        }
        let nan = serde_json::to_string(&Score(f64::NAN)).expect("serialize");
        assert!(
            serde_json::from_str::<Score>(&nan)
                .expect("deserialize")
                .0
                .is_nan()
        );
        assert_eq!(
            serde_json::from_str::<Score>("12.5").expect("a plain number"),
            Score(12.5)
        );
        assert!(serde_json::from_str::<Score>("\"lots\"").is_err());
        for money in [None, Some(-3.0), Some(0.1 + 0.7)] {
            let text = serde_json::to_string(&Money(money)).expect("serialize");
            assert_eq!(
                serde_json::from_str::<Money>(&text).expect("deserialize"),
                Money(money)
            );
        }
    }
}
