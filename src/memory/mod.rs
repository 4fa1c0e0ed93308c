//! The translation memory and caches in one SQLite file. Only this module touches rusqlite.
//! Schema changes are append-only migrations in `memory/migrations/`, embedded at compile time
//! and applied in order, tracked by `PRAGMA user_version`.

mod key;
mod lookup;
mod score;
mod store;
mod unit;

pub use key::{context_hash, key as normalized_key};
pub use score::{score as match_score, Prepared};
pub use store::{Importer, Staged};
pub use unit::{
    lang_matches, Filter, HistoryEntry, ImportReport, Match, NewUnit, Origin, Query, Status, Unit,
};

use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

const MIGRATIONS: &[&str] = &[
    include_str!("../../memory/migrations/0001_init.sql"),
    include_str!("../../memory/migrations/0002_lookup.sql"),
];

/// How long a write waits for another process's write to finish, unless told otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("memory database {}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("memory database {}: cannot create its folder", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("memory database {} is locked by another process (waited {} s); try again when it is done", path.display(), waited.as_secs_f32())]
    Locked { path: PathBuf, waited: Duration },
    #[error("no unit with id {}", .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "))]
    NoSuchUnits(Vec<i64>),
    #[error("unit {id} would become a copy of unit {other} (same source, target and context)")]
    Duplicate { id: i64, other: i64 },
    #[error("memory database {} has schema version {found}, newer than this babeldesk knows ({known}); upgrade babeldesk", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

impl MemoryError {
    fn from_sqlite(path: &Path, source: rusqlite::Error) -> MemoryError {
        if let rusqlite::Error::SqliteFailure(f, _) = &source {
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) {
                return MemoryError::Locked {
                    path: path.to_path_buf(),
                    waited: Duration::ZERO,
                };
            }
        }
        MemoryError::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub struct Memory {
    conn: Connection,
    path: PathBuf,
    lock_timeout: Duration,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
    pub units: i64,
    /// Counts, largest first; in JSON an object (`{"ru-en": 120, …}`).
    #[serde(serialize_with = "counts_as_object")]
    pub by_pair: Vec<(String, i64)>,
    #[serde(serialize_with = "counts_as_object")]
    pub by_origin: Vec<(String, i64)>,
    #[serde(serialize_with = "counts_as_object")]
    pub by_status: Vec<(String, i64)>,
    pub summaries: i64,
}

fn counts_as_object<S: serde::Serializer>(v: &[(String, i64)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(v.len()))?;
    for (k, n) in v {
        map.serialize_entry(k, n)?;
    }
    map.end()
}

impl Memory {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Memory, MemoryError> {
        Memory::open_with(path, DEFAULT_LOCK_TIMEOUT)
    }

    /// Open, waiting at most `lock_timeout` whenever another process holds the write lock.
    pub fn open_with(path: &Path, lock_timeout: Duration) -> Result<Memory, MemoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| MemoryError::Folder {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let wrap = |source| MemoryError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        let mut mem = Memory {
            conn,
            path: path.to_path_buf(),
            lock_timeout,
        };
        // WAL + busy timeout: two babeldesk processes can write the same memory.
        mem.conn
            .busy_timeout(lock_timeout)
            .map_err(|e| mem.err(e))?;
        mem.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| mem.err(e))?;
        mem.conn
            .pragma_update(None, "foreign_keys", true)
            .map_err(|e| mem.err(e))?;
        // In WAL mode NORMAL never corrupts the database; a power cut may lose the last
        // commits, not damage earlier ones. FULL would fsync every single stored unit.
        mem.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| mem.err(e))?;
        // Concordance search: case-insensitive for every script, which SQL's lower() is not.
        mem.conn
            .create_scalar_function(
                "bd_contains",
                2,
                FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
                |ctx| {
                    let hay = ctx.get_raw(0).as_str().unwrap_or("");
                    let needle = ctx.get_raw(1).as_str().unwrap_or("");
                    Ok(hay.to_lowercase().contains(needle))
                },
            )
            .map_err(|e| mem.err(e))?;
        mem.migrate()?;
        Ok(mem)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> MemoryError {
        (self.errf())(source)
    }

    /// `err` as an owned closure, for use while the connection is borrowed mutably.
    fn errf(&self) -> impl Fn(rusqlite::Error) -> MemoryError {
        let (path, waited) = (self.path.clone(), self.lock_timeout);
        move |source| match MemoryError::from_sqlite(&path, source) {
            MemoryError::Locked { path, .. } => MemoryError::Locked { path, waited },
            e => e,
        }
    }

    fn migrate(&mut self) -> Result<(), MemoryError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(MemoryError::TooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        if version == known {
            return Ok(());
        }
        let wrap = self.errf();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&wrap)?;
        // Another process may have migrated while this one waited for the lock.
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(&wrap)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", i as i64 + 1))
                .map_err(&wrap)?;
        }
        tx.commit().map_err(&wrap)?;
        if version < 2 {
            self.reindex()?;
        }
        Ok(())
    }

    pub fn stats(&self) -> Result<Stats, MemoryError> {
        let grouped = |sql: &str| -> Result<Vec<(String, i64)>, MemoryError> {
            let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
        };
        let one = |sql: &str| -> Result<i64, MemoryError> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        Ok(Stats {
            path: self.path.clone(),
            bytes: one("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")? as u64,
            schema_version: one("PRAGMA user_version")?,
            units: one("SELECT count(*) FROM units")?,
            by_pair: grouped("SELECT CASE WHEN instr(source_lang || target_lang, '-') THEN source_lang || ':' || target_lang ELSE source_lang || '-' || target_lang END, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC")?,
            by_origin: grouped("SELECT origin, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC")?,
            by_status: grouped("SELECT status, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC")?,
            summaries: one("SELECT count(*) FROM summaries")?,
        })
    }

    /// A cached summary (JSON) for a document, model, method and options.
    pub fn cached_summary(
        &self,
        doc_hash: &str,
        model: &str,
        method: &str,
        options: &str,
    ) -> Result<Option<String>, MemoryError> {
        self.conn
            .query_row(
                "SELECT summary FROM summaries WHERE doc_hash = ?1 AND model = ?2 AND method = ?3 AND options = ?4",
                params![doc_hash, model, method, options],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn store_summary(
        &self,
        doc_hash: &str,
        model: &str,
        method: &str,
        options: &str,
        summary: &str,
    ) -> Result<(), MemoryError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO summaries (doc_hash, model, method, options, summary) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![doc_hash, model, method, options, summary],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/tm.sqlite");
        let mem = Memory::open(&path).unwrap();
        let s = mem.stats().unwrap();
        assert_eq!((s.units, s.schema_version), (0, MIGRATIONS.len() as i64));
        mem.store_summary("h", "m", "extractive", "{}", "[\"x\"]")
            .unwrap();
        drop(mem);
        let mem = Memory::open(&path).unwrap();
        assert_eq!(
            mem.cached_summary("h", "m", "extractive", "{}")
                .unwrap()
                .as_deref(),
            Some("[\"x\"]")
        );
        assert_eq!(
            mem.cached_summary("h", "m", "extractive", "{\"n\":1}")
                .unwrap(),
            None
        );
        assert_eq!(mem.stats().unwrap().summaries, 1);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tm.sqlite");
        Memory::open(&path)
            .unwrap()
            .conn
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            Memory::open(&path),
            Err(MemoryError::TooNew { found: 99, .. })
        ));
    }
}
