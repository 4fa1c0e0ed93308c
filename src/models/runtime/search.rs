//! Greedy and beam search over seq2seq.rs, with the rules transformers' `generate` applies
//! (min length, forced first and last tokens, banned tokens, no repeated n-grams), so that the
//! same model gives the same tokens here and there.
//!
//! A sentence that is finished keeps its rows in the batch, fed padding, as in transformers:
//! with int8 the inputs of every layer are quantized from the whole batch's range, so the
//! rows a batch has change the numbers of all its rows.

use super::seq2seq::{Encoded, Seq2Seq};
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    pub num_beams: i64,
    /// Tokens of an output, counting the decoder's start token.
    pub max_length: i64,
    pub min_length: i64,
    pub no_repeat_ngram_size: i64,
    /// Stop a sentence as soon as it has `num_beams` finished hypotheses.
    pub early_stopping: bool,
    pub length_penalty: f64,
}

/// The best output of each row of `ids` (token ids, starting with the decoder's start token).
pub fn generate(model: &Seq2Seq, ids: &Tensor, mask: &Tensor, o: &SearchOptions) -> Vec<Vec<i64>> {
    let enc = model.encode(ids, mask);
    if o.num_beams <= 1 {
        greedy(model, &enc, o)
    } else {
        beam(model, &enc.repeat_rows(o.num_beams), o)
    }
}

fn greedy(model: &Seq2Seq, enc: &Encoded, o: &SearchOptions) -> Vec<Vec<i64>> {
    let c = &model.config;
    let rows = enc.hidden.size()[0] as usize;
    let mut seqs = vec![vec![c.decoder_start]; rows];
    let mut done = vec![false; rows];
    let mut cache = model.new_cache(enc);
    while (seqs[0].len() as i64) < o.max_length {
        let step = seqs[0].len() as i64 - 1;
        let logits = model.step(&last_tokens(&seqs), step, enc, &mut cache);
        let logits = restrict(model, logits, &seqs, o);
        // An empty vector here would make the loop spin forever: fail instead (the engine's
        // loop turns a panic into an error reply).
        let next = Vec::<i64>::try_from(logits.argmax(-1, false)).expect("token ids");
        for ((seq, fin), tok) in seqs.iter_mut().zip(&mut done).zip(next) {
            let tok = if *fin { c.pad } else { tok };
            *fin |= tok == c.eos;
            seq.push(tok);
        }
        if done.iter().all(|d| *d) {
            break;
        }
    }
    seqs
}

fn last_tokens(seqs: &[Vec<i64>]) -> Tensor {
    let last: Vec<i64> = seqs.iter().map(|s| *s.last().unwrap_or(&0)).collect();
    Tensor::from_slice(&last)
}

/// The generation rules, applied to scores [rows, vocab] before a token is chosen.
fn restrict(model: &Seq2Seq, mut scores: Tensor, seqs: &[Vec<i64>], o: &SearchOptions) -> Tensor {
    let c = &model.config;
    let len = seqs[0].len() as i64;
    let ban = |scores: &mut Tensor, token: i64| {
        let _ = scores.narrow(1, token, 1).fill_(f64::NEG_INFINITY);
    };
    if o.no_repeat_ngram_size > 0 {
        scores = ban_repeats(scores, seqs, o.no_repeat_ngram_size as usize);
    }
    if len < o.min_length {
        ban(&mut scores, c.eos);
    }
    for &t in &c.bad_tokens {
        ban(&mut scores, t);
    }
    let force = match (c.forced_bos, c.forced_eos) {
        (Some(bos), _) if len == 1 => Some(bos),
        (_, Some(eos)) if len == o.max_length - 1 => Some(eos),
        _ => None,
    };
    if let Some(t) = force {
        let _ = scores.fill_(f64::NEG_INFINITY);
        let _ = scores.narrow(1, t, 1).fill_(0.0);
    }
    scores
}

/// Bans every token that would repeat an n-gram its row already has.
fn ban_repeats(scores: Tensor, seqs: &[Vec<i64>], n: usize) -> Tensor {
    let mut rows = Vec::new();
    let mut tokens = Vec::new();
    for (r, seq) in seqs.iter().enumerate() {
        if seq.len() + 1 < n {
            continue;
        }
        let tail = &seq[seq.len() + 1 - n..];
        for w in seq.windows(n) {
            if &w[..n - 1] == tail {
                rows.push(r as i64);
                tokens.push(w[n - 1]);
            }
        }
    }
    if rows.is_empty() {
        return scores;
    }
    let idx = [
        Some(Tensor::from_slice(&rows)),
        Some(Tensor::from_slice(&tokens)),
    ];
    let neg = Tensor::from(f32::NEG_INFINITY);
    scores.index_put(&idx, &neg, false)
}

/// Finished hypotheses of one sentence, the best `beams` kept.
struct Finished {
    beams: usize,
    length_penalty: f64,
    hyps: Vec<(f64, Vec<i64>)>,
}

impl Finished {
    fn worst(&self) -> f64 {
        self.hyps.iter().map(|h| h.0).fold(f64::INFINITY, f64::min)
    }

    fn add(&mut self, seq: Vec<i64>, sum_logprobs: f64, generated: usize) {
        let score = sum_logprobs / (generated as f64).powf(self.length_penalty);
        if self.hyps.len() < self.beams || score > self.worst() {
            self.hyps.push((score, seq));
            if self.hyps.len() > self.beams {
                let (i, _) = self
                    .hyps
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::INFINITY),
                        |m, (i, h)| if h.0 < m.1 { (i, h.0) } else { m },
                    );
                self.hyps.remove(i);
            }
        }
    }

    /// No running hypothesis can beat the finished ones any more.
    fn is_done(&self, best_running: f64, generated: usize, early_stopping: bool) -> bool {
        if self.hyps.len() < self.beams {
            return false;
        }
        early_stopping
            || self.worst() >= best_running / (generated as f64).powf(self.length_penalty)
    }

    fn best(self) -> Vec<i64> {
        // The first of equal scores wins, as Python's `sorted` keeps the order of equals.
        let mut best: Option<(f64, Vec<i64>)> = None;
        for h in self.hyps {
            if best.as_ref().map_or(true, |b| h.0 > b.0) {
                best = Some(h);
            }
        }
        best.map(|b| b.1).unwrap_or_default()
    }
}

fn beam(model: &Seq2Seq, enc: &Encoded, o: &SearchOptions) -> Vec<Vec<i64>> {
    let c = &model.config;
    let k = o.num_beams as usize;
    let rows = enc.hidden.size()[0] as usize;
    let batch = rows / k;
    let vocab = c.vocab_size;
    let mut seqs = vec![vec![c.decoder_start]; rows];
    // Only the first beam of each sentence is live at the start; the others are copies.
    let mut scores: Vec<f32> = (0..rows)
        .map(|r| if r % k == 0 { 0.0 } else { -1e9 })
        .collect();
    let mut finished: Vec<Finished> = (0..batch)
        .map(|_| Finished {
            beams: k,
            length_penalty: o.length_penalty,
            hyps: Vec::new(),
        })
        .collect();
    let mut done = vec![false; batch];
    let mut cache = model.new_cache(enc);
    while (seqs[0].len() as i64) < o.max_length {
        let len = seqs[0].len();
        let logits = model.step(&last_tokens(&seqs), len as i64 - 1, enc, &mut cache);
        let logp = restrict(model, logits.log_softmax(-1, Kind::Float), &seqs, o);
        let total = logp + Tensor::from_slice(&scores).unsqueeze(1);
        let (values, indices) = total
            .view([batch as i64, -1])
            .topk(2 * k as i64, -1, true, true);
        let values = Vec::<f32>::try_from(values.view([-1])).expect("beam scores");
        let indices = Vec::<i64>::try_from(indices.view([-1])).expect("beam tokens");
        let mut next: Vec<(f32, i64, usize)> = Vec::with_capacity(rows);
        for b in 0..batch {
            if done[b] {
                // transformers refills a finished sentence's rows from the batch's first row;
                // they are never read, but with int8 their values set every row's scale.
                next.extend((0..k).map(|_| (0.0, c.pad, 0)));
                continue;
            }
            let top = &values[b * 2 * k..(b + 1) * 2 * k];
            let at = &indices[b * 2 * k..(b + 1) * 2 * k];
            let mut kept = 0;
            for (rank, (&score, &i)) in top.iter().zip(at).enumerate() {
                let (row, tok) = (b * k + (i / vocab) as usize, i % vocab);
                if tok == c.eos {
                    if rank < k {
                        finished[b].add(seqs[row].clone(), score as f64, len);
                    }
                } else {
                    next.push((score, tok, row));
                    kept += 1;
                }
                if kept == k {
                    break;
                }
            }
            let best = top.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
            done[b] = finished[b].is_done(best as f64, len, o.early_stopping);
        }
        let from: Vec<i64> = next.iter().map(|n| n.2 as i64).collect();
        seqs = next
            .iter()
            .map(|&(_, tok, row)| {
                let mut s = seqs[row].clone();
                s.push(tok);
                s
            })
            .collect();
        scores = next.iter().map(|n| n.0).collect();
        let across = from
            .iter()
            .enumerate()
            .any(|(r, &f)| f as usize / k != r / k);
        cache.reorder(&Tensor::from_slice(&from), across);
        if done.iter().all(|d| *d) {
            break;
        }
    }
    finished
        .into_iter()
        .enumerate()
        .map(|(b, mut f)| {
            if !done[b] {
                for row in b * k..(b + 1) * k {
                    f.add(seqs[row].clone(), scores[row] as f64, seqs[row].len() - 1);
                }
            }
            f.best()
        })
        .collect()
}
