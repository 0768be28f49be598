//! Wire structs -> `jimbot.v1` messages, one event at a time, so one bad
//! event never spoils its siblings.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{EventError, EventErrorKind, describe_serde};
use super::event_type::event_type_from_name;
use super::lenient::{BoolOrText, Id, List, Num};
use super::sanitize::Sanitized;
use super::wire;
use crate::v1::{self, EventType, event::Payload, scoring::Detail};

/// The parsed body and the original bytes, for cutting out each event's span.
pub(crate) struct Source<'s> {
    pub sanitized: &'s Sanitized<'s>,
    pub original: &'s Bytes,
}

impl Source<'_> {
    /// The original bytes of a raw value taken from the sanitised text.
    pub fn original_bytes(&self, raw: &RawValue) -> Bytes {
        let text = self.sanitized.as_str();
        let start = (raw.get().as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
        let end = start.wrapping_add(raw.get().len());
        if end <= text.len() && start <= end {
            let range = self.sanitized.original_range(start, end);
            if range.end <= self.original.len() && range.start <= range.end {
                return self.original.slice(range);
            }
        }
        // Not a span of the body (cannot happen with borrowed raw values);
        // keep the sanitised text rather than nothing.
        Bytes::copy_from_slice(raw.get().as_bytes())
    }
}

/// Batch-level values copied into every event.
#[derive(Debug, Default, Clone)]
pub(crate) struct BatchMeta {
    pub batch_id: Option<String>,
    pub timestamp_ms: Option<f64>,
}

/// Deserialises `raw` into `T`, reporting the failing field's path.
///
/// Tracking the path costs on every value, and only a failure needs it: the
/// value is parsed plainly first, and only if that fails again with tracking.
fn typed<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Result<T, (String, String)> {
    if let Ok(value) = serde_json::from_str(raw.get()) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." { String::new() } else { path };
        (path, describe_serde(err.inner()))
    })
}

fn join(prefix: &str, path: &str) -> String {
    if path.is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix}.{path}")
    }
}

/// A short name for the JSON kind a raw value starts with.
fn json_kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// Converts one event object (an `events` element, a `changes` element, or a
/// single-event body).
pub(crate) fn convert_event(
    source: &Source<'_>,
    raw: &RawValue,
    index: usize,
    batch: &BatchMeta,
) -> Result<v1::Event, EventError> {
    if !raw.get().starts_with('{') {
        return Err(EventError::new(
            EventErrorKind::NotAnObject,
            index,
            "",
            format!("expected an object, found {}", json_kind(raw)),
        ));
    }
    let envelope: wire::Envelope<'_> = typed(raw).map_err(|(path, detail)| {
        EventError::new(EventErrorKind::InvalidField, index, path, detail)
    })?;
    let Some(type_name) = envelope.event_type else {
        return Err(EventError::new(
            EventErrorKind::MissingType,
            index,
            "type",
            "missing (every event needs a `type`)",
        ));
    };
    let event_type = event_type_from_name(&type_name);

    let (payload_raw, payload_key, payload_from_data) = match (envelope.payload, envelope.data) {
        (Some(payload), _) => (Some(payload), "payload", false),
        (None, Some(data)) => (Some(data), "data", true),
        (None, None) => (None, "payload", false),
    };
    let payload = match payload_raw {
        Some(raw_payload) => convert_payload(event_type, envelope.subtype.as_deref(), raw_payload)
            .map_err(|(path, detail)| {
                EventError::new(
                    EventErrorKind::InvalidField,
                    index,
                    join(payload_key, &path),
                    detail,
                )
            })?,
        None => None,
    };

    let mut changes = Vec::new();
    let has_changes = envelope.changes.is_some();
    if let Some(raw_changes) = envelope.changes {
        let List(items) = typed::<List<&RawValue>>(raw_changes).map_err(|(path, detail)| {
            EventError::new(
                EventErrorKind::InvalidField,
                index,
                join("changes", &path),
                detail,
            )
        })?;
        changes.reserve(items.len());
        for (position, item) in items.into_iter().enumerate() {
            let change = convert_event(source, item, index, batch)
                .map_err(|err| err.nest(&format!("changes[{position}]")))?;
            changes.push(change);
        }
    }

    Ok(v1::Event {
        event_id: envelope.event_id.unwrap_or_default(),
        r#type: event_type.into(),
        type_name,
        source: envelope.source,
        session: String::new(),
        client_timestamp_ms: num(envelope.timestamp),
        batch_id: batch.batch_id.clone().unwrap_or_default(),
        batch_timestamp_ms: batch.timestamp_ms,
        received_at: None,
        version: num(envelope.version),
        priority: envelope.priority,
        subtype: envelope.subtype,
        initial: envelope.initial,
        debug: envelope.debug,
        changes,
        has_changes,
        original_json: source.original_bytes(raw),
        payload_from_data,
        payload,
    })
}

/// Types the payload by event type; `Ok(None)` for types without a typed payload.
fn convert_payload(
    event_type: EventType,
    subtype: Option<&str>,
    raw: &RawValue,
) -> Result<Option<Payload>, (String, String)> {
    let payload = match event_type {
        EventType::Unspecified | EventType::Custom => return Ok(None),
        EventType::ConnectionTest => {
            let p: wire::ConnectionTest = typed(raw)?;
            Payload::ConnectionTest(v1::ConnectionTest { message: p.message })
        }
        EventType::Heartbeat => {
            let p: wire::Heartbeat = typed(raw)?;
            Payload::Heartbeat(v1::Heartbeat {
                version: p.version,
                uptime: num(p.uptime),
                headless: p.headless,
                game_state: p.game_state,
            })
        }
        EventType::GameState => Payload::GameState(game_state(typed(raw)?)),
        EventType::MoneyChanged => {
            let p: wire::MoneyChanged = typed(raw)?;
            Payload::MoneyChanged(v1::MoneyChanged {
                old_value: num(p.old_value),
                new_value: num(p.new_value),
                difference: num(p.difference),
            })
        }
        EventType::ScoreChanged => {
            let p: wire::ScoreChanged = typed(raw)?;
            Payload::ScoreChanged(v1::ScoreChanged {
                old_chips: num(p.old_chips),
                new_chips: num(p.new_chips),
                old_mult: num(p.old_mult),
                new_mult: num(p.new_mult),
            })
        }
        EventType::HandPlayed => {
            let p: wire::HandPlayed = typed(raw)?;
            Payload::HandPlayed(v1::HandPlayed {
                hands_remaining: num(p.hands_remaining),
                hand_number: num(p.hand_number),
            })
        }
        EventType::CardsDiscarded => {
            let p: wire::CardsDiscarded = typed(raw)?;
            Payload::CardsDiscarded(v1::CardsDiscarded {
                discards_remaining: num(p.discards_remaining),
            })
        }
        EventType::JokersChanged => {
            let p: wire::JokersChanged = typed(raw)?;
            Payload::JokersChanged(v1::JokersChanged {
                old_count: num(p.old_count),
                new_count: num(p.new_count),
                jokers: list(p.jokers, joker),
            })
        }
        EventType::RoundChanged => {
            let p: wire::RoundChanged = typed(raw)?;
            Payload::RoundChanged(v1::RoundChanged {
                ante: num(p.ante),
                round: num(p.round),
            })
        }
        EventType::PhaseChanged => {
            let p: wire::PhaseChanged = typed(raw)?;
            Payload::PhaseChanged(v1::PhaseChanged {
                old_phase: p.old_phase,
                new_phase: p.new_phase,
            })
        }
        EventType::RoundComplete => {
            let p: wire::RoundComplete = typed(raw)?;
            Payload::RoundComplete(v1::RoundComplete {
                ante: num(p.ante),
                round: num(p.round),
                score: num(p.score),
                money: num(p.money),
            })
        }
        EventType::JokerTrigger => {
            let p: wire::JokerTrigger = typed(raw)?;
            Payload::JokerTrigger(v1::JokerTrigger {
                joker_name: p.joker_name,
                context_type: p.context_type.map(|c| match c {
                    BoolOrText::Bool(flag) => v1::joker_trigger::ContextType::ContextFlag(flag),
                    BoolOrText::Text(text) => v1::joker_trigger::ContextType::ContextText(text),
                }),
                timestamp: num(p.timestamp),
            })
        }
        EventType::Scoring => Payload::Scoring(v1::Scoring {
            detail: scoring_detail(subtype, raw)?,
        }),
        EventType::LearningDecision => {
            let p: wire::LearningDecision = typed(raw)?;
            Payload::LearningDecision(v1::LearningDecision {
                request_id: p.request_id,
                game_state: p.game_state.map(game_state),
                available_actions: p.available_actions.map(|l| l.0).unwrap_or_default(),
                time_limit_ms: num(p.time_limit_ms),
            })
        }
        EventType::Error => {
            let p: wire::ErrorReport<'_> = typed(raw)?;
            Payload::Error(v1::ErrorReport {
                message: p.message,
                context_json: p
                    .context
                    .map(|c| Bytes::copy_from_slice(c.get().as_bytes())),
                stack_trace: p.stack_trace,
            })
        }
        EventType::Diagnostic => {
            let p: wire::Diagnostic = typed(raw)?;
            Payload::Diagnostic(v1::Diagnostic {
                available_functions: p.available_functions.map(|l| l.0).unwrap_or_default(),
                g_exists: p.g_exists,
                g_funcs_exists: p.g_funcs_exists,
                g_game_exists: p.g_game_exists,
                g_state: p.g_state.map(|s| match s {
                    Id::Number(n) => v1::diagnostic::GState::GStateNumber(n),
                    Id::Text(t) => v1::diagnostic::GState::GStateText(t),
                }),
            })
        }
    };
    Ok(Some(payload))
}

/// The SCORING message for a subtype (case-insensitive); `None` when unknown.
fn scoring_detail(
    subtype: Option<&str>,
    raw: &RawValue,
) -> Result<Option<Detail>, (String, String)> {
    let Some(subtype) = subtype else {
        return Ok(None);
    };
    let is = |name: &str| subtype.eq_ignore_ascii_case(name);
    let detail = if is("HAND_EVAL_START") {
        let p: wire::HandEvalStart = typed(raw)?;
        Detail::HandEvalStart(v1::HandEvalStart {
            starting_score: num(p.starting_score),
            ante: num(p.ante),
            round: num(p.round),
            hand_number: num(p.hand_number),
        })
    } else if is("JOKER_TRIGGER") {
        let p: wire::ScoringJokerTrigger = typed(raw)?;
        Detail::JokerTrigger(v1::ScoringJokerTrigger {
            joker: p.joker.map(|j| v1::ScoringJoker {
                name: j.name,
                id: j.id.map(|id| match id {
                    Id::Number(n) => v1::scoring_joker::Id::NumericId(n),
                    Id::Text(t) => v1::scoring_joker::Id::TextId(t),
                }),
                position: num(j.position),
            }),
            score_contribution: num(p.score_contribution),
            current_total: num(p.current_total),
            timestamp: num(p.timestamp),
        })
    } else if is("HAND_EVAL_COMPLETE") {
        let p: wire::HandEvalComplete = typed(raw)?;
        Detail::HandEvalComplete(v1::HandEvalComplete {
            starting_score: num(p.starting_score),
            final_score: num(p.final_score),
            total_delta: num(p.total_delta),
            joker_triggers: num(p.joker_triggers),
            ante: num(p.ante),
            round: num(p.round),
            hand_number: num(p.hand_number),
        })
    } else if is("SCORE_UPDATE") {
        let p: wire::ScoreUpdate = typed(raw)?;
        Detail::ScoreUpdate(v1::ScoreUpdate {
            previous_score: num(p.previous_score),
            new_score: num(p.new_score),
            delta: num(p.delta),
            total_hand_delta: num(p.total_hand_delta),
            context: p.context,
            timestamp: num(p.timestamp),
        })
    } else if is("MULT_UPDATE") {
        let p: wire::MultUpdate = typed(raw)?;
        Detail::MultUpdate(v1::MultUpdate {
            mult_before: num(p.mult_before),
            mult_after: num(p.mult_after),
            delta: num(p.delta),
            source: p.source,
            timestamp: num(p.timestamp),
        })
    } else if is("CHIPS_UPDATE") {
        let p: wire::ChipsUpdate = typed(raw)?;
        Detail::ChipsUpdate(v1::ChipsUpdate {
            chips_before: num(p.chips_before),
            chips_after: num(p.chips_after),
            delta: num(p.delta),
            source: p.source,
            timestamp: num(p.timestamp),
        })
    } else {
        return Ok(None);
    };
    Ok(Some(detail))
}

fn num(value: Option<Num>) -> Option<f64> {
    value.map(|Num(n)| n)
}

fn list<W, P>(items: Option<List<W>>, convert: impl Fn(W) -> P) -> Vec<P> {
    items
        .map(|List(items)| items.into_iter().map(convert).collect())
        .unwrap_or_default()
}

fn game_state(p: wire::GameState) -> v1::GameState {
    v1::GameState {
        in_game: p.in_game,
        game_id: p.game_id,
        ante: num(p.ante),
        round: num(p.round),
        hand_number: num(p.hand_number),
        chips: num(p.chips),
        mult: num(p.mult),
        money: num(p.money),
        hand_size: num(p.hand_size),
        hands_remaining: num(p.hands_remaining),
        discards_remaining: num(p.discards_remaining),
        score_history: p
            .score_history
            .map(|d| {
                d.0.into_iter()
                    .map(|(key, item)| {
                        let item = v1::ScoreHistoryItem {
                            label: item.label,
                            amt: num(item.amt),
                        };
                        (key, item)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        jokers: list(p.jokers, joker),
        hand: list(p.hand, card),
        deck: p.deck.map(|d| v1::Deck {
            remaining_count: num(d.remaining_count),
            cards_remaining: list(d.cards_remaining, card),
            full_deck: list(d.full_deck, card),
        }),
        consumables: list(p.consumables, consumable),
        shop_items: p
            .shop_items
            .map(|d| {
                d.0.into_iter()
                    .map(|(key, item)| (key, shop_item(item)))
                    .collect()
            })
            .unwrap_or_default(),
        game_state: p.game_state,
        ui_state: p.ui_state,
        blind: p.blind.map(|b| v1::Blind {
            name: b.name,
            chips: num(b.chips),
            chip_text: b.chip_text,
            mult: num(b.mult),
            defeated: b.defeated,
            boss: b.boss,
        }),
        timestamp: num(p.timestamp),
        frame_count: num(p.frame_count),
        phase: p.phase,
    }
}

fn card(c: wire::Card) -> v1::Card {
    v1::Card {
        id: c.id.map(|id| match id {
            Id::Number(n) => v1::card::Id::NumericId(n),
            Id::Text(t) => v1::card::Id::TextId(t),
        }),
        rank: c.rank,
        suit: c.suit,
        enhancement: c.enhancement,
        edition: c.edition,
        seal: c.seal,
        position: num(c.position),
    }
}

fn joker(j: wire::Joker) -> v1::Joker {
    v1::Joker {
        id: j.id.map(|id| match id {
            Id::Number(n) => v1::joker::Id::NumericId(n),
            Id::Text(t) => v1::joker::Id::TextId(t),
        }),
        name: j.name,
        position: num(j.position),
        properties: j.properties.map(|p| v1::JokerProperties {
            mult: num(p.mult),
            chips: num(p.chips),
            cost: num(p.cost),
            sell_value: num(p.sell_value),
            edition: p.edition,
        }),
    }
}

fn consumable(c: wire::Consumable) -> v1::Consumable {
    v1::Consumable {
        id: c.id.map(|id| match id {
            Id::Number(n) => v1::consumable::Id::NumericId(n),
            Id::Text(t) => v1::consumable::Id::TextId(t),
        }),
        name: c.name,
        card_type: c.card_type,
        position: num(c.position),
        properties: c.properties.map(|p| v1::ConsumableProperties {
            cost: num(p.cost),
            edition: p.edition,
        }),
    }
}

fn shop_item(s: wire::ShopItem) -> v1::ShopItem {
    v1::ShopItem {
        name: s.name,
        cost: num(s.cost),
        rarity: s.rarity.map(|r| match r {
            Id::Number(n) => v1::shop_item::Rarity::RarityNumber(n),
            Id::Text(t) => v1::shop_item::Rarity::RarityText(t),
        }),
    }
}
