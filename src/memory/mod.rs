//! The translation memory and caches in one SQLite file. Only this module touches rusqlite.
//! Schema changes are append-only migrations in `memory/migrations/`, embedded at compile time
//! and applied in order, tracked by `PRAGMA user_version`.

mod key;
mod lookup;
mod review;
mod score;
mod select;
mod store;
mod terms;
mod unit;

pub use key::{context_hash, key as normalized_key};
pub use score::{score as match_score, Prepared};
pub use store::{Importer, Staged};
pub use terms::{TermEdit, TermHistoryEntry, TermImportReport, TermImporter, TermWrite};
pub(crate) use unit::word_enum;
pub use unit::{
    lang_matches, Band, DocSegment, DocumentInfo, DocumentRow, Filter, HistoryEntry, ImportReport,
    Match, NewUnit, Origin, Query, Status, Unit,
};

use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

const MIGRATIONS: &[&str] = &[
    include_str!("../../memory/migrations/0001_init.sql"),
    include_str!("../../memory/migrations/0002_lookup.sql"),
    include_str!("../../memory/migrations/0003_terms.sql"),
    include_str!("../../memory/migrations/0004_concordance.sql"),
    include_str!("../../memory/migrations/0005_document_segments.sql"),
];

/// What a command does with the memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading only: nothing is created or changed; a missing database reads as empty, and a
    /// database in a read-only folder can be read.
    Read,
    /// Reading and writing: the database and its folder are made when missing.
    Write,
}

/// The longest search text (in characters): every stored unit is compared with it.
pub const MAX_QUERY_CHARS: usize = 1000;

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
    #[error("the search text has {chars} characters; at most {max} are searched for")]
    QueryTooLong { chars: usize, max: usize },
    #[error("no unit with id {}", .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "))]
    NoSuchUnits(Vec<i64>),
    #[error("no term with id {}", .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "))]
    NoSuchTerms(Vec<i64>),
    #[error(
        "term {id} would become a copy of term {other} (same language pair, source and target)"
    )]
    DuplicateTerm { id: i64, other: i64 },
    #[error("{what}: the term is empty")]
    EmptyTerm { what: &'static str },
    #[error("unit {id} would become a copy of unit {other} (same source, target and context)")]
    Duplicate { id: i64, other: i64 },
    #[error("{} is not a babeldesk memory (it holds other tables); give --memory another file", path.display())]
    NotOurs { path: PathBuf },
    #[error("memory database {} needs a schema upgrade, which a read-only command does not make; run a command that writes (e.g. `babeldesk memory import`) first", path.display())]
    NeedsUpgrade { path: PathBuf },
    #[error("--memory {}: an in-memory database keeps nothing after the command; give a file path", path.display())]
    InMemory { path: PathBuf },
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
    pub terms: i64,
}

fn counts_as_object<S: serde::Serializer>(v: &[(String, i64)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(v.len()))?;
    for (k, n) in v {
        map.serialize_entry(k, n)?;
    }
    map.end()
}

/// A database opened for reading only. In a folder babeldesk cannot write, SQLite cannot make
/// the WAL index, so the file is then read as immutable (no other writer can be there either).
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(_) => {
            let uri = format!("file:{}?immutable=1", uri_path(path));
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
        }
    }
}

/// A path as the path part of an SQLite `file:` URI.
fn uri_path(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for b in abs.to_string_lossy().bytes() {
        match b {
            b'%' | b'?' | b'#' => out.push_str(&format!("%{b:02X}")),
            b if b.is_ascii() => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Memory {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Memory, MemoryError> {
        Memory::open_with(path, DEFAULT_LOCK_TIMEOUT)
    }

    /// Open for writing, waiting at most `lock_timeout` whenever another process holds the
    /// write lock.
    pub fn open_with(path: &Path, lock_timeout: Duration) -> Result<Memory, MemoryError> {
        Memory::open_for(path, lock_timeout, Access::Write)
    }

    /// Open for what a command does: see [`Access`]. A database that is not babeldesk's is
    /// refused before anything is written to it.
    pub fn open_for(
        path: &Path,
        lock_timeout: Duration,
        access: Access,
    ) -> Result<Memory, MemoryError> {
        let wrap = |source| MemoryError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let in_memory = path == Path::new(":memory:") || path.as_os_str().is_empty();
        let conn = match access {
            Access::Write if in_memory => {
                return Err(MemoryError::InMemory {
                    path: path.to_path_buf(),
                })
            }
            Access::Write => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| MemoryError::Folder {
                        path: path.to_path_buf(),
                        source,
                    })?;
                }
                Connection::open(path).map_err(wrap)?
            }
            // Nothing stored yet: an empty memory, and no file made.
            Access::Read if in_memory || !path.exists() => {
                Connection::open_in_memory().map_err(wrap)?
            }
            Access::Read => open_read_only(path).map_err(wrap)?,
        };
        let mut mem = Memory {
            conn,
            path: path.to_path_buf(),
            lock_timeout,
        };
        mem.conn
            .busy_timeout(lock_timeout)
            .map_err(|e| mem.err(e))?;
        mem.check_ours()?;
        if access == Access::Write {
            mem.set_write_mode()?;
        }
        mem.conn
            .pragma_update(None, "foreign_keys", true)
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
        if access == Access::Read
            && mem
                .conn
                .is_readonly(rusqlite::DatabaseName::Main)
                .unwrap_or(false)
        {
            mem.check_current()?;
        } else {
            mem.migrate()?;
        }
        Ok(mem)
    }

    /// WAL + busy timeout: two babeldesk processes can write the same memory. In WAL mode
    /// NORMAL never corrupts the database; a power cut may lose the last commits, not damage
    /// earlier ones. FULL would fsync every single stored unit.
    fn set_write_mode(&self) -> Result<(), MemoryError> {
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| self.conn.pragma_update(None, "synchronous", "NORMAL"))
            .map_err(|e| self.err(e))
    }

    /// Refuse another application's database: one with tables but no babeldesk schema.
    fn check_ours(&self) -> Result<(), MemoryError> {
        let (version, tables, units): (i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version), \
                 (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'), \
                 (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'units')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| self.err(e))?;
        if (version == 0 && tables > 0) || (version > 0 && units == 0) {
            return Err(MemoryError::NotOurs {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// A read-only database must already have the current schema.
    fn check_current(&self) -> Result<(), MemoryError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let known = MIGRATIONS.len() as i64;
        match version {
            v if v > known => Err(MemoryError::TooNew {
                path: self.path.clone(),
                found: v,
                known,
            }),
            v if v < known => Err(MemoryError::NeedsUpgrade {
                path: self.path.clone(),
            }),
            _ => Ok(()),
        }
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
        // Rows from before 0002 get their lookup columns in the same transaction.
        if version < 2 {
            store::reindex(&tx).map_err(&wrap)?;
        }
        tx.commit().map_err(&wrap)
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
            // A memory with nothing stored yet has no file.
            bytes: match self.conn.path().filter(|p| !p.is_empty()) {
                Some(_) => one("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")? as u64,
                None => 0,
            },
            schema_version: one("PRAGMA user_version")?,
            units: one("SELECT count(*) FROM units")?,
            by_pair: grouped("SELECT CASE WHEN instr(source_lang || target_lang, '-') THEN source_lang || ':' || target_lang ELSE source_lang || '-' || target_lang END, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC")?,
            by_origin: grouped("SELECT origin, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC")?,
            by_status: grouped("SELECT status, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC")?,
            summaries: one("SELECT count(*) FROM summaries")?,
            terms: one("SELECT count(*) FROM terms")?,
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

    /// A database written by a babeldesk that knew migration 0001 only, with rows in it: the
    /// upgrade (0002, then the reindex of the old rows) must make them findable like new ones.
    #[test]
    fn a_version_1_database_with_rows_is_upgraded_and_its_units_found() {
        use crate::memory::{context_hash, Query};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.sqlite");
        let rows = [
            (
                "Завод открыли в прошлом году на севере страны.",
                "The plant opened last year in the north of the country.",
                None,
            ),
            (
                "Работы начнутся весной и закончатся осенью.",
                "Work will start in spring and end in autumn.",
                None,
            ),
            ("Да.", "Yes.", Some(context_hash("Вы согласны?"))),
        ];
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            for (source, target, prev) in &rows {
                // 0001 stored a key of its own; the reindex computes today's.
                conn.execute(
                    "INSERT INTO units (source_lang, target_lang, source, target, source_key, origin, prev_hash) \
                     VALUES ('ru', 'en', ?1, ?2, lower(?1), 'mt', ?3)",
                    params![source, target, prev],
                )
                .unwrap();
            }
        }
        let mem = Memory::open(&path).unwrap();
        let s = mem.stats().unwrap();
        assert_eq!((s.schema_version, s.units), (MIGRATIONS.len() as i64, 3));
        // Exact: by the key hash the reindex filled in, also through key normalization.
        for (source, target, _) in &rows[..2] {
            let m = mem.lookup(&Query::new(source, "ru", "en")).unwrap();
            assert_eq!((m[0].score, m[0].unit.target.as_str()), (100, *target));
        }
        let m = mem
            .lookup(&Query::new(
                "ЗАВОД  открыли в прошлом году на севере страны.",
                "ru",
                "en",
            ))
            .unwrap();
        assert_eq!((m.len(), m[0].score), (1, 100));
        // Fuzzy: through the token index the reindex filled in (one word of eight changed).
        let m = mem
            .lookup(&Query::new(
                "Завод закрыли в прошлом году на севере страны.",
                "ru",
                "en",
            ))
            .unwrap();
        assert_eq!((m.len(), m[0].score), (1, 87), "{m:?}");
        assert_eq!(m[0].unit.target, rows[0].1);
        let mut q = Query::new("Работы начнутся весной.", "ru", "en");
        q.min_score = 50;
        let m = mem.lookup(&q).unwrap();
        assert_eq!(
            (m.len(), m[0].unit.target.as_str()),
            (1, rows[1].1),
            "{m:?}"
        );
        // The stored context still gives 101.
        let prev = context_hash("Вы согласны?");
        let mut q = Query::new("Да.", "ru", "en");
        q.prev_hash = Some(&prev);
        assert_eq!(mem.lookup(&q).unwrap()[0].score, 101);
        // A unit added after the upgrade merges with its old copy instead of doubling it.
        drop(mem);
        let mut mem = Memory::open(&path).unwrap();
        let again = crate::memory::NewUnit::new("ru", "en", rows[1].0, rows[1].1);
        assert_eq!(
            mem.add(&again).unwrap(),
            None,
            "the old row has its identity"
        );
        assert_eq!(mem.stats().unwrap().units, 3);
    }

    /// 0001 had no identity index, so a version-1 database can hold the same unit twice. The
    /// reindex's `UPDATE OR IGNORE` (store.rs) then leaves the second copy without ident,
    /// key_hash and ntok but adds it to the token index, and every lookup that meets it fails
    /// ("Invalid column type Null ... ntok", lookup.rs reads ntok as a number).
    #[test]
    fn a_version_1_database_with_duplicate_rows_is_still_searchable() {
        use crate::memory::Query;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            for _ in 0..2 {
                conn.execute(
                    "INSERT INTO units (source_lang, target_lang, source, target, source_key, origin) \
                     VALUES ('ru', 'en', 'Завод открыли в прошлом году.', 'The plant opened last year.', '', 'mt')",
                    [],
                )
                .unwrap();
            }
        }
        let mem = Memory::open(&path).unwrap();
        let m = mem
            .lookup(&Query::new("Завод открыли в прошлом году.", "ru", "en"))
            .unwrap();
        assert_eq!(m[0].score, 100);
        let m = mem
            .lookup(&Query::new("Завод закрыли в прошлом году.", "ru", "en"))
            .unwrap();
        assert_eq!(m[0].unit.target, "The plant opened last year.");
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
