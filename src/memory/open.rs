//! Opening a memory: a SQLite file (made when missing) or a PostgreSQL database (a
//! `postgres://` URL), refusing other applications' databases, and bringing the schema up to
//! date with the embedded, append-only migrations of that backend.

use super::db::{is_url, Db, Dialect, PgConn};
use super::{store, Access, Memory, MemoryError};
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("../../memory/migrations/0001_init.sql"),
    include_str!("../../memory/migrations/0002_lookup.sql"),
    include_str!("../../memory/migrations/0003_terms.sql"),
    include_str!("../../memory/migrations/0004_concordance.sql"),
    include_str!("../../memory/migrations/0005_document_segments.sql"),
    include_str!("../../memory/migrations/0006_precision.sql"),
    include_str!("../../memory/migrations/0007_ids_never_reused.sql"),
];

/// PostgreSQL's own migrations: its 0001 is SQLite's 0001–0005 at once.
pub(super) const PG_MIGRATIONS: &[&str] = &[
    include_str!("../../memory/migrations/postgres/0001_init.sql"),
    include_str!("../../memory/migrations/postgres/0002_precision.sql"),
];

/// The advisory lock two clients migrating the same database at once queue on.
const PG_MIGRATION_LOCK: i64 = 0x6261_6265_6c64_6b01;

/// The tables a babeldesk memory has on PostgreSQL; a database holding one of them without
/// babeldesk's version table belongs to someone else.
pub(super) const PG_TABLES: &[&str] = &[
    "units",
    "unit_tokens",
    "unit_history",
    "token_df",
    "summaries",
    "terms",
    "term_history",
    "document_segments",
];

impl Memory {
    pub(super) fn open_any(
        path: &Path,
        lock_timeout: Duration,
        access: Access,
    ) -> Result<Memory, MemoryError> {
        match path.to_str().filter(|s| is_url(s)) {
            Some(url) => Memory::open_postgres(url, lock_timeout, access),
            None if path.is_dir() => Err(MemoryError::IsFolder {
                path: path.to_path_buf(),
            }),
            None => Memory::open_sqlite(path, lock_timeout, access),
        }
    }

    fn open_postgres(
        url: &str,
        lock_timeout: Duration,
        access: Access,
    ) -> Result<Memory, MemoryError> {
        let (conn, shown) =
            PgConn::connect(url, lock_timeout).map_err(|source| MemoryError::Database {
                path: super::redacted(url).into(),
                source,
            })?;
        let mem = Memory {
            db: Db::Postgres(RefCell::new(conn)),
            path: shown.into(),
            lock_timeout,
        };
        // A write waits this long for a row another writer holds, then says so.
        let wait = format!("SET lock_timeout = {}", lock_timeout.as_millis().max(1));
        mem.db.batch(&wait).map_err(|e| mem.err(e))?;
        mem.check_ours_pg()?;
        match access {
            Access::Write => mem.migrate()?,
            Access::Read => {
                mem.check_current()?;
                mem.db
                    .batch("SET default_transaction_read_only = on")
                    .map_err(|e| mem.err(e))?;
            }
        }
        Ok(mem)
    }

    fn open_sqlite(
        path: &Path,
        lock_timeout: Duration,
        access: Access,
    ) -> Result<Memory, MemoryError> {
        let wrap = |source: rusqlite::Error| MemoryError::from_db(path, source.into());
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
        conn.busy_timeout(lock_timeout).map_err(wrap)?;
        conn.set_prepared_statement_cache_capacity(64);
        let read_only = conn
            .is_readonly(rusqlite::DatabaseName::Main)
            .unwrap_or(false);
        let mem = Memory {
            db: Db::Sqlite(conn),
            path: path.to_path_buf(),
            lock_timeout,
        };
        let conn = mem.db.sqlite().expect("a SQLite memory");
        let sq = |e: rusqlite::Error| mem.err(e.into());
        mem.check_ours_sqlite()?;
        // Before anything is written (even the journal mode): a newer babeldesk's file stays
        // exactly as it was.
        mem.too_new(mem.schema_version()?)?;
        if access == Access::Write {
            // WAL + busy timeout: two babeldesk processes can write the same memory. In WAL
            // mode NORMAL never corrupts the database; a power cut may lose the last commits,
            // not damage earlier ones. FULL would fsync every single stored unit.
            conn.pragma_update(None, "journal_mode", "WAL")
                .and_then(|_| conn.pragma_update(None, "synchronous", "NORMAL"))
                .map_err(sq)?;
        }
        conn.pragma_update(None, "foreign_keys", true).map_err(sq)?;
        // Concordance search: case-insensitive for every script, which SQL's lower() is not.
        conn.create_scalar_function(
            "bd_contains",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let hay = ctx.get_raw(0).as_str().unwrap_or("");
                let needle = ctx.get_raw(1).as_str().unwrap_or("");
                Ok(hay.to_lowercase().contains(needle))
            },
        )
        .map_err(sq)?;
        if access == Access::Read && read_only {
            mem.check_current()?;
        } else {
            mem.migrate()?;
        }
        Ok(mem)
    }

    /// Refuse another application's database: one with tables but no babeldesk schema.
    fn check_ours_sqlite(&self) -> Result<(), MemoryError> {
        let (version, tables, units): (i64, i64, i64) = self
            .db
            .query_one(
                "SELECT (SELECT user_version FROM pragma_user_version), \
                 (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'), \
                 (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'units')",
                &[],
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

    /// On PostgreSQL other applications' tables may share the database (or a schema given by
    /// `options=-csearch_path=…`); only babeldesk's own table names without its version table
    /// are refused.
    fn check_ours_pg(&self) -> Result<(), MemoryError> {
        let (ours, theirs): (i64, i64) = self
            .db
            .query_one(
                "SELECT (CASE WHEN to_regclass('babeldesk_schema') IS NULL THEN 0 ELSE 1 END), \
                 (SELECT count(*) FROM unnest(string_to_array(?1, ',')) t WHERE to_regclass(t) IS NOT NULL)",
                &[&PG_TABLES.join(",")],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        if ours == 0 && theirs > 0 {
            return Err(MemoryError::NotOurs {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// The schema version: SQLite's `user_version`, PostgreSQL's `babeldesk_schema` (0 when
    /// nothing is there yet).
    pub(super) fn schema_version(&self) -> Result<i64, MemoryError> {
        let sql = match self.db {
            Db::Sqlite(_) => "SELECT user_version FROM pragma_user_version",
            Db::Postgres(_) => {
                if self
                    .db
                    .query_one("SELECT CASE WHEN to_regclass('babeldesk_schema') IS NULL THEN 1 ELSE 0 END", &[], |r| {
                        r.get::<i64>(0)
                    })
                    .map_err(|e| self.err(e))?
                    == 1
                {
                    return Ok(0);
                }
                "SELECT coalesce(max(version), 0) FROM babeldesk_schema"
            }
        };
        self.db
            .query_one(sql, &[], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    pub(super) fn known_version(&self) -> i64 {
        match self.db {
            Db::Sqlite(_) => MIGRATIONS.len() as i64,
            Db::Postgres(_) => PG_MIGRATIONS.len() as i64,
        }
    }

    fn too_new(&self, version: i64) -> Result<(), MemoryError> {
        match version > self.known_version() {
            true => Err(MemoryError::TooNew {
                path: self.path.clone(),
                found: version,
                known: self.known_version(),
            }),
            false => Ok(()),
        }
    }

    /// A read-only database must already have the current schema.
    fn check_current(&self) -> Result<(), MemoryError> {
        let version = self.schema_version()?;
        self.too_new(version)?;
        match version < self.known_version() {
            true => Err(MemoryError::NeedsUpgrade {
                path: self.path.clone(),
            }),
            false => Ok(()),
        }
    }

    /// Applies the migrations this database lacks, in one transaction. On PostgreSQL under an
    /// advisory lock: two clients starting at once migrate one after the other, and the second
    /// finds nothing left to do (its DDL is transactional, so a failed step leaves the previous
    /// version whole).
    fn migrate(&self) -> Result<(), MemoryError> {
        let version = self.schema_version()?;
        self.too_new(version)?;
        if version == self.known_version() {
            return Ok(());
        }
        // SQLite rebuilds tables (0007): dropping the old one must not cascade. The pragma
        // only takes effect outside a transaction; the links are checked before the commit.
        let sqlite = self.db.dialect() == Dialect::Sqlite;
        let wrap = self.errf();
        if sqlite {
            self.db.batch("PRAGMA foreign_keys = OFF").map_err(&wrap)?;
        }
        let done = self.apply_migrations();
        if sqlite {
            self.db.batch("PRAGMA foreign_keys = ON").map_err(&wrap)?;
        }
        done
    }

    fn apply_migrations(&self) -> Result<(), MemoryError> {
        let wrap = self.errf();
        let tx = self.db.begin(true).map_err(&wrap)?;
        let sqlite = tx.dialect() == Dialect::Sqlite;
        let (steps, record): (&[&str], fn(usize) -> String) = match sqlite {
            true => (MIGRATIONS, |v| format!("PRAGMA user_version = {v}")),
            false => {
                tx.batch(&format!(
                    "SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK}); \
                     CREATE TABLE IF NOT EXISTS babeldesk_schema (version BIGINT NOT NULL)"
                ))
                .map_err(&wrap)?;
                (PG_MIGRATIONS, |v| {
                    format!(
                        "DELETE FROM babeldesk_schema; INSERT INTO babeldesk_schema VALUES ({v})"
                    )
                })
            }
        };
        // Another process may have migrated while this one waited for the lock.
        let version = self.schema_version()?;
        self.too_new(version)?;
        for (i, sql) in steps.iter().enumerate().skip(version as usize) {
            tx.batch(sql)
                .and_then(|_| tx.batch(&record(i + 1)))
                .map_err(&wrap)?;
        }
        // SQLite rows from before 0002 get their lookup columns in the same transaction.
        if sqlite && version < 2 {
            store::reindex(&tx).map_err(&wrap)?;
        }
        if sqlite {
            let count = tx
                .query_all("PRAGMA foreign_key_check", &[], |_| Ok(()))
                .map_err(&wrap)?
                .len() as i64;
            if count > 0 {
                let path = self.path.clone();
                return Err(MemoryError::BrokenLinks { path, count });
            }
        }
        tx.commit().map_err(&wrap)
    }
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
