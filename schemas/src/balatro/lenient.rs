//! Small deserialisers for the mod's loosely typed values: numbers that may be
//! non-finite sentinels, `{}` standing for an empty array, ids that are
//! numbers or strings, and `context_type` that is a bool or a string.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::sanitize::sentinel_to_f64;

/// A number as the mod prints it (`%.14g`, integers, exponent form, `-0`,
/// and the pre-pass's sentinels for `inf`/`nan`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            #[allow(clippy::cast_precision_loss, reason = "game numbers are doubles")]
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            #[allow(clippy::cast_precision_loss, reason = "game numbers are doubles")]
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                sentinel_to_f64(v)
                    .map(Num)
                    .ok_or_else(|| E::invalid_type(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}

/// An `id` that is a number (usually fractional) or a fallback string.
#[derive(Debug, Clone, PartialEq)]
pub enum Id {
    /// `unique_val`.
    Number(f64),
    /// E.g. `"joker_3"` or `"unknown"`.
    Text(String),
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                Ok(Id::Number(v))
            }
            #[allow(clippy::cast_precision_loss, reason = "ids are doubles")]
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id::Number(v as f64))
            }
            #[allow(clippy::cast_precision_loss, reason = "ids are doubles")]
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id::Number(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(sentinel_to_f64(v).map_or_else(|| Id::Text(v.to_owned()), Id::Number))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// A value that is a boolean or a string (`context_type`).
#[derive(Debug, Clone, PartialEq)]
pub enum BoolOrText {
    /// `true`/`false`.
    Bool(bool),
    /// E.g. `"unknown"`.
    Text(String),
}

impl<'de> Deserialize<'de> for BoolOrText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BoolOrTextVisitor;
        impl Visitor<'_> for BoolOrTextVisitor {
            type Value = BoolOrText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean or a string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<BoolOrText, E> {
                Ok(BoolOrText::Bool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BoolOrText, E> {
                Ok(BoolOrText::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(BoolOrTextVisitor)
    }
}

/// A number or a string (`rarity`, `g_state`).
pub type NumOrText = Id;

/// A list the mod may send as an array, as `{}` (its encoding of an empty
/// array), or as an object keyed `"1"`, `"2"`, ... (its encoding of a nested
/// array), which is read in key order.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array (or {} for an empty one)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<List<T>, A::Error> {
                let mut keyed = Vec::new();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let Ok(position) = key.parse::<u64>() else {
                        return Err(de::Error::invalid_value(
                            de::Unexpected::Str(&key),
                            &"an array, {}, or an object keyed by array positions",
                        ));
                    };
                    keyed.push((position, map.next_value()?));
                }
                keyed.sort_by_key(|(position, _)| *position);
                Ok(List(keyed.into_iter().map(|(_, item)| item).collect()))
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// An object keyed by names (`score_history`, `shop_items`); an empty array
/// is accepted as the empty object, since to the mod's encoder they are one.
#[derive(Debug, Clone, PartialEq)]
pub struct Dict<T>(pub Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Dict<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DictVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for DictVisitor<T> {
            type Value = Dict<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dict<T>, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Dict(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dict<T>, A::Error> {
                match seq.next_element::<de::IgnoredAny>()? {
                    None => Ok(Dict(Vec::new())),
                    Some(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &self)),
                }
            }
        }
        deserializer.deserialize_any(DictVisitor(PhantomData))
    }
}
