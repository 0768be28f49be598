//! Subject builders and token sanitising.

use jimbot_nats::subject::{self, AiTraffic, MAX_TOKEN_LEN, Token};
use proptest::prelude::*;

fn is_clean(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[test]
fn clean_tokens_are_kept_verbatim() {
    assert_eq!(Token::new("default").as_str(), "default");
    assert_eq!(Token::new("game-1_a").as_str(), "game-1_a");
}

#[test]
fn upper_case_is_folded_without_a_suffix() {
    assert_eq!(Token::new("GAME_STATE").as_str(), "game_state");
    assert_eq!(Token::new("Session-A"), Token::new("session-a"));
    assert_eq!(Token::new("Session.A"), Token::new("session.a"));
}

#[test]
fn subject_wildcards_and_separators_are_replaced() {
    for raw in ["a.b", "a*b", "a>b", "a b", "a\tb", ">", "*", "."] {
        let token = Token::new(raw);
        assert!(is_clean(token.as_str()), "{raw:?} -> {token:?}");
        assert!(!token.as_str().contains(['.', '*', '>', ' ']), "{token:?}");
    }
}

#[test]
fn altered_tokens_do_not_collide_with_clean_ones() {
    // `game.1` must not land in the session `game_1`.
    assert_ne!(Token::new("game.1"), Token::new("game_1"));
    assert_ne!(Token::new("game.1"), Token::new("game*1"));
    assert!(Token::new("game.1").as_str().starts_with("game_1-"));
}

#[test]
fn empty_token_is_valid_and_distinct() {
    let empty = Token::new("");
    assert!(is_clean(empty.as_str()), "{empty:?}");
    assert_ne!(empty, Token::new("_"));
}

#[test]
fn unicode_is_replaced_and_disambiguated() {
    let a = Token::new("Jöker");
    let b = Token::new("Jäker");
    assert!(is_clean(a.as_str()) && is_clean(b.as_str()));
    assert_ne!(a, b);
    assert!(a.as_str().starts_with("j_ker-"), "{a:?}");
}

#[test]
fn long_tokens_are_cut_and_stay_distinct() {
    let long_a = "a".repeat(300);
    let long_b = format!("{}b", "a".repeat(299));
    let (a, b) = (Token::new(&long_a), Token::new(&long_b));
    assert_eq!(a.as_str().len(), MAX_TOKEN_LEN);
    assert!(is_clean(a.as_str()) && is_clean(b.as_str()));
    assert_ne!(a, b);
    // Exactly at the limit is still kept verbatim.
    let exact = "x".repeat(MAX_TOKEN_LEN);
    assert_eq!(Token::new(&exact).as_str(), exact);
    assert_ne!(Token::new(&"x".repeat(MAX_TOKEN_LEN + 1)).as_str(), exact);
}

#[test]
fn sanitising_is_stable() {
    // The suffix is FNV-1a/32 of the input (computed independently), not
    // std's per-process seeded hasher.
    assert_eq!(Token::new("a.b").as_str(), "a_b-108bf50c");
}

#[test]
fn builders_produce_the_designed_subjects() {
    let session = Token::new("s1");
    assert_eq!(
        subject::game_event(&session, &Token::new("GAME_STATE")),
        "jimbot.game.s1.game_state"
    );
    assert_eq!(subject::game_session(&session), "jimbot.game.s1.>");
    assert_eq!(subject::command(&session), "jimbot.commands.s1");
    assert_eq!(
        subject::dead_letter(&Token::new("invalid_json")),
        "jimbot.deadletter.invalid_json"
    );
    assert_eq!(
        subject::coordinator_event(&Token::new("granted")),
        "jimbot.coordinator.events.granted"
    );
    assert_eq!(
        AiTraffic::Learning.subject(&Token::new("decisions")),
        "jimbot.learning.decisions"
    );
    assert_eq!(
        subject::rpc(&Token::new("coordinator"), &Token::new("acquire")),
        "jimbot.rpc.coordinator.acquire"
    );
}

#[test]
fn hostile_session_cannot_widen_a_filter() {
    let filter = subject::game_session(&Token::new("a.>"));
    assert!(!subject::matches(&filter, "jimbot.game.b.game_state"));
    assert!(subject::matches(
        &filter,
        &subject::game_event(&Token::new("a.>"), &Token::new("x"))
    ));
}

#[test]
fn wildcard_matching() {
    assert!(subject::matches("jimbot.game.>", "jimbot.game.s.t"));
    assert!(!subject::matches("jimbot.game.>", "jimbot.game"));
    assert!(subject::matches("jimbot.*.s", "jimbot.game.s"));
    assert!(!subject::matches("jimbot.*.s", "jimbot.game.s.t"));
    assert!(subject::overlaps("jimbot.game.>", "jimbot.*.s1.x"));
    assert!(!subject::overlaps("jimbot.game.>", "jimbot.rpc.>"));
}

proptest! {
    #[test]
    fn any_input_gives_a_clean_token(raw in ".*") {
        let token = Token::new(&raw);
        prop_assert!(is_clean(token.as_str()), "{:?} -> {:?}", raw, token);
    }

    #[test]
    fn tokens_collide_only_by_case(a in "[a-zA-Z0-9._* >-]{0,80}", b in "[a-zA-Z0-9._* >-]{0,80}") {
        if Token::new(&a) == Token::new(&b) {
            prop_assert_eq!(a.to_ascii_lowercase(), b.to_ascii_lowercase());
        }
    }

    #[test]
    fn case_never_matters(raw in "[a-zA-Z0-9._* >-]{0,80}") {
        prop_assert_eq!(Token::new(&raw), Token::new(&raw.to_ascii_lowercase()));
        prop_assert_eq!(Token::new(&raw), Token::new(&raw.to_ascii_uppercase()));
    }

    #[test]
    fn built_subjects_have_exactly_the_designed_tokens(session in ".*", kind in ".*") {
        let subject = subject::game_event(&Token::new(&session), &Token::new(&kind));
        prop_assert_eq!(subject.split('.').count(), 4);
        prop_assert!(subject::matches("jimbot.game.*.*", &subject));
    }
}
