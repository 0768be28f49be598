//! Property tests: no input makes the parsers panic, and whatever they accept
//! keeps each event's exact original bytes.

mod common;

use jimbot_schemas::balatro::{parse_batch, parse_single, sanitize, to_mod_json};
use proptest::prelude::*;

fn check(body: &[u8]) {
    if let Ok(batch) = parse_batch(body) {
        for event in &batch.events {
            assert!(
                body.windows(event.raw.len()).any(|w| w == &event.raw[..]) || event.raw.is_empty()
            );
            if let Ok(e) = &event.result {
                let _ = to_mod_json(e);
            }
        }
    }
    if let Ok(single) = parse_single(body) {
        assert!(body.windows(single.raw.len()).any(|w| w == &single.raw[..]));
        if let Ok(e) = &single.result {
            let _ = to_mod_json(e);
        }
    }
    let _ = sanitize(body);
}

fn fixtures() -> Vec<Vec<u8>> {
    common::FIXTURES
        .iter()
        .map(|(name, _)| common::fixture(name))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&body);
    }

    #[test]
    fn json_ish_bytes(body in "[{}\\[\\]\":,a-z0-9 .eE+\\-infa\\\\\u{0}-\u{1f}\u{80}-\u{ff}]{0,256}") {
        check(body.as_bytes());
    }

    #[test]
    fn bytes_spliced_into_fixtures(
        which in 0usize..15,
        at in any::<prop::sample::Index>(),
        cut in 0usize..16,
        insert in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let original = &fixtures()[which];
        let at = at.index(original.len());
        let end = (at + cut).min(original.len());
        let mut body = original[..at].to_vec();
        body.extend_from_slice(&insert);
        body.extend_from_slice(&original[end..]);
        check(&body);
    }
}

#[test]
fn sanitize_borrows_valid_json() {
    let body = common::fixture("batch_startup.json");
    assert!(sanitize(&body).is_unchanged());
    assert!(!sanitize(&common::fixture("edge_invalid_json_inf_nan.json")).is_unchanged());
}
