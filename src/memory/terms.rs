//! Writing and reading termbase entries: add, import in one transaction, edit with history,
//! delete, list, and all entries of a language pair for recognition.

use super::db::{Db, DbError, Row, Tx};
use super::select::Select;
use super::{Memory, MemoryError};
use crate::terms::stem::Stems;
use crate::terms::{NewTerm, Term, TermFilter, TermOrigin, TermStatus};
use serde::Serialize;

const COLUMNS: &str = "id, source_lang, target_lang, source, target, source_key, note, pos, status, origin, created_at, updated_at";

fn term_from_row(r: &Row) -> Result<Term, DbError> {
    let word = |i: usize| -> Result<String, DbError> { r.get(i) };
    let parse_err = |i: usize, problem: String| DbError::Column { column: i, problem };
    Ok(Term {
        id: r.get(0)?,
        entry: NewTerm {
            source_lang: r.get(1)?,
            target_lang: r.get(2)?,
            source: r.get(3)?,
            target: r.get(4)?,
            note: r.get(6)?,
            pos: r.get(7)?,
            status: word(8)?.parse().map_err(|e| parse_err(8, e))?,
            origin: word(9)?.parse().map_err(|e| parse_err(9, e))?,
        },
        source_key: r.get(5)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

/// What storing one entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TermWrite {
    Added,
    /// The same pair, source and target was there; its note, POS or status changed.
    Updated,
    Unchanged,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TermImportReport {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// An earlier state of an entry, kept when it is edited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermHistoryEntry {
    pub source: String,
    pub target: String,
    pub note: Option<String>,
    pub pos: Option<String>,
    pub status: TermStatus,
    pub origin: TermOrigin,
    pub changed_at: String,
}

/// A person's change to an entry: the fields given are set (an empty note or POS clears it).
#[derive(Debug, Clone, Default)]
pub struct TermEdit {
    pub source: Option<String>,
    pub target: Option<String>,
    pub note: Option<String>,
    pub pos: Option<String>,
    pub status: Option<TermStatus>,
}

/// Adds entries inside one transaction (see [`Memory::import_terms`]).
pub struct TermImporter<'a> {
    tx: Tx<'a>,
    report: TermImportReport,
    stems: Option<(String, Stems)>,
    path: std::path::PathBuf,
}

impl TermImporter<'_> {
    pub fn add(&mut self, t: &NewTerm) -> Result<(i64, TermWrite), MemoryError> {
        check_filled(t)?;
        let key = self.key(t);
        let (id, what) =
            upsert(&self.tx, t, &key).map_err(|e| MemoryError::from_db(&self.path, e))?;
        match what {
            TermWrite::Added => self.report.added += 1,
            TermWrite::Updated => self.report.updated += 1,
            TermWrite::Unchanged => self.report.unchanged += 1,
        }
        Ok((id, what))
    }

    /// The source term's stems, with one stemmer kept per source language.
    fn key(&mut self, t: &NewTerm) -> String {
        match &self.stems {
            Some((lang, s)) if *lang == t.source_lang => s.key(&t.source),
            _ => {
                let s = Stems::new(&t.source_lang);
                let key = s.key(&t.source);
                self.stems = Some((t.source_lang.clone(), s));
                key
            }
        }
    }
}

fn check_filled(t: &NewTerm) -> Result<(), MemoryError> {
    if t.source.trim().is_empty() {
        return Err(MemoryError::EmptyTerm { what: "source" });
    }
    if t.target.trim().is_empty() {
        return Err(MemoryError::EmptyTerm { what: "target" });
    }
    Ok(())
}

/// Insert the entry, or update the note, POS and status of the one with the same pair, source
/// and target (keeping its earlier state in the history).
fn upsert(tx: &Db, t: &NewTerm, key: &str) -> Result<(i64, TermWrite), DbError> {
    let old = tx.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM terms WHERE source_lang = ?1 AND target_lang = ?2 AND source = ?3 AND target = ?4"
        ),
        &[&t.source_lang, &t.target_lang, &t.source, &t.target],
        term_from_row,
    )?;
    let Some(old) = old else {
        let id = tx.query_one(
            "INSERT INTO terms (source_lang, target_lang, source, target, source_key, note, pos, status, origin) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            &[
                &t.source_lang,
                &t.target_lang,
                &t.source,
                &t.target,
                &key,
                &t.note,
                &t.pos,
                &t.status.as_str(),
                &t.origin.as_str(),
            ],
            |r| r.get(0),
        )?;
        return Ok((id, TermWrite::Added));
    };
    let same = old.entry.status == t.status
        && (t.note.is_none() || old.entry.note == t.note)
        && (t.pos.is_none() || old.entry.pos == t.pos);
    if same {
        return Ok((old.id, TermWrite::Unchanged));
    }
    save_history(tx, &old)?;
    tx.execute(
        &format!("UPDATE terms SET note = coalesce(?1, note), pos = coalesce(?2, pos), status = ?3, updated_at = {} WHERE id = ?4", tx.dialect().now()),
        &[&t.note, &t.pos, &t.status.as_str(), &old.id],
    )?;
    Ok((old.id, TermWrite::Updated))
}

fn save_history(tx: &Db, t: &Term) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO term_history (term_id, source, target, note, pos, status, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            &t.id,
            &t.entry.source,
            &t.entry.target,
            &t.entry.note,
            &t.entry.pos,
            &t.entry.status.as_str(),
            &t.entry.origin.as_str(),
        ],
    )
    .map(|_| ())
}

impl Memory {
    /// Store one entry (or update the same pair, source and target).
    pub fn add_term(&mut self, t: &NewTerm) -> Result<(i64, TermWrite), MemoryError> {
        let mut out = None;
        self.import_terms(|imp| {
            out = Some(imp.add(t)?);
            Ok::<_, MemoryError>(())
        })?;
        Ok(out.expect("one entry added"))
    }

    /// Add many entries in one transaction: if `fill` fails, nothing of it is kept.
    pub fn import_terms<E: From<MemoryError>>(
        &mut self,
        fill: impl FnOnce(&mut TermImporter) -> Result<(), E>,
    ) -> Result<TermImportReport, E> {
        let wrap = self.errf();
        let path = self.path.clone();
        let tx = self.db.begin(true).map_err(|e| E::from(wrap(e)))?;
        let mut imp = TermImporter {
            tx,
            report: TermImportReport::default(),
            stems: None,
            path,
        };
        fill(&mut imp)?;
        let report = imp.report.clone();
        imp.tx.commit().map_err(|e| E::from(wrap(e)))?;
        Ok(report)
    }

    pub fn term(&self, id: i64) -> Result<Option<Term>, MemoryError> {
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM terms WHERE id = ?1"),
                &[&id],
                term_from_row,
            )
            .map_err(|e| self.err(e))
    }

    pub fn term_history(&self, id: i64) -> Result<Vec<TermHistoryEntry>, MemoryError> {
        self.db
            .query_all("SELECT source, target, note, pos, status, origin, changed_at FROM term_history WHERE term_id = ?1 ORDER BY id", &[&id], |r| {
                let (s, o): (String, String) = (r.get(4)?, r.get(5)?);
                Ok(TermHistoryEntry {
                    source: r.get(0)?,
                    target: r.get(1)?,
                    note: r.get(2)?,
                    pos: r.get(3)?,
                    status: s.parse().unwrap_or(TermStatus::Preferred),
                    origin: o.parse().unwrap_or(TermOrigin::Import),
                    changed_at: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))
    }

    /// A person's change: the entry's origin becomes `human`, its earlier state is kept.
    pub fn edit_term(&mut self, id: i64, edit: &TermEdit) -> Result<Term, MemoryError> {
        let old = self.term(id)?.ok_or(MemoryError::NoSuchTerms(vec![id]))?;
        let mut new = old.entry.clone();
        if let Some(s) = &edit.source {
            new.source = s.trim().to_string();
        }
        if let Some(t) = &edit.target {
            new.target = t.trim().to_string();
        }
        if let Some(n) = &edit.note {
            new.note = Some(n.clone()).filter(|n| !n.trim().is_empty());
        }
        if let Some(p) = &edit.pos {
            new.pos = Some(p.clone()).filter(|p| !p.trim().is_empty());
        }
        if let Some(s) = edit.status {
            new.status = s;
        }
        new.origin = TermOrigin::Human;
        check_filled(&new)?;
        let key = Stems::new(&new.source_lang).key(&new.source);
        let wrap = self.errf();
        let tx = self.db.begin(true).map_err(&wrap)?;
        let other: Option<i64> = tx
            .query_opt(
                "SELECT id FROM terms WHERE source_lang = ?1 AND target_lang = ?2 AND source = ?3 AND target = ?4 AND id != ?5",
                &[&new.source_lang, &new.target_lang, &new.source, &new.target, &id],
                |r| r.get(0),
            )
            .map_err(&wrap)?;
        if let Some(other) = other {
            return Err(MemoryError::DuplicateTerm { id, other });
        }
        save_history(&tx, &old)
            .and_then(|_| {
                tx.execute(
                    &format!("UPDATE terms SET source = ?1, target = ?2, source_key = ?3, note = ?4, pos = ?5, status = ?6, origin = 'human', updated_at = {} WHERE id = ?7", tx.dialect().now()),
                    &[&new.source, &new.target, &key, &new.note, &new.pos, &new.status.as_str(), &id],
                )
            })
            .and_then(|_| tx.commit())
            .map_err(&wrap)?;
        self.term(id)?.ok_or(MemoryError::NoSuchTerms(vec![id]))
    }

    /// Delete entries (and their history): all of them, or none when one id is unknown.
    pub fn delete_terms(&mut self, ids: &[i64]) -> Result<usize, MemoryError> {
        let wrap = self.errf();
        let tx = self.db.begin(true).map_err(&wrap)?;
        let mut missing = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for &id in ids.iter().filter(|id| seen.insert(**id)) {
            if tx
                .execute("DELETE FROM terms WHERE id = ?1", &[&id])
                .map_err(&wrap)?
                == 0
            {
                missing.push(id);
            }
        }
        if !missing.is_empty() {
            return Err(MemoryError::NoSuchTerms(missing));
        }
        tx.commit().map_err(&wrap)?;
        Ok(seen.len())
    }

    /// Entries a filter selects, in id order, handed to `each` one at a time.
    pub fn list_terms<E: From<MemoryError>>(
        &self,
        filter: &TermFilter,
        mut each: impl FnMut(Term) -> Result<(), E>,
    ) -> Result<(), E> {
        let select = Select::select(self.db.dialect(), COLUMNS, "terms")
            .lang("source_lang", filter.source_lang.as_deref())
            .lang("target_lang", filter.target_lang.as_deref())
            .equals("status", filter.status.map(|s| s.as_str()))
            .equals("origin", filter.origin.map(|o| o.as_str()))
            .containing(filter.text.as_deref())
            .page(filter.limit.map(|l| l as u64), 0);
        select.for_each(
            &self.db,
            |e| E::from(self.err(e)),
            |row| each(term_from_row(row).map_err(|e| E::from(self.err(e)))?),
        )?;
        Ok(())
    }

    /// Every entry serving a language pair (what recognition loads).
    pub fn terms_for(
        &self,
        source_lang: &str,
        target_lang: &str,
    ) -> Result<Vec<Term>, MemoryError> {
        let filter = TermFilter {
            source_lang: Some(source_lang.to_string()),
            target_lang: Some(target_lang.to_string()),
            ..TermFilter::default()
        };
        let mut out = Vec::new();
        self.list_terms(&filter, |t| {
            out.push(t);
            Ok::<_, MemoryError>(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> (crate::memory::TestPlace, Memory) {
        let dir = crate::memory::test_place();
        let mem = Memory::open(&dir.path).unwrap();
        (dir, mem)
    }

    #[test]
    fn add_again_updates_and_keeps_history() {
        let (_d, mut mem) = memory();
        let t = NewTerm::new("ru", "en", "Пояс и путь", "Belt and Road");
        let (id, what) = mem.add_term(&t).unwrap();
        assert_eq!(what, TermWrite::Added);
        assert_eq!(mem.add_term(&t).unwrap(), (id, TermWrite::Unchanged));
        let mut noted = t.clone();
        noted.note = Some("China's initiative".into());
        assert_eq!(mem.add_term(&noted).unwrap(), (id, TermWrite::Updated));
        let got = mem.term(id).unwrap().unwrap();
        assert_eq!(got.source_key, "пояс и пут");
        assert_eq!(got.entry.note.as_deref(), Some("China's initiative"));
        assert_eq!(mem.term_history(id).unwrap().len(), 1);
        assert_eq!(mem.stats().unwrap().terms, 1);
    }

    #[test]
    fn a_failed_import_keeps_nothing() {
        let (_d, mut mem) = memory();
        let r = mem.import_terms(|imp| {
            imp.add(&NewTerm::new("ru", "en", "НИОКР", "R&D"))?;
            imp.add(&NewTerm::new("ru", "en", "  ", "empty"))?;
            Ok::<_, MemoryError>(())
        });
        assert!(matches!(r, Err(MemoryError::EmptyTerm { what: "source" })));
        assert!(mem.terms_for("ru", "en").unwrap().is_empty());
    }

    #[test]
    fn edit_rekeys_and_refuses_duplicates_and_delete_is_all_or_nothing() {
        let (_d, mut mem) = memory();
        let (a, _) = mem
            .add_term(&NewTerm::new("ru", "en", "НИОКР", "R&D"))
            .unwrap();
        let (b, _) = mem
            .add_term(&NewTerm::new(
                "ru",
                "en",
                "Национальная академия",
                "National Academy",
            ))
            .unwrap();
        let edit = TermEdit {
            source: Some("Национальная академия наук".into()),
            target: Some("National Academy of Sciences".into()),
            status: Some(TermStatus::Preferred),
            ..TermEdit::default()
        };
        let t = mem.edit_term(b, &edit).unwrap();
        assert_eq!(t.source_key, "национальн акадм наук");
        assert_eq!(t.entry.origin, TermOrigin::Human);
        let dup = TermEdit {
            source: Some("НИОКР".into()),
            target: Some("R&D".into()),
            ..TermEdit::default()
        };
        assert!(matches!(
            mem.edit_term(b, &dup),
            Err(MemoryError::DuplicateTerm { .. })
        ));
        assert!(matches!(
            mem.delete_terms(&[a, 999]),
            Err(MemoryError::NoSuchTerms(v)) if v == [999]
        ));
        assert_eq!(mem.terms_for("ru", "en-GB").unwrap().len(), 2);
        assert_eq!(mem.delete_terms(&[a, a]).unwrap(), 1);
        assert_eq!(mem.terms_for("ru", "en").unwrap().len(), 1);
    }
}
