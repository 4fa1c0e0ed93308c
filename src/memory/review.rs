//! What the review page reads besides listings: the translated documents the memory knows,
//! and one document's units in order.

use super::db::DbError;
use super::store::{unit_from_row, COLUMNS};
use super::{Band, DocSegment, DocumentInfo, DocumentRow, Memory, MemoryError, Unit};

impl Memory {
    /// Every translated document, most recently changed first, per language pair: those
    /// `translate` recorded segment by segment, then those known only from their units.
    pub fn documents(&self) -> Result<Vec<DocumentInfo>, MemoryError> {
        let sql = "SELECT d.document, d.source_lang, d.target_lang, count(*), \
                   coalesce(sum(CASE WHEN u.status = 'approved' THEN 1 ELSE 0 END), 0), \
                   coalesce(sum(CASE WHEN u.status = 'rejected' THEN 1 ELSE 0 END), 0), \
                   coalesce(sum(CASE WHEN u.origin = 'human' THEN 1 ELSE 0 END), 0), \
                   greatest_text(max(d.recorded_at), coalesce(max(u.updated_at), '')) \
                   FROM document_segments d LEFT JOIN units u ON u.id = d.unit_id \
                   GROUP BY d.document, d.source_lang, d.target_lang \
                   UNION ALL \
                   SELECT document, source_lang, target_lang, count(*), \
                   sum(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), \
                   sum(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), \
                   sum(CASE WHEN origin = 'human' THEN 1 ELSE 0 END), \
                   max(updated_at) FROM units WHERE document IS NOT NULL \
                   AND document NOT IN (SELECT document FROM document_segments) \
                   GROUP BY document, source_lang, target_lang ORDER BY 8 DESC, 1";
        // Two-argument max() is SQLite's; PostgreSQL calls it greatest().
        let sql = match self.db.dialect() {
            super::db::Dialect::Sqlite => sql.replace("greatest_text(", "max("),
            super::db::Dialect::Postgres => sql.replace("greatest_text(", "greatest("),
        };
        self.db
            .query_all(&sql, &[], |r| {
                Ok(DocumentInfo {
                    document: r.get(0)?,
                    source_lang: r.get(1)?,
                    target_lang: r.get(2)?,
                    units: r.get(3)?,
                    approved: r.get(4)?,
                    rejected: r.get(5)?,
                    human: r.get(6)?,
                    updated_at: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))
    }

    /// A document's units in their order in it (then in the order they were stored).
    pub fn document_units(&self, document: &str) -> Result<Vec<Unit>, MemoryError> {
        let sql = format!("SELECT {COLUMNS} FROM units WHERE document = ?1 ORDER BY position, id");
        self.db
            .query_all(&sql, &[&document], unit_from_row)
            .map_err(|e| self.err(e))
    }

    /// Replaces what is recorded of `document` with its segments as `translate` made them, in
    /// one transaction.
    pub fn record_document(
        &mut self,
        document: &str,
        source_lang: &str,
        target_lang: &str,
        segments: &[DocSegment],
    ) -> Result<(), MemoryError> {
        let wrap = self.errf();
        let tx = self.db.begin(true).map_err(&wrap)?;
        tx.execute(
            "DELETE FROM document_segments WHERE document = ?1",
            &[&document],
        )
        .map_err(&wrap)?;
        for s in segments {
            let score = s.score.map(i64::from);
            tx.execute(
                "INSERT INTO document_segments (document, position, source_lang, \
                 target_lang, source, unit_id, band, score, problem) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (document, position) DO UPDATE SET source_lang = excluded.source_lang, \
                 target_lang = excluded.target_lang, source = excluded.source, unit_id = excluded.unit_id, \
                 band = excluded.band, score = excluded.score, problem = excluded.problem",
                &[
                    &document,
                    &s.position,
                    &source_lang,
                    &target_lang,
                    &s.source,
                    &s.unit_id,
                    &s.band.as_str(),
                    &score,
                    &s.problem,
                ],
            )
            .map_err(&wrap)?;
        }
        tx.commit().map_err(&wrap)
    }

    /// A document for review, segment by segment: as `translate` recorded it, else from the
    /// units stored with its name (no band then).
    pub fn document_rows(&self, document: &str) -> Result<Vec<DocumentRow>, MemoryError> {
        // One query: the recorded segments with their units (the unit's columns first, as
        // `unit_from_row` reads them; NULL for a failed segment or a deleted unit).
        let units: Vec<String> = COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
        let sql = format!(
            "SELECT {}, d.position, d.source, d.band, d.score, d.problem FROM document_segments d \
             LEFT JOIN units u ON u.id = d.unit_id WHERE d.document = ?1 ORDER BY d.position",
            units.join(", ")
        );
        let n = units.len();
        let rows: Vec<DocumentRow> = self
            .db
            .query_all(&sql, &[&document], |r| {
                let unit = match r.get::<Option<i64>>(0)? {
                    Some(_) => Some(unit_from_row(r)?),
                    None => None,
                };
                Ok(DocumentRow {
                    position: r.get(n)?,
                    source: r.get(n + 1)?,
                    band: r.get::<String>(n + 2)?.parse::<Band>().ok(),
                    score: r.get(n + 3)?,
                    problem: r.get(n + 4)?,
                    unit,
                })
            })
            .map_err(|e: DbError| self.err(e))?;
        if !rows.is_empty() {
            return Ok(rows);
        }
        // A document translated before segments were recorded: its stored units.
        Ok(self
            .document_units(document)?
            .into_iter()
            .map(|u| DocumentRow {
                position: u.position.unwrap_or(0),
                source: u.source.clone(),
                band: None,
                score: None,
                problem: None,
                unit: Some(u),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Filter, NewUnit, Origin, Status};

    fn unit(doc: &str, pos: i64, source: &str) -> NewUnit {
        let mut u = NewUnit::new("ru", "en", source, &format!("{source} (en)"));
        u.document = Some(doc.into());
        u.position = Some(pos);
        u.origin = Origin::Mt;
        u
    }

    #[test]
    fn documents_and_their_units_in_order() {
        let dir = crate::memory::test_place();
        let mut mem = Memory::open(&dir.path).unwrap();
        mem.add(&unit("a.txt", 1, "Второй.")).unwrap();
        mem.add(&unit("a.txt", 0, "Первый.")).unwrap();
        let id = mem.add(&unit("b.txt", 0, "Другой.")).unwrap().unwrap();
        mem.set_status(&[id], Status::Approved).unwrap();
        let docs = mem.documents().unwrap();
        let names: Vec<(&str, i64, i64)> = docs
            .iter()
            .map(|d| (d.document.as_str(), d.units, d.approved))
            .collect();
        assert!(names.contains(&("a.txt", 2, 0)) && names.contains(&("b.txt", 1, 1)));
        let units = mem.document_units("a.txt").unwrap();
        let sources: Vec<&str> = units.iter().map(|u| u.source.as_str()).collect();
        assert_eq!(sources, ["Первый.", "Второй."]);
        assert!(mem.document_units("none").unwrap().is_empty());
        // Keyset paging and the document filter of listings.
        let mut ids = Vec::new();
        let filter = Filter {
            document: Some("a.txt".into()),
            after: Some(0),
            limit: Some(1),
            ..Filter::default()
        };
        mem.list(&filter, |u| Ok::<_, MemoryError>(ids.push(u.id)))
            .unwrap();
        assert_eq!(ids.len(), 1);
        let next = Filter {
            after: Some(ids[0]),
            ..filter
        };
        mem.list(&next, |u| Ok::<_, MemoryError>(ids.push(u.id)))
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert!(ids[1] > ids[0]);
    }

    #[test]
    fn a_recorded_document_keeps_its_bands_and_failed_segments() {
        let dir = crate::memory::test_place();
        let mut mem = Memory::open(&dir.path).unwrap();
        // Unit 1 belongs to another document; this one reuses it.
        let reused = mem.add(&unit("other.txt", 0, "Первый.")).unwrap().unwrap();
        let made = mem.add(&unit("a.txt", 1, "Второй.")).unwrap().unwrap();
        let seg = |position, source: &str, unit_id, band, score| DocSegment {
            position,
            source: source.into(),
            unit_id,
            band,
            score,
            problem: (band == Band::Failed).then(|| "the model gave an empty answer".into()),
        };
        let segments = [
            seg(0, "Первый.", Some(reused), Band::Exact, Some(100)),
            seg(1, "Второй.", Some(made), Band::Model, None),
            seg(2, "Третий.", None, Band::Failed, None),
        ];
        mem.record_document("a.txt", "ru", "en", &segments).unwrap();
        let rows = mem.document_rows("a.txt").unwrap();
        let got: Vec<(Option<Band>, Option<u8>, bool)> = rows
            .iter()
            .map(|r| (r.band, r.score, r.unit.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(Band::Exact), Some(100), true),
                (Some(Band::Model), None, true),
                (Some(Band::Failed), None, false)
            ]
        );
        assert_eq!(
            rows[2].problem.as_deref(),
            Some("the model gave an empty answer")
        );
        // Listed once, with all three segments; a new translation replaces the rows.
        let docs = mem.documents().unwrap();
        let a: Vec<&DocumentInfo> = docs.iter().filter(|d| d.document == "a.txt").collect();
        assert_eq!((a.len(), a[0].units), (1, 3));
        mem.record_document("a.txt", "ru", "en", &segments[..1])
            .unwrap();
        assert_eq!(mem.document_rows("a.txt").unwrap().len(), 1);
        // A document known only from its units still opens, without bands.
        let rows = mem.document_rows("other.txt").unwrap();
        assert_eq!((rows.len(), rows[0].band), (1, None));
    }
}
