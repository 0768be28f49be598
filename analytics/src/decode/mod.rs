//! From a stored `GAME_EVENTS` message to what analytics needs of it, or to
//! the reason it cannot be used (a poison message).

use async_nats::HeaderMap;
use bytes::Bytes;
use jimbot_schemas::{balatro::canonical_name, v1};
use prost::Message as _;

mod view;

use crate::domain::{Phase, SessionName, StreamSeq};

/// The header naming the payload's protobuf type (set by the gateway).
pub const MESSAGE_TYPE_HEADER: &str = "Jimbot-Message-Type";
/// The only payload type on `GAME_EVENTS`.
pub const EVENT_MESSAGE_TYPE: &str = "jimbot.v1.Event";
/// Jokers kept per state; a real hand holds at most a few dozen.
const MAX_JOKERS: usize = 64;
/// Characters kept of a joker name.
const MAX_JOKER_NAME: usize = 100;
/// Largest ante, round or hand count taken at face value.
const MAX_COUNT: f64 = 1e9;

/// One message as delivered, before decoding.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Its stream sequence.
    pub seq: StreamSeq,
    /// Its subject.
    pub subject: async_nats::Subject,
    /// Its headers.
    pub headers: Option<HeaderMap>,
    /// Its payload.
    pub payload: Bytes,
    /// When JetStream stored it, in epoch ms.
    pub stored_at_ms: i64,
}

/// What a message says, or why it says nothing usable.
#[derive(Debug, Clone)]
pub enum Decoded {
    /// A game event.
    Event(Observation),
    /// A message that can never be used.
    Poison(Poison),
}

/// A message that cannot be decoded, and why.
#[derive(Debug, Clone)]
pub struct Poison {
    /// Its stream sequence.
    pub seq: StreamSeq,
    /// Its subject.
    pub subject: String,
    /// Why.
    pub reason: PoisonReason,
    /// The decoder's message.
    pub detail: String,
    /// The payload as stored, for the dead letter.
    pub payload: Bytes,
    /// When JetStream stored it, in epoch ms.
    pub stored_at_ms: i64,
}

/// Why a message cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoisonReason {
    /// The subject is not `jimbot.game.<session>.<event_type>`.
    NotAGameSubject,
    /// The type header names another message type.
    WrongMessageType,
    /// The payload is not a `jimbot.v1.Event`.
    NotProtobuf,
}

impl PoisonReason {
    /// The reason token (dead-letter subject, metric label, database).
    pub fn as_str(self) -> &'static str {
        match self {
            PoisonReason::NotAGameSubject => "analytics_bad_subject",
            PoisonReason::WrongMessageType => "analytics_wrong_message_type",
            PoisonReason::NotProtobuf => "analytics_not_protobuf",
        }
    }
}

/// What analytics takes from one game event.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Its stream sequence.
    pub seq: StreamSeq,
    /// Its session.
    pub session: SessionName,
    /// Its type, for counting (a fixed set of labels).
    pub event_type: &'static str,
    /// Wall-clock time: the gateway's receive time, else the stored time (epoch ms).
    pub at_ms: i64,
    /// The mod's monotonic timestamp (ms).
    pub client_ts: Option<f64>,
    /// A new game process started (connection_test, or the initial GAME_STATE):
    /// its monotonic clock starts again.
    pub new_process: bool,
    /// The initial GAME_STATE of a game process.
    pub initial: bool,
    /// The game's state, for GAME_STATE events.
    pub snapshot: Option<Snapshot>,
}

/// The parts of a GAME_STATE that runs are cut from.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The phase.
    pub phase: Phase,
    /// `round_resets.ante`.
    pub ante: Option<i64>,
    /// `G.GAME.round`: counts blinds across the run.
    pub round: Option<i64>,
    /// The current round's score (may be infinite late in a run).
    pub chips: Option<f64>,
    /// Money (may be negative).
    pub money: Option<f64>,
    /// Hands left this round.
    pub hands_remaining: Option<i64>,
    /// Discards left this round.
    pub discards_remaining: Option<i64>,
    /// The current blind, when one is being played (chips above zero).
    pub blind: Option<BlindView>,
    /// Names of the jokers held, in order.
    pub jokers: Vec<String>,
}

/// The blind being played.
#[derive(Debug, Clone, PartialEq)]
pub struct BlindView {
    /// Its name ("Big Blind", a boss's name).
    pub name: String,
    /// The score it asks for.
    pub chips: f64,
    /// Whether it is a boss blind.
    pub boss: bool,
}

/// Decodes one delivery; never panics, whatever the bytes.
pub fn decode(delivery: Delivery) -> Decoded {
    let poison = |reason, detail: String| {
        Decoded::Poison(Poison {
            seq: delivery.seq,
            subject: delivery.subject.to_string(),
            reason,
            detail,
            payload: delivery.payload.clone(),
            stored_at_ms: delivery.stored_at_ms,
        })
    };
    let Some(session) = SessionName::from_subject(&delivery.subject) else {
        return poison(
            PoisonReason::NotAGameSubject,
            "subject is not jimbot.game.<session>.<event_type>".to_owned(),
        );
    };
    if let Some(kind) = delivery
        .headers
        .as_ref()
        .and_then(|h| h.get(MESSAGE_TYPE_HEADER))
        && kind.as_str() != EVENT_MESSAGE_TYPE
    {
        return poison(
            PoisonReason::WrongMessageType,
            format!(
                "{MESSAGE_TYPE_HEADER} is {:?}, expected {EVENT_MESSAGE_TYPE}",
                kind.as_str().chars().take(100).collect::<String>()
            ),
        );
    }
    let event = match view::EventView::decode(delivery.payload.clone()) {
        Ok(event) => event,
        Err(e) => {
            return poison(
                PoisonReason::NotProtobuf,
                format!("not a jimbot.v1.Event: {e}"),
            );
        }
    };
    Decoded::Event(observe(
        delivery.seq,
        session,
        delivery.stored_at_ms,
        &event,
    ))
}

fn observe(
    seq: StreamSeq,
    session: SessionName,
    stored_at_ms: i64,
    event: &view::EventView,
) -> Observation {
    let event_type = match event.r#type() {
        v1::EventType::Custom => "CUSTOM",
        v1::EventType::Unspecified => "UNSPECIFIED",
        known => canonical_name(known).unwrap_or("UNSPECIFIED"),
    };
    let at_ms = event
        .received_at
        .as_ref()
        .and_then(|t| {
            t.seconds
                .checked_mul(1000)?
                .checked_add(i64::from(t.nanos / 1_000_000))
        })
        .filter(|ms| *ms > 0)
        .unwrap_or(stored_at_ms);
    let snapshot = event.game_state.as_ref().map(snapshot);
    let initial = event.initial == Some(true) && snapshot.is_some();
    Observation {
        seq,
        session,
        event_type,
        at_ms,
        client_ts: event.client_timestamp_ms.filter(|t| t.is_finite()),
        new_process: initial || event.r#type() == v1::EventType::ConnectionTest,
        initial,
        snapshot,
    }
}

fn snapshot(state: &view::GameStateView) -> Snapshot {
    let phase = if state.in_game == Some(false) {
        Phase::Menu
    } else {
        Phase::from_name(
            state
                .game_state
                .as_deref()
                .or(state.phase.as_deref())
                .unwrap_or(""),
        )
    };
    let blind = state.blind.as_ref().and_then(|b| {
        let chips = b.chips.filter(|c| *c > 0.0 && !c.is_nan())?;
        Some(BlindView {
            name: clean_name(b.name.as_deref().unwrap_or("")),
            chips,
            boss: b.boss == Some(true),
        })
    });
    Snapshot {
        phase,
        ante: count(state.ante),
        round: count(state.round),
        chips: state.chips.filter(|c| *c >= 0.0),
        money: state.money.filter(|m| m.is_finite()),
        hands_remaining: count(state.hands_remaining),
        discards_remaining: count(state.discards_remaining),
        blind,
        jokers: state
            .jokers
            .iter()
            .take(MAX_JOKERS)
            .map(|j| clean_name(j.name.as_deref().unwrap_or("Unknown")))
            .collect(),
    }
}

/// A game counter as an integer, when it is a plausible one.
fn count(value: Option<f64>) -> Option<i64> {
    #[allow(clippy::cast_possible_truncation, reason = "bounded and rounded first")]
    value
        .filter(|v| v.is_finite() && (0.0..=MAX_COUNT).contains(v))
        .map(|v| v.round() as i64)
}

/// A display name: bounded, without control characters (they would break
/// terminals and CSV readers; the original bytes stay in the stream).
fn clean_name(raw: &str) -> String {
    raw.chars()
        .take(MAX_JOKER_NAME)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(subject: &str, payload: Bytes) -> Delivery {
        Delivery {
            seq: StreamSeq(7),
            subject: subject.into(),
            headers: None,
            payload,
            stored_at_ms: 1_000,
        }
    }

    fn reason(decoded: Decoded) -> PoisonReason {
        match decoded {
            Decoded::Poison(p) => p.reason,
            Decoded::Event(o) => panic!("decoded {o:?}"),
        }
    }

    #[test]
    fn garbage_payloads_are_poison_not_panics() {
        for payload in [
            &b"\xff\xff\xff\xff"[..],
            b"{\"type\":\"GAME_STATE\"}",
            &[0x0a, 0xff, 0x01],
        ] {
            let decoded = decode(delivery(
                "jimbot.game.s.game_state",
                Bytes::copy_from_slice(payload),
            ));
            assert_eq!(reason(decoded), PoisonReason::NotProtobuf);
        }
    }

    #[test]
    fn foreign_subjects_and_types_are_poison() {
        let payload = Bytes::from(v1::Event::default().encode_to_vec());
        assert_eq!(
            reason(decode(delivery("jimbot.game.s", payload.clone()))),
            PoisonReason::NotAGameSubject
        );
        let mut d = delivery("jimbot.game.s.game_state", payload);
        let mut headers = HeaderMap::new();
        headers.insert(MESSAGE_TYPE_HEADER, "jimbot.v1.Command");
        d.headers = Some(headers);
        assert_eq!(reason(decode(d)), PoisonReason::WrongMessageType);
    }

    #[test]
    fn hostile_numbers_and_names_are_bounded() {
        let state = v1::GameState {
            ante: Some(f64::NAN),
            round: Some(-3.0),
            chips: Some(f64::INFINITY),
            money: Some(f64::NEG_INFINITY),
            hands_remaining: Some(1e300),
            jokers: (0..500)
                .map(|_| v1::Joker {
                    name: Some(format!("\u{1b}[31m{}", "x".repeat(10_000))),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let event = v1::Event {
            r#type: v1::EventType::GameState.into(),
            payload: Some(v1::event::Payload::GameState(state)),
            ..Default::default()
        };
        let Decoded::Event(o) = decode(delivery(
            "jimbot.game.s.game_state",
            Bytes::from(event.encode_to_vec()),
        )) else {
            panic!("not decoded");
        };
        let s = o.snapshot.expect("snapshot");
        assert_eq!(
            (s.ante, s.round, s.hands_remaining, s.money),
            (None, None, None, None)
        );
        assert_eq!(s.chips, Some(f64::INFINITY));
        assert_eq!(s.jokers.len(), MAX_JOKERS);
        assert_eq!(s.jokers[0].chars().count(), MAX_JOKER_NAME);
        assert!(!s.jokers[0].chars().any(char::is_control));
        assert_eq!(o.at_ms, 1_000, "no receive time: the stored time");
    }
}
