//! Corpus chrF as sacrebleu computes it by default: character n-grams of order 1–6 with
//! whitespace removed, statistics summed over the corpus, β = 2, effective-order averaging.

use std::collections::HashMap;

const ORDER: usize = 6;
const BETA: f64 = 2.0;

fn char_ngrams(chars: &[char], n: usize) -> HashMap<&[char], usize> {
    let mut m = HashMap::new();
    if chars.len() >= n {
        for w in chars.windows(n) {
            *m.entry(w).or_default() += 1;
        }
    }
    m
}

/// Corpus chrF (0–100) of `hyps` against `refs` (one reference per hypothesis).
pub fn corpus_chrf(hyps: &[&str], refs: &[&str]) -> f64 {
    let mut stats = [[0usize; 3]; ORDER]; // hyp, ref, match
    for (h, r) in hyps.iter().zip(refs) {
        let h: Vec<char> = h.split_whitespace().flat_map(str::chars).collect();
        let r: Vec<char> = r.split_whitespace().flat_map(str::chars).collect();
        for n in 1..=ORDER {
            let hn = char_ngrams(&h, n);
            let rn = char_ngrams(&r, n);
            let s = &mut stats[n - 1];
            s[0] += hn.values().sum::<usize>();
            s[1] += rn.values().sum::<usize>();
            s[2] += hn
                .iter()
                .map(|(g, c)| (*c).min(rn.get(g).copied().unwrap_or(0)))
                .sum::<usize>();
        }
    }
    f_score(&stats)
}

fn f_score(stats: &[[usize; 3]; ORDER]) -> f64 {
    let factor = BETA * BETA;
    let (mut avg_prec, mut avg_rec, mut effective) = (0.0, 0.0, 0);
    for &[n_hyp, n_ref, n_match] in stats {
        if n_hyp > 0 && n_ref > 0 {
            avg_prec += n_match as f64 / n_hyp as f64;
            avg_rec += n_match as f64 / n_ref as f64;
            effective += 1;
        }
    }
    if effective == 0 {
        return 0.0;
    }
    avg_prec /= effective as f64;
    avg_rec /= effective as f64;
    if avg_prec + avg_rec == 0.0 {
        return 0.0;
    }
    100.0 * (1.0 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!((corpus_chrf(&["a cat"], &["a cat"]) - 100.0).abs() < 1e-9);
        assert_eq!(corpus_chrf(&["xyz"], &["abc"]), 0.0);
    }
}
