//! Protobuf -> the mod's JSON shape, built only from the typed fields (never
//! from `original_json`), so comparing it with what the mod sent proves the
//! typed model lost nothing.
//!
//! Normalisations, because JSON values cannot say more:
//! - non-finite numbers render as the strings `"inf"`, `"-inf"`, `"nan"`, `"-nan"`;
//! - integral numbers render as integers (as the mod's `%.14g` prints them);
//! - empty lists render as `[]` (the mod sends `{}`); lists the mod sent as
//!   objects keyed by position render as arrays;
//! - GAME_STATE collections (`jokers`, `hand`, `consumables`, `score_history`,
//!   `shop_items`) render when non-empty or when `in_game` is true (the in-run
//!   shape always carries them; the menu shape never does);
//! - a JSON `null` the mod might send for a field renders as an absent key;
//! - payloads of unknown types (EVENT_TYPE_CUSTOM) and of unknown SCORING
//!   subtypes are not typed, so they are absent here (they live in
//!   `original_json`).

use serde_json::{Map, Value};

use crate::v1::{self, event::Payload, scoring::Detail};

/// Renders `event` in the mod's JSON shape (see the module docs for the
/// normalisations).
pub fn to_mod_json(event: &v1::Event) -> Value {
    let mut obj = Obj::default();
    obj.text("type", Some(&event.type_name));
    if !event.event_id.is_empty() {
        obj.text("event_id", Some(&event.event_id));
    }
    obj.text("source", event.source.as_ref());
    obj.num("timestamp", event.client_timestamp_ms);
    obj.num("version", event.version);
    obj.text("priority", event.priority.as_ref());
    obj.text("subtype", event.subtype.as_ref());
    obj.flag("initial", event.initial);
    obj.flag("debug", event.debug);
    if event.has_changes {
        obj.put(
            "changes",
            Value::Array(event.changes.iter().map(to_mod_json).collect()),
        );
    }
    if let Some(payload) = &event.payload {
        let key = if event.payload_from_data {
            "data"
        } else {
            "payload"
        };
        if let Some(value) = payload_json(payload) {
            obj.put(key, value);
        }
    }
    obj.done()
}

fn payload_json(payload: &Payload) -> Option<Value> {
    let mut o = Obj::default();
    match payload {
        Payload::GameState(p) => return Some(game_state(p)),
        Payload::ConnectionTest(p) => o.text("message", p.message.as_ref()),
        Payload::Heartbeat(p) => {
            o.text("version", p.version.as_ref());
            o.num("uptime", p.uptime);
            o.flag("headless", p.headless);
            o.text("game_state", p.game_state.as_ref());
        }
        Payload::MoneyChanged(p) => {
            o.num("old_value", p.old_value);
            o.num("new_value", p.new_value);
            o.num("difference", p.difference);
        }
        Payload::ScoreChanged(p) => {
            o.num("old_chips", p.old_chips);
            o.num("new_chips", p.new_chips);
            o.num("old_mult", p.old_mult);
            o.num("new_mult", p.new_mult);
        }
        Payload::HandPlayed(p) => {
            o.num("hands_remaining", p.hands_remaining);
            o.num("hand_number", p.hand_number);
        }
        Payload::CardsDiscarded(p) => o.num("discards_remaining", p.discards_remaining),
        Payload::JokersChanged(p) => {
            o.num("old_count", p.old_count);
            o.num("new_count", p.new_count);
            o.put("jokers", Value::Array(p.jokers.iter().map(joker).collect()));
        }
        Payload::RoundChanged(p) => {
            o.num("ante", p.ante);
            o.num("round", p.round);
        }
        Payload::PhaseChanged(p) => {
            o.text("old_phase", p.old_phase.as_ref());
            o.text("new_phase", p.new_phase.as_ref());
        }
        Payload::RoundComplete(p) => {
            o.num("ante", p.ante);
            o.num("round", p.round);
            o.num("score", p.score);
            o.num("money", p.money);
        }
        Payload::JokerTrigger(p) => {
            o.text("joker_name", p.joker_name.as_ref());
            match &p.context_type {
                Some(v1::joker_trigger::ContextType::ContextFlag(flag)) => {
                    o.put("context_type", Value::Bool(*flag));
                }
                Some(v1::joker_trigger::ContextType::ContextText(text)) => {
                    o.put("context_type", Value::String(text.clone()));
                }
                None => {}
            }
            o.num("timestamp", p.timestamp);
        }
        Payload::Scoring(p) => return p.detail.as_ref().map(scoring),
        Payload::LearningDecision(p) => {
            o.text("request_id", p.request_id.as_ref());
            if let Some(state) = &p.game_state {
                o.put("game_state", game_state(state));
            }
            o.put("available_actions", strings(&p.available_actions));
            o.num("time_limit_ms", p.time_limit_ms);
        }
        Payload::Error(p) => {
            o.text("message", p.message.as_ref());
            if let Some(context) = &p.context_json {
                let value = serde_json::from_slice(context)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(context).into()));
                o.put("context", value);
            }
            o.text("stack_trace", p.stack_trace.as_ref());
        }
        Payload::Diagnostic(p) => {
            o.put("available_functions", strings(&p.available_functions));
            o.flag("g_exists", p.g_exists);
            o.flag("g_funcs_exists", p.g_funcs_exists);
            o.flag("g_game_exists", p.g_game_exists);
            match &p.g_state {
                Some(v1::diagnostic::GState::GStateNumber(n)) => o.num("g_state", Some(*n)),
                Some(v1::diagnostic::GState::GStateText(t)) => o.text("g_state", Some(t)),
                None => {}
            }
        }
    }
    Some(o.done())
}

fn scoring(detail: &Detail) -> Value {
    let mut o = Obj::default();
    match detail {
        Detail::HandEvalStart(p) => {
            o.num("starting_score", p.starting_score);
            o.num("ante", p.ante);
            o.num("round", p.round);
            o.num("hand_number", p.hand_number);
        }
        Detail::JokerTrigger(p) => {
            if let Some(j) = &p.joker {
                let mut jo = Obj::default();
                jo.text("name", j.name.as_ref());
                match &j.id {
                    Some(v1::scoring_joker::Id::NumericId(n)) => jo.num("id", Some(*n)),
                    Some(v1::scoring_joker::Id::TextId(t)) => jo.text("id", Some(t)),
                    None => {}
                }
                jo.num("position", j.position);
                o.put("joker", jo.done());
            }
            o.num("score_contribution", p.score_contribution);
            o.num("current_total", p.current_total);
            o.num("timestamp", p.timestamp);
        }
        Detail::HandEvalComplete(p) => {
            o.num("starting_score", p.starting_score);
            o.num("final_score", p.final_score);
            o.num("total_delta", p.total_delta);
            o.num("joker_triggers", p.joker_triggers);
            o.num("ante", p.ante);
            o.num("round", p.round);
            o.num("hand_number", p.hand_number);
        }
        Detail::ScoreUpdate(p) => {
            o.num("previous_score", p.previous_score);
            o.num("new_score", p.new_score);
            o.num("delta", p.delta);
            o.num("total_hand_delta", p.total_hand_delta);
            o.text("context", p.context.as_ref());
            o.num("timestamp", p.timestamp);
        }
        Detail::MultUpdate(p) => {
            o.num("mult_before", p.mult_before);
            o.num("mult_after", p.mult_after);
            o.num("delta", p.delta);
            o.text("source", p.source.as_ref());
            o.num("timestamp", p.timestamp);
        }
        Detail::ChipsUpdate(p) => {
            o.num("chips_before", p.chips_before);
            o.num("chips_after", p.chips_after);
            o.num("delta", p.delta);
            o.text("source", p.source.as_ref());
            o.num("timestamp", p.timestamp);
        }
    }
    o.done()
}

fn game_state(p: &v1::GameState) -> Value {
    let in_run = p.in_game == Some(true);
    let mut o = Obj::default();
    o.flag("in_game", p.in_game);
    o.text("game_id", p.game_id.as_ref());
    o.num("ante", p.ante);
    o.num("round", p.round);
    o.num("hand_number", p.hand_number);
    o.num("chips", p.chips);
    o.num("mult", p.mult);
    o.num("money", p.money);
    o.num("hand_size", p.hand_size);
    o.num("hands_remaining", p.hands_remaining);
    o.num("discards_remaining", p.discards_remaining);
    if in_run || !p.score_history.is_empty() {
        let mut history = Obj::default();
        for (key, item) in &p.score_history {
            let mut entry = Obj::default();
            entry.text("label", item.label.as_ref());
            entry.num("amt", item.amt);
            history.put(key, entry.done());
        }
        o.put("score_history", history.done());
    }
    if in_run || !p.jokers.is_empty() {
        o.put("jokers", Value::Array(p.jokers.iter().map(joker).collect()));
    }
    if in_run || !p.hand.is_empty() {
        o.put("hand", Value::Array(p.hand.iter().map(card).collect()));
    }
    if let Some(deck) = &p.deck {
        let mut d = Obj::default();
        d.num("remaining_count", deck.remaining_count);
        d.put(
            "cards_remaining",
            Value::Array(deck.cards_remaining.iter().map(card).collect()),
        );
        d.put(
            "full_deck",
            Value::Array(deck.full_deck.iter().map(card).collect()),
        );
        o.put("deck", d.done());
    }
    if in_run || !p.consumables.is_empty() {
        o.put(
            "consumables",
            Value::Array(p.consumables.iter().map(consumable).collect()),
        );
    }
    if in_run || !p.shop_items.is_empty() {
        let mut items = Obj::default();
        for (key, item) in &p.shop_items {
            let mut entry = Obj::default();
            entry.text("name", item.name.as_ref());
            entry.num("cost", item.cost);
            match &item.rarity {
                Some(v1::shop_item::Rarity::RarityNumber(n)) => entry.num("rarity", Some(*n)),
                Some(v1::shop_item::Rarity::RarityText(t)) => entry.text("rarity", Some(t)),
                None => {}
            }
            items.put(key, entry.done());
        }
        o.put("shop_items", items.done());
    }
    o.text("game_state", p.game_state.as_ref());
    o.text("ui_state", p.ui_state.as_ref());
    if let Some(b) = &p.blind {
        let mut blind = Obj::default();
        blind.text("name", b.name.as_ref());
        blind.num("chips", b.chips);
        blind.text("chip_text", b.chip_text.as_ref());
        blind.num("mult", b.mult);
        blind.flag("defeated", b.defeated);
        blind.flag("boss", b.boss);
        o.put("blind", blind.done());
    }
    o.num("timestamp", p.timestamp);
    o.num("frame_count", p.frame_count);
    o.text("phase", p.phase.as_ref());
    o.done()
}

fn card(c: &v1::Card) -> Value {
    let mut o = Obj::default();
    match &c.id {
        Some(v1::card::Id::NumericId(n)) => o.num("id", Some(*n)),
        Some(v1::card::Id::TextId(t)) => o.text("id", Some(t)),
        None => {}
    }
    o.text("rank", c.rank.as_ref());
    o.text("suit", c.suit.as_ref());
    o.text("enhancement", c.enhancement.as_ref());
    o.text("edition", c.edition.as_ref());
    o.text("seal", c.seal.as_ref());
    o.num("position", c.position);
    o.done()
}

fn joker(j: &v1::Joker) -> Value {
    let mut o = Obj::default();
    match &j.id {
        Some(v1::joker::Id::NumericId(n)) => o.num("id", Some(*n)),
        Some(v1::joker::Id::TextId(t)) => o.text("id", Some(t)),
        None => {}
    }
    o.text("name", j.name.as_ref());
    o.num("position", j.position);
    if let Some(p) = &j.properties {
        let mut props = Obj::default();
        props.num("mult", p.mult);
        props.num("chips", p.chips);
        props.num("cost", p.cost);
        props.num("sell_value", p.sell_value);
        props.text("edition", p.edition.as_ref());
        o.put("properties", props.done());
    }
    o.done()
}

fn consumable(c: &v1::Consumable) -> Value {
    let mut o = Obj::default();
    match &c.id {
        Some(v1::consumable::Id::NumericId(n)) => o.num("id", Some(*n)),
        Some(v1::consumable::Id::TextId(t)) => o.text("id", Some(t)),
        None => {}
    }
    o.text("name", c.name.as_ref());
    o.text("card_type", c.card_type.as_ref());
    o.num("position", c.position);
    if let Some(p) = &c.properties {
        let mut props = Obj::default();
        props.num("cost", p.cost);
        props.text("edition", p.edition.as_ref());
        o.put("properties", props.done());
    }
    o.done()
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

/// A number as the mod would print it (see the module docs).
pub(crate) fn number(n: f64) -> Value {
    const EXACT_INT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.is_nan() {
        let text = if n.is_sign_negative() { "-nan" } else { "nan" };
        return Value::String(text.to_owned());
    }
    if n.is_infinite() {
        let text = if n > 0.0 { "inf" } else { "-inf" };
        return Value::String(text.to_owned());
    }
    if n.fract() == 0.0 && n.abs() < EXACT_INT && !(n == 0.0 && n.is_sign_negative()) {
        #[allow(clippy::cast_possible_truncation, reason = "integral and below 2^53")]
        return Value::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// A JSON object under construction that skips absent values.
#[derive(Default)]
struct Obj(Map<String, Value>);

impl Obj {
    fn put(&mut self, key: &str, value: Value) {
        self.0.insert(key.to_owned(), value);
    }
    fn num(&mut self, key: &str, value: Option<f64>) {
        if let Some(n) = value {
            self.put(key, number(n));
        }
    }
    fn text(&mut self, key: &str, value: Option<&String>) {
        if let Some(text) = value {
            self.put(key, Value::String(text.clone()));
        }
    }
    fn flag(&mut self, key: &str, value: Option<bool>) {
        if let Some(flag) = value {
            self.put(key, Value::Bool(flag));
        }
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}
