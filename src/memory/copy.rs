//! Moving a memory between databases (SQLite ↔ PostgreSQL, or the same kind): every unit with
//! its history, review state and provenance, the termbase with its history, the summary cache
//! and the record of translated documents. Ids are kept, so history and documents still point
//! at their units.
//!
//! All or nothing: the destination must be empty and is written in one transaction, which a
//! failure or a kill rolls back. The source is read in one transaction too (a consistent
//! snapshot while others write) and streamed row by row, so a million units never sit in
//! memory at once.

use super::db::{Db, DbError, Dialect, Param, Row};
use super::store::{insert_as, unit_from_row, Staged, COLUMNS};
use super::unit::NewUnit;
use super::{Memory, MemoryError};
use serde::Serialize;

/// What a copy moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub units: u64,
    pub history: u64,
    pub terms: u64,
    pub term_history: u64,
    pub summaries: u64,
    pub document_segments: u64,
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
}

/// The tables copied column by column (units have their own path: their indexes differ).
const TABLES: &[(&str, &[(&str, Kind)])] = {
    use Kind::{Int, Text};
    &[
        (
            "unit_history",
            &[
                ("id", Int),
                ("unit_id", Int),
                ("target", Text),
                ("origin", Text),
                ("status", Text),
                ("changed_at", Text),
            ],
        ),
        ("token_df", &[("term", Text), ("df", Int)]),
        (
            "terms",
            &[
                ("id", Int),
                ("source_lang", Text),
                ("target_lang", Text),
                ("source", Text),
                ("target", Text),
                ("source_key", Text),
                ("note", Text),
                ("pos", Text),
                ("status", Text),
                ("origin", Text),
                ("created_at", Text),
                ("updated_at", Text),
            ],
        ),
        (
            "term_history",
            &[
                ("id", Int),
                ("term_id", Int),
                ("source", Text),
                ("target", Text),
                ("note", Text),
                ("pos", Text),
                ("status", Text),
                ("origin", Text),
                ("changed_at", Text),
            ],
        ),
        (
            "summaries",
            &[
                ("doc_hash", Text),
                ("model", Text),
                ("method", Text),
                ("options", Text),
                ("summary", Text),
                ("created_at", Text),
            ],
        ),
        (
            "document_segments",
            &[
                ("document", Text),
                ("position", Int),
                ("source_lang", Text),
                ("target_lang", Text),
                ("source", Text),
                ("unit_id", Int),
                ("band", Text),
                ("score", Int),
                ("problem", Text),
                ("recorded_at", Text),
            ],
        ),
    ]
};

/// Tables whose ids PostgreSQL hands out from a sequence, moved past the copied ids.
const SEQUENCED: &[&str] = &["units", "unit_history", "terms", "term_history"];

impl Memory {
    /// Copies this memory into `dst`, which must hold nothing yet. `progress` hears the
    /// number of units copied so far, now and then.
    pub fn copy_to(
        &self,
        dst: &mut Memory,
        mut progress: impl FnMut(u64),
    ) -> Result<CopyReport, MemoryError> {
        let (src_err, dst_err) = (self.errf(), dst.errf());
        let read = self.db.begin(false).map_err(&src_err)?;
        if read.dialect() == Dialect::Postgres {
            read.batch("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .map_err(&src_err)?;
        }
        if dst.db.dialect() == Dialect::Sqlite {
            dst.db
                .batch("PRAGMA cache_size = -262144")
                .map_err(&dst_err)?;
        }
        let tx = dst.db.begin(true).map_err(&dst_err)?;
        let held: i64 = tx
            .query_one(
                "SELECT (SELECT count(*) FROM units) + (SELECT count(*) FROM terms) + \
                 (SELECT count(*) FROM summaries) + (SELECT count(*) FROM document_segments)",
                &[],
                |r| r.get(0),
            )
            .map_err(&dst_err)?;
        if held > 0 {
            return Err(MemoryError::CopyIntoNonEmpty {
                path: dst.path.clone(),
            });
        }
        let mut report = CopyReport::default();
        // Which side failed decides the message: the source's errors name the source.
        read.for_each(
            &format!("SELECT {COLUMNS} FROM units ORDER BY id"),
            &[],
            |r| {
                let unit = unit_from_row(r)?;
                let staged = Staged::new(NewUnit::from(&unit));
                insert_as(&tx, &staged, Some(unit.id)).map_err(Side::Write)?;
                report.units += 1;
                if report.units % 1000 == 0 {
                    progress(report.units);
                }
                Ok::<_, Side>(())
            },
        )
        .map_err(|e| e.into_memory(&src_err, &dst_err))?;
        progress(report.units);
        for &(table, columns) in TABLES {
            let n = copy_table(&read, &tx, table, columns)
                .map_err(|e| e.into_memory(&src_err, &dst_err))?;
            match table {
                "unit_history" => report.history = n,
                "terms" => report.terms = n,
                "term_history" => report.term_history = n,
                "summaries" => report.summaries = n,
                "document_segments" => report.document_segments = n,
                _ => {}
            }
        }
        finish(&tx, report.units).map_err(&dst_err)?;
        let vacuum = dst.db.dialect() == Dialect::Postgres && report.units >= 10_000;
        if vacuum {
            tx.batch("SET LOCAL synchronous_commit = on")
                .map_err(&dst_err)?;
        }
        tx.commit().map_err(&dst_err)?;
        if vacuum {
            // As after a big import (store.rs): index-only scans need the visibility map.
            let _ = dst.db.batch("VACUUM (ANALYZE) unit_tokens");
        }
        Ok(report)
    }
}

/// A copy's error, by the side it happened on.
enum Side {
    Read(DbError),
    Write(DbError),
}

impl From<DbError> for Side {
    fn from(e: DbError) -> Side {
        Side::Read(e)
    }
}

impl Side {
    fn into_memory(
        self,
        src: impl Fn(DbError) -> MemoryError,
        dst: impl Fn(DbError) -> MemoryError,
    ) -> MemoryError {
        match self {
            Side::Read(e) => src(e),
            Side::Write(e) => dst(e),
        }
    }
}

/// Streams one table's rows from `read` into `write`; the number of rows.
fn copy_table(read: &Db, write: &Db, table: &str, columns: &[(&str, Kind)]) -> Result<u64, Side> {
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let args: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    let select = format!("SELECT {} FROM {table}", names.join(", "));
    let insert = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        args.join(", ")
    );
    let mut n = 0;
    read.for_each(&select, &[], |r: &Row| {
        let values = read_values(r, columns)?;
        let params: Vec<&dyn Param> = values.iter().map(|v| v.as_ref()).collect();
        write.execute(&insert, &params).map_err(Side::Write)?;
        n += 1;
        Ok::<_, Side>(())
    })?;
    Ok(n)
}

fn read_values(r: &Row, columns: &[(&str, Kind)]) -> Result<Vec<Box<dyn Param>>, DbError> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| -> Result<Box<dyn Param>, DbError> {
            Ok(match kind {
                Kind::Int => Box::new(r.get::<Option<i64>>(i)?),
                Kind::Text => Box::new(r.get::<Option<String>>(i)?),
            })
        })
        .collect()
}

/// After the rows: PostgreSQL's id sequences continue after the copied ids; SQLite's word
/// index is merged once, as after a big import.
fn finish(tx: &Db, units: u64) -> Result<(), DbError> {
    match tx.dialect() {
        Dialect::Postgres => {
            for table in SEQUENCED {
                tx.batch(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                ))?;
            }
        }
        Dialect::Sqlite if units >= 10_000 => {
            tx.batch("INSERT INTO units_fts (units_fts) VALUES ('optimize')")?
        }
        Dialect::Sqlite => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Band, DocSegment, Filter, Query, Status};
    use crate::terms::NewTerm;

    fn filled(mem: &mut Memory) {
        let mut u = NewUnit::new(
            "ru",
            "en",
            "Завод открыли в прошлом году.",
            "The plant opened.",
        );
        u.document = Some("a.txt".into());
        u.position = Some(0);
        u.model = Some("opus-mt-ru-en".into());
        let id = mem.add(&u).unwrap().unwrap();
        mem.add(&NewUnit::new(
            "ru",
            "en",
            "Погода хорошая.",
            "Fine weather.",
        ))
        .unwrap();
        mem.edit_target(id, "The plant opened last year.").unwrap();
        mem.set_status(&[id], Status::Approved).unwrap();
        mem.add_term(&NewTerm::new("ru", "en", "завод", "plant"))
            .unwrap();
        mem.store_summary("h", "m", "extractive", "{}", "[\"x\"]")
            .unwrap();
        let seg = DocSegment {
            position: 0,
            source: "Завод открыли в прошлом году.".into(),
            unit_id: Some(id),
            band: Band::Model,
            score: None,
            problem: None,
        };
        mem.record_document("a.txt", "ru", "en", &[seg]).unwrap();
    }

    fn units(mem: &Memory) -> Vec<crate::memory::Unit> {
        let mut out = Vec::new();
        mem.list(&Filter::default(), |u| Ok::<_, MemoryError>(out.push(u)))
            .unwrap();
        out
    }

    /// Whatever the test backend is, a copy there and back to SQLite keeps everything, and
    /// the copy is searchable and writable like the original.
    #[test]
    fn a_copy_keeps_units_history_terms_and_documents() {
        let a = crate::memory::test_place();
        let mut src = Memory::open(&a.path).unwrap();
        filled(&mut src);
        let b = crate::memory::test_place();
        let mut mid = Memory::open(&b.path).unwrap();
        let report = src.copy_to(&mut mid, |_| {}).unwrap();
        assert_eq!(
            report,
            CopyReport {
                units: 2,
                history: 2,
                terms: 1,
                term_history: 0,
                summaries: 1,
                document_segments: 1
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let mut back = Memory::open(&dir.path().join("back.sqlite")).unwrap();
        mid.copy_to(&mut back, |_| {}).unwrap();
        for copy in [&mid, &back] {
            assert_eq!(units(copy), units(&src));
            let id = units(copy)[0].id;
            assert_eq!(copy.history(id).unwrap(), src.history(id).unwrap());
            assert_eq!(
                copy.document_rows("a.txt").unwrap(),
                src.document_rows("a.txt").unwrap()
            );
            assert_eq!(
                copy.terms_for("ru", "en").unwrap(),
                src.terms_for("ru", "en").unwrap()
            );
            let q = Query::new("Завод закрыли в прошлом году.", "ru", "en");
            let (m, n) = (copy.lookup(&q).unwrap(), src.lookup(&q).unwrap());
            assert_eq!((m[0].score, &m[0].unit), (n[0].score, &n[0].unit));
            assert_eq!(
                copy.concordance("погод", &Filter::default()).unwrap().len(),
                1
            );
        }
        // New units get new ids after the copied ones.
        let new = mid
            .add(&NewUnit::new("ru", "en", "Новый.", "New."))
            .unwrap()
            .unwrap();
        assert!(new > 2);
        // A second copy into a memory that holds units is refused and changes nothing.
        assert!(matches!(
            src.copy_to(&mut mid, |_| {}),
            Err(MemoryError::CopyIntoNonEmpty { .. })
        ));
        assert_eq!(units(&mid).len(), 3);
    }
}
