//! Cutting sessions into runs: a state machine per session, fed with the
//! session's events in stream order. The rules are in the crate README
//! ("How runs are cut"); this module is their only implementation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::{
    decode::{Observation, Snapshot},
    domain::{Outcome, Phase, RunId, SessionName, StreamSeq},
};

/// Beating this ante's boss blind wins the game (vanilla Balatro).
pub const WIN_ANTE: i64 = 8;

/// A GAME_STATE whose clock is this far behind the newest one comes from a
/// restarted game process whose start went unseen (its `connection_test` is
/// never retried, its initial state can be evicted from the mod's buffer),
/// not from a re-send: the mod's buffer holds 1,000 events, minutes of play.
pub const CLOCK_RESTART_MS: f64 = 30.0 * 60.0 * 1000.0;

/// What is known about one session between batches (stored as JSON in the
/// `sessions` table, so a restart continues exactly where it stopped).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SessionState {
    /// The run being played, if any.
    pub open: Option<OpenRun>,
    /// The mod's monotonic clock at the newest state applied since the game
    /// process started; older states are re-sends or late arrivals.
    #[serde(with = "crate::float_text::option")]
    pub clock_ms: Option<f64>,
}

/// A run that has not ended yet, with what its next events need.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenRun {
    /// The run as the `runs` table shows it.
    pub row: RunRow,
    /// The round being played.
    pub round: Option<RoundRow>,
    /// The game went to the menu since the last in-run state.
    pub left_to_menu: bool,
    /// The winning ante's boss blind was beaten.
    pub beat_final_boss: bool,
    /// Totals of the rounds before `round`.
    #[serde(with = "crate::float_text")]
    pub score_before: f64,
    /// Hands used before `round`.
    pub hands_before: i64,
    /// Discards used before `round`.
    pub discards_before: i64,
}

/// One row of `runs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// Its id.
    pub id: RunId,
    /// Its session.
    pub session: SessionName,
    /// Its first event in `GAME_EVENTS`.
    pub first_seq: StreamSeq,
    /// Its last event in `GAME_EVENTS`.
    pub last_seq: StreamSeq,
    /// When its first event was received (epoch ms).
    pub started_at_ms: i64,
    /// When its last event was received (epoch ms).
    pub ended_at_ms: i64,
    /// How it ended.
    pub outcome: Outcome,
    /// Ante at its last state.
    pub final_ante: i64,
    /// Round at its last state.
    pub final_round: i64,
    /// Highest ante reached.
    pub max_ante: i64,
    /// Best round score.
    #[serde(with = "crate::float_text")]
    pub best_score: f64,
    /// Sum of round scores.
    #[serde(with = "crate::float_text")]
    pub total_score: f64,
    /// Hands played over all rounds.
    pub hands_used: i64,
    /// Discards used over all rounds.
    pub discards_used: i64,
    /// Money at its last state.
    #[serde(with = "crate::float_text::option")]
    pub final_money: Option<f64>,
    /// Jokers held at its last state.
    pub jokers: Vec<String>,
    /// Events of the session while it was open.
    pub events: u64,
}

/// One row of `rounds`: one blind of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRow {
    /// Its run.
    pub run_id: RunId,
    /// `G.GAME.round`.
    pub round: i64,
    /// The ante it was played in.
    pub ante: i64,
    /// The blind's name.
    pub blind: String,
    /// The score the blind asked for.
    #[serde(with = "crate::float_text")]
    pub blind_chips: f64,
    /// Whether the blind is a boss.
    pub boss: bool,
    /// Best score reached in the round.
    #[serde(with = "crate::float_text")]
    pub score: f64,
    /// Most hands left seen (the round's allowance).
    pub hands_max: Option<i64>,
    /// Fewest hands left seen.
    pub hands_min: Option<i64>,
    /// Most discards left seen.
    pub discards_max: Option<i64>,
    /// Fewest discards left seen.
    pub discards_min: Option<i64>,
    /// Money at the round's last state.
    #[serde(with = "crate::float_text::option")]
    pub money: Option<f64>,
    /// Its first event.
    pub first_seq: StreamSeq,
    /// Its last event.
    pub last_seq: StreamSeq,
}

impl RoundRow {
    /// Whether the score reached the blind's chips.
    pub fn beaten(&self) -> bool {
        self.score >= self.blind_chips
    }

    /// Hands played in the round.
    pub fn hands_used(&self) -> i64 {
        spread(self.hands_max, self.hands_min)
    }

    /// Discards used in the round.
    pub fn discards_used(&self) -> i64 {
        spread(self.discards_max, self.discards_min)
    }
}

fn spread(max: Option<i64>, min: Option<i64>) -> i64 {
    match (max, min) {
        (Some(max), Some(min)) => max - min,
        _ => 0,
    }
}

/// A money reading of a run (written when the amount changes).
#[derive(Debug, Clone, PartialEq)]
pub struct MoneySample {
    /// The run.
    pub run_id: RunId,
    /// The event that showed it.
    pub seq: StreamSeq,
    /// When (epoch ms).
    pub at_ms: i64,
    /// The amount.
    pub money: f64,
}

/// Everything one batch changes, written in one transaction.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Sessions touched, with their new state.
    pub sessions: BTreeMap<SessionName, SessionState>,
    /// Runs that ended in this batch (open runs are taken from `sessions`).
    pub closed: Vec<RunRow>,
    /// Rounds that ended in this batch (current ones come from `sessions`).
    pub rounds: Vec<RoundRow>,
    /// Money readings.
    pub money: Vec<MoneySample>,
    /// Runs whose held jokers changed.
    pub jokers_changed: BTreeSet<RunId>,
    /// Runs started.
    pub started: u64,
    /// States older than one already applied (re-sent or late).
    pub stale: u64,
    /// The next run id after this batch.
    pub next_run: i64,
}

impl Ledger {
    /// Every run row to write: closed ones and the open runs of touched sessions.
    pub fn runs(&self) -> impl Iterator<Item = &RunRow> {
        self.closed.iter().chain(
            self.sessions
                .values()
                .filter_map(|s| s.open.as_ref().map(|o| &o.row)),
        )
    }

    /// Every round row to write.
    pub fn all_rounds(&self) -> impl Iterator<Item = &RoundRow> {
        self.rounds.iter().chain(
            self.sessions
                .values()
                .filter_map(|s| s.open.as_ref().and_then(|o| o.round.as_ref())),
        )
    }
}

/// The state of every session, as of the last committed batch.
#[derive(Debug)]
pub struct Tracker {
    sessions: HashMap<SessionName, SessionState>,
    next_run: i64,
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new(HashMap::new(), 1)
    }
}

impl Tracker {
    /// The tracker as stored: every session's state and the next run id.
    pub fn new(sessions: HashMap<SessionName, SessionState>, next_run: i64) -> Self {
        Self {
            sessions,
            next_run: next_run.max(1),
        }
    }

    /// A ledger for the next batch.
    pub fn begin(&self) -> Ledger {
        Ledger {
            next_run: self.next_run,
            ..Ledger::default()
        }
    }

    /// Applies one event to `ledger` (copying its session's state in on
    /// first touch, so a failed batch leaves the tracker as it was).
    pub fn apply(&self, ledger: &mut Ledger, observation: &Observation) {
        // Looked up before inserting: no key is cloned for a session
        // already touched in this batch (nearly every event).
        if !ledger.sessions.contains_key(&observation.session) {
            let stored = self
                .sessions
                .get(&observation.session)
                .cloned()
                .unwrap_or_default();
            ledger.sessions.insert(observation.session.clone(), stored);
        }
        let Some(state) = ledger.sessions.get_mut(&observation.session) else {
            return;
        };
        let mut effects = Effects::default();
        step(state, observation, &mut ledger.next_run, &mut effects);
        ledger.closed.extend(effects.closed);
        ledger.rounds.extend(effects.rounds);
        ledger.money.extend(effects.money);
        ledger.jokers_changed.extend(effects.jokers_changed);
        ledger.started += effects.started;
        ledger.stale += effects.stale;
    }

    /// Takes in a committed ledger's sessions.
    pub fn commit(&mut self, ledger: Ledger) {
        self.next_run = ledger.next_run;
        self.sessions.extend(ledger.sessions);
    }

    /// Runs open right now.
    pub fn open_runs(&self) -> usize {
        self.sessions.values().filter(|s| s.open.is_some()).count()
    }
}

#[derive(Default)]
struct Effects {
    closed: Vec<RunRow>,
    rounds: Vec<RoundRow>,
    money: Vec<MoneySample>,
    jokers_changed: Vec<RunId>,
    started: u64,
    stale: u64,
}

fn step(state: &mut SessionState, o: &Observation, next_run: &mut i64, fx: &mut Effects) {
    if o.new_process {
        state.clock_ms = None;
    }
    let Some(snapshot) = &o.snapshot else {
        if let Some(run) = &mut state.open {
            touch(&mut run.row, o);
        }
        return;
    };
    if let (Some(ts), Some(newest)) = (o.client_ts, state.clock_ms)
        && ts < newest
        && newest - ts <= CLOCK_RESTART_MS
    {
        fx.stale += 1;
        if let Some(run) = &mut state.open {
            touch(&mut run.row, o);
        }
        return;
    }
    if o.client_ts.is_some() {
        state.clock_ms = o.client_ts;
    }
    match snapshot.phase {
        Phase::Menu => {
            if let Some(run) = &mut state.open {
                run.left_to_menu = true;
                touch(&mut run.row, o);
            }
        }
        Phase::GameOver => {
            if let Some(mut run) = state.open.take() {
                update(&mut run, snapshot, o, fx);
                close(run, Outcome::Lost, fx);
            }
        }
        Phase::InRun => {
            let Some(ante) = snapshot.ante else {
                if let Some(run) = &mut state.open {
                    touch(&mut run.row, o);
                }
                return;
            };
            let starts = match &state.open {
                None => true,
                Some(run) => {
                    o.initial
                        || (run.left_to_menu && ante == 1)
                        || went_back(&run.row, ante, snapshot.round)
                }
            };
            if starts {
                if let Some(old) = state.open.take() {
                    close(old, Outcome::Abandoned, fx);
                }
                state.open = Some(open(o, ante, next_run));
                fx.started += 1;
            }
            if let Some(run) = &mut state.open {
                run.left_to_menu = false;
                update(run, snapshot, o, fx);
            }
        }
    }
}

/// Ante and round only grow within a run; going back means a new one.
fn went_back(row: &RunRow, ante: i64, round: Option<i64>) -> bool {
    ante < row.final_ante || (ante == row.final_ante && round.is_some_and(|r| r < row.final_round))
}

fn open(o: &Observation, ante: i64, next_run: &mut i64) -> OpenRun {
    let id = RunId(*next_run);
    *next_run += 1;
    OpenRun {
        row: RunRow {
            id,
            session: o.session.clone(),
            first_seq: o.seq,
            last_seq: o.seq,
            started_at_ms: o.at_ms,
            ended_at_ms: o.at_ms,
            outcome: Outcome::InProgress,
            final_ante: ante,
            final_round: 0,
            max_ante: ante,
            best_score: 0.0,
            total_score: 0.0,
            hands_used: 0,
            discards_used: 0,
            final_money: None,
            jokers: Vec::new(),
            // `update` counts the opening event.
            events: 0,
        },
        round: None,
        left_to_menu: false,
        beat_final_boss: false,
        score_before: 0.0,
        hands_before: 0,
        discards_before: 0,
    }
}

fn touch(row: &mut RunRow, o: &Observation) {
    row.last_seq = row.last_seq.max(o.seq);
    row.ended_at_ms = row.ended_at_ms.max(o.at_ms);
    row.events += 1;
}

fn update(run: &mut OpenRun, s: &Snapshot, o: &Observation, fx: &mut Effects) {
    let row = &mut run.row;
    touch(row, o);
    if let Some(ante) = s.ante {
        row.final_ante = ante;
        row.max_ante = row.max_ante.max(ante);
    }
    if let Some(round) = s.round {
        row.final_round = round;
    }
    if s.jokers != row.jokers {
        row.jokers.clone_from(&s.jokers);
        fx.jokers_changed.push(row.id);
    }
    if let Some(money) = s.money
        && row.final_money != Some(money)
    {
        row.final_money = Some(money);
        fx.money.push(MoneySample {
            run_id: row.id,
            seq: o.seq,
            at_ms: o.at_ms,
            money,
        });
    }
    let (Some(blind), Some(round)) = (&s.blind, s.round) else {
        return;
    };
    if run.round.as_ref().is_none_or(|r| r.round != round) {
        if let Some(done) = run.round.take() {
            run.score_before += done.score;
            run.hands_before += done.hands_used();
            run.discards_before += done.discards_used();
            fx.rounds.push(done);
        }
        run.round = Some(RoundRow {
            run_id: row.id,
            round,
            ante: row.final_ante,
            blind: String::new(),
            blind_chips: 0.0,
            boss: false,
            score: 0.0,
            hands_max: None,
            hands_min: None,
            discards_max: None,
            discards_min: None,
            money: None,
            first_seq: o.seq,
            last_seq: o.seq,
        });
    }
    let Some(r) = run.round.as_mut() else { return };
    r.ante = row.final_ante;
    r.blind.clone_from(&blind.name);
    r.blind_chips = blind.chips;
    r.boss = blind.boss;
    if let Some(chips) = s.chips {
        r.score = r.score.max(chips);
    }
    widen(&mut r.hands_max, &mut r.hands_min, s.hands_remaining);
    widen(
        &mut r.discards_max,
        &mut r.discards_min,
        s.discards_remaining,
    );
    r.money = s.money.or(r.money);
    r.last_seq = o.seq;
    row.best_score = row.best_score.max(r.score);
    row.total_score = run.score_before + r.score;
    row.hands_used = run.hands_before + r.hands_used();
    row.discards_used = run.discards_before + r.discards_used();
    if r.boss && r.ante >= WIN_ANTE && r.beaten() {
        run.beat_final_boss = true;
    }
}

fn widen(max: &mut Option<i64>, min: &mut Option<i64>, value: Option<i64>) {
    if let Some(v) = value {
        *max = Some(max.map_or(v, |m| m.max(v)));
        *min = Some(min.map_or(v, |m| m.min(v)));
    }
}

fn close(mut run: OpenRun, ending: Outcome, fx: &mut Effects) {
    let won = run.beat_final_boss || run.row.max_ante > WIN_ANTE;
    run.row.outcome = if won { Outcome::Won } else { ending };
    if let Some(round) = run.round.take() {
        fx.rounds.push(round);
    }
    fx.closed.push(run.row);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::BlindView;

    struct Script {
        tracker: Tracker,
        seq: u64,
        clock: f64,
    }

    impl Script {
        fn new() -> Self {
            Self {
                tracker: Tracker::default(),
                seq: 0,
                clock: 1000.0,
            }
        }

        fn feed(&mut self, snapshot: Snapshot, initial: bool) -> Ledger {
            self.clock += 500.0;
            self.feed_at(snapshot, initial, self.clock)
        }

        fn feed_at(&mut self, snapshot: Snapshot, initial: bool, clock: f64) -> Ledger {
            self.seq += 1;
            let o = Observation {
                seq: StreamSeq(self.seq),
                session: SessionName::from_user("s"),
                event_type: "GAME_STATE",
                at_ms: i64::try_from(self.seq).unwrap(),
                client_ts: Some(clock),
                new_process: initial,
                initial,
                snapshot: Some(snapshot),
            };
            let mut ledger = self.tracker.begin();
            self.tracker.apply(&mut ledger, &o);
            let out = Ledger {
                closed: ledger.closed.clone(),
                started: ledger.started,
                stale: ledger.stale,
                ..Ledger::default()
            };
            self.tracker.commit(ledger);
            out
        }

        fn open(&self) -> Option<&OpenRun> {
            self.tracker
                .sessions
                .get(&SessionName::from_user("s"))
                .and_then(|s| s.open.as_ref())
        }
    }

    fn state(
        phase: Phase,
        ante: i64,
        round: i64,
        chips: f64,
        blind: Option<(f64, bool)>,
    ) -> Snapshot {
        Snapshot {
            phase,
            ante: Some(ante),
            round: Some(round),
            chips: Some(chips),
            money: Some(4.0),
            hands_remaining: Some(4),
            discards_remaining: Some(3),
            blind: blind.map(|(chips, boss)| BlindView {
                name: "B".to_owned(),
                chips,
                boss,
            }),
            jokers: vec!["Joker".to_owned()],
        }
    }

    #[test]
    fn beating_the_winning_antes_boss_wins_even_without_a_game_over() {
        let mut s = Script::new();
        s.feed(
            state(Phase::InRun, 8, 24, 0.0, Some((100_000.0, true))),
            true,
        );
        s.feed(
            state(Phase::InRun, 8, 24, 120_000.0, Some((100_000.0, true))),
            false,
        );
        // A new run (back to ante 1 through the menu) closes it.
        s.feed(
            Snapshot {
                phase: Phase::Menu,
                ..state(Phase::Menu, 8, 24, 0.0, None)
            },
            false,
        );
        let ledger = s.feed(state(Phase::InRun, 1, 0, 0.0, None), false);
        assert_eq!(ledger.closed.len(), 1);
        assert_eq!(ledger.closed[0].outcome, Outcome::Won);
        assert_eq!(ledger.started, 1);
    }

    #[test]
    fn game_over_before_winning_is_a_loss_and_later_game_over_states_change_nothing() {
        let mut s = Script::new();
        s.feed(state(Phase::InRun, 2, 5, 0.0, Some((800.0, false))), true);
        let ledger = s.feed(
            state(Phase::GameOver, 2, 5, 300.0, Some((800.0, false))),
            false,
        );
        assert_eq!(ledger.closed[0].outcome, Outcome::Lost);
        assert_eq!(ledger.closed[0].best_score, 300.0);
        let again = s.feed(state(Phase::GameOver, 2, 5, 300.0, None), false);
        assert!(again.closed.is_empty() && again.started == 0);
        assert!(s.open().is_none());
    }

    #[test]
    fn going_back_in_ante_or_round_starts_a_new_run_and_abandons_the_old() {
        let mut s = Script::new();
        s.feed(state(Phase::InRun, 3, 8, 0.0, None), true);
        let ledger = s.feed(state(Phase::InRun, 1, 1, 0.0, None), false);
        assert_eq!(ledger.closed[0].outcome, Outcome::Abandoned);
        assert_eq!(ledger.started, 1);
        assert_eq!(s.open().map(|r| r.row.id), Some(RunId(2)));
    }

    #[test]
    fn older_states_are_ignored_until_the_game_process_restarts() {
        let mut s = Script::new();
        s.feed_at(state(Phase::InRun, 2, 4, 0.0, None), true, 5000.0);
        let stale = s.feed_at(state(Phase::InRun, 1, 1, 0.0, None), false, 4000.0);
        assert_eq!((stale.stale, stale.started), (1, 0));
        assert_eq!(s.open().map(|r| r.row.final_ante), Some(2));
        // A restarted game's clock starts low again: its initial state counts.
        let restarted = s.feed_at(state(Phase::InRun, 1, 1, 0.0, None), true, 10.0);
        assert_eq!((restarted.stale, restarted.started), (0, 1));
    }

    #[test]
    fn a_clock_far_behind_is_a_restarted_game_not_a_re_send() {
        let mut s = Script::new();
        s.feed_at(
            state(Phase::InRun, 5, 14, 0.0, None),
            true,
            4.0 * CLOCK_RESTART_MS,
        );
        // No initial state seen: the game restarted and is at ante 1 again.
        let restarted = s.feed_at(state(Phase::InRun, 1, 1, 0.0, None), false, 2_000.0);
        assert_eq!((restarted.stale, restarted.started), (0, 1));
        assert_eq!(restarted.closed[0].outcome, Outcome::Abandoned);
    }

    #[test]
    fn rounds_add_up_into_the_run() {
        let mut s = Script::new();
        s.feed(state(Phase::InRun, 1, 1, 0.0, Some((300.0, false))), true);
        let mut hand = state(Phase::InRun, 1, 1, 350.0, Some((300.0, false)));
        hand.hands_remaining = Some(2);
        hand.discards_remaining = Some(1);
        s.feed(hand, false);
        s.feed(state(Phase::InRun, 1, 2, 0.0, Some((450.0, false))), false);
        let mut second = state(Phase::InRun, 1, 2, 200.0, Some((450.0, false)));
        second.hands_remaining = Some(3);
        s.feed(second, false);
        let run = s.open().expect("open run");
        assert_eq!(run.row.total_score, 550.0);
        assert_eq!(run.row.best_score, 350.0);
        assert_eq!(run.row.hands_used, 2 + 1);
        assert_eq!(run.row.discards_used, 2);
    }
}
