//! A synthetic, deterministic stream of game events for the benchmark and
//! the crash tests: sessions playing runs of several antes (rounds with
//! hands, a shop, money changes, jokers bought), ending in a game over or,
//! now and then, a win past ante 8. Messages are shaped as the gateway
//! stores them (subject, headers, `jimbot.v1.Event` payload).

use async_nats::{HeaderMap, header::NATS_MESSAGE_ID};
use bytes::Bytes;
use jimbot_nats::{Token, subject};
use jimbot_schemas::v1;
use prost::Message as _;

use crate::decode::{EVENT_MESSAGE_TYPE, MESSAGE_TYPE_HEADER};

/// One message to publish to `GAME_EVENTS`.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Its subject.
    pub subject: String,
    /// Its headers (`Nats-Msg-Id` unique per message).
    pub headers: HeaderMap,
    /// The encoded event.
    pub payload: Bytes,
}

const JOKERS: [&str; 12] = [
    "Joker",
    "Blueprint",
    "Brainstorm",
    "Mime",
    "Baron",
    "Cavendish",
    "Gros Michel",
    "Hack",
    "Dusk",
    "Vampire",
    "Triboulet",
    "Jöker ★ 小丑",
];

/// Deterministic sessions of play.
#[derive(Debug)]
pub struct Workload {
    sessions: Vec<Player>,
    next: usize,
    rng: u64,
}

#[derive(Debug)]
struct Player {
    session: Token,
    clock_ms: f64,
    seq: u64,
    ante: u32,
    round: u32,
    step: u32,
    money: f64,
    jokers: Vec<&'static str>,
    chips: f64,
    hands: u32,
    in_run: bool,
}

impl Workload {
    /// `sessions` game instances, interleaved event by event.
    pub fn new(sessions: usize, seed: u64) -> Self {
        Self {
            sessions: (0..sessions.max(1))
                .map(|i| Player {
                    session: Token::new(&format!("bot-{i}")),
                    clock_ms: 1000.0,
                    seq: 0,
                    ante: 1,
                    round: 0,
                    step: 0,
                    money: 4.0,
                    jokers: Vec::new(),
                    chips: 0.0,
                    hands: 4,
                    in_run: false,
                })
                .collect(),
            next: 0,
            rng: seed | 1,
        }
    }

    fn random(&mut self, below: u64) -> u64 {
        // xorshift64: deterministic and fast; quality is irrelevant here.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % below.max(1)
    }

    /// The next message.
    pub fn next_message(&mut self, received_at_ms: i64) -> Outgoing {
        let index = self.next;
        self.next = (self.next + 1) % self.sessions.len();
        let roll = self.random(1000);
        let player = &mut self.sessions[index];
        let mut event = player.advance(roll, received_at_ms);
        // As the gateway stores it: the mod's JSON travels with the event.
        event.original_json = Bytes::from(
            serde_json::to_vec(&jimbot_schemas::balatro::to_mod_json(&event)).unwrap_or_default(),
        );
        let type_token =
            Token::new(jimbot_schemas::balatro::canonical_name(event.r#type()).unwrap_or("custom"));
        let mut headers = HeaderMap::new();
        headers.insert(
            NATS_MESSAGE_ID,
            format!("{}:{}:{}", player.session, event.event_id, player.clock_ms).as_str(),
        );
        headers.insert("Content-Type", "application/protobuf");
        headers.insert(MESSAGE_TYPE_HEADER, EVENT_MESSAGE_TYPE);
        Outgoing {
            subject: subject::game_event(&player.session, &type_token),
            headers,
            payload: Bytes::from(event.encode_to_vec()),
        }
    }
}

impl Player {
    fn envelope(&mut self, event_type: v1::EventType, received_at_ms: i64) -> v1::Event {
        self.clock_ms += 250.0;
        self.seq += 1;
        v1::Event {
            event_id: format!("{:016x}", self.seq),
            r#type: event_type.into(),
            type_name: jimbot_schemas::balatro::canonical_name(event_type)
                .unwrap_or("")
                .to_owned(),
            source: Some("BalatroMCP".to_owned()),
            session: self.session.as_str().to_owned(),
            client_timestamp_ms: Some(self.clock_ms),
            received_at: Some(prost_types::Timestamp {
                seconds: received_at_ms.div_euclid(1000),
                nanos: i32::try_from(received_at_ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
            }),
            version: Some(1.0),
            ..Default::default()
        }
    }

    fn state(&mut self, phase: &str, blind: bool, received_at_ms: i64) -> v1::Event {
        let mut event = self.envelope(v1::EventType::GameState, received_at_ms);
        let required = 300.0 * f64::from(self.ante) * (1.0 + f64::from(self.round % 3) * 0.5);
        event.payload = Some(v1::event::Payload::GameState(v1::GameState {
            in_game: Some(true),
            game_id: Some("unknown".to_owned()),
            ante: Some(f64::from(self.ante)),
            round: Some(f64::from(self.round)),
            chips: Some(self.chips),
            mult: Some(0.0),
            money: Some(self.money),
            hand_size: Some(8.0),
            hands_remaining: Some(f64::from(self.hands)),
            discards_remaining: Some(3.0),
            jokers: self
                .jokers
                .iter()
                .enumerate()
                .map(|(i, name)| v1::Joker {
                    id: Some(v1::joker::Id::NumericId(0.99 - i as f64 / 100.0)),
                    name: Some((*name).to_owned()),
                    position: Some(i as f64),
                    properties: None,
                })
                .collect(),
            hand: if blind { hand() } else { Vec::new() },
            game_state: Some(phase.to_owned()),
            ui_state: Some("1".to_owned()),
            blind: blind.then(|| v1::Blind {
                name: Some(
                    if self.round.is_multiple_of(3) {
                        "The Wall"
                    } else {
                        "Small Blind"
                    }
                    .to_owned(),
                ),
                chips: Some(required),
                chip_text: Some(required.to_string()),
                mult: Some(1.0),
                defeated: Some(false),
                boss: Some(self.round.is_multiple_of(3)),
            }),
            timestamp: Some(1_751_439_161.0),
            frame_count: Some(0.0),
            ..Default::default()
        }));
        event
    }

    /// The next event of this player: a small state machine over a run.
    fn advance(&mut self, roll: u64, now: i64) -> v1::Event {
        if !self.in_run {
            self.in_run = true;
            (self.ante, self.round, self.money, self.chips, self.hands) = (1, 0, 4.0, 0.0, 4);
            self.jokers.clear();
            self.step = 0;
            let mut event = self.state("BLIND_SELECT", false, now);
            event.initial = (self.seq == 1).then_some(true);
            return event;
        }
        self.step += 1;
        match self.step % 8 {
            // Into the next blind.
            1 => {
                self.round += 1;
                if self.round > 1 && self.round % 3 == 1 {
                    self.ante += 1;
                }
                (self.chips, self.hands) = (0.0, 4);
                self.state("UNKNOWN_STATE_1", true, now)
            }
            2 | 4 => {
                let mut event = self.envelope(v1::EventType::HandPlayed, now);
                self.hands = self.hands.saturating_sub(1);
                event.payload = Some(v1::event::Payload::HandPlayed(v1::HandPlayed {
                    hands_remaining: Some(f64::from(self.hands)),
                    hand_number: Some(f64::from(4 - self.hands)),
                }));
                event
            }
            3 | 5 => {
                let required =
                    300.0 * f64::from(self.ante) * (1.0 + f64::from(self.round % 3) * 0.5);
                #[allow(clippy::cast_precision_loss, reason = "a roll below 1000")]
                let gain = required * (0.3 + roll as f64 / 1000.0 * 0.5);
                self.chips += gain;
                // Losing: a round that fell short with no hands left.
                if self.step % 8 == 5
                    && self.chips < required
                    && roll.is_multiple_of(4)
                    && self.ante < 9
                {
                    self.in_run = false;
                    self.hands = 0;
                    return self.state("GAME_OVER", true, now);
                }
                if self.step % 8 == 5 {
                    self.chips = self.chips.max(required);
                }
                self.state("UNKNOWN_STATE_2", true, now)
            }
            6 => {
                let mut event = self.envelope(v1::EventType::MoneyChanged, now);
                let old = self.money;
                self.money += 3.0 + f64::from(self.ante);
                event.payload = Some(v1::event::Payload::MoneyChanged(v1::MoneyChanged {
                    old_value: Some(old),
                    new_value: Some(self.money),
                    difference: Some(self.money - old),
                }));
                event
            }
            7 => {
                if self.money >= 6.0 && self.jokers.len() < 5 {
                    #[allow(clippy::cast_possible_truncation, reason = "below the list's length")]
                    self.jokers
                        .push(JOKERS[(roll % JOKERS.len() as u64) as usize]);
                    self.money -= 6.0;
                }
                // Past ante 8 the run is won; leave for the menu.
                if self.ante > 8 {
                    self.in_run = false;
                    let mut event = self.envelope(v1::EventType::GameState, now);
                    event.payload = Some(v1::event::Payload::GameState(v1::GameState {
                        in_game: Some(false),
                        phase: Some("MENU".to_owned()),
                        ..Default::default()
                    }));
                    return event;
                }
                self.state("SHOP", false, now)
            }
            _ => {
                let mut event = self.envelope(v1::EventType::Heartbeat, now);
                event.payload = Some(v1::event::Payload::Heartbeat(v1::Heartbeat {
                    version: Some("0.1.0".to_owned()),
                    uptime: Some(self.clock_ms),
                    headless: Some(true),
                    game_state: Some("5".to_owned()),
                }));
                event
            }
        }
    }
}

/// Eight cards in hand, as the mod reports them during a blind.
fn hand() -> Vec<v1::Card> {
    const RANKS: [&str; 8] = ["2", "5", "9", "10", "Jack", "Queen", "King", "Ace"];
    RANKS
        .iter()
        .enumerate()
        .map(|(i, rank)| v1::Card {
            id: Some(v1::card::Id::NumericId(
                0.998_334_062_038_26 - i as f64 / 1_603_301.0,
            )),
            rank: Some((*rank).to_owned()),
            suit: Some(["Spades", "Hearts", "Clubs", "Diamonds"][i % 4].to_owned()),
            enhancement: Some("none".to_owned()),
            edition: Some("none".to_owned()),
            seal: Some("none".to_owned()),
            position: Some(i as f64),
        })
        .collect()
}
