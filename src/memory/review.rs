//! What the review page reads besides listings: the translated documents the memory knows,
//! and one document's units in order.

use super::store::{unit_from_row, COLUMNS};
use super::{DocumentInfo, Memory, MemoryError, Unit};

impl Memory {
    /// Every document with units, most recently changed first, per language pair.
    pub fn documents(&self) -> Result<Vec<DocumentInfo>, MemoryError> {
        let sql = "SELECT document, source_lang, target_lang, count(*), \
                   sum(status = 'approved'), sum(status = 'rejected'), sum(origin = 'human'), \
                   max(updated_at) FROM units WHERE document IS NOT NULL \
                   GROUP BY document, source_lang, target_lang ORDER BY max(updated_at) DESC, document";
        let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
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
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A document's units in their order in it (then in the order they were stored).
    pub fn document_units(&self, document: &str) -> Result<Vec<Unit>, MemoryError> {
        let sql = format!("SELECT {COLUMNS} FROM units WHERE document = ?1 ORDER BY position, id");
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map([document], unit_from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
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
        let dir = tempfile::tempdir().unwrap();
        let mut mem = Memory::open(&dir.path().join("m.sqlite")).unwrap();
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
}
