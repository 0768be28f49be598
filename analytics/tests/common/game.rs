//! The mod's events, shaped like the fixtures in `fixtures/balatromcp/`
//! (GAME_STATE with `game_id: "unknown"`, phases as `UNKNOWN_STATE_<n>`,
//! empty lists as `{}`), and the scripted game the tests share.

use serde_json::{Value, json};

/// The mod's view of a game at one moment.
#[derive(Debug, Clone)]
pub struct State {
    pub phase: &'static str,
    pub ante: u32,
    pub round: u32,
    pub chips: f64,
    pub money: f64,
    pub hands: u32,
    pub discards: u32,
    /// Name, chips, boss.
    pub blind: Option<(&'static str, f64, bool)>,
    pub jokers: Vec<&'static str>,
}

impl State {
    pub fn at(phase: &'static str, ante: u32, round: u32) -> Self {
        Self {
            phase,
            ante,
            round,
            chips: 0.0,
            money: 4.0,
            hands: 4,
            discards: 3,
            blind: None,
            jokers: Vec::new(),
        }
    }

    pub fn blind(mut self, name: &'static str, chips: f64, boss: bool) -> Self {
        self.blind = Some((name, chips, boss));
        self
    }

    pub fn score(mut self, chips: f64, hands: u32, discards: u32) -> Self {
        self.chips = chips;
        self.hands = hands;
        self.discards = discards;
        self
    }

    pub fn money(mut self, money: f64) -> Self {
        self.money = money;
        self
    }

    pub fn jokers(mut self, jokers: &[&'static str]) -> Self {
        self.jokers = jokers.to_vec();
        self
    }
}

/// One game process of the mod: its monotonic clock and event ids.
#[derive(Debug)]
pub struct Game {
    pub clock_ms: f64,
    next_id: u64,
}

impl Game {
    pub fn new() -> Self {
        Self {
            clock_ms: 248_396.052_566_67,
            next_id: 1,
        }
    }

    fn event(&mut self, event_type: &str, payload: Value) -> Value {
        self.clock_ms += 500.0;
        let id = self.next_id;
        self.next_id += 1;
        json!({
            "type": event_type,
            "event_id": format!("{id:08x}-8a93-4dbb-ad49-f838f9da9d6f"),
            "timestamp": self.clock_ms,
            "source": "BalatroMCP",
            "version": 1,
            "payload": payload,
        })
    }

    pub fn state(&mut self, s: &State) -> Value {
        let jokers: Value = if s.jokers.is_empty() {
            json!({})
        } else {
            Value::Array(
                s.jokers
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        json!({"id": 0.998_334_062_038_26 - i as f64 / 1000.0, "name": name,
                               "position": i, "properties": {"mult": 4, "chips": 0, "cost": 2,
                               "sell_value": 1, "edition": "none"}})
                    })
                    .collect(),
            )
        };
        let mut payload = json!({
            "in_game": true, "game_id": "unknown", "ante": s.ante, "round": s.round,
            "hand_number": 0, "chips": s.chips, "mult": 0, "money": s.money, "hand_size": 8,
            "hands_remaining": s.hands, "discards_remaining": s.discards, "score_history": {},
            "jokers": jokers, "hand": {}, "consumables": {}, "shop_items": {},
            "deck": {"remaining_count": 44, "cards_remaining": {}, "full_deck": {}},
            "game_state": s.phase, "ui_state": "1", "timestamp": 1_751_439_161, "frame_count": 0,
        });
        if let Some((name, chips, boss)) = s.blind {
            payload["blind"] = json!({"name": name, "chips": chips, "chip_text": chips.to_string(),
                "mult": 1, "defeated": false, "boss": boss});
        }
        let mut event = self.event("GAME_STATE", payload);
        event["changes"] = json!({});
        event
    }

    pub fn initial(&mut self, s: &State) -> Value {
        let mut event = self.state(s);
        event["initial"] = json!(true);
        event
    }

    pub fn menu(&mut self) -> Value {
        self.event(
            "GAME_STATE",
            json!({"in_game": false, "phase": "MENU", "timestamp": 1_751_439_161}),
        )
    }

    pub fn heartbeat(&mut self) -> Value {
        let uptime = self.clock_ms;
        self.event(
            "HEARTBEAT",
            json!({"version": "0.1.0", "uptime": uptime, "headless": false, "game_state": "1"}),
        )
    }

    pub fn hand_played(&mut self, hands: u32) -> Value {
        self.event(
            "HAND_PLAYED",
            json!({"hands_remaining": hands, "hand_number": 1}),
        )
    }

    pub fn money_changed(&mut self, old: f64, new: f64) -> Value {
        self.event(
            "MONEY_CHANGED",
            json!({"old_value": old, "new_value": new, "difference": new - old}),
        )
    }
}

/// The scripted game: session `alpha` plays run 1 over two antes with a
/// shop and loses; goes to the menu; a stale re-send arrives; run 2 starts
/// and is abandoned when the mod restarts (run 3, still open). Session
/// `beta` plays run 4 and loses at once. Returns batches in posting order.
pub fn scripted() -> Vec<(&'static str, Vec<Value>)> {
    let mut a = Game::new();
    let mut batches = Vec::new();
    let small = |s: State| s.blind("Small Blind", 300.0, false);
    batches.push((
        "alpha",
        vec![a.heartbeat(), a.initial(&State::at("BLIND_SELECT", 1, 0))],
    ));
    batches.push((
        "alpha",
        vec![a.state(&small(State::at("UNKNOWN_STATE_1", 1, 1)))],
    ));
    let stale = a.clone_state_at_now(&small(State::at("UNKNOWN_STATE_1", 1, 1)));
    batches.push((
        "alpha",
        vec![
            a.hand_played(3),
            a.state(&small(State::at("UNKNOWN_STATE_1", 1, 1)).score(180.0, 3, 3)),
        ],
    ));
    batches.push((
        "alpha",
        vec![a.state(&small(State::at("UNKNOWN_STATE_2", 1, 1)).score(340.0, 2, 2))],
    ));
    batches.push((
        "alpha",
        vec![
            a.state(&State::at("SHOP", 1, 1).score(340.0, 4, 3).money(12.0)),
            a.money_changed(12.0, 7.0),
            a.state(&State::at("SHOP", 1, 1).money(7.0).jokers(&["Joker"])),
        ],
    ));
    let big = |s: State| {
        s.blind("Big Blind", 450.0, false)
            .money(7.0)
            .jokers(&["Joker"])
    };
    batches.push((
        "alpha",
        vec![
            a.state(&big(State::at("UNKNOWN_STATE_1", 1, 2))),
            a.state(&big(State::at("UNKNOWN_STATE_1", 1, 2)).score(520.0, 2, 3)),
        ],
    ));
    let hook = |s: State| {
        s.blind("The Hook", 600.0, true)
            .money(7.0)
            .jokers(&["Joker"])
    };
    batches.push((
        "alpha",
        vec![
            a.state(&hook(State::at("UNKNOWN_STATE_1", 1, 3))),
            a.state(&hook(State::at("UNKNOWN_STATE_1", 1, 3)).score(650.0, 3, 1)),
        ],
    ));
    let ante2 = |s: State| {
        s.blind("Small Blind", 800.0, false)
            .money(15.0)
            .jokers(&["Joker", "Blueprint"])
    };
    batches.push((
        "alpha",
        vec![
            a.state(&ante2(State::at("UNKNOWN_STATE_1", 2, 4))),
            a.state(&ante2(State::at("UNKNOWN_STATE_1", 2, 4)).score(500.0, 1, 0)),
        ],
    ));
    batches.push((
        "alpha",
        vec![a.state(&ante2(State::at("GAME_OVER", 2, 4)).score(500.0, 0, 0))],
    ));
    batches.push(("alpha", vec![a.menu(), a.heartbeat()]));
    // A GAME_STATE from before the game over, re-sent long after (a new
    // event id, its old monotonic timestamp): ignored for runs.
    batches.push(("alpha", vec![stale]));
    batches.push((
        "alpha",
        vec![
            a.state(&State::at("BLIND_SELECT", 1, 0)),
            a.state(&small(State::at("UNKNOWN_STATE_1", 1, 1))),
            a.state(
                &small(State::at("UNKNOWN_STATE_1", 1, 1))
                    .score(100.0, 3, 3)
                    .jokers(&["Joker"]),
            ),
        ],
    ));
    // The game process restarts: a new clock, and an initial GAME_STATE.
    let mut restarted = Game::new();
    restarted.clock_ms = 10.0;
    restarted.next_id = 1000;
    batches.push((
        "alpha",
        vec![restarted.initial(&State::at("BLIND_SELECT", 1, 0))],
    ));

    let mut b = Game::new();
    b.next_id = 5000;
    batches.push((
        "beta",
        vec![
            b.initial(&small(State::at("UNKNOWN_STATE_1", 1, 1))),
            b.state(&small(State::at("GAME_OVER", 1, 1)).score(100.0, 0, 1)),
        ],
    ));
    batches
}

impl Game {
    /// A GAME_STATE stamped with the current clock but not sent now (to be
    /// sent later, as the mod's buffer does after an outage).
    pub fn clone_state_at_now(&mut self, s: &State) -> Value {
        let mut event = self.state(s);
        event["event_id"] = json!(format!("{:08x}-stale", self.next_id + 90_000));
        event
    }
}
