//! Request bodies shaped like the real mod's, built from the fixtures.
//!
//! Every event of the (valid-JSON) fixtures becomes a template: the event
//! without its `event_id` and `timestamp`, pre-serialised. A new event is
//! then `{"event_id":…,"timestamp":…,` + the template's rest: a copy, not a
//! re-serialisation, so the generator stays cheap next to the gateway it
//! measures on the same two cores.

use jimbot_schemas::balatro;
use serde_json::Value;

/// The fixtures whose events are the templates (valid JSON only).
const FIXTURES: &[&[u8]] = &[
    include_bytes!("../../fixtures/balatromcp/batch_startup.json"),
    include_bytes!("../../fixtures/balatromcp/batch_round_end.json"),
    include_bytes!("../../fixtures/balatromcp/batch_shop_purchase_unicode.json"),
    include_bytes!("../../fixtures/balatromcp/batch_mixed.json"),
    include_bytes!("../../fixtures/balatromcp/edge_big_numbers.json"),
    include_bytes!("../../fixtures/balatromcp/edge_large_game_state.json"),
];

/// One event type's body, minus `event_id` and `timestamp`.
#[derive(Debug, Clone)]
pub struct Template {
    /// The event's `type`, e.g. `GAME_STATE`.
    pub event_type: String,
    /// `"key":value,…` of everything else, without the braces.
    rest: String,
}

/// The templates, split the way the mod's traffic is.
#[derive(Debug, Clone)]
pub struct Templates {
    /// GAME_STATE events, 8-21 KB.
    pub game_states: Vec<Template>,
    /// HEARTBEAT events.
    pub heartbeats: Vec<Template>,
    /// The seven change events.
    pub changes: Vec<Template>,
}

impl Templates {
    /// Templates from every event of the fixtures.
    pub fn from_fixtures() -> Self {
        let mut templates = Templates {
            game_states: Vec::new(),
            heartbeats: Vec::new(),
            changes: Vec::new(),
        };
        for fixture in FIXTURES {
            let batch = balatro::parse_batch(fixture).expect("fixtures parse");
            for event in batch.events {
                let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&event.raw)
                else {
                    continue;
                };
                object.remove("event_id");
                object.remove("timestamp");
                let event_type = object
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let body = Value::Object(object).to_string();
                let template = Template {
                    event_type: event_type.clone(),
                    rest: body[1..body.len() - 1].to_owned(),
                };
                match event_type.as_str() {
                    "GAME_STATE" => templates.game_states.push(template),
                    "HEARTBEAT" => templates.heartbeats.push(template),
                    _ => templates.changes.push(template),
                }
            }
        }
        templates
    }

    /// The `n`-th event of the batch mix: a GAME_STATE first, then heartbeats
    /// and change events, as the mod's aggregator sends at most one state.
    pub fn mixed(&self, position_in_batch: usize, n: usize) -> &Template {
        if position_in_batch == 0 {
            &self.game_states[n % self.game_states.len()]
        } else if n.is_multiple_of(10) {
            &self.heartbeats[n % self.heartbeats.len()]
        } else {
            &self.changes[n % self.changes.len()]
        }
    }
}

impl Template {
    /// Appends this event with a new id and timestamp to `out`.
    pub fn write(&self, out: &mut String, event_id: &str, timestamp_ms: f64) {
        use std::fmt::Write as _;
        let _ = write!(
            out,
            r#"{{"event_id":"{event_id}","timestamp":{timestamp_ms}"#
        );
        if !self.rest.is_empty() {
            out.push(',');
            out.push_str(&self.rest);
        }
        out.push('}');
    }
}

/// A batch body around already written events.
pub fn batch_body(batch_id: &str, events: &str) -> String {
    format!(
        r#"{{"batch_id":"{batch_id}","source":"BalatroMCP","timestamp":1751439161000,"events":[{events}]}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_batches_are_what_the_gateway_parses_as_the_mod_sends() {
        let templates = Templates::from_fixtures();
        assert!(!templates.game_states.is_empty() && !templates.heartbeats.is_empty());
        assert!(templates.changes.len() >= 7, "every change event type");
        let mut events = String::new();
        for i in 0..50 {
            if i > 0 {
                events.push(',');
            }
            templates
                .mixed(i, i)
                .write(&mut events, &format!("id-{i}"), i as f64 + 0.25);
        }
        let body = batch_body("b-1", &events);
        let batch = balatro::parse_batch(body.as_bytes()).expect("a batch");
        assert_eq!(batch.events.len(), 50);
        for (i, event) in batch.events.iter().enumerate() {
            let event = event.result.as_ref().expect("usable event");
            assert_eq!(event.event_id, format!("id-{i}"));
            assert_eq!(event.client_timestamp_ms, Some(i as f64 + 0.25));
        }
        let first = batch.events[0].result.as_ref().expect("event");
        assert_eq!(first.type_name, "GAME_STATE");
        assert!(batch.events[0].raw.len() > 8_000, "GAME_STATEs are 8-21 KB");
    }
}
