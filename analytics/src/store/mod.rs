//! The embedded SQLite database: one writer (the consumer), read-only
//! connections for the query API. WAL mode, so readers never block the
//! writer; `synchronous = FULL`, so a committed batch (and with it the
//! acknowledgement that follows) survives a power cut.

mod read;
mod schema;
mod write;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};

pub use read::{
    JokerStat, MoneyPoint, Page, Reader, RoundDetail, RunDetail, RunFilter, RunSummary, Summary,
};
pub use write::{BatchWrite, DeadLetterRow, FinishedStats, Stored, Writer};

/// What kind of failure a [`StoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The database file cannot be opened or created.
    Open,
    /// The schema cannot be migrated (or is newer than this build).
    Migrate,
    /// A statement failed.
    Query,
    /// Stored state does not parse.
    Corrupt,
}

/// A database failure.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
    #[source]
    source: Option<rusqlite::Error>,
}

impl StoreError {
    pub(crate) fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn sql(kind: StoreErrorKind, what: &str, source: rusqlite::Error) -> Self {
        Self {
            kind,
            message: format!("{what}: {source}"),
            source: Some(source),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

/// Opens (creating if needed) the database at `path` and migrates it; the
/// returned writer is the only one, and `Reader`s share its file.
pub fn open(path: &Path) -> Result<(Writer, Reader), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::new(
                StoreErrorKind::Open,
                format!("cannot create the directory of {}: {e}", path.display()),
            )
        })?;
    }
    let mut conn = Connection::open(path).map_err(|e| {
        StoreError::sql(
            StoreErrorKind::Open,
            &format!("cannot open {}", path.display()),
            e,
        )
    })?;
    configure(&conn).map_err(|e| StoreError::sql(StoreErrorKind::Open, "configuring SQLite", e))?;
    migrate(&mut conn)?;
    let reader = Reader::new(path.to_owned());
    Ok((Writer::new(conn), reader))
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let err = |e| StoreError::sql(StoreErrorKind::Migrate, "migrating the schema", e);
    let version: usize = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(err)?;
    if version > schema::MIGRATIONS.len() {
        return Err(StoreError::new(
            StoreErrorKind::Migrate,
            format!(
                "the database is at schema version {version}, newer than this build knows ({}); \
                 use a newer jimbot-analytics or another --db",
                schema::MIGRATIONS.len()
            ),
        ));
    }
    for (index, sql) in schema::MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction().map_err(err)?;
        tx.execute_batch(sql).map_err(err)?;
        tx.pragma_update(None, "user_version", index + 1)
            .map_err(err)?;
        tx.commit().map_err(err)?;
        tracing::info!(version = index + 1, "database schema migrated");
    }
    Ok(())
}

/// Read-only connections, reused between requests.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Pool {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Arc::default(),
        }
    }

    /// Runs `f` on a read-only connection (blocking: call off the runtime).
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        const KEEP: usize = 4;
        let taken = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        let conn = match taken {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(|e| StoreError::sql(StoreErrorKind::Open, "opening a reader", e))?;
                conn.busy_timeout(Duration::from_secs(5))
                    .map_err(|e| StoreError::sql(StoreErrorKind::Open, "opening a reader", e))?;
                conn
            }
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < KEEP
        {
            idle.push(conn);
        }
        result
    }
}
