//! The database schema, created and migrated at start. Each migration runs
//! once, in order, recorded in SQLite's `user_version`.

/// Migrations in order; index + 1 is the version each one leads to.
pub const MIGRATIONS: &[&str] = &[
    // 1: runs, rounds, jokers, money, progress.
    "
    CREATE TABLE consumer_progress (
        stream    TEXT PRIMARY KEY,
        last_seq  INTEGER NOT NULL
    );
    CREATE TABLE event_counts (
        event_type TEXT PRIMARY KEY,
        events     INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        session     TEXT PRIMARY KEY,
        state       TEXT NOT NULL,
        updated_seq INTEGER NOT NULL
    );
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        session       TEXT NOT NULL,
        first_seq     INTEGER NOT NULL,
        last_seq      INTEGER NOT NULL,
        started_at_ms INTEGER NOT NULL,
        ended_at_ms   INTEGER NOT NULL,
        outcome       TEXT NOT NULL
                      CHECK (outcome IN ('in_progress', 'won', 'lost', 'abandoned')),
        final_ante    INTEGER NOT NULL,
        final_round   INTEGER NOT NULL,
        max_ante      INTEGER NOT NULL,
        best_score    REAL NOT NULL,
        total_score   REAL NOT NULL,
        hands_used    INTEGER NOT NULL,
        discards_used INTEGER NOT NULL,
        final_money   REAL,
        jokers        TEXT NOT NULL,
        events        INTEGER NOT NULL
    );
    CREATE INDEX runs_by_session ON runs (session, started_at_ms);
    CREATE INDEX runs_by_start ON runs (started_at_ms);
    CREATE TABLE rounds (
        run_id        INTEGER NOT NULL REFERENCES runs (id),
        round         INTEGER NOT NULL,
        ante          INTEGER NOT NULL,
        blind         TEXT NOT NULL,
        blind_chips   REAL NOT NULL,
        boss          INTEGER NOT NULL,
        score         REAL NOT NULL,
        beaten        INTEGER NOT NULL,
        hands_used    INTEGER NOT NULL,
        discards_used INTEGER NOT NULL,
        money         REAL,
        first_seq     INTEGER NOT NULL,
        last_seq      INTEGER NOT NULL,
        PRIMARY KEY (run_id, round)
    );
    CREATE TABLE run_money (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        seq    INTEGER NOT NULL,
        at_ms  INTEGER NOT NULL,
        money  REAL NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE run_jokers (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        joker  TEXT NOT NULL,
        copies INTEGER NOT NULL,
        PRIMARY KEY (run_id, joker)
    );
    CREATE INDEX run_jokers_by_joker ON run_jokers (joker);
    CREATE TABLE dead_letters (
        seq     INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        reason  TEXT NOT NULL,
        detail  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    ",
];
