//! Choosing sentences for extractive summaries: score sentences by centrality (cosine to the
//! document's centroid), pick them with maximal marginal relevance so the summary does not
//! repeat itself, and keep the article's order. Works on any sentence vectors: neural
//! embeddings, or the lexical bag-of-words vectors below for languages the embedding model
//! does not cover.
//!
//! Cost grows with the article about linearly: vectors are sparse (a sentence holds its own
//! words, not the whole vocabulary), and sentences are picked one at a time, each pick
//! updating every sentence's redundancy once, until the summary is full: O(picks × sentences
//! × words per sentence), where ranking all sentences against all chosen ones was cubic.

use std::collections::HashMap;

/// Weight of centrality against novelty in MMR.
const LAMBDA: f32 = 0.7;
/// Sentences at least this similar to a chosen one are near-duplicates and never chosen.
const DUPLICATE: f32 = 0.92;

/// A sentence vector: its non-zero components, by ascending index.
pub type Vector = Vec<(u32, f32)>;

/// A dense vector (an embedding) as a [`Vector`].
pub fn from_dense(v: &[f32]) -> Vector {
    v.iter()
        .enumerate()
        .filter(|(_, x)| **x != 0.0)
        .map(|(i, x)| (i as u32, *x))
        .collect()
}

fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

fn normalized(v: &[(u32, f32)]) -> Vector {
    let n = dot(v, v).sqrt();
    if n == 0.0 {
        v.to_vec()
    } else {
        v.iter().map(|(i, x)| (*i, x / n)).collect()
    }
}

/// Sentences for a summary within word limits, in document order: up to `n` sentences in MMR
/// order, skipping those that would pass `max_words` (the first one is always taken), and
/// going on past `n` while under `min_words`.
pub fn select_words(
    vectors: &[Vector],
    words: &[usize],
    n: usize,
    max_words: Option<usize>,
    min_words: Option<usize>,
) -> Vec<usize> {
    let mut chosen = Vec::new();
    let mut total = 0;
    for i in Ranking::new(vectors) {
        let under_min = min_words.is_some_and(|m| total < m);
        if chosen.len() >= n && !under_min {
            break;
        }
        if max_words.is_some_and(|m| total + words[i] > m) && !chosen.is_empty() {
            continue;
        }
        chosen.push(i);
        total += words[i];
    }
    chosen.sort_unstable();
    chosen
}

/// The `k` sentences most central to the whole (in document order): a long report's
/// candidates, found by a cheap measure before a costly one compares them.
pub fn most_central(vectors: &[Vector], k: usize) -> Vec<usize> {
    let central = Ranking::new(vectors).central;
    let mut order: Vec<usize> = (0..vectors.len()).collect();
    order.sort_by(|&a, &b| central[b].total_cmp(&central[a]));
    order.truncate(k);
    order.sort_unstable();
    order
}

/// Sentence indices in MMR order (most central first, near-duplicates never), picked as they
/// are asked for.
struct Ranking {
    vs: Vec<Vector>,
    central: Vec<f32>,
    /// Each sentence's greatest similarity to a chosen one (0 before any).
    redundancy: Vec<f32>,
    taken: Vec<bool>,
}

impl Ranking {
    fn new(vectors: &[Vector]) -> Ranking {
        let vs: Vec<Vector> = vectors.iter().map(|v| normalized(v)).collect();
        let dim = vs
            .iter()
            .flat_map(|v| v.last())
            .map(|(i, _)| *i as usize + 1)
            .max()
            .unwrap_or(0);
        let mut centroid = vec![0f32; dim];
        for v in &vs {
            for (i, x) in v {
                centroid[*i as usize] += x;
            }
        }
        let centroid = normalized(&from_dense(&centroid));
        let central = vs.iter().map(|v| dot(v, &centroid)).collect();
        Ranking {
            redundancy: vec![0.0; vs.len()],
            taken: vec![false; vs.len()],
            central,
            vs,
        }
    }
}

impl Iterator for Ranking {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let (pick, _) = (0..self.vs.len())
            .filter(|&i| !self.taken[i] && self.redundancy[i] < DUPLICATE)
            .map(|i| {
                (
                    i,
                    LAMBDA * self.central[i] - (1.0 - LAMBDA) * self.redundancy[i],
                )
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        self.taken[pick] = true;
        let chosen = self.vs[pick].clone();
        for (i, v) in self.vs.iter().enumerate() {
            if !self.taken[i] {
                self.redundancy[i] = self.redundancy[i].max(dot(v, &chosen));
            }
        }
        Some(pick)
    }
}

/// Bag-of-words vectors over the sentences' shared vocabulary (lowercased words of 3+ letters).
pub fn lexical_vectors(sentences: &[&str]) -> Vec<Vector> {
    let mut vocab: HashMap<String, u32> = HashMap::new();
    sentences
        .iter()
        .map(|s| {
            let mut counts: HashMap<u32, f32> = HashMap::new();
            for w in s
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
            {
                let next = vocab.len() as u32;
                let id = *vocab.entry(w.to_lowercase()).or_insert(next);
                *counts.entry(id).or_insert(0.0) += 1.0;
            }
            let mut v: Vector = counts.into_iter().collect();
            v.sort_unstable_by_key(|(i, _)| *i);
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sparse(vs: &[Vec<f32>]) -> Vec<Vector> {
        vs.iter().map(|v| from_dense(v)).collect()
    }

    #[test]
    fn word_limits_pick() {
        let vs = sparse(&[
            vec![1.0, 0.0],
            vec![0.9, 0.1],
            vec![0.8, 0.3],
            vec![0.0, 1.0],
        ]);
        let words = [10, 30, 5, 8];
        let picked = select_words(&vs, &words, usize::MAX, Some(20), None);
        assert!(!picked.is_empty() && !picked.contains(&1), "{picked:?}");
        assert!(picked.iter().map(|&i| words[i]).sum::<usize>() <= 20);
        assert!(picked.windows(2).all(|w| w[0] < w[1]), "document order");
        // At least 40 words even though one sentence was asked for.
        assert_eq!(select_words(&vs, &words, 1, None, Some(40)).len(), 2);
    }

    #[test]
    fn mmr_prefers_central_and_skips_duplicates() {
        let vs = sparse(&[
            vec![1.0, 0.1, 0.0],
            vec![1.0, 0.1, 0.0], // duplicate of 0
            vec![0.9, 0.4, 0.1],
            vec![0.0, 0.0, 1.0], // off-topic
            vec![0.8, 0.0, 0.3],
        ]);
        let mut got: Vec<usize> = Ranking::new(&vs).take(2).collect();
        got.sort_unstable();
        assert_eq!(got.len(), 2);
        assert!(!(got.contains(&0) && got.contains(&1)), "{got:?}");
        assert!(!got.contains(&3), "{got:?}");
        // A duplicate is never picked, however many are asked for.
        let all: Vec<usize> = Ranking::new(&vs).collect();
        assert!(!(all.contains(&0) && all.contains(&1)), "{all:?}");
    }

    #[test]
    fn lexical_vectors_share_a_vocabulary() {
        let vs = lexical_vectors(&["Парламент отклонил поправку", "поправку приняли", "xx"]);
        assert_eq!(vs.len(), 3);
        assert!(dot(&vs[0], &vs[1]) > 0.0);
        assert_eq!(dot(&vs[0], &vs[2]), 0.0);
    }

    /// Twenty thousand sentences (about 2 MB of text): vectors stay sparse (dense ones over
    /// the vocabulary would take gigabytes), and five picks are five passes.
    #[test]
    fn a_long_article_is_ranked_without_dense_or_quadratic_work() {
        let sentences: Vec<String> = (0..20_000)
            .map(|i| {
                format!(
                    "Sentence {i} talks about topic{} and topic{} with words{}.",
                    i % 97,
                    i % 31,
                    i % 13
                )
            })
            .collect();
        let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
        let vs = lexical_vectors(&texts);
        assert!(vs.iter().all(|v| v.len() <= 10), "sparse");
        let words: Vec<usize> = texts.iter().map(|t| t.split_whitespace().count()).collect();
        assert_eq!(select_words(&vs, &words, 5, None, None).len(), 5);
    }
}
