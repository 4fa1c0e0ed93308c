//! The translation memory and caches in one SQLite file. Only this module touches rusqlite.
//! Schema changes are append-only migrations in `memory/migrations/`, embedded at compile time
//! and applied in order, tracked by `PRAGMA user_version`.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

const MIGRATIONS: &[&str] = &[include_str!("../../memory/migrations/0001_init.sql")];

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
    #[error("memory database {} has schema version {found}, newer than this babeldesk knows ({known}); upgrade babeldesk", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

pub struct Memory {
    conn: Connection,
    path: PathBuf,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
    pub units: i64,
    pub by_pair: Vec<(String, i64)>,
    pub by_origin: Vec<(String, i64)>,
    pub by_status: Vec<(String, i64)>,
    pub summaries: i64,
}

impl Memory {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Memory, MemoryError> {
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
        // WAL + busy timeout: two babeldesk processes can write the same memory.
        conn.busy_timeout(Duration::from_secs(10)).map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(wrap)?;
        let mut mem = Memory {
            conn,
            path: path.to_path_buf(),
        };
        mem.migrate()?;
        Ok(mem)
    }

    fn err(&self, source: rusqlite::Error) -> MemoryError {
        MemoryError::Sqlite {
            path: self.path.clone(),
            source,
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
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction().map_err(|e| MemoryError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
            tx.execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", i as i64 + 1))
                .and_then(|_| tx.commit())
                .map_err(|e| MemoryError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
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
            by_pair: grouped("SELECT source_lang || '-' || target_lang, count(*) FROM units GROUP BY 1 ORDER BY 2 DESC")?,
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
