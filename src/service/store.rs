//! The render records, in an embedded SQLite database at `<media>/reelsmith.db`.
//!
//! One row per render. States are written as they change (not every frame), with
//! `synchronous = FULL`, so after a crash or a kill every render is found again in the state it
//! last reached: finished ones are listed, queued and interrupted ones are run (again).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::error::ServiceError;

/// Where a render is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for a worker.
    Queued,
    /// Resolving the spec, decoding pictures, loading and measuring audio.
    Preparing,
    /// Composing and encoding frames.
    Rendering,
    /// Every frame is encoded; flushing the encoders and writing the trailer.
    Encoding,
    /// Syncing and renaming the file into place, writing the poster.
    Finalizing,
    /// The video and its poster are available.
    Done,
    /// The render failed; `error` says where and why.
    Failed,
    /// Cancelled on request.
    Canceled,
}

impl State {
    /// Every state, in life order.
    pub const ALL: [State; 8] = [
        State::Queued,
        State::Preparing,
        State::Rendering,
        State::Encoding,
        State::Finalizing,
        State::Done,
        State::Failed,
        State::Canceled,
    ];

    /// Lower-case name, as in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Preparing => "preparing",
            State::Rendering => "rendering",
            State::Encoding => "encoding",
            State::Finalizing => "finalizing",
            State::Done => "done",
            State::Failed => "failed",
            State::Canceled => "canceled",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Done, failed or canceled: nothing more will happen.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Done | State::Failed | State::Canceled)
    }

    /// A worker is on it.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            State::Preparing | State::Rendering | State::Encoding | State::Finalizing
        )
    }
}

/// One render as stored.
#[derive(Debug, Clone)]
pub struct Record {
    /// `r_` and 16 hex digits.
    pub id: String,
    /// Current state.
    pub state: State,
    /// The submitted spec (JSON text).
    pub spec: String,
    /// FNV-1a of the spec text, to tell a retried submission from a different one.
    pub spec_hash: String,
    /// The client's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// Completion webhook URL, if any.
    pub webhook_url: Option<String>,
    /// `pending`, `delivered` or `failed` once the render has ended with a webhook.
    pub webhook_status: Option<String>,
    /// Unix seconds.
    pub created_at: f64,
    /// Unix seconds, when a worker last started it.
    pub started_at: Option<f64>,
    /// Unix seconds, when it reached a terminal state.
    pub finished_at: Option<f64>,
    /// How many times a worker started it (more than 1 after an interrupted run).
    pub attempts: u32,
    /// Frames of the video.
    pub frames_total: u64,
    /// Seconds of video.
    pub duration_s: f64,
    /// Frame size.
    pub width: u32,
    /// Frame size.
    pub height: u32,
    /// Scenes as JSON `[{"id","start_frame","frames"}]`.
    pub scenes: String,
    /// The render report (JSON) when done.
    pub report: Option<String>,
    /// The error (JSON) when failed.
    pub error: Option<String>,
    /// The plan made at submission (JSON, see [`crate::Plan`]) that the render runs from;
    /// `None` for a render submitted before plans were stored (it is planned again).
    pub plan: Option<String>,
}

/// What an insert did.
#[derive(Debug)]
pub enum Inserted {
    /// A new row.
    New,
    /// The idempotency key was already used: the existing row.
    Existing(Box<Record>),
}

/// The database.
pub struct Store {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS renders (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    spec TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    webhook_url TEXT,
    webhook_status TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    scenes TEXT NOT NULL,
    report TEXT,
    error TEXT,
    plan TEXT
);
CREATE INDEX IF NOT EXISTS renders_state ON renders(state);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    rows TEXT NOT NULL
);
";

const COLUMNS: &str = "id, state, spec, spec_hash, idempotency_key, webhook_url, webhook_status, \
    created_at, started_at, finished_at, attempts, frames_total, duration_s, width, height, \
    scenes, report, error, plan";

fn db(e: rusqlite::Error) -> ServiceError {
    ServiceError::Db(e.to_string())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Record> {
    let state: String = r.get(1)?;
    Ok(Record {
        id: r.get(0)?,
        state: State::parse(&state).unwrap_or(State::Failed),
        spec: r.get(2)?,
        spec_hash: r.get(3)?,
        idempotency_key: r.get(4)?,
        webhook_url: r.get(5)?,
        webhook_status: r.get(6)?,
        created_at: r.get(7)?,
        started_at: r.get(8)?,
        finished_at: r.get(9)?,
        attempts: r.get(10)?,
        frames_total: r.get::<_, i64>(11)?.max(0) as u64,
        duration_s: r.get(12)?,
        width: r.get(13)?,
        height: r.get(14)?,
        scenes: r.get(15)?,
        report: r.get(16)?,
        error: r.get(17)?,
        plan: r.get(18)?,
    })
}

/// Brings a database made by an earlier version up to [`SCHEMA`]: columns added since are
/// added (empty for the rows already there).
fn migrate(conn: &Connection) -> Result<(), ServiceError> {
    let has_plan = conn.prepare("SELECT plan FROM renders LIMIT 0").is_ok();
    if !has_plan {
        conn.execute_batch("ALTER TABLE renders ADD COLUMN plan TEXT")
            .map_err(db)?;
    }
    Ok(())
}

/// Unix time in seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Store {
    /// Opens (or creates) the database file.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn open(path: &Path) -> Result<Store, ServiceError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        migrate(&conn)?;
        Ok(Store { conn })
    }

    /// Adds a render, unless its idempotency key was used before.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn insert(&self, r: &Record) -> Result<Inserted, ServiceError> {
        if let Some(key) = &r.idempotency_key {
            if let Some(existing) = self.by_idempotency_key(key)? {
                return Ok(Inserted::Existing(Box::new(existing)));
            }
        }
        self.conn
            .execute(
                &format!(
                    "INSERT INTO renders ({COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
                ),
                params![
                    r.id,
                    r.state.as_str(),
                    r.spec,
                    r.spec_hash,
                    r.idempotency_key,
                    r.webhook_url,
                    r.webhook_status,
                    r.created_at,
                    r.started_at,
                    r.finished_at,
                    r.attempts,
                    r.frames_total as i64,
                    r.duration_s,
                    r.width,
                    r.height,
                    r.scenes,
                    r.report,
                    r.error,
                    r.plan,
                ],
            )
            .map_err(db)?;
        Ok(Inserted::New)
    }

    /// One render.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn get(&self, id: &str) -> Result<Option<Record>, ServiceError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM renders WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()
            .map_err(db)
    }

    /// The render submitted with this idempotency key.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn by_idempotency_key(&self, key: &str) -> Result<Option<Record>, ServiceError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM renders WHERE idempotency_key = ?1"),
                [key],
                from_row,
            )
            .optional()
            .map_err(db)
    }

    /// A page of renders, newest first, optionally in one state; and how many match in all.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn list(
        &self,
        state: Option<State>,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<Record>, u64), ServiceError> {
        let filter = state.map_or("", |_| "WHERE state = ?1");
        let st = state.map_or("", State::as_str);
        let total: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM renders {filter}"),
                rusqlite::params_from_iter(state.map(|_| st)),
                |r| r.get(0),
            )
            .map_err(db)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM renders {filter} ORDER BY n DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(state.map(|_| st)), from_row)
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?;
        Ok((rows, total.max(0) as u64))
    }

    /// Moves a render to a non-terminal state. Entering `preparing` counts an attempt.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn set_state(&self, id: &str, state: State) -> Result<(), ServiceError> {
        if state == State::Preparing {
            self.conn
                .execute(
                    "UPDATE renders SET state = ?2, started_at = ?3, attempts = attempts + 1 \
                     WHERE id = ?1",
                    params![id, state.as_str(), now()],
                )
                .map_err(db)?;
        } else {
            self.conn
                .execute(
                    "UPDATE renders SET state = ?2 WHERE id = ?1",
                    params![id, state.as_str()],
                )
                .map_err(db)?;
        }
        Ok(())
    }

    /// Records the end of a render. A render with a webhook gets `webhook_status = pending`.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn finish(
        &self,
        id: &str,
        state: State,
        report: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), ServiceError> {
        self.conn
            .execute(
                "UPDATE renders SET state = ?2, finished_at = ?3, report = ?4, error = ?5, \
                 webhook_status = CASE WHEN webhook_url IS NULL THEN NULL ELSE 'pending' END \
                 WHERE id = ?1",
                params![id, state.as_str(), now(), report, error],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Records a webhook outcome.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn set_webhook_status(&self, id: &str, status: &str) -> Result<(), ServiceError> {
        self.conn
            .execute(
                "UPDATE renders SET webhook_status = ?2 WHERE id = ?1",
                params![id, status],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Ids of renders whose webhook is still to be delivered.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn pending_webhooks(&self) -> Result<Vec<String>, ServiceError> {
        self.ids("SELECT id FROM renders WHERE webhook_status = 'pending' ORDER BY n")
    }

    /// Puts renders that were interrupted mid-way (a worker state in the database but no worker
    /// since the process ended) back in the queue. Returns how many.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    /// Those that have started `max_attempts` times already (the render itself may be what
    /// kills the process: out of memory, a libav crash) fail instead, with `error`.
    pub fn requeue_interrupted(
        &self,
        max_attempts: u32,
        error: &str,
    ) -> Result<usize, ServiceError> {
        const RUNNING: &str = "state IN ('preparing', 'rendering', 'encoding', 'finalizing')";
        self.conn
            .execute(
                &format!(
                    "UPDATE renders SET state = 'failed', finished_at = ?2, error = ?3 \
                     WHERE {RUNNING} AND attempts >= ?1"
                ),
                params![max_attempts, now(), error],
            )
            .map_err(db)?;
        self.conn
            .execute(
                &format!("UPDATE renders SET state = 'queued' WHERE {RUNNING}"),
                [],
            )
            .map_err(db)
    }

    /// Takes back the start of a render stopped by a graceful shutdown (not its fault).
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn unstart(&self, id: &str) -> Result<(), ServiceError> {
        self.conn
            .execute(
                "UPDATE renders SET state = 'queued', attempts = max(attempts - 1, 0) WHERE id = ?1",
                params![id],
            )
            .map(|_| ())
            .map_err(db)
    }

    /// Ids of queued renders, oldest first.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn queued(&self) -> Result<Vec<String>, ServiceError> {
        self.ids("SELECT id FROM renders WHERE state = 'queued' ORDER BY n")
    }

    /// Ids of finished renders (done, failed, canceled) that ended before `before` (Unix s).
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn finished_before(&self, before: f64) -> Result<Vec<String>, ServiceError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id FROM renders WHERE state IN ('done', 'failed', 'canceled') \
                 AND finished_at < ?1 ORDER BY n",
            )
            .map_err(db)?;
        let ids = stmt
            .query_map([before], |r| r.get(0))
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(db)?;
        Ok(ids)
    }

    /// Whether a render with this id exists.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn exists(&self, id: &str) -> Result<bool, ServiceError> {
        Ok(self.get(id)?.is_some())
    }

    /// Removes a render's row.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn delete(&self, id: &str) -> Result<bool, ServiceError> {
        let n = self
            .conn
            .execute("DELETE FROM renders WHERE id = ?1", [id])
            .map_err(db)?;
        Ok(n > 0)
    }

    /// Records a batch: its rows as JSON (each with its render's id, or why it has none).
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn insert_batch(&self, id: &str, rows: &str) -> Result<(), ServiceError> {
        self.conn
            .execute(
                "INSERT INTO batches (id, created_at, rows) VALUES (?1, ?2, ?3)",
                rusqlite::params![id, now(), rows],
            )
            .map_err(db)?;
        Ok(())
    }

    /// A batch's creation time and rows.
    ///
    /// # Errors
    /// [`ServiceError::Db`].
    pub fn batch(&self, id: &str) -> Result<Option<(f64, String)>, ServiceError> {
        self.conn
            .query_row(
                "SELECT created_at, rows FROM batches WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)
    }

    fn ids(&self, sql: &str) -> Result<Vec<String>, ServiceError> {
        let mut stmt = self.conn.prepare(sql).map_err(db)?;
        let ids = stmt
            .query_map([], |r| r.get(0))
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(db)?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_without_plans_gains_the_column() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("jobs.db");
        let old = SCHEMA.replace(",\n    plan TEXT", "");
        assert!(!old.contains("plan"));
        Connection::open(&path)
            .and_then(|c| c.execute_batch(&old))
            .expect("old schema");
        let store = Store::open(&path).expect("migrates");
        let mut r = record("a", None);
        r.plan = Some("{}".into());
        store.insert(&r).expect("insert");
        assert_eq!(
            store.get("a").expect("get").and_then(|r| r.plan),
            Some("{}".into())
        );
        drop(store);
        Store::open(&path).expect("opens again");
    }

    fn record(id: &str, key: Option<&str>) -> Record {
        Record {
            id: id.into(),
            state: State::Queued,
            spec: "{}".into(),
            spec_hash: "0".into(),
            idempotency_key: key.map(str::to_string),
            webhook_url: None,
            webhook_status: None,
            created_at: now(),
            started_at: None,
            finished_at: None,
            attempts: 0,
            frames_total: 30,
            duration_s: 1.0,
            width: 320,
            height: 180,
            scenes: "[]".into(),
            report: None,
            error: None,
            plan: None,
        }
    }

    #[test]
    fn states_survive_reopening_and_interrupted_ones_are_requeued() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("r.db");
        {
            let s = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
            for id in ["a", "b", "c"] {
                s.insert(&record(id, None))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            s.set_state("a", State::Preparing)
                .unwrap_or_else(|e| panic!("{e}"));
            s.set_state("a", State::Rendering)
                .unwrap_or_else(|e| panic!("{e}"));
            s.finish("b", State::Done, Some("{}"), None)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let s = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.requeue_interrupted(3, "{}").unwrap_or(0), 1);
        assert_eq!(s.queued().unwrap_or_default(), vec!["a", "c"]);
        let a = s
            .get("a")
            .unwrap_or_default()
            .unwrap_or_else(|| panic!("a"));
        assert_eq!(a.attempts, 1);
        let (done, total) = s
            .list(Some(State::Done), 10, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((done.len(), total), (1, 1));
        let (all, total) = s.list(None, 2, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(total, 3);
        assert_eq!(all[0].id, "c", "newest first");
    }

    #[test]
    fn idempotency_key_returns_the_first_render() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = Store::open(&dir.path().join("r.db")).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            s.insert(&record("a", Some("k"))),
            Ok(Inserted::New)
        ));
        match s.insert(&record("b", Some("k"))) {
            Ok(Inserted::Existing(r)) => assert_eq!(r.id, "a"),
            other => panic!("{other:?}"),
        }
        assert!(!s.exists("b").unwrap_or(true));
    }
}
