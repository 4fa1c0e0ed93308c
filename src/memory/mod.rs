//! The translation memory and caches: one SQLite file (the default), or a PostgreSQL database
//! a team shares (`--memory postgres://…`). Only this module touches the database drivers.
//! Schema changes are append-only migrations in `memory/migrations/` (PostgreSQL's in
//! `memory/migrations/postgres/`), embedded at compile time and applied in order.

mod copy;
mod db;
pub(crate) mod key;
mod lookup;
mod open;
mod review;
pub(crate) mod score;
mod select;
mod store;
mod terms;
mod unit;

pub use copy::CopyReport;
pub use key::{context_hash, key as normalized_key};
pub use score::{score as match_score, Prepared};
pub use store::{Concurrency, Importer, Staged};
pub use terms::{TermEdit, TermHistoryEntry, TermImportReport, TermImporter, TermWrite};
pub(crate) use unit::word_enum;
pub use unit::{
    day, lang_matches, Band, DocSegment, DocumentInfo, DocumentRow, Filter, HistoryEntry,
    ImportReport, Match, NewUnit, Origin, Query, Status, Unit,
};

pub use db::StorageFault;
use db::{Db, DbError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Whether a `--memory` value is a PostgreSQL URL (`postgres://…`, `postgresql://…`) rather
/// than a SQLite file.
pub fn is_database_url(s: &str) -> bool {
    db::is_url(s)
}
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

/// Whether `text` may be searched for (concordance or fuzzy, from the CLI or the review
/// page): at most [`MAX_QUERY_CHARS`] characters.
pub fn searchable(text: &str) -> Result<(), MemoryError> {
    let chars = text.chars().count();
    match chars > MAX_QUERY_CHARS {
        true => Err(MemoryError::QueryTooLong {
            chars,
            max: MAX_QUERY_CHARS,
        }),
        false => Ok(()),
    }
}

/// How long a write waits for another process's write to finish, unless told otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("memory database {}", path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: DbError,
    },
    #[error("memory database {}: cannot create its folder", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file or the disk failed: one line with the path, what happened and the fix.
    #[error("memory database {} {}", path.display(), explain(*fault, path, detail))]
    Storage {
        path: PathBuf,
        fault: StorageFault,
        detail: String,
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
    #[error("memory database {}: {count} rows point at units or terms that are not there, so the schema upgrade was not made; restore a backup or run `sqlite3 FILE .recover`", path.display())]
    BrokenLinks { path: PathBuf, count: i64 },
    #[error("--memory {}: is a folder; give a file in it (e.g. {})", path.display(), path.join("babeldesk.sqlite").display())]
    IsFolder { path: PathBuf },
    #[error("{} is not a babeldesk memory (it holds other tables); give --memory another file", path.display())]
    NotOurs { path: PathBuf },
    #[error("memory database {} needs a schema upgrade, which a read-only command does not make; run a command that writes (e.g. `babeldesk memory import`) first", path.display())]
    NeedsUpgrade { path: PathBuf },
    #[error("--memory {}: an in-memory database keeps nothing after the command; give a file path", path.display())]
    InMemory { path: PathBuf },
    #[error("memory database {} already holds units, terms or documents; a copy goes into an empty memory (give a new file or database)", path.display())]
    CopyIntoNonEmpty { path: PathBuf },
    #[error("memory database {} has schema version {found}, newer than this babeldesk knows ({known}); upgrade babeldesk", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

impl MemoryError {
    /// The database stopped this transaction for another's sake (a deadlock or a
    /// serialization failure on PostgreSQL): nothing of it was kept, and doing it again works.
    pub fn is_conflict(&self) -> bool {
        matches!(self, MemoryError::Database { source, .. } if source.is_conflict())
    }

    pub(crate) fn from_db(path: &Path, source: DbError) -> MemoryError {
        if let Some(fault) = source.storage_fault() {
            return MemoryError::Storage {
                path: path.to_path_buf(),
                fault,
                detail: sqlite_message(&source),
            };
        }
        if source.is_busy() {
            return MemoryError::Locked {
                path: path.to_path_buf(),
                waited: Duration::ZERO,
            };
        }
        MemoryError::Database {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// SQLite's own words for a failure, without rusqlite's "Error code N:" prefix.
fn sqlite_message(e: &DbError) -> String {
    match e {
        DbError::Sqlite(rusqlite::Error::SqliteFailure(_, Some(m))) => m.clone(),
        DbError::Sqlite(rusqlite::Error::SqliteFailure(f, None)) => f.to_string(),
        other => other.to_string(),
    }
}

/// What happened to the storage and what to do, after "memory database PATH".
fn explain(fault: StorageFault, path: &Path, detail: &str) -> String {
    let p = path.display();
    match fault {
        StorageFault::Damaged => format!(
            "is damaged ({detail}); nothing was changed. Restore it from a backup, or save what \
             can still be read: sqlite3 {p} .recover | sqlite3 recovered.sqlite"
        ),
        StorageFault::NotADatabase => format!(
            "is not a SQLite database, or its header is damaged ({detail}); nothing was \
             changed. Give --memory a babeldesk memory, or restore this one from a backup"
        ),
        StorageFault::Full => format!(
            "could not be written: the disk is full ({detail}). This command's changes were \
             rolled back and nothing stored before was lost; free space and run it again"
        ),
        StorageFault::ReadOnly => format!(
            "cannot be written: the file, its folder or the file system is read-only \
             ({detail}); nothing was changed. Fix the permissions, or give --memory a \
             writable path"
        ),
        StorageFault::Io => format!(
            "could not be read or written: the disk failed ({detail}); nothing of this \
             command was kept. Check the disk and run it again"
        ),
    }
}

/// Where a memory is, as it may be printed: a file's path, or a URL without its password.
pub fn shown_location(path: &Path) -> String {
    match path.to_str().filter(|s| db::is_url(s)) {
        Some(url) => redacted(url),
        None => path.display().to_string(),
    }
}

/// A `postgres://` URL as it may be shown: without its password, whether it is in the user
/// part (where an unencoded `@` may be part of it: the host follows the last one) or a
/// `password=` query parameter.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let rest = match rest.rsplit_once('@') {
        Some((auth, host)) => format!("{}@{host}", auth.split(':').next().unwrap_or_default()),
        None => rest.to_string(),
    };
    let kept: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            !p.is_empty() && !key.eq_ignore_ascii_case("password")
        })
        .collect();
    match kept.is_empty() {
        true => format!("{scheme}://{rest}"),
        false => format!("{scheme}://{rest}?{}", kept.join("&")),
    }
}

pub struct Memory {
    db: Db,
    path: PathBuf,
    lock_timeout: Duration,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// The file, or the PostgreSQL URL without its password.
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

    /// Open for what a command does: see [`Access`]. `path` is a SQLite file or a
    /// `postgres://` URL (libpq's form; the password may also come from `PGPASSWORD` or
    /// `~/.pgpass`). A database that is not babeldesk's is refused before anything is written
    /// to it.
    pub fn open_for(
        path: &Path,
        lock_timeout: Duration,
        access: Access,
    ) -> Result<Memory, MemoryError> {
        Memory::open_any(path, lock_timeout, access)
    }

    /// The file, or the PostgreSQL URL without its password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: DbError) -> MemoryError {
        (self.errf())(source)
    }

    /// `err` as an owned closure, for use while the connection is borrowed.
    fn errf(&self) -> impl Fn(DbError) -> MemoryError {
        let (path, waited) = (self.path.clone(), self.lock_timeout);
        move |source| match MemoryError::from_db(&path, source) {
            MemoryError::Locked { path, .. } => MemoryError::Locked { path, waited },
            e => e,
        }
    }

    pub fn stats(&self) -> Result<Stats, MemoryError> {
        let grouped = |sql: &str| -> Result<Vec<(String, i64)>, MemoryError> {
            self.db
                .query_all(sql, &[], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.err(e))
        };
        let one = |sql: &str| -> Result<i64, MemoryError> {
            self.db
                .query_one(sql, &[], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        let bytes = match &self.db {
            // A memory with nothing stored yet has no file.
            Db::Sqlite(c) if c.path().filter(|p| !p.is_empty()).is_some() => {
                one("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")?
            }
            Db::Sqlite(_) => 0,
            // Tables with their indexes and TOAST, babeldesk's only (others may share the
            // database).
            Db::Postgres(_) => self
                .db
                .query_one(
                    "SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0)::int8 \
                     FROM unnest(string_to_array(?1, ',')) t",
                    &[&open::PG_TABLES.join(",")],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?,
        };
        Ok(Stats {
            path: self.path.clone(),
            bytes: bytes as u64,
            schema_version: self.schema_version()?,
            units: one("SELECT count(*) FROM units")?,
            by_pair: grouped("SELECT CASE WHEN source_lang || target_lang LIKE '%-%' THEN source_lang || ':' || target_lang ELSE source_lang || '-' || target_lang END, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC, 1")?,
            by_origin: grouped("SELECT origin, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC, 1")?,
            by_status: grouped("SELECT status, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC, 1")?,
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
        self.db
            .query_opt(
                "SELECT summary FROM summaries WHERE doc_hash = ?1 AND model = ?2 AND method = ?3 AND options = ?4",
                &[&doc_hash, &model, &method, &options],
                |r| r.get(0),
            )
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
        let sql = format!(
            "INSERT INTO summaries (doc_hash, model, method, options, summary) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (doc_hash, model, method, options) DO UPDATE SET summary = excluded.summary, created_at = {}",
            self.db.dialect().now()
        );
        self.db
            .execute(&sql, &[&doc_hash, &model, &method, &options, &summary])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

/// Where a test keeps its memory: a file in a temporary folder, or, when
/// `BABELDESK_TEST_MEMORY` names a PostgreSQL server (a superuser's URL), a new database on
/// it. `make test` runs the memory's tests both ways.
#[cfg(test)]
pub(crate) struct TestPlace {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

#[cfg(test)]
pub(crate) fn test_place() -> TestPlace {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = tempfile::tempdir().unwrap();
    let path = match std::env::var("BABELDESK_TEST_MEMORY") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!(
                "bd_test_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let (base, query) = admin.split_once('?').unwrap_or((&admin, ""));
            let (server, _) = base.rsplit_once('/').unwrap();
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            PathBuf::from(format!("{server}/{name}{query}"))
        }
        _ => dir.path().join("tm.sqlite"),
    };
    TestPlace { _dir: dir, path }
}

#[cfg(test)]
mod tests {
    use super::open::MIGRATIONS;
    use super::*;
    use rusqlite::{params, Connection};

    /// Passwords never shown (issue 32): in the user part, with an unencoded `@` in it, and as a
    /// query parameter; a scheme in another case is a URL, not a file.
    #[test]
    fn shown_locations_keep_no_password() {
        let shown = |s: &str| shown_location(Path::new(s));
        assert_eq!(
            shown("postgres://bd:s3cret@db:5432/tm"),
            "postgres://bd@db:5432/tm"
        );
        assert_eq!(
            shown("postgres://bd:p@ss@word@db/tm"),
            "postgres://bd@db/tm"
        );
        assert_eq!(
            shown("postgresql://bd@db/tm?password=s3cret&sslmode=require"),
            "postgresql://bd@db/tm?sslmode=require"
        );
        assert_eq!(
            shown("postgres://db/tm?PASSWORD=s3cret"),
            "postgres://db/tm"
        );
        assert_eq!(shown("Postgres://bd:s3cret@db/tm"), "Postgres://bd@db/tm");
        assert!(is_database_url("POSTGRESQL://db/tm") && !is_database_url("tm.sqlite"));
    }

    #[test]
    fn migrates_once_and_counts() {
        let dir = test_place();
        let path = match dir.path.to_str().is_some_and(db::is_url) {
            true => dir.path.clone(),
            false => dir.path.with_file_name("sub/tm.sqlite"),
        };
        let mem = Memory::open(&path).unwrap();
        let s = mem.stats().unwrap();
        assert_eq!((s.units, s.schema_version), (0, mem.known_version()));
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
    fn ids_are_never_given_out_again() {
        let place = test_place();
        let mut mem = Memory::open(&place.path).unwrap();
        let id =
            |mem: &mut Memory, s: &str| mem.add(&NewUnit::new("ru", "en", s, s)).unwrap().unwrap();
        let (_, newest) = (id(&mut mem, "Один."), id(&mut mem, "Два."));
        mem.delete(&[newest]).unwrap();
        drop(mem);
        let mut mem = Memory::open(&place.path).unwrap();
        let next = id(&mut mem, "Три.");
        assert!(next > newest, "{next} after {newest} was deleted");
        let term = |mem: &mut Memory, s: &str| {
            mem.add_term(&crate::terms::NewTerm::new("ru", "en", s, s))
                .unwrap()
                .0
        };
        let newest = term(&mut mem, "два");
        mem.delete_terms(&[newest]).unwrap();
        assert!(term(&mut mem, "три") > newest);
    }

    #[test]
    fn a_version_6_database_keeps_its_links_through_the_table_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            for step in &MIGRATIONS[..6] {
                conn.execute_batch(step).unwrap();
            }
            conn.pragma_update(None, "user_version", 6).unwrap();
            conn.execute_batch(
                "INSERT INTO units (id, source_lang, target_lang, source, target, source_key, origin) \
                   VALUES (1, 'ru', 'en', 'Да.', 'Yes.', 'да.', 'mt'), (7, 'ru', 'en', 'Нет.', 'No.', 'нет.', 'mt');
                 INSERT INTO unit_history (unit_id, target, origin, status) VALUES (7, 'Nope.', 'mt', 'draft');
                 INSERT INTO document_segments (document, position, source_lang, target_lang, source, unit_id, band) \
                   VALUES ('d.txt', 0, 'ru', 'en', 'Нет.', 7, 'model');
                 INSERT INTO terms (id, source_lang, target_lang, source, target, source_key, origin) \
                   VALUES (3, 'ru', 'en', 'завод', 'plant', 'завод', 'human');
                 INSERT INTO term_history (term_id, source, target, status, origin) VALUES (3, 'завод', 'factory', 'preferred', 'human');",
            )
            .unwrap();
        }
        let mut mem = Memory::open(&path).unwrap();
        assert_eq!(mem.stats().unwrap().schema_version, MIGRATIONS.len() as i64);
        assert_eq!(mem.history(7).unwrap().len(), 1);
        assert_eq!(mem.term_history(3).unwrap().len(), 1);
        let row = &mem.document_rows("d.txt").unwrap()[0];
        assert_eq!(row.unit.as_ref().map(|u| u.id), Some(7));
        let found = mem.concordance("нет", &Filter::default()).unwrap();
        assert_eq!(found[0].id, 7, "the word index still names the unit");
        mem.delete(&[7]).unwrap();
        let next = mem
            .add(&NewUnit::new("ru", "en", "Может.", "Maybe."))
            .unwrap()
            .unwrap();
        assert_eq!(next, 8);
    }

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
        let dir = test_place();
        let mem = Memory::open(&dir.path).unwrap();
        let sql = match mem.db.dialect() {
            db::Dialect::Sqlite => "PRAGMA user_version = 99",
            db::Dialect::Postgres => "UPDATE babeldesk_schema SET version = 99",
        };
        mem.db.batch(sql).unwrap();
        drop(mem);
        assert!(matches!(
            Memory::open(&dir.path),
            Err(MemoryError::TooNew { found: 99, .. })
        ));
    }
}
