//! Mapping between the mod's `type` strings and [`EventType`].

use crate::v1::EventType;

/// The mod's spelling of each known type (upper case; matched ignoring case).
const NAMES: [(&str, EventType); 16] = [
    ("CONNECTION_TEST", EventType::ConnectionTest),
    ("HEARTBEAT", EventType::Heartbeat),
    ("GAME_STATE", EventType::GameState),
    ("MONEY_CHANGED", EventType::MoneyChanged),
    ("SCORE_CHANGED", EventType::ScoreChanged),
    ("HAND_PLAYED", EventType::HandPlayed),
    ("CARDS_DISCARDED", EventType::CardsDiscarded),
    ("JOKERS_CHANGED", EventType::JokersChanged),
    ("ROUND_CHANGED", EventType::RoundChanged),
    ("PHASE_CHANGED", EventType::PhaseChanged),
    ("ROUND_COMPLETE", EventType::RoundComplete),
    ("JOKER_TRIGGER", EventType::JokerTrigger),
    ("SCORING", EventType::Scoring),
    ("LEARNING_DECISION", EventType::LearningDecision),
    ("ERROR", EventType::Error),
    ("DIAGNOSTIC", EventType::Diagnostic),
];

/// The mod's names of the known types, upper case, in a fixed order.
pub fn known_type_names() -> impl Iterator<Item = &'static str> {
    NAMES.iter().map(|(name, _)| *name)
}

/// The event type for a `type` string, case-insensitively;
/// [`EventType::Custom`] for anything unknown.
pub fn event_type_from_name(name: &str) -> EventType {
    NAMES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map_or(EventType::Custom, |(_, event_type)| *event_type)
}

/// The mod's canonical (upper-case) name of a known type, e.g. for subjects;
/// `None` for `Unspecified` and `Custom` (use `Event::type_name` then).
pub fn canonical_name(event_type: EventType) -> Option<&'static str> {
    NAMES
        .iter()
        .find(|(_, known)| *known == event_type)
        .map(|(name, _)| *name)
}
