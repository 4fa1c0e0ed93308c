//! The two databases a memory can live in, behind one small interface: SQLite (a file, the
//! default) and PostgreSQL (a server a team shares, chosen by a `postgres://` URL). Queries are
//! written once with SQLite's numbered parameters (`?1`); PostgreSQL gets them as `$1`. Where
//! the two dialects differ (the word indexes, the clock, sizes) the caller asks [`Db::dialect`].

mod postgres;

pub(super) use self::postgres::{is_url, PgConn};
use std::cell::RefCell;

/// Which SQL the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The current UTC time as the memory stores it (`2026-12-01T09:30:00Z`) on both backends.
    pub fn now(self) -> &'static str {
        match self {
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            Dialect::Postgres => {
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            }
        }
    }
}

/// What went wrong in the database or its driver; the memory adds where.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] ::postgres::Error),
    #[error("column {column}: {problem}")]
    Column { column: usize, problem: String },
    #[error("{0}")]
    Connect(String),
}

/// The storage itself failed, not the request: each kind says what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    Damaged,
    NotADatabase,
    Full,
    ReadOnly,
    Io,
}

impl DbError {
    /// A damaged file, a full disk, a read-only file or folder, an I/O error (SQLite).
    pub fn storage_fault(&self) -> Option<StorageFault> {
        use rusqlite::ErrorCode;
        let DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) = self else {
            return None;
        };
        Some(match f.code {
            ErrorCode::DatabaseCorrupt => StorageFault::Damaged,
            ErrorCode::NotADatabase => StorageFault::NotADatabase,
            ErrorCode::DiskFull => StorageFault::Full,
            ErrorCode::ReadOnly => StorageFault::ReadOnly,
            ErrorCode::SystemIoFailure => StorageFault::Io,
            _ => return None,
        })
    }

    /// Another writer holds the lock past the lock timeout (SQLite's busy timeout,
    /// PostgreSQL's `lock_timeout`).
    pub fn is_busy(&self) -> bool {
        use rusqlite::ErrorCode;
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            }
            DbError::Postgres(e) => {
                e.code() == Some(&::postgres::error::SqlState::LOCK_NOT_AVAILABLE)
            }
            _ => false,
        }
    }

    /// PostgreSQL stopped the transaction for another's sake (deadlock, serialization).
    pub fn is_conflict(&self) -> bool {
        use ::postgres::error::SqlState;
        matches!(self, DbError::Postgres(e)
            if e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
                || e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE))
    }

    /// FTS5 refused a query (its own syntax error, "fts5: …").
    pub fn is_fts_refusal(&self) -> bool {
        matches!(self, DbError::Sqlite(rusqlite::Error::SqliteFailure(_, Some(m)))
            if m.starts_with("fts5:"))
    }

    /// A uniqueness rule refused the row.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            }
            DbError::Postgres(e) => {
                e.code() == Some(&::postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }
}

/// A value bound to a query parameter: whatever both drivers can send.
pub(super) trait Param: Sync {
    fn sqlite(&self) -> &dyn rusqlite::ToSql;
    fn pg(&self) -> &(dyn ::postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + ::postgres::types::ToSql + Sync> Param for T {
    fn sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn pg(&self) -> &(dyn ::postgres::types::ToSql + Sync) {
        self
    }
}

/// One result row of either database.
pub(super) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a ::postgres::Row),
}

impl Row<'_> {
    pub fn get<T: Get>(&self, i: usize) -> Result<T, DbError> {
        match self {
            Row::Sqlite(r) => T::sqlite(r, i).map_err(DbError::from),
            Row::Postgres(r) => T::pg(r, i),
        }
    }
}

/// A column type read the same from both databases. PostgreSQL's integers are BIGINT in
/// babeldesk's schema; smaller ones (from functions) are widened.
pub(super) trait Get: Sized {
    fn sqlite(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Self>;
    fn pg(r: &::postgres::Row, i: usize) -> Result<Self, DbError>;
}

fn pg_int(r: &::postgres::Row, i: usize) -> Result<Option<i64>, DbError> {
    use ::postgres::types::Type;
    let ty = r.columns().get(i).map(|c| c.type_().clone());
    Ok(match ty {
        Some(Type::INT4) => r.try_get::<_, Option<i32>>(i)?.map(i64::from),
        Some(Type::INT2) => r.try_get::<_, Option<i16>>(i)?.map(i64::from),
        _ => r.try_get::<_, Option<i64>>(i)?,
    })
}

fn narrow<T: TryFrom<i64>>(v: i64, i: usize) -> Result<T, DbError> {
    T::try_from(v).map_err(|_| DbError::Column {
        column: i,
        problem: format!("{v} is out of range"),
    })
}

macro_rules! get_int {
    ($($t:ty),*) => {$(
        impl Get for $t {
            fn sqlite(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> { r.get(i) }
            fn pg(r: &::postgres::Row, i: usize) -> Result<Self, DbError> {
                let v = pg_int(r, i)?.ok_or(DbError::Column { column: i, problem: "NULL".into() })?;
                narrow(v, i)
            }
        }
        impl Get for Option<$t> {
            fn sqlite(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> { r.get(i) }
            fn pg(r: &::postgres::Row, i: usize) -> Result<Self, DbError> {
                pg_int(r, i)?.map(|v| narrow(v, i)).transpose()
            }
        }
    )*};
}
get_int!(i64, u8, usize, u64);

macro_rules! get_plain {
    ($($t:ty),*) => {$(
        impl Get for $t {
            fn sqlite(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> { r.get(i) }
            fn pg(r: &::postgres::Row, i: usize) -> Result<Self, DbError> { Ok(r.try_get(i)?) }
        }
    )*};
}
get_plain!(String, Option<String>, f64);

/// A connection to the memory's database.
pub(super) enum Db {
    Sqlite(rusqlite::Connection),
    /// PostgreSQL's client needs `&mut` for every call; the memory's readers take `&self`.
    Postgres(RefCell<PgConn>),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Postgres(_) => None,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, DbError> {
        match self {
            Db::Sqlite(c) => {
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.sqlite()).collect();
                Ok(c.prepare_cached(sql)?.execute(p.as_slice())? as u64)
            }
            Db::Postgres(c) => c.borrow_mut().execute(sql, params),
        }
    }

    /// Runs statements without parameters (migrations, transaction control).
    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(c) => c.borrow_mut().batch(sql),
        }
    }

    /// The first row's `f`, if there is a row.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        match self {
            Db::Sqlite(c) => {
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.sqlite()).collect();
                let mut st = c.prepare_cached(sql)?;
                let mut rows = st.query(p.as_slice())?;
                match rows.next()? {
                    Some(r) => f(&Row::Sqlite(r)).map(Some),
                    None => Ok(None),
                }
            }
            Db::Postgres(c) => {
                let rows = c.borrow_mut().query(sql, params)?;
                rows.first().map(|r| f(&Row::Postgres(r))).transpose()
            }
        }
    }

    /// The first row's `f`; a query that gives no row is an error.
    pub fn query_one<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.query_opt(sql, params, f)?.ok_or(DbError::Column {
            column: 0,
            problem: "the query gave no row".into(),
        })
    }

    /// Every row's `f`.
    pub fn query_all<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        let mut out = Vec::new();
        self.for_each(sql, params, |r| {
            out.push(f(r)?);
            Ok::<_, DbError>(())
        })?;
        Ok(out)
    }

    /// Hands the rows to `each` as they come: a million rows are never all in memory (on
    /// PostgreSQL they are fetched in batches through a cursor). `each` may use the memory.
    pub fn for_each<E: From<DbError>>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut each: impl FnMut(&Row) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Db::Sqlite(c) => {
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.sqlite()).collect();
                let mut st = c.prepare(sql).map_err(DbError::from)?;
                let mut rows = st.query(p.as_slice()).map_err(DbError::from)?;
                while let Some(r) = rows.next().map_err(DbError::from)? {
                    each(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Db::Postgres(c) => postgres::for_each(c, sql, params, |r| each(&Row::Postgres(r))),
        }
    }

    /// Starts a transaction, rolled back unless committed. `write` takes the write lock at
    /// once (SQLite's `BEGIN IMMEDIATE`), so a long job never fails halfway for a lock.
    pub fn begin(&self, write: bool) -> Result<Tx<'_>, DbError> {
        match self {
            Db::Sqlite(c) => c.execute_batch(if write { "BEGIN IMMEDIATE" } else { "BEGIN" })?,
            Db::Postgres(c) => c.borrow_mut().begin()?,
        }
        Ok(Tx {
            db: self,
            done: false,
        })
    }
}

/// An open transaction: queries go through it as through the [`Db`]; dropping it without
/// [`Tx::commit`] rolls everything back.
pub(super) struct Tx<'a> {
    db: &'a Db,
    done: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<(), DbError> {
        self.done = true;
        match self.db {
            Db::Sqlite(c) => Ok(c.execute_batch("COMMIT")?),
            Db::Postgres(c) => c.borrow_mut().end("COMMIT"),
        }
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            // The connection may be gone; the server then drops the transaction itself.
            let _ = match self.db {
                Db::Sqlite(c) => c.execute_batch("ROLLBACK").map_err(DbError::from),
                Db::Postgres(c) => c.borrow_mut().end("ROLLBACK"),
            };
        }
    }
}

/// SQLite's `?N` parameters as PostgreSQL's `$N` (outside quoted text).
pub(super) fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted: Option<char> = None;
    for c in sql.chars() {
        match (quoted, c) {
            (Some(q), c) if c == q => quoted = None,
            (None, '\'' | '"') => quoted = Some(c),
            (None, '?') => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_outside_quotes() {
        assert_eq!(
            dollar_params("SELECT a FROM t WHERE b = ?1 AND c LIKE ?1 || '-?%' AND \"d?\" = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c LIKE $1 || '-?%' AND \"d?\" = $12"
        );
    }
}
