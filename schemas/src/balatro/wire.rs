//! The mod's JSON shapes as serde structs (spec sections 5 and 6).
//!
//! Unknown keys are ignored here (they survive in `original_json`); every
//! known key is optional because the mod omits nil values.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::lenient::{BoolOrText, Dict, Id, List, Num, NumOrText};

/// The batch envelope; `events` stays raw so each element is parsed (and can
/// fail) on its own.
#[derive(Debug, Deserialize)]
pub struct Batch<'a> {
    pub batch_id: Option<String>,
    pub source: Option<String>,
    pub timestamp: Option<Num>,
    #[serde(borrow)]
    pub events: Option<&'a RawValue>,
}

/// The event envelope; the payload stays raw until the type is known.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub event_id: Option<String>,
    pub source: Option<String>,
    pub timestamp: Option<Num>,
    pub version: Option<Num>,
    pub priority: Option<String>,
    pub subtype: Option<String>,
    pub initial: Option<bool>,
    pub debug: Option<bool>,
    #[serde(borrow)]
    pub changes: Option<&'a RawValue>,
    #[serde(borrow)]
    pub payload: Option<&'a RawValue>,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
pub struct GameState {
    pub in_game: Option<bool>,
    pub game_id: Option<String>,
    pub ante: Option<Num>,
    pub round: Option<Num>,
    pub hand_number: Option<Num>,
    pub chips: Option<Num>,
    pub mult: Option<Num>,
    pub money: Option<Num>,
    pub hand_size: Option<Num>,
    pub hands_remaining: Option<Num>,
    pub discards_remaining: Option<Num>,
    pub score_history: Option<Dict<ScoreHistoryItem>>,
    pub jokers: Option<List<Joker>>,
    pub hand: Option<List<Card>>,
    pub deck: Option<Deck>,
    pub consumables: Option<List<Consumable>>,
    pub shop_items: Option<Dict<ShopItem>>,
    pub game_state: Option<String>,
    pub ui_state: Option<String>,
    pub blind: Option<Blind>,
    pub timestamp: Option<Num>,
    pub frame_count: Option<Num>,
    pub phase: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ScoreHistoryItem {
    pub label: Option<String>,
    pub amt: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct Card {
    pub id: Option<Id>,
    pub rank: Option<String>,
    pub suit: Option<String>,
    pub enhancement: Option<String>,
    pub edition: Option<String>,
    pub seal: Option<String>,
    pub position: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct Joker {
    pub id: Option<Id>,
    pub name: Option<String>,
    pub position: Option<Num>,
    pub properties: Option<JokerProperties>,
}

#[derive(Debug, Deserialize)]
pub struct JokerProperties {
    pub mult: Option<Num>,
    pub chips: Option<Num>,
    pub cost: Option<Num>,
    pub sell_value: Option<Num>,
    pub edition: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Consumable {
    pub id: Option<Id>,
    pub name: Option<String>,
    pub card_type: Option<String>,
    pub position: Option<Num>,
    pub properties: Option<ConsumableProperties>,
}

#[derive(Debug, Deserialize)]
pub struct ConsumableProperties {
    pub cost: Option<Num>,
    pub edition: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Blind {
    pub name: Option<String>,
    pub chips: Option<Num>,
    pub chip_text: Option<String>,
    pub mult: Option<Num>,
    pub defeated: Option<bool>,
    pub boss: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct Deck {
    pub remaining_count: Option<Num>,
    pub cards_remaining: Option<List<Card>>,
    pub full_deck: Option<List<Card>>,
}

#[derive(Debug, Deserialize)]
pub struct ShopItem {
    pub name: Option<String>,
    pub cost: Option<Num>,
    pub rarity: Option<NumOrText>,
}

#[derive(Debug, Deserialize)]
pub struct ConnectionTest {
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Heartbeat {
    pub version: Option<String>,
    pub uptime: Option<Num>,
    pub headless: Option<bool>,
    pub game_state: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MoneyChanged {
    pub old_value: Option<Num>,
    pub new_value: Option<Num>,
    pub difference: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct ScoreChanged {
    pub old_chips: Option<Num>,
    pub new_chips: Option<Num>,
    pub old_mult: Option<Num>,
    pub new_mult: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct HandPlayed {
    pub hands_remaining: Option<Num>,
    pub hand_number: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct CardsDiscarded {
    pub discards_remaining: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct JokersChanged {
    pub old_count: Option<Num>,
    pub new_count: Option<Num>,
    pub jokers: Option<List<Joker>>,
}

#[derive(Debug, Deserialize)]
pub struct RoundChanged {
    pub ante: Option<Num>,
    pub round: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct PhaseChanged {
    pub old_phase: Option<String>,
    pub new_phase: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RoundComplete {
    pub ante: Option<Num>,
    pub round: Option<Num>,
    pub score: Option<Num>,
    pub money: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct JokerTrigger {
    pub joker_name: Option<String>,
    pub context_type: Option<BoolOrText>,
    pub timestamp: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct HandEvalStart {
    pub starting_score: Option<Num>,
    pub ante: Option<Num>,
    pub round: Option<Num>,
    pub hand_number: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct ScoringJokerTrigger {
    pub joker: Option<ScoringJoker>,
    pub score_contribution: Option<Num>,
    pub current_total: Option<Num>,
    pub timestamp: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct ScoringJoker {
    pub name: Option<String>,
    pub id: Option<Id>,
    pub position: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct HandEvalComplete {
    pub starting_score: Option<Num>,
    pub final_score: Option<Num>,
    pub total_delta: Option<Num>,
    pub joker_triggers: Option<Num>,
    pub ante: Option<Num>,
    pub round: Option<Num>,
    pub hand_number: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct ScoreUpdate {
    pub previous_score: Option<Num>,
    pub new_score: Option<Num>,
    pub delta: Option<Num>,
    pub total_hand_delta: Option<Num>,
    pub context: Option<String>,
    pub timestamp: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct MultUpdate {
    pub mult_before: Option<Num>,
    pub mult_after: Option<Num>,
    pub delta: Option<Num>,
    pub source: Option<String>,
    pub timestamp: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct ChipsUpdate {
    pub chips_before: Option<Num>,
    pub chips_after: Option<Num>,
    pub delta: Option<Num>,
    pub source: Option<String>,
    pub timestamp: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct LearningDecision {
    pub request_id: Option<String>,
    pub game_state: Option<GameState>,
    pub available_actions: Option<List<String>>,
    pub time_limit_ms: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorReport<'a> {
    pub message: Option<String>,
    #[serde(borrow)]
    pub context: Option<&'a RawValue>,
    pub stack_trace: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Diagnostic {
    pub available_functions: Option<List<String>>,
    pub g_exists: Option<bool>,
    pub g_funcs_exists: Option<bool>,
    pub g_game_exists: Option<bool>,
    pub g_state: Option<NumOrText>,
}
