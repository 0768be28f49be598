//! The consumer's side: load the state at start, commit each batch (its
//! data and the last applied sequence) in one transaction.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, StoreErrorKind};
use crate::{
    domain::{SessionName, StreamSeq},
    runs::{Ledger, SessionState},
};

/// The stream whose progress is recorded.
const STREAM: &str = jimbot_nats::topology::streams::GAME_EVENTS;

/// A message that was dead-lettered, as recorded.
#[derive(Debug, Clone)]
pub struct DeadLetterRow {
    /// Its stream sequence.
    pub seq: StreamSeq,
    /// Its subject.
    pub subject: String,
    /// The reason token.
    pub reason: &'static str,
    /// The decoder's message.
    pub detail: String,
    /// When it was stored in the stream (epoch ms).
    pub at_ms: i64,
}

/// Everything one batch writes.
#[derive(Debug)]
pub struct BatchWrite {
    /// Runs, rounds, money, jokers and session states.
    pub ledger: Ledger,
    /// Events by type.
    pub counts: BTreeMap<&'static str, u64>,
    /// Dead-lettered messages.
    pub dead: Vec<DeadLetterRow>,
    /// The last sequence the batch covers.
    pub last_seq: StreamSeq,
}

/// What the database holds when the consumer starts.
#[derive(Debug, Default)]
pub struct Stored {
    /// The last applied sequence (0: nothing yet).
    pub last_seq: StreamSeq,
    /// Every session's state.
    pub sessions: HashMap<SessionName, SessionState>,
    /// The next run id.
    pub next_run: i64,
}

/// Finished runs at a glance, for the gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FinishedStats {
    /// Runs finished.
    pub finished: u64,
    /// Of which won.
    pub won: u64,
    /// Mean final ante.
    pub mean_final_ante: Option<f64>,
}

/// The only writing connection.
#[derive(Debug)]
pub struct Writer {
    conn: Connection,
}

fn query_err(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::sql(StoreErrorKind::Query, what, e)
}

impl Writer {
    pub(super) fn new(conn: Connection) -> Self {
        Self { conn }
    }

    /// Loads the progress and every session's state.
    pub fn load(&self) -> Result<Stored, StoreError> {
        let last_seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT last_seq FROM consumer_progress WHERE stream = ?1",
                [STREAM],
                |row| row.get(0),
            )
            .optional()
            .map_err(query_err("reading the progress"))?;
        let next_run: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM runs", [], |row| {
                row.get(0)
            })
            .map_err(query_err("reading the run ids"))?;
        let mut statement = self
            .conn
            .prepare("SELECT session, state FROM sessions")
            .map_err(query_err("reading the sessions"))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(query_err("reading the sessions"))?;
        let mut sessions = HashMap::new();
        for row in rows {
            let (session, state) = row.map_err(query_err("reading the sessions"))?;
            let state: SessionState = serde_json::from_str(&state).map_err(|e| {
                StoreError::new(
                    StoreErrorKind::Corrupt,
                    format!("stored state of session {session:?} does not parse: {e}"),
                )
            })?;
            sessions.insert(SessionName::from_user(&session), state);
        }
        Ok(Stored {
            last_seq: StreamSeq(last_seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0)),
            sessions,
            next_run,
        })
    }

    /// Writes a batch and its last sequence in one transaction: all or nothing.
    pub fn commit(&mut self, batch: &BatchWrite) -> Result<(), StoreError> {
        let err = query_err("committing a batch");
        let tx = self.conn.transaction().map_err(&err)?;
        write_batch(&tx, batch).map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// Finished runs, won runs and the mean final ante.
    pub fn finished_stats(&self) -> Result<FinishedStats, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(outcome = 'won'), 0), AVG(final_ante)
                 FROM runs WHERE outcome != 'in_progress'",
                [],
                |row| {
                    Ok(FinishedStats {
                        finished: row.get::<_, i64>(0)?.try_into().unwrap_or(0),
                        won: row.get::<_, i64>(1)?.try_into().unwrap_or(0),
                        mean_final_ante: row.get(2)?,
                    })
                },
            )
            .map_err(query_err("reading finished runs"))
    }
}

fn write_batch(tx: &rusqlite::Transaction<'_>, batch: &BatchWrite) -> rusqlite::Result<()> {
    let ledger = &batch.ledger;
    let mut runs = tx.prepare_cached(
        "INSERT INTO runs (id, session, first_seq, last_seq, started_at_ms, ended_at_ms, outcome,
             final_ante, final_round, max_ante, best_score, total_score, hands_used,
             discards_used, final_money, jokers, events)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq,
             ended_at_ms = excluded.ended_at_ms, outcome = excluded.outcome,
             final_ante = excluded.final_ante, final_round = excluded.final_round,
             max_ante = excluded.max_ante, best_score = excluded.best_score,
             total_score = excluded.total_score, hands_used = excluded.hands_used,
             discards_used = excluded.discards_used, final_money = excluded.final_money,
             jokers = excluded.jokers, events = excluded.events",
    )?;
    let mut by_id = HashMap::new();
    for run in ledger.runs() {
        by_id.insert(run.id, run);
        runs.execute(params![
            run.id.0,
            run.session.as_str(),
            run.first_seq.as_i64(),
            run.last_seq.as_i64(),
            run.started_at_ms,
            run.ended_at_ms,
            run.outcome.as_str(),
            run.final_ante,
            run.final_round,
            run.max_ante,
            run.best_score,
            run.total_score,
            run.hands_used,
            run.discards_used,
            run.final_money,
            serde_json::to_string(&run.jokers).unwrap_or_else(|_| "[]".to_owned()),
            i64::try_from(run.events).unwrap_or(i64::MAX),
        ])?;
    }
    let mut rounds = tx.prepare_cached(
        "INSERT OR REPLACE INTO rounds (run_id, round, ante, blind, blind_chips, boss, score,
             beaten, hands_used, discards_used, money, first_seq, last_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for r in ledger.all_rounds() {
        rounds.execute(params![
            r.run_id.0,
            r.round,
            r.ante,
            r.blind,
            r.blind_chips,
            r.boss,
            r.score,
            r.beaten(),
            r.hands_used(),
            r.discards_used(),
            r.money,
            r.first_seq.as_i64(),
            r.last_seq.as_i64(),
        ])?;
    }
    let mut money = tx.prepare_cached(
        "INSERT OR IGNORE INTO run_money (run_id, seq, at_ms, money) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for m in &ledger.money {
        money.execute(params![m.run_id.0, m.seq.as_i64(), m.at_ms, m.money])?;
    }
    let mut clear_jokers = tx.prepare_cached("DELETE FROM run_jokers WHERE run_id = ?1")?;
    let mut add_joker = tx.prepare_cached(
        "INSERT INTO run_jokers (run_id, joker, copies) VALUES (?1, ?2, 1)
         ON CONFLICT (run_id, joker) DO UPDATE SET copies = copies + 1",
    )?;
    for id in &ledger.jokers_changed {
        clear_jokers.execute([id.0])?;
        if let Some(run) = by_id.get(id) {
            for joker in &run.jokers {
                add_joker.execute(params![id.0, joker])?;
            }
        }
    }
    let mut sessions = tx.prepare_cached(
        "INSERT INTO sessions (session, state, updated_seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (session) DO UPDATE SET state = excluded.state,
             updated_seq = excluded.updated_seq",
    )?;
    for (session, state) in &ledger.sessions {
        let json = serde_json::to_string(state)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        sessions.execute(params![session.as_str(), json, batch.last_seq.as_i64()])?;
    }
    let mut counts = tx.prepare_cached(
        "INSERT INTO event_counts (event_type, events) VALUES (?1, ?2)
         ON CONFLICT (event_type) DO UPDATE SET events = events + excluded.events",
    )?;
    for (event_type, n) in &batch.counts {
        counts.execute(params![event_type, i64::try_from(*n).unwrap_or(i64::MAX)])?;
    }
    let mut dead = tx.prepare_cached(
        "INSERT OR IGNORE INTO dead_letters (seq, subject, reason, detail, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for d in &batch.dead {
        dead.execute(params![
            d.seq.as_i64(),
            d.subject,
            d.reason,
            d.detail,
            d.at_ms
        ])?;
    }
    tx.prepare_cached(
        "INSERT INTO consumer_progress (stream, last_seq) VALUES (?1, ?2)
         ON CONFLICT (stream) DO UPDATE SET last_seq = excluded.last_seq",
    )?
    .execute(params![STREAM, batch.last_seq.as_i64()])?;
    Ok(())
}
