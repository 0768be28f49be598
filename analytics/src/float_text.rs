//! Serde for scores in the stored session state: JSON has no infinity, and
//! late-game scores overflow to `inf`, so non-finite values are written as
//! the strings `"inf"`, `"-inf"` and `"nan"`.

use serde::{Deserialize, Deserializer, Serializer};

/// Writes a finite value as a number, any other as a string.
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(*value)
    } else if value.is_nan() {
        serializer.serialize_str("nan")
    } else if *value > 0.0 {
        serializer.serialize_str("inf")
    } else {
        serializer.serialize_str("-inf")
    }
}

/// Reads what [`serialize`] wrote.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Number(f64),
        Text(String),
    }
    match Stored::deserialize(deserializer)? {
        Stored::Number(n) => Ok(n),
        Stored::Text(t) => match t.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            other => Err(serde::de::Error::custom(format!(
                "expected a number, \"inf\", \"-inf\" or \"nan\", got {other:?}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Score(#[serde(with = "super")] f64);

    #[test]
    fn non_finite_scores_survive_json() {
        for value in [0.0, 1.5e300, f64::INFINITY, f64::NEG_INFINITY] {
            let text = serde_json::to_string(&Score(value)).expect("serialize");
            assert_eq!(
                serde_json::from_str::<Score>(&text).expect("deserialize"),
                Score(value)
            );
        }
        let nan = serde_json::to_string(&Score(f64::NAN)).expect("serialize");
        assert!(
            serde_json::from_str::<Score>(&nan)
                .expect("deserialize")
                .0
                .is_nan()
        );
        assert!(serde_json::from_str::<Score>("\"lots\"").is_err());
    }
}
