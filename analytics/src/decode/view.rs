//! The fields of `jimbot.v1.Event` that analytics reads, declared with the
//! same tags as `schemas/proto/jimbot/v1/event.proto` and `game_state.proto`.
//!
//! Decoding only these skips everything else on the wire (the original
//! JSON, the hand and the deck: most of a stored event's bytes) without
//! copying it, which is what lets a backlog be applied quickly. The test
//! below decodes a fully populated `v1::Event` both ways, so a tag that
//! drifts from the schema fails it.

use jimbot_schemas::v1;

/// `jimbot.v1.Event`, in part.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EventView {
    #[prost(enumeration = "v1::EventType", tag = "2")]
    pub r#type: i32,
    #[prost(double, optional, tag = "6")]
    pub client_timestamp_ms: Option<f64>,
    #[prost(message, optional, tag = "9")]
    pub received_at: Option<prost_types::Timestamp>,
    #[prost(bool, optional, tag = "13")]
    pub initial: Option<bool>,
    /// The `game_state` member of the `payload` oneof.
    #[prost(message, optional, tag = "20")]
    pub game_state: Option<GameStateView>,
}

/// `jimbot.v1.GameState`, in part.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GameStateView {
    #[prost(bool, optional, tag = "1")]
    pub in_game: Option<bool>,
    #[prost(double, optional, tag = "3")]
    pub ante: Option<f64>,
    #[prost(double, optional, tag = "4")]
    pub round: Option<f64>,
    #[prost(double, optional, tag = "6")]
    pub chips: Option<f64>,
    #[prost(double, optional, tag = "8")]
    pub money: Option<f64>,
    #[prost(double, optional, tag = "10")]
    pub hands_remaining: Option<f64>,
    #[prost(double, optional, tag = "11")]
    pub discards_remaining: Option<f64>,
    #[prost(message, repeated, tag = "13")]
    pub jokers: Vec<JokerView>,
    #[prost(string, optional, tag = "18")]
    pub game_state: Option<String>,
    #[prost(message, optional, tag = "20")]
    pub blind: Option<BlindView>,
    #[prost(string, optional, tag = "23")]
    pub phase: Option<String>,
}

/// `jimbot.v1.Joker`, in part.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JokerView {
    #[prost(string, optional, tag = "3")]
    pub name: Option<String>,
}

/// `jimbot.v1.Blind`, in part.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlindView {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(double, optional, tag = "2")]
    pub chips: Option<f64>,
    #[prost(bool, optional, tag = "6")]
    pub boss: Option<bool>,
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    #[test]
    fn the_view_reads_what_the_schema_writes() {
        let state = v1::GameState {
            in_game: Some(true),
            game_id: Some("unknown".to_owned()),
            ante: Some(3.0),
            round: Some(8.0),
            hand_number: Some(5.0),
            chips: Some(1.5e17),
            mult: Some(0.0),
            money: Some(-3.0),
            hand_size: Some(9.0),
            hands_remaining: Some(2.0),
            discards_remaining: Some(1.0),
            jokers: vec![v1::Joker {
                id: Some(v1::joker::Id::NumericId(0.99)),
                name: Some("Blueprint".to_owned()),
                position: Some(0.0),
                properties: Some(v1::JokerProperties {
                    mult: Some(4.0),
                    ..Default::default()
                }),
            }],
            hand: vec![v1::Card {
                rank: Some("Ace".to_owned()),
                ..Default::default()
            }],
            game_state: Some("UNKNOWN_STATE_1".to_owned()),
            ui_state: Some("1".to_owned()),
            blind: Some(v1::Blind {
                name: Some("The Wall".to_owned()),
                chips: Some(5000.0),
                chip_text: Some("5,000".to_owned()),
                mult: Some(4.0),
                defeated: Some(false),
                boss: Some(true),
            }),
            timestamp: Some(1_751_439_161.0),
            phase: Some("MENU".to_owned()),
            ..Default::default()
        };
        let event = v1::Event {
            event_id: "e".to_owned(),
            r#type: v1::EventType::GameState.into(),
            type_name: "GAME_STATE".to_owned(),
            client_timestamp_ms: Some(248_396.05),
            received_at: Some(prost_types::Timestamp {
                seconds: 1_751_439_161,
                nanos: 5_000_000,
            }),
            initial: Some(true),
            original_json: bytes::Bytes::from(vec![b'x'; 4096]),
            payload: Some(v1::event::Payload::GameState(state.clone())),
            ..Default::default()
        };
        let view = EventView::decode(event.encode_to_vec().as_slice()).expect("decode");
        assert_eq!(view.r#type(), v1::EventType::GameState);
        assert_eq!(view.client_timestamp_ms, event.client_timestamp_ms);
        assert_eq!(view.received_at, event.received_at);
        assert_eq!(view.initial, Some(true));
        let got = view.game_state.expect("game state");
        assert_eq!(
            got,
            GameStateView {
                in_game: state.in_game,
                ante: state.ante,
                round: state.round,
                chips: state.chips,
                money: state.money,
                hands_remaining: state.hands_remaining,
                discards_remaining: state.discards_remaining,
                jokers: vec![JokerView {
                    name: Some("Blueprint".to_owned())
                }],
                game_state: state.game_state.clone(),
                blind: Some(BlindView {
                    name: Some("The Wall".to_owned()),
                    chips: Some(5000.0),
                    boss: Some(true)
                }),
                phase: state.phase.clone(),
            }
        );
        // Another payload in the oneof is not a game state.
        let heartbeat = v1::Event {
            r#type: v1::EventType::Heartbeat.into(),
            payload: Some(v1::event::Payload::Heartbeat(v1::Heartbeat::default())),
            ..Default::default()
        };
        let view = EventView::decode(heartbeat.encode_to_vec().as_slice()).expect("decode");
        assert!(view.game_state.is_none());
    }
}
