//! Finding matches for a segment: exact ones by key hash, fuzzy ones through the token index.
//!
//! Fuzzy candidates never come from a table scan. A unit scoring at least `min` against a query
//! of `n` word tokens shares at least `t = ⌈n·min/100⌉` of them ([`score::shared_tokens_needed`]),
//! so it contains one of the query's `n − t + 1` rarest tokens (prefix filtering, as in
//! set-similarity joins). Lookup asks the FTS5 index for units holding one of those rare
//! tokens, drops those outside the length window, and scores the rest exactly.

use super::db::{DbError, Dialect, Row};
use super::key;
use super::score::{self, Prepared};
use super::store::{unit_from_row, COLUMNS};
use super::unit::{lang_matches, Match, Query, Status, Unit};
use super::{Memory, MemoryError};
use std::collections::{HashMap, HashSet};

impl Memory {
    /// Ranked matches for one segment: best score first, approved before drafts on ties.
    pub fn lookup(&self, q: &Query) -> Result<Vec<Match>, MemoryError> {
        let query = Prepared::new(q.source);
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        let consider = |unit: Unit, seen: &mut HashSet<i64>, found: &mut Vec<Match>| {
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

        let key_hash = key::hash(&[&query.key]);
        let exact = self
            .db
            .query_all(
                &format!("SELECT {COLUMNS} FROM units WHERE key_hash = ?1"),
                &[&key_hash],
                unit_from_row,
            )
            .map_err(|e| self.err(e))?;
        for unit in exact {
            consider(unit, &mut seen, &mut found);
        }

        if q.min_score < 100 {
            // Score on the key alone; read whole rows only for the units that pass.
            let n = query.tokens.len();
            let min = q.min_score.max(1) as usize;
            let (lo, hi) = ((n * min).div_ceil(100), n * 100 / min);
            let mut passed = Vec::new();
            for (id, source, key, ntok) in self.fuzzy_candidates(&query.key, q.min_score)? {
                if !seen.contains(&id)
                    && (lo..=hi).contains(&ntok)
                    && score::score(&query, &Prepared::with_key(&source, key), q.min_score)
                        .is_some()
                {
                    passed.push(id);
                }
            }
            for id in passed {
                if let Some(unit) = self.get(id)? {
                    consider(unit, &mut seen, &mut found);
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

    /// Units that can score at least `min` against `key`, found through the token index.
    ///
    /// With `n` query tokens a match misses at most `n − t` of them. So it holds one of the
    /// `n − t + 1` rarest (the prefix), and at least `e + 1` of the `n − t + 1 + e` rarest:
    /// counting hits over a few more tokens than the prefix drops most look-alikes before
    /// any row is read.
    fn fuzzy_candidates(&self, key: &str, min: u8) -> Result<Vec<Light>, MemoryError> {
        const EXTRA: usize = 2;
        let tokens: Vec<&str> = key::tokens(key).collect();
        let n = tokens.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let missing = n - score::shared_tokens_needed(n, min.max(1));
        let mut by_rarity = Vec::with_capacity(n);
        for t in &tokens {
            let df: i64 = self
                .db
                .query_opt("SELECT df FROM token_df WHERE term = ?1", &[t], |r| {
                    r.get(0)
                })
                .map_err(|e| self.err(e))?
                .unwrap_or(0);
            by_rarity.push((df, *t));
        }
        by_rarity.sort_unstable();
        let window = (missing + 1 + EXTRA).min(n);
        let must = (window - missing) as u32;
        // Occurrences of each distinct token inside the window.
        let mut weights: Vec<(&str, i64, u32)> = Vec::new();
        for &(df, t) in &by_rarity[..window] {
            match weights.last_mut() {
                Some(last) if last.0 == t => last.2 += 1,
                _ => weights.push((t, df, 1)),
            }
        }
        let weights: Vec<(&str, u32)> = weights
            .into_iter()
            .filter(|&(_, df, _)| df > 0)
            .map(|(t, _, w)| (t, w))
            .collect();
        match self.db.dialect() {
            Dialect::Sqlite => self.candidates_fts(&weights, must),
            Dialect::Postgres => self.candidates_pg(&weights, must),
        }
    }

    /// SQLite: each token's units from the FTS5 index, counted here; then the survivors'
    /// keys.
    fn candidates_fts(
        &self,
        weights: &[(&str, u32)],
        must: u32,
    ) -> Result<Vec<Light>, MemoryError> {
        let mut hits: HashMap<i64, u32> = HashMap::new();
        for &(t, weight) in weights {
            self.db
                .for_each(
                    "SELECT rowid FROM units_fts WHERE units_fts MATCH ?1",
                    &[&format!("\"{t}\"")],
                    |r| {
                        *hits.entry(r.get(0)?).or_default() += weight;
                        Ok::<_, DbError>(())
                    },
                )
                .map_err(|e| self.err(e))?;
        }
        let mut ids: Vec<i64> = hits
            .into_iter()
            .filter(|&(_, h)| h >= must)
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            // None: deleted by another writer since the index was read.
            if let Some(light) = self
                .db
                .query_opt(
                    "SELECT id, source, source_key, ntok FROM units WHERE id = ?1",
                    &[&id],
                    light_row,
                )
                .map_err(|e| self.err(e))?
            {
                out.push(light);
            }
        }
        Ok(out)
    }

    /// PostgreSQL: the same count in one statement (one round trip), from the index of
    /// `unit_tokens` alone (as FTS5's doclists), then the survivors' keys.
    fn candidates_pg(&self, weights: &[(&str, u32)], must: u32) -> Result<Vec<Light>, MemoryError> {
        if weights.is_empty() {
            return Ok(Vec::new());
        }
        let tokens: Vec<&str> = weights.iter().map(|w| w.0).collect();
        let counts: Vec<String> = weights.iter().map(|w| w.1.to_string()).collect();
        let (tokens, counts, must) = (tokens.join(" "), counts.join(" "), i64::from(must));
        self.db
            .query_all(
                "SELECT id, source, source_key, ntok FROM units WHERE id IN ( \
                 SELECT t.unit_id FROM unnest(string_to_array(?1, ' '), \
                 string_to_array(?2, ' ')::int4[]) AS w(token, n) \
                 JOIN unit_tokens t ON t.token = w.token \
                 GROUP BY t.unit_id HAVING sum(w.n) >= ?3::int8) ORDER BY id",
                &[&tokens, &counts, &must],
                light_row,
            )
            .map_err(|e| self.err(e))
    }
}

/// What fuzzy scoring reads of a candidate: id, source, key and token count.
type Light = (i64, String, String, usize);

fn light_row(r: &Row) -> Result<Light, DbError> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
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

    fn memory_with(pairs: &[(&str, &str)]) -> (crate::memory::TestPlace, Memory) {
        let dir = crate::memory::test_place();
        let mut mem = Memory::open(&dir.path).unwrap();
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
        // Units stored for plain `en` serve en-GB (one language rule, `lang_matches`); en-US
        // units would not.
        let found = mem.lookup(&q).unwrap();
        assert_eq!(found.len(), 2, "plain en serves en-GB");
        assert!(found[0].unit.target.contains("opened"));
        let q = Query::new("завод открыли в прошлом году на севере страны.", "ru", "en");
        assert_eq!(mem.lookup(&q).unwrap()[0].score, 100);

        let mut q = Query::new("Погода сегодня", "ru", "en");
        q.min_score = 75;
        assert!(mem.lookup(&q).unwrap().is_empty());
    }

    #[test]
    fn context_gives_101_and_rejected_units_are_not_reused() {
        let dir = crate::memory::test_place();
        let mut mem = Memory::open(&dir.path).unwrap();
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

#[cfg(test)]
mod df_tests {
    use crate::memory::db::Dialect;
    use crate::memory::{Memory, NewUnit, Query};

    #[test]
    fn token_counts_follow_adds_imports_and_deletes() {
        let dir = crate::memory::test_place();
        let mut mem = Memory::open(&dir.path).unwrap();
        let df = |mem: &Memory, t: &str| -> i64 {
            mem.db
                .query_one(
                    "SELECT coalesce((SELECT df FROM token_df WHERE term = ?1), 0)",
                    &[&t],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let a = mem
            .add(&NewUnit::new("ru", "en", "Кошка и кошка спят.", "x"))
            .unwrap()
            .unwrap();
        mem.import(|imp| {
            imp.add(&NewUnit::new("ru", "en", "Кошка ест.", "y"))?;
            imp.add(&NewUnit::new("ru", "en", "Кошка ест.", "y"))
                .map(|_| ())
        })
        .unwrap();
        assert_eq!(
            (df(&mem, "кошка"), df(&mem, "ест"), df(&mem, "спят")),
            (2, 1, 1)
        );
        mem.delete(&[a]).unwrap();
        assert_eq!((df(&mem, "кошка"), df(&mem, "спят")), (1, 0));
        // The deleted unit leaves nothing in the fuzzy index either.
        let (sql, arg) = match mem.db.dialect() {
            Dialect::Sqlite => (
                "SELECT count(*) FROM units_fts WHERE units_fts MATCH ?1",
                "\"спят\"",
            ),
            Dialect::Postgres => ("SELECT count(*) FROM unit_tokens WHERE token = ?1", "спят"),
        };
        let left: i64 = mem.db.query_one(sql, &[&arg], |r| r.get(0)).unwrap();
        assert_eq!(left, 0);
        let mut q = Query::new("Кошка ест рыбу.", "ru", "en");
        q.min_score = 50;
        assert_eq!(mem.lookup(&q).unwrap()[0].score, 66);
    }
}
