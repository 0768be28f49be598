//! Why a body, or one event of it, could not be used.
//!
//! The two levels are separate types because the gateway treats them
//! differently: a [`BodyError`] dead-letters the whole request body, an
//! [`EventError`] only that event (its siblings are still stored).

use thiserror::Error;

/// What kind of problem made a whole body unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyErrorKind {
    /// The body was empty (or only whitespace).
    Empty,
    /// Not JSON even after the lenient pre-pass (truncated, garbage, ...).
    InvalidJson,
    /// Nested deeper than the parser's recursion limit (128).
    TooDeep,
    /// The top level is not an object.
    NotAnObject,
    /// A batch without an `events` key.
    MissingEvents,
    /// A batch whose `events` is not an array (nor `{}`).
    EventsNotArray,
    /// A batch-level field (`batch_id`, `source`, `timestamp`) has an impossible type.
    InvalidField,
    /// A batch with more events than the caller allows (the mod sends at most 50).
    TooManyEvents,
}

impl BodyErrorKind {
    /// A stable snake_case name, e.g. for a dead-letter subject or metric.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyErrorKind::Empty => "empty_body",
            BodyErrorKind::InvalidJson => "invalid_json",
            BodyErrorKind::TooDeep => "too_deep",
            BodyErrorKind::NotAnObject => "not_an_object",
            BodyErrorKind::MissingEvents => "missing_events",
            BodyErrorKind::EventsNotArray => "events_not_array",
            BodyErrorKind::InvalidField => "invalid_field",
            BodyErrorKind::TooManyEvents => "too_many_events",
        }
    }
}

/// The whole request body cannot be used; keep it raw with this reason.
#[derive(Debug, Clone, Error)]
#[error("{detail}")]
pub struct BodyError {
    kind: BodyErrorKind,
    detail: String,
}

impl BodyError {
    pub(crate) fn new(kind: BodyErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// What went wrong, for matching.
    pub fn kind(&self) -> BodyErrorKind {
        self.kind
    }
}

/// What kind of problem made one event unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventErrorKind {
    /// The `events` element is not a JSON object.
    NotAnObject,
    /// No `type` key.
    MissingType,
    /// A field has a type the schema cannot accept (e.g. a string where a
    /// number belongs, a non-string `type`).
    InvalidField,
}

impl EventErrorKind {
    /// A stable snake_case name, e.g. for a dead-letter subject or metric.
    pub fn as_str(self) -> &'static str {
        match self {
            EventErrorKind::NotAnObject => "event_not_an_object",
            EventErrorKind::MissingType => "event_missing_type",
            EventErrorKind::InvalidField => "event_invalid_field",
        }
    }
}

/// One event cannot be used; its siblings are unaffected.
///
/// Displays as `event <index>: <field path>: <what>`, e.g.
/// `event 3: payload.ante: expected a number, found a string "x"`.
#[derive(Debug, Clone, Error)]
#[error("event {index}: {}{detail}", path_prefix(.path))]
pub struct EventError {
    kind: EventErrorKind,
    index: usize,
    path: String,
    detail: String,
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

impl EventError {
    pub(crate) fn new(
        kind: EventErrorKind,
        index: usize,
        path: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            index,
            path: path.into(),
            detail: detail.into(),
        }
    }

    /// What went wrong, for matching.
    pub fn kind(&self) -> EventErrorKind {
        self.kind
    }

    /// Position of the event in the batch's `events` (0 for a single event).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Dotted path of the offending field within the event, e.g.
    /// `payload.jokers[2].name`; empty when the event itself is the problem.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Prefixes the path (used when an embedded `changes` element fails).
    pub(crate) fn nest(mut self, prefix: &str) -> Self {
        self.path = if self.path.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.path)
        };
        self
    }
}

/// serde_json's message without its ` at line L column C` suffix, reworded
/// from `invalid type: X, expected Y` to `expected Y, found X`.
pub(crate) fn describe_serde(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    if let Some(rest) = text.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {expected}, found {found}");
    }
    text.to_owned()
}
