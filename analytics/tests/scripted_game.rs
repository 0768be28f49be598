//! A scripted game, posted through the real gateway, gives exactly the
//! expected runs, rounds, money readings and joker rows.

mod common;

use common::{Harness, game};
use serde_json::{Value, json};

/// Posts the scripted game (re-sending one batch, as the mod does after a
/// retry) and waits until analytics has applied all of it.
async fn played() -> (Harness, common::Consumer) {
    let harness = Harness::start().await;
    let batches = game::scripted();
    for (i, (session, events)) in batches.iter().enumerate() {
        harness.post_batch(session, events).await;
        if i == 3 {
            harness.post_batch(session, events).await;
        }
    }
    let last = harness.stream_last_seq().await;
    assert_eq!(last, 25, "the re-sent batch was stored once");
    let consumer = harness.start_consumer().await;
    consumer.wait_applied(last).await;
    (harness, consumer)
}

fn pick(value: &Value, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .map(|k| ((*k).to_owned(), value[*k].clone()))
            .collect(),
    )
}

#[tokio::test]
async fn the_scripted_game_gives_the_expected_runs() {
    let (_harness, consumer) = played().await;
    let api = consumer.api();
    let (_, body) = common::get_json(&api, "/api/v1/analytics/runs?limit=10").await;
    let mut runs: Vec<Value> = body["runs"].as_array().expect("runs").clone();
    runs.sort_by_key(|r| r["id"].as_i64());
    let keys = [
        "id",
        "session",
        "outcome",
        "first_seq",
        "last_seq",
        "final_ante",
        "final_round",
        "max_ante",
        "best_score",
        "total_score",
        "hands_used",
        "discards_used",
        "final_money",
        "jokers",
        "events",
    ];
    let got: Vec<Value> = runs.iter().map(|r| pick(r, &keys)).collect();
    let expected = vec![
        json!({"id": 1, "session": "alpha", "outcome": "lost", "first_seq": 2, "last_seq": 16,
               "final_ante": 2, "final_round": 4, "max_ante": 2, "best_score": 650.0,
               "total_score": 2010.0, "hands_used": 9, "discards_used": 6, "final_money": 15.0,
               "jokers": ["Joker", "Blueprint"], "events": 15}),
        json!({"id": 2, "session": "alpha", "outcome": "abandoned", "first_seq": 20, "last_seq": 22,
               "final_ante": 1, "final_round": 1, "max_ante": 1, "best_score": 100.0,
               "total_score": 100.0, "hands_used": 1, "discards_used": 0, "final_money": 4.0,
               "jokers": ["Joker"], "events": 3}),
        json!({"id": 3, "session": "alpha", "outcome": "in_progress", "first_seq": 23, "last_seq": 23,
               "final_ante": 1, "final_round": 0, "max_ante": 1, "best_score": 0.0,
               "total_score": 0.0, "hands_used": 0, "discards_used": 0, "final_money": 4.0,
               "jokers": [], "events": 1}),
        json!({"id": 4, "session": "beta", "outcome": "lost", "first_seq": 24, "last_seq": 25,
               "final_ante": 1, "final_round": 1, "max_ante": 1, "best_score": 100.0,
               "total_score": 100.0, "hands_used": 4, "discards_used": 2, "final_money": 4.0,
               "jokers": [], "events": 2}),
    ];
    assert_eq!(got, expected);
    assert_eq!(body["total"], 4);
}

#[tokio::test]
async fn the_first_run_has_its_rounds_money_and_replay_range() {
    let (_harness, consumer) = played().await;
    let (status, run) = common::get_json(&consumer.api(), "/api/v1/analytics/runs/1").await;
    assert_eq!(status, 200, "{run}");
    let keys = [
        "round",
        "ante",
        "blind",
        "blind_chips",
        "boss",
        "score",
        "beaten",
        "hands_used",
        "discards_used",
        "money",
        "first_seq",
        "last_seq",
    ];
    let rounds: Vec<Value> = run["rounds"]
        .as_array()
        .expect("rounds")
        .iter()
        .map(|r| pick(r, &keys))
        .collect();
    assert_eq!(
        rounds,
        vec![
            json!({"round": 1, "ante": 1, "blind": "Small Blind", "blind_chips": 300.0, "boss": false,
                   "score": 340.0, "beaten": true, "hands_used": 2, "discards_used": 1, "money": 4.0,
                   "first_seq": 3, "last_seq": 6}),
            json!({"round": 2, "ante": 1, "blind": "Big Blind", "blind_chips": 450.0, "boss": false,
                   "score": 520.0, "beaten": true, "hands_used": 2, "discards_used": 0, "money": 7.0,
                   "first_seq": 10, "last_seq": 11}),
            json!({"round": 3, "ante": 1, "blind": "The Hook", "blind_chips": 600.0, "boss": true,
                   "score": 650.0, "beaten": true, "hands_used": 1, "discards_used": 2, "money": 7.0,
                   "first_seq": 12, "last_seq": 13}),
            json!({"round": 4, "ante": 2, "blind": "Small Blind", "blind_chips": 800.0, "boss": false,
                   "score": 500.0, "beaten": false, "hands_used": 4, "discards_used": 3, "money": 15.0,
                   "first_seq": 14, "last_seq": 16}),
        ]
    );
    let money: Vec<(i64, f64)> = run["money"]
        .as_array()
        .expect("money")
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().expect("seq"),
                m["money"].as_f64().expect("money"),
            )
        })
        .collect();
    assert_eq!(money, vec![(2, 4.0), (7, 12.0), (9, 7.0), (14, 15.0)]);
    assert_eq!(run["replay"]["filter_subject"], "jimbot.game.alpha.>");
    assert_eq!(run["replay"]["first_seq"], 2);
    assert_eq!(run["replay"]["last_seq"], 16);
    assert_eq!(
        run["replay"]["gateway"],
        "/api/v1/sessions/alpha/events?from_seq=2&to_seq=16"
    );
}

#[tokio::test]
async fn jokers_and_the_summary_count_finished_runs() {
    let (_harness, consumer) = played().await;
    let api = consumer.api();
    let (_, jokers) = common::get_json(&api, "/api/v1/analytics/jokers").await;
    assert_eq!(
        jokers["jokers"],
        json!([
            {"joker": "Joker", "runs": 2, "won": 0, "win_rate": 0.0, "mean_final_ante": 1.5},
            {"joker": "Blueprint", "runs": 1, "won": 0, "win_rate": 0.0, "mean_final_ante": 2.0},
        ])
    );
    let (_, summary) = common::get_json(&api, "/api/v1/analytics/summary").await;
    assert_eq!(
        pick(
            &summary,
            &[
                "runs",
                "in_progress",
                "won",
                "lost",
                "abandoned",
                "win_rate",
                "events_processed",
                "dead_letters",
                "last_applied_seq",
                "events_by_type"
            ]
        ),
        json!({"runs": 4, "in_progress": 1, "won": 0, "lost": 2, "abandoned": 1, "win_rate": 0.0,
               "events_processed": 25, "dead_letters": 0, "last_applied_seq": 25,
               "events_by_type": {"GAME_STATE": 21, "HEARTBEAT": 2, "HAND_PLAYED": 1, "MONEY_CHANGED": 1}})
    );
    let mean = summary["mean_final_ante"].as_f64().expect("mean");
    assert!((mean - 4.0 / 3.0).abs() < 1e-9, "{mean}");
    assert_eq!(summary["consumer"]["pending"], 0);
}
