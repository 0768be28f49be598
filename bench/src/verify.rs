//! Checks that the stream holds exactly what was acknowledged.

use std::collections::BTreeMap;

use async_nats::jetstream;
use futures::TryStreamExt;
use jimbot_nats::topology::streams;

/// Compares per-subject counts in `GAME_EVENTS` under `jimbot.game.<prefix>*`
/// with the stored counts the run was acknowledged; returns the mismatches.
pub async fn stream_matches(
    js: &jetstream::Context,
    session_prefix: &str,
    acknowledged: &BTreeMap<String, u64>,
) -> anyhow::Result<Vec<String>> {
    let stream = js.get_stream(streams::GAME_EVENTS).await?;
    let mut subjects = stream.info_with_subjects("jimbot.game.>").await?;
    let mut found: BTreeMap<String, u64> = BTreeMap::new();
    while let Some((subject, count)) = subjects.try_next().await? {
        if let Some(rest) = subject.strip_prefix("jimbot.game.")
            && rest.starts_with(session_prefix)
        {
            found.insert(rest.to_owned(), count as u64);
        }
    }
    let mut mismatches = Vec::new();
    for (subject, want) in acknowledged {
        let got = found.get(subject).copied().unwrap_or(0);
        if got != *want {
            mismatches.push(format!(
                "{subject}: acknowledged {want}, stream holds {got}"
            ));
        }
    }
    for (subject, got) in &found {
        if !acknowledged.contains_key(subject) {
            mismatches.push(format!("{subject}: never acknowledged, stream holds {got}"));
        }
    }
    Ok(mismatches)
}
