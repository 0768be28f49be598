//! The query API's side: read-only queries over the tables.

use std::{collections::BTreeMap, path::PathBuf};

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Pool, StoreError, StoreErrorKind};
use crate::domain::{Outcome, RunId, SessionName};

/// Which runs to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Only this session's runs.
    pub session: Option<SessionName>,
    /// Only runs started at or after this time (epoch ms).
    pub from_ms: Option<i64>,
    /// Only runs started before this time (epoch ms).
    pub to_ms: Option<i64>,
    /// Only runs with this outcome.
    pub outcome: Option<Outcome>,
}

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows per page.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u64,
}

/// Totals over every run and event.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Runs seen.
    pub runs: u64,
    /// Runs still open.
    pub in_progress: u64,
    /// Runs won.
    pub won: u64,
    /// Runs lost.
    pub lost: u64,
    /// Runs abandoned.
    pub abandoned: u64,
    /// Won over finished runs; `null` before any run finished.
    pub win_rate: Option<f64>,
    /// Mean final ante of finished runs.
    pub mean_final_ante: Option<f64>,
    /// Events applied (game events and dead-lettered messages).
    pub events_processed: u64,
    /// Game events by type.
    pub events_by_type: BTreeMap<String, u64>,
    /// Messages dead-lettered by analytics.
    pub dead_letters: u64,
    /// The last applied `GAME_EVENTS` sequence.
    pub last_applied_seq: u64,
}

/// A run, as listed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunSummary {
    /// Its id.
    pub id: i64,
    /// Its session.
    pub session: String,
    /// `in_progress`, `won`, `lost` or `abandoned`.
    pub outcome: String,
    /// When its first event was received (RFC 3339).
    pub started_at: String,
    /// When its last event was received (RFC 3339).
    pub ended_at: String,
    /// When its first event was received (epoch ms).
    pub started_at_ms: i64,
    /// When its last event was received (epoch ms).
    pub ended_at_ms: i64,
    /// Its first `GAME_EVENTS` sequence.
    pub first_seq: i64,
    /// Its last `GAME_EVENTS` sequence.
    pub last_seq: i64,
    /// Ante at its last state.
    pub final_ante: i64,
    /// Round at its last state.
    pub final_round: i64,
    /// Highest ante reached.
    pub max_ante: i64,
    /// Best round score (`null` when infinite).
    pub best_score: f64,
    /// Sum of round scores (`null` when infinite).
    pub total_score: f64,
    /// Hands played.
    pub hands_used: i64,
    /// Discards used.
    pub discards_used: i64,
    /// Money at its last state.
    pub final_money: Option<f64>,
    /// Jokers held at its last state.
    pub jokers: Vec<String>,
    /// Events while it was open.
    pub events: i64,
}

/// One round of a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoundDetail {
    /// `G.GAME.round`.
    pub round: i64,
    /// Its ante.
    pub ante: i64,
    /// The blind's name.
    pub blind: String,
    /// The score the blind asked for.
    pub blind_chips: f64,
    /// Whether it was a boss blind.
    pub boss: bool,
    /// Best score reached.
    pub score: f64,
    /// Whether the score reached the blind's chips.
    pub beaten: bool,
    /// Hands played.
    pub hands_used: i64,
    /// Discards used.
    pub discards_used: i64,
    /// Money at its last state.
    pub money: Option<f64>,
    /// Its first `GAME_EVENTS` sequence.
    pub first_seq: i64,
    /// Its last `GAME_EVENTS` sequence.
    pub last_seq: i64,
}

/// A money reading.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MoneyPoint {
    /// The event that showed it.
    pub seq: i64,
    /// When (epoch ms).
    pub at_ms: i64,
    /// The amount.
    pub money: f64,
}

/// A run with its rounds and money readings.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: RunSummary,
    /// Its rounds, in order.
    pub rounds: Vec<RoundDetail>,
    /// Its money over time.
    pub money: Vec<MoneyPoint>,
}

/// How runs that ended holding a joker went.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JokerStat {
    /// The joker's name.
    pub joker: String,
    /// Finished runs that held it at the end.
    pub runs: u64,
    /// Of which won.
    pub won: u64,
    /// `won / runs`.
    pub win_rate: f64,
    /// Mean final ante of those runs.
    pub mean_final_ante: f64,
}

/// Read-only access for the query API (blocking: call off the runtime).
#[derive(Debug, Clone)]
pub struct Reader {
    pool: Pool,
}

fn err(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::sql(StoreErrorKind::Query, what, e)
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

const RUN_COLUMNS: &str = "id, session, outcome, started_at_ms, ended_at_ms, first_seq, last_seq,
    final_ante, final_round, max_ante, best_score, total_score, hands_used, discards_used,
    final_money, jokers, events";

fn run_row(row: &Row<'_>) -> rusqlite::Result<RunSummary> {
    let jokers: String = row.get(15)?;
    let (started_at_ms, ended_at_ms) = (row.get(3)?, row.get(4)?);
    Ok(RunSummary {
        id: row.get(0)?,
        session: row.get(1)?,
        outcome: row.get(2)?,
        started_at: rfc3339(started_at_ms),
        ended_at: rfc3339(ended_at_ms),
        started_at_ms,
        ended_at_ms,
        first_seq: row.get(5)?,
        last_seq: row.get(6)?,
        final_ante: row.get(7)?,
        final_round: row.get(8)?,
        max_ante: row.get(9)?,
        best_score: row.get(10)?,
        total_score: row.get(11)?,
        hands_used: row.get(12)?,
        discards_used: row.get(13)?,
        final_money: row.get(14)?,
        jokers: serde_json::from_str(&jokers).unwrap_or_default(),
        events: row.get(16)?,
    })
}

/// The SQL condition and its parameters for a filter (values are always
/// bound, never spliced into the SQL).
fn run_condition(filter: &RunFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    if let Some(session) = &filter.session {
        values.push(Value::Text(session.as_str().to_owned()));
        clauses.push(format!("session = ?{}", values.len()));
    }
    if let Some(from) = filter.from_ms {
        values.push(Value::Integer(from));
        clauses.push(format!("started_at_ms >= ?{}", values.len()));
    }
    if let Some(to) = filter.to_ms {
        values.push(Value::Integer(to));
        clauses.push(format!("started_at_ms < ?{}", values.len()));
    }
    if let Some(outcome) = filter.outcome {
        values.push(Value::Text(outcome.as_str().to_owned()));
        clauses.push(format!("outcome = ?{}", values.len()));
    }
    let condition = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (condition, values)
}

fn sql_offset(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

impl Reader {
    pub(super) fn new(path: PathBuf) -> Self {
        Self {
            pool: Pool::new(path),
        }
    }

    /// Totals over every run and event.
    pub fn summary(&self) -> Result<Summary, StoreError> {
        self.pool.with(|conn| {
            let mut by_outcome = BTreeMap::new();
            let mut statement = conn
                .prepare_cached("SELECT outcome, COUNT(*) FROM runs GROUP BY outcome")
                .map_err(err("counting runs"))?;
            let rows = statement
                .query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })
                .map_err(err("counting runs"))?;
            for row in rows {
                let (outcome, n) = row.map_err(err("counting runs"))?;
                by_outcome.insert(outcome, count(n));
            }
            let of = |o: Outcome| by_outcome.get(o.as_str()).copied().unwrap_or(0);
            let (won, lost, abandoned) =
                (of(Outcome::Won), of(Outcome::Lost), of(Outcome::Abandoned));
            let finished = won + lost + abandoned;
            let mean_final_ante: Option<f64> = conn
                .query_row(
                    "SELECT AVG(final_ante) FROM runs WHERE outcome != 'in_progress'",
                    [],
                    |row| row.get(0),
                )
                .map_err(err("averaging antes"))?;
            let events_by_type = event_counts(conn)?;
            let dead_letters: i64 = conn
                .query_row("SELECT COUNT(*) FROM dead_letters", [], |row| row.get(0))
                .map_err(err("counting dead letters"))?;
            let last_applied_seq: Option<i64> = conn
                .query_row("SELECT MAX(last_seq) FROM consumer_progress", [], |row| {
                    row.get(0)
                })
                .map_err(err("reading the progress"))?;
            #[allow(clippy::cast_precision_loss, reason = "run counts are far below 2^52")]
            let win_rate = (finished > 0).then(|| won as f64 / finished as f64);
            Ok(Summary {
                runs: finished + of(Outcome::InProgress),
                in_progress: of(Outcome::InProgress),
                won,
                lost,
                abandoned,
                win_rate,
                mean_final_ante,
                events_processed: events_by_type.values().sum::<u64>() + count(dead_letters),
                events_by_type,
                dead_letters: count(dead_letters),
                last_applied_seq: count(last_applied_seq.unwrap_or(0)),
            })
        })
    }

    /// One page of runs matching `filter`, newest first, and how many match.
    pub fn runs(
        &self,
        filter: &RunFilter,
        page: Page,
    ) -> Result<(Vec<RunSummary>, u64), StoreError> {
        self.pool.with(|conn| {
            let (condition, mut values) = run_condition(filter);
            let total: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM runs {condition}"),
                    rusqlite::params_from_iter(values.iter()),
                    |row| row.get(0),
                )
                .map_err(err("counting runs"))?;
            values.push(rusqlite::types::Value::Integer(i64::from(page.limit)));
            values.push(rusqlite::types::Value::Integer(sql_offset(page.offset)));
            let sql = format!(
                "SELECT {RUN_COLUMNS} FROM runs {condition}
                 ORDER BY started_at_ms DESC, id DESC LIMIT ?{} OFFSET ?{}",
                values.len() - 1,
                values.len()
            );
            let mut statement = conn.prepare(&sql).map_err(err("listing runs"))?;
            let runs = statement
                .query_map(rusqlite::params_from_iter(values.iter()), run_row)
                .map_err(err("listing runs"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(err("listing runs"))?;
            Ok((runs, count(total)))
        })
    }

    /// One run with its rounds and money readings.
    pub fn run(&self, id: RunId) -> Result<Option<RunDetail>, StoreError> {
        self.pool.with(|conn| {
            let run = conn
                .query_row(
                    &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                    [id.0],
                    run_row,
                )
                .optional()
                .map_err(err("reading a run"))?;
            let Some(run) = run else { return Ok(None) };
            let mut statement = conn
                .prepare_cached(
                    "SELECT round, ante, blind, blind_chips, boss, score, beaten, hands_used,
                         discards_used, money, first_seq, last_seq
                     FROM rounds WHERE run_id = ?1 ORDER BY round",
                )
                .map_err(err("reading rounds"))?;
            let rounds = statement
                .query_map([id.0], |row| {
                    Ok(RoundDetail {
                        round: row.get(0)?,
                        ante: row.get(1)?,
                        blind: row.get(2)?,
                        blind_chips: row.get(3)?,
                        boss: row.get(4)?,
                        score: row.get(5)?,
                        beaten: row.get(6)?,
                        hands_used: row.get(7)?,
                        discards_used: row.get(8)?,
                        money: row.get(9)?,
                        first_seq: row.get(10)?,
                        last_seq: row.get(11)?,
                    })
                })
                .map_err(err("reading rounds"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(err("reading rounds"))?;
            let mut statement = conn
                .prepare_cached(
                    "SELECT seq, at_ms, money FROM run_money WHERE run_id = ?1 ORDER BY seq",
                )
                .map_err(err("reading money"))?;
            let money = statement
                .query_map([id.0], |row| {
                    Ok(MoneyPoint {
                        seq: row.get(0)?,
                        at_ms: row.get(1)?,
                        money: row.get(2)?,
                    })
                })
                .map_err(err("reading money"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(err("reading money"))?;
            Ok(Some(RunDetail { run, rounds, money }))
        })
    }

    /// Jokers held at the end of finished runs, most runs first.
    pub fn jokers(&self, page: Page) -> Result<(Vec<JokerStat>, u64), StoreError> {
        self.pool.with(|conn| {
            const FROM: &str = "FROM run_jokers j JOIN runs r ON r.id = j.run_id
                                WHERE r.outcome != 'in_progress'";
            let total: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(DISTINCT j.joker) {FROM}"),
                    [],
                    |row| row.get(0),
                )
                .map_err(err("counting jokers"))?;
            let mut statement = conn
                .prepare_cached(&format!(
                    "SELECT j.joker, COUNT(*), SUM(r.outcome = 'won'), AVG(r.final_ante) {FROM}
                     GROUP BY j.joker ORDER BY COUNT(*) DESC, j.joker LIMIT ?1 OFFSET ?2"
                ))
                .map_err(err("listing jokers"))?;
            let jokers = statement
                .query_map(
                    params![i64::from(page.limit), sql_offset(page.offset)],
                    |row| {
                        let runs = count(row.get(1)?);
                        let won = count(row.get(2)?);
                        #[allow(
                            clippy::cast_precision_loss,
                            reason = "run counts are far below 2^52"
                        )]
                        Ok(JokerStat {
                            joker: row.get(0)?,
                            runs,
                            won,
                            win_rate: won as f64 / runs.max(1) as f64,
                            mean_final_ante: row.get(3)?,
                        })
                    },
                )
                .map_err(err("listing jokers"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(err("listing jokers"))?;
            Ok((jokers, count(total)))
        })
    }
}

fn event_counts(conn: &Connection) -> Result<BTreeMap<String, u64>, StoreError> {
    let mut statement = conn
        .prepare_cached("SELECT event_type, events FROM event_counts")
        .map_err(err("counting events"))?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .map_err(err("counting events"))?;
    let mut counts = BTreeMap::new();
    for row in rows {
        let (event_type, n) = row.map_err(err("counting events"))?;
        counts.insert(event_type, count(n));
    }
    Ok(counts)
}

/// Epoch milliseconds as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}
