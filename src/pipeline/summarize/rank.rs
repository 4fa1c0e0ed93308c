//! Choosing sentences for extractive summaries: score sentences by centrality (cosine to the document's centroid),
//! pick them with maximal marginal relevance so the summary does not repeat itself, and keep
//! the article's order. Works on any sentence vectors: neural embeddings, or the lexical
//! bag-of-words vectors below for languages the embedding model does not cover.

use std::collections::HashMap;

/// Weight of centrality against novelty in MMR.
const LAMBDA: f32 = 0.7;
/// Sentences at least this similar to a chosen one are near-duplicates and never chosen.
const DUPLICATE: f32 = 0.92;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalized(v: &[f32]) -> Vec<f32> {
    let n = dot(v, v).sqrt();
    if n == 0.0 {
        v.to_vec()
    } else {
        v.iter().map(|x| x / n).collect()
    }
}

/// Sentences for a summary within word limits, in document order: up to `n` sentences in MMR
/// order, skipping those that would pass `max_words` (the first one is always taken), and
/// going on past `n` while under `min_words`.
pub fn select_words(
    vectors: &[Vec<f32>],
    words: &[usize],
    n: usize,
    max_words: Option<usize>,
    min_words: Option<usize>,
) -> Vec<usize> {
    let mut chosen = Vec::new();
    let mut total = 0;
    for i in rank(vectors, vectors.len()) {
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

/// Up to `n` sentence indices in MMR order (most central first, near-duplicates never).
fn rank(vectors: &[Vec<f32>], n: usize) -> Vec<usize> {
    if vectors.is_empty() || n == 0 {
        return Vec::new();
    }
    let vs: Vec<Vec<f32>> = vectors.iter().map(|v| normalized(v)).collect();
    let dim = vs[0].len();
    let mut centroid = vec![0f32; dim];
    for v in &vs {
        for (c, x) in centroid.iter_mut().zip(v) {
            *c += x;
        }
    }
    let centroid = normalized(&centroid);
    let central: Vec<f32> = vs.iter().map(|v| dot(v, &centroid)).collect();
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < n.min(vs.len()) {
        let pick = (0..vs.len())
            .filter(|i| !chosen.contains(i))
            .filter(|&i| chosen.iter().all(|&j| dot(&vs[i], &vs[j]) < DUPLICATE))
            .map(|i| {
                let redundancy = chosen
                    .iter()
                    .map(|&j| dot(&vs[i], &vs[j]))
                    .fold(0f32, f32::max);
                (i, LAMBDA * central[i] - (1.0 - LAMBDA) * redundancy)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match pick {
            Some((i, _)) => chosen.push(i),
            None => break,
        }
    }
    chosen
}

/// Bag-of-words vectors over the sentences' shared vocabulary (lowercased words of 3+ letters).
pub fn lexical_vectors(sentences: &[&str]) -> Vec<Vec<f32>> {
    let tokenized: Vec<Vec<String>> = sentences
        .iter()
        .map(|s| {
            s.split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_lowercase)
                .collect()
        })
        .collect();
    let mut vocab: HashMap<&str, usize> = HashMap::new();
    for w in tokenized.iter().flatten() {
        let next = vocab.len();
        vocab.entry(w.as_str()).or_insert(next);
    }
    tokenized
        .iter()
        .map(|ws| {
            let mut v = vec![0f32; vocab.len().max(1)];
            for w in ws {
                v[vocab[w.as_str()]] += 1.0;
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_limits_pick() {
        let vs = vec![
            vec![1.0, 0.0],
            vec![0.9, 0.1],
            vec![0.8, 0.3],
            vec![0.0, 1.0],
        ];
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
        let vs = vec![
            vec![1.0, 0.1, 0.0],
            vec![1.0, 0.1, 0.0], // duplicate of 0
            vec![0.9, 0.4, 0.1],
            vec![0.0, 0.0, 1.0], // off-topic
            vec![0.8, 0.0, 0.3],
        ];
        let mut got = rank(&vs, 2);
        got.sort_unstable();
        assert_eq!(got.len(), 2);
        assert!(!(got.contains(&0) && got.contains(&1)), "{got:?}");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "order kept");
        assert!(!got.contains(&3), "{got:?}");
    }

    #[test]
    fn lexical_vectors_share_a_vocabulary() {
        let vs = lexical_vectors(&["Парламент отклонил поправку", "поправку приняли", "xx"]);
        assert_eq!(vs.len(), 3);
        assert!(dot(&vs[0], &vs[1]) > 0.0);
        assert_eq!(dot(&vs[0], &vs[2]), 0.0);
    }
}
