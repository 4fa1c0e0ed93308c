//! Finding matches for a segment: exact ones by key hash, fuzzy ones through the token index.
//!
//! Fuzzy candidates never come from a table scan. A unit scoring at least `min` against a query
//! of `n` word tokens shares at least `t = ⌈n·min/100⌉` of them ([`score::shared_tokens_needed`]),
//! so it contains one of the query's `n − t + 1` rarest tokens (prefix filtering, as in
//! set-similarity joins). Lookup asks the FTS5 index for units holding one of those rare
//! tokens, drops those outside the length window, and scores the rest exactly.

use super::key;
use super::score::{self, Prepared};
use super::store::{unit_from_row, COLUMNS};
use super::unit::{lang_matches, Match, Query, Status, Unit};
use super::{Memory, MemoryError};
use rusqlite::params;
use std::collections::HashSet;

impl Memory {
    /// Ranked matches for one segment: best score first, approved before drafts on ties.
    pub fn lookup(&self, q: &Query) -> Result<Vec<Match>, MemoryError> {
        let query = Prepared::new(q.source);
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        let mut consider = |unit: Unit, found: &mut Vec<Match>| {
            if !seen.insert(unit.id)
                || !lang_matches(&unit.source_lang, q.source_lang)
                || !lang_matches(&unit.target_lang, q.target_lang)
                || (unit.status == Status::Rejected && !q.include_rejected)
            {
                return;
            }
            let cand = Prepared::with_key(&unit.source, unit.source_key.clone());
            if let Some(mut s) = score::score(&query, &cand, q.min_score) {
                let has_context = q.prev_hash.is_some() || q.next_hash.is_some();
                if s == 100
                    && unit.source == q.source
                    && has_context
                    && unit.prev_hash.as_deref() == q.prev_hash
                    && unit.next_hash.as_deref() == q.next_hash
                {
                    s = 101;
                }
                found.push(Match { score: s, unit });
            }
        };

        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM units WHERE key_hash = ?1"))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([key::hash(&[&query.key])], unit_from_row)
            .map_err(|e| self.err(e))?;
        for unit in rows {
            consider(unit.map_err(|e| self.err(e))?, &mut found);
        }

        if q.min_score < 100 {
            if let Some((fts, lo, hi)) = self.candidate_query(&query.key, q.min_score)? {
                let mut st = self
                    .conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM units WHERE id IN \
                         (SELECT rowid FROM units_fts WHERE units_fts MATCH ?1) \
                         AND ntok BETWEEN ?2 AND ?3"
                    ))
                    .map_err(|e| self.err(e))?;
                let rows = st
                    .query_map(params![fts, lo, hi], unit_from_row)
                    .map_err(|e| self.err(e))?;
                for unit in rows {
                    consider(unit.map_err(|e| self.err(e))?, &mut found);
                }
            }
        }

        found.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| status_rank(a.unit.status).cmp(&status_rank(b.unit.status)))
                .then_with(|| b.unit.use_count.cmp(&a.unit.use_count))
                .then_with(|| b.unit.updated_at.cmp(&a.unit.updated_at))
                .then_with(|| b.unit.id.cmp(&a.unit.id))
        });
        found.truncate(q.limit);
        Ok(found)
    }

    /// The FTS5 query over the rarest tokens and the token-count window, or `None` when the
    /// query has no word tokens or none of its rare tokens is in the index.
    fn candidate_query(
        &self,
        key: &str,
        min: u8,
    ) -> Result<Option<(String, i64, i64)>, MemoryError> {
        let tokens: Vec<&str> = key::tokens(key).collect();
        let n = tokens.len();
        if n == 0 {
            return Ok(None);
        }
        let min = min.max(1);
        let prefix = (n + 1 - score::shared_tokens_needed(n, min)).min(n);
        let mut st = self
            .conn
            .prepare_cached("SELECT doc FROM units_vocab WHERE term = ?1")
            .map_err(|e| self.err(e))?;
        let mut by_rarity = Vec::with_capacity(n);
        for t in &tokens {
            let df: i64 = st
                .query_row([t], |r| r.get(0))
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(0),
                    e => Err(e),
                })
                .map_err(|e| self.err(e))?;
            by_rarity.push((df, *t));
        }
        by_rarity.sort();
        let mut rare: Vec<&str> = by_rarity[..prefix]
            .iter()
            .filter(|(df, _)| *df > 0)
            .map(|(_, t)| *t)
            .collect();
        rare.dedup();
        if rare.is_empty() {
            return Ok(None);
        }
        let fts = rare
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" OR ");
        let lo = (n * min as usize).div_ceil(100) as i64;
        let hi = (n * 100 / min as usize) as i64;
        Ok(Some((fts, lo, hi)))
    }
}

fn status_rank(s: Status) -> u8 {
    match s {
        Status::Approved => 0,
        Status::Draft => 1,
        Status::Rejected => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{NewUnit, Query, Status};

    fn memory_with(pairs: &[(&str, &str)]) -> (tempfile::TempDir, Memory) {
        let dir = tempfile::tempdir().unwrap();
        let mut mem = Memory::open(&dir.path().join("tm.sqlite")).unwrap();
        mem.import(|imp| {
            for (s, t) in pairs {
                imp.add(&NewUnit::new("ru", "en", s, t))?;
            }
            Ok::<_, MemoryError>(())
        })
        .unwrap();
        (dir, mem)
    }

    #[test]
    fn exact_normalized_and_fuzzy_matches_rank() {
        let (_d, mem) = memory_with(&[
            (
                "Завод открыли в прошлом году на севере страны.",
                "The plant opened last year in the north of the country.",
            ),
            (
                "Завод закрыли в прошлом году на севере страны.",
                "The plant closed last year in the north of the country.",
            ),
            (
                "Совсем другое предложение про погоду.",
                "A different sentence about the weather.",
            ),
        ]);
        let q = Query::new("Завод открыли в прошлом году на севере страны.", "ru", "en");
        let m = mem.lookup(&q).unwrap();
        assert_eq!(m.iter().map(|m| m.score).collect::<Vec<_>>(), [100, 87]);
        assert!(m[0].unit.target.contains("opened"));

        let q = Query::new(
            "завод  «открыли» в прошлом году на севере страны.",
            "ru",
            "en-GB",
        );
        assert_eq!(
            mem.lookup(&q).unwrap().len(),
            0,
            "en-GB asks for en-GB only"
        );
        let q = Query::new("завод открыли в прошлом году на севере страны.", "ru", "en");
        assert_eq!(mem.lookup(&q).unwrap()[0].score, 100);

        let mut q = Query::new("Погода сегодня", "ru", "en");
        q.min_score = 75;
        assert!(mem.lookup(&q).unwrap().is_empty());
    }

    #[test]
    fn context_gives_101_and_rejected_units_are_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut mem = Memory::open(&dir.path().join("tm.sqlite")).unwrap();
        let mut u = NewUnit::new("ru", "en", "Да.", "Yes.");
        u.prev_hash = Some(crate::memory::context_hash("Вы согласны?"));
        let id = mem.add(&u).unwrap().unwrap();
        assert_eq!(mem.add(&u).unwrap(), None, "a duplicate merges");

        let prev = crate::memory::context_hash("Вы согласны?");
        let mut q = Query::new("Да.", "ru", "en");
        q.prev_hash = Some(&prev);
        assert_eq!(mem.lookup(&q).unwrap()[0].score, 101);
        q.prev_hash = None;
        assert_eq!(mem.lookup(&q).unwrap()[0].score, 100);

        mem.set_status(&[id], Status::Rejected).unwrap();
        assert!(mem.lookup(&q).unwrap().is_empty());
        q.include_rejected = true;
        assert_eq!(mem.lookup(&q).unwrap().len(), 1);
    }

    #[test]
    fn approved_wins_a_tie() {
        let (_d, mut mem) = memory_with(&[
            ("Один два три четыре пять.", "One two three four five."),
            ("Один два три четыре пять.", "1 2 3 4 5."),
        ]);
        let q = Query::new("Один два три четыре пять.", "ru", "en");
        let first = mem.lookup(&q).unwrap()[0].unit.id;
        let other = if first == 1 { 2 } else { 1 };
        mem.set_status(&[other], Status::Approved).unwrap();
        assert_eq!(mem.lookup(&q).unwrap()[0].unit.id, other);
    }

    #[test]
    fn index_finds_what_a_scan_finds() {
        // Variants of a few sentences with one or two words changed: every unit a brute-force
        // scan scores ≥ 75 must come back from the index too.
        let words = ["север", "юг", "запад", "восток", "центр", "город", "район"];
        let mut pairs = Vec::new();
        for (i, a) in words.iter().enumerate() {
            for b in &words[i..] {
                pairs.push((
                    format!(
                        "Новый завод построят на {a} области к концу года, сообщил {b} губернатор."
                    ),
                    format!("t {a} {b}"),
                ));
            }
        }
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (_d, mem) = memory_with(&refs);
        let query = "Новый завод построят на север области к концу года, сообщил юг губернатор.";
        let mut q = Query::new(query, "ru", "en");
        q.limit = 1000;
        let got = mem.lookup(&q).unwrap().len();
        let p = Prepared::new(query);
        let brute = pairs
            .iter()
            .filter(|(s, _)| score::score(&p, &Prepared::new(s), 75).is_some())
            .count();
        assert!(brute > 5);
        assert_eq!(got, brute);
    }
}
