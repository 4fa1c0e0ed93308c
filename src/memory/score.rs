//! Match scores, 0–101, as CAT tools give them. Pure functions: no SQL here.
//!
//! - 101: the same source text in the same context (previous and next segment): set by lookup;
//! - 100: the same normalized key ([`super::key`]) with the same numbers;
//! - otherwise OmegaT's word measure `100·(1 − d / max(len_a, len_b))`, `d` the edit distance
//!   over word tokens, minus 1 when the numbers differ and 1 when the punctuation differs,
//!   and at most 99.

use super::key;

/// A segment made ready for scoring: its key, token hashes, numbers and punctuation.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub key: String,
    pub tokens: Vec<i64>,
    numbers: Vec<String>,
    punctuation: String,
}

impl Prepared {
    pub fn new(text: &str) -> Prepared {
        Prepared::with_key(text, key::key(text))
    }

    /// When the key is already at hand (it is stored with every unit).
    pub fn with_key(text: &str, key: String) -> Prepared {
        Prepared {
            tokens: key::tokens(&key).map(|t| key::hash(&[t])).collect(),
            numbers: key::numbers(text).into_iter().map(str::to_owned).collect(),
            punctuation: key::punctuation(&key),
            key,
        }
    }
}

/// The lowest score a candidate may have and still be worth looking at: the score of a
/// candidate with `tokens` words can only reach `min` if it has this many words in common.
pub fn shared_tokens_needed(tokens: usize, min: u8) -> usize {
    (tokens * min as usize).div_ceil(100)
}

/// Score `b` against the query `a`; `None` when below `min` (the work stops early then).
pub fn score(a: &Prepared, b: &Prepared, min: u8) -> Option<u8> {
    let numbers_differ = a.numbers != b.numbers;
    if a.key == b.key {
        let s = if numbers_differ { 99 } else { 100 };
        return (s >= min).then_some(s);
    }
    let longest = a.tokens.len().max(b.tokens.len());
    let base = if longest == 0 {
        100
    } else {
        // floor(100·(1 − d/M)) ≥ min  ⇔  d ≤ M·(100 − min)/100
        let bound = longest * (100 - min.min(100) as usize) / 100;
        let d = bounded_levenshtein(&a.tokens, &b.tokens, bound)?;
        100 * (longest - d) / longest
    };
    let penalty = numbers_differ as usize + (a.punctuation != b.punctuation) as usize;
    let s = base.saturating_sub(penalty).min(99) as u8;
    (s >= min).then_some(s)
}

/// Edit distance between token sequences, or `None` as soon as it must exceed `bound`.
pub fn bounded_levenshtein(a: &[i64], b: &[i64], bound: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + (x != y) as usize;
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > bound {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= bound).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: &str, b: &str) -> Option<u8> {
        score(&Prepared::new(a), &Prepared::new(b), 0)
    }

    #[test]
    fn exact_and_normalized_are_100() {
        assert_eq!(s("Завод открыт.", "Завод открыт."), Some(100));
        assert_eq!(s("Завод  «открыт».", "завод \"открыт\"."), Some(100));
    }

    #[test]
    fn numbers_and_punctuation_cost_one_point() {
        assert_eq!(s("Выпущено 3 млн тонн.", "Выпущено 5 млн тонн."), Some(99));
        assert_eq!(s("Завод открыт.", "Завод открыт!"), Some(99));
        assert_eq!(
            s("Завод открыт в 2020 году.", "Завод открыт в 2021 году!"),
            Some(98)
        );
    }

    #[test]
    fn word_edit_distance_like_omegat() {
        // one word of eight replaced: 100·(1 − 1/8) = 87.5 → 87
        assert_eq!(
            s(
                "the plant opened in the north last year",
                "the plant closed in the north last year"
            ),
            Some(87)
        );
        // one word of four deleted: 100·(1 − 1/4) = 75
        assert_eq!(s("a b c d", "a b c"), Some(75));
        assert_eq!(s("a b c d", "w x y z"), Some(0));
        assert_eq!(
            score(&Prepared::new("a b c d"), &Prepared::new("a b"), 75),
            None
        );
    }

    #[test]
    fn bound_stops_early_but_agrees() {
        let t = |v: &[i64]| v.to_vec();
        assert_eq!(bounded_levenshtein(&t(&[1, 2, 3]), &t(&[1, 3]), 1), Some(1));
        assert_eq!(bounded_levenshtein(&t(&[1, 2, 3]), &t(&[4, 5, 6]), 2), None);
        assert_eq!(
            bounded_levenshtein(&t(&[1, 2, 3]), &t(&[4, 5, 6]), 3),
            Some(3)
        );
        assert_eq!(bounded_levenshtein(&t(&[]), &t(&[1, 2]), 2), Some(2));
    }

    /// OmegaT's word measure on pairs without digits or punctuation (so no penalty applies),
    /// the expected scores computed outside babeldesk by
    /// tests/fixtures/references/make_references.py (its own word Levenshtein, then
    /// floor(100·(1 − d/max))): substitutions, an insertion, a swap (two edits), a repeated
    /// word, very unequal lengths, Cyrillic, nothing in common.
    #[test]
    fn scores_agree_with_omegat_computed_independently() {
        let refs: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/references/fuzzy-omegat.json"
        ))
        .unwrap();
        let pairs = refs["pairs"].as_array().unwrap();
        assert!(pairs.len() >= 5);
        for p in pairs {
            let (a, b) = (p["a"].as_str().unwrap(), p["b"].as_str().unwrap());
            let want = p["score"].as_u64().unwrap() as u8;
            assert_eq!(s(a, b), Some(want), "{a} | {b}");
            assert_eq!(s(b, a), Some(want), "{b} | {a}");
            // The early stop of the bounded distance agrees at the edge of `min`.
            let (pa, pb) = (Prepared::new(a), Prepared::new(b));
            assert_eq!(score(&pa, &pb, want), Some(want), "{a} | {b} at min {want}");
            assert_eq!(
                score(&pa, &pb, want + 1),
                None,
                "{a} | {b} at min {}",
                want + 1
            );
        }
    }

    #[test]
    fn shared_tokens_bound_holds() {
        // 20 tokens at 75: at least 15 in common, so 6 rarest tokens cover every candidate
        assert_eq!(shared_tokens_needed(20, 75), 15);
        assert_eq!(shared_tokens_needed(3, 75), 3);
        assert_eq!(shared_tokens_needed(1, 50), 1);
    }
}
