//! ROUGE-1, ROUGE-2 and ROUGE-L F1 as Google's rouge-score computes them without stemming:
//! lower-cased ASCII letters and digits as tokens, n-gram overlap, longest common subsequence.

use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Rouge {
    pub rouge1: f64,
    pub rouge2: f64,
    #[serde(rename = "rougeL")]
    pub rouge_l: f64,
}

/// rouge-score's tokenizer: lower case, every run of characters outside `a-z0-9` splits.
pub fn tokenize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

fn count(t: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut m: HashMap<&[String], usize> = HashMap::new();
    if t.len() >= n {
        for w in t.windows(n) {
            *m.entry(w).or_default() += 1;
        }
    }
    m
}

fn ngram_f1(target: &[String], prediction: &[String], n: usize) -> f64 {
    let (t, p) = (count(target, n), count(prediction, n));
    let overlap: usize = p
        .iter()
        .map(|(g, c)| (*c).min(t.get(g).copied().unwrap_or(0)))
        .sum();
    let (pt, tt) = (p.values().sum::<usize>(), t.values().sum::<usize>());
    f1(
        overlap as f64 / pt.max(1) as f64,
        overlap as f64 / tt.max(1) as f64,
    )
}

fn lcs(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0; b.len() + 1];
    for x in a {
        let mut cur = vec![0; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Scores of `prediction` against `target` (rouge-score's `score(target, prediction)`).
pub fn score(target: &str, prediction: &str) -> Rouge {
    let (t, p) = (tokenize(target), tokenize(prediction));
    let rouge_l = if t.is_empty() || p.is_empty() {
        0.0
    } else {
        let l = lcs(&t, &p) as f64;
        f1(l / p.len() as f64, l / t.len() as f64)
    };
    Rouge {
        rouge1: ngram_f1(&t, &p, 1),
        rouge2: ngram_f1(&t, &p, 2),
        rouge_l,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_bounds() {
        assert_eq!(
            tokenize("The U.S. won't-stop 3.5%"),
            ["the", "u", "s", "won", "t", "stop", "3", "5"]
        );
        let r = score("the cat sat", "the cat sat");
        assert_eq!((r.rouge1, r.rouge2, r.rouge_l), (1.0, 1.0, 1.0));
        assert_eq!(score("a b", "").rouge1, 0.0);
    }
}
