//! Getting translations out of a model: texts over its input limit cut into pieces that fit
//! (never truncated), pieces sent in length-sorted batches (Marian) or one text at a time with
//! a hint each (instruct models), and each text's pieces joined again. A failed text is Err
//! with the reason the engine gave.

use crate::models::loaded::LoadedModel;
use crate::models::protocol::Hint;
use crate::progress::{Progress, Unit};
use crate::Result;

const BATCH: usize = 16;

/// One text's translation, or why there is none.
pub(super) type Outcome = std::result::Result<String, String>;

/// Each text as the pieces the model gets: itself, or, when it is over the model's input
/// limit, clauses (split after , ; : and dashes) grouped to fit; words as a last resort.
/// Nothing is ever cut off.
pub(super) fn split_long(model: &mut LoadedModel, texts: &[&str]) -> Result<Vec<Vec<String>>> {
    let limit = model.max_input_tokens.unwrap_or(512).max(8) as usize;
    let budget = limit.saturating_sub(4).max(4);
    let counts = model
        .engine
        .count_tokens(texts.iter().map(|t| t.to_string()).collect())?;
    let mut out = Vec::with_capacity(texts.len());
    for (text, &n) in texts.iter().zip(&counts) {
        if n <= budget {
            out.push(vec![text.to_string()]);
            continue;
        }
        let clauses = clauses(text);
        let clause_counts = model
            .engine
            .count_tokens(clauses.iter().map(|c| c.to_string()).collect())?;
        let mut pieces: Vec<String> = Vec::new();
        let (mut cur, mut cur_n) = (String::new(), 0);
        for (c, &cn) in clauses.iter().zip(&clause_counts) {
            let parts: Vec<String> = if cn > budget {
                // A clause still too long: equal word slices that fit.
                crate::text::words::equal_slices(c, cn, budget)
            } else {
                vec![c.to_string()]
            };
            let each = if cn > budget { budget } else { cn };
            for p in parts {
                if cur_n + each > budget && !cur.is_empty() {
                    pieces.push(std::mem::take(&mut cur));
                    cur_n = 0;
                }
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(&p);
                cur_n += each;
            }
        }
        if !cur.is_empty() {
            pieces.push(cur);
        }
        out.push(pieces);
    }
    Ok(out)
}

/// A sentence cut after clause punctuation, each clause trimmed.
fn clauses(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let cut = matches!(c, ',' | ';' | ':')
            || (matches!(c, '—' | '–') && text[end..].starts_with(' '));
        if cut && text[end..].starts_with(' ') {
            out.push(text[start..end].trim());
            start = end;
        }
    }
    out.push(text[start..].trim());
    out.retain(|c| !c.is_empty());
    out
}

/// Each text's translated pieces joined again; a text fails when one of its pieces did.
fn join_pieces(pieces: &[Vec<String>], flat: &[(usize, &str)], outs: Vec<Outcome>) -> Vec<Outcome> {
    let mut joined: Vec<Outcome> = vec![Ok(String::new()); pieces.len()];
    for ((k, _), out) in flat.iter().zip(outs) {
        match (&mut joined[*k], out) {
            (Err(_), _) => {}
            (slot, Err(p)) => *slot = Err(p),
            (Ok(t), Ok(out)) => {
                if !t.is_empty() {
                    t.push(' ');
                }
                t.push_str(out.trim());
            }
        }
    }
    joined
}

fn flatten(pieces: &[Vec<String>]) -> Vec<(usize, &str)> {
    pieces
        .iter()
        .enumerate()
        .flat_map(|(k, ps)| ps.iter().map(move |p| (k, p.as_str())))
        .collect()
}

/// What translating text by text left: each text's outcome where it got one, and the error
/// that stopped the work early, if one did (the outcomes finished before it are kept).
pub(super) struct Partial {
    pub outcomes: Vec<Option<Outcome>>,
    pub stopped: Option<crate::Error>,
}

impl Partial {
    /// Every outcome, or the error that stopped the work (for callers that keep nothing).
    pub fn all(self) -> Result<Vec<Outcome>> {
        match self.stopped {
            Some(e) => Err(e),
            None => Ok(self.outcomes.into_iter().flatten().collect()),
        }
    }
}

/// The hint for text k, given what is known of the others' outcomes (see [`translate_each`]).
type HintFor<'h> = dyn Fn(usize, &dyn Fn(usize) -> Option<Outcome>) -> Hint + Sync + 'h;

/// The texts cut into `n` contiguous runs of near-equal length.
fn runs(len: usize, n: usize) -> Vec<std::ops::Range<usize>> {
    let n = n.clamp(1, len.max(1));
    (0..n).map(|r| r * len / n..(r + 1) * len / n).collect()
}

/// Translate every text, each piece with the hint `hint(k, done)` for text k, where `done(j)`
/// is the outcome of text j when it is known by then. The texts are cut into as many
/// contiguous runs as the model works on at once (`--parallel`: prompts a GGUF engine
/// decodes together, requests in flight to a server), each run translated in order (on its
/// own thread for a server, in lockstep rounds for a local engine): a text knows the
/// outcomes before it in its run, and what a hint holds never depends on timing. When no
/// hint needs another text's outcome (`independent`), a local engine gets them in larger
/// requests instead, without rounds.
pub(super) fn translate_each(
    model: &mut LoadedModel,
    pieces: &[Vec<String>],
    progress: &dyn Progress,
    independent: bool,
    hint: impl Fn(usize, &dyn Fn(usize) -> Option<Outcome>) -> Hint + Sync,
) -> Partial {
    let words: usize = pieces
        .iter()
        .flatten()
        .map(|p| p.split_whitespace().count())
        .sum();
    progress.start(
        &format!("translating {} segments, {words} words", pieces.len()),
        Some(pieces.len() as u64),
        Unit::Items,
    );
    let partial = match model.engine.remote() {
        Some(remote) => translate_runs(remote, pieces, progress, &hint),
        _ if independent => translate_independent(model, pieces, progress, &hint),
        _ => translate_rounds(model, pieces, progress, &hint),
    };
    progress.finish();
    partial
}

/// The runs in lockstep rounds: round r sends the r-th text of every run in one request
/// (a GGUF engine decodes them together; with one run, the whole document in order).
fn translate_rounds(
    model: &mut LoadedModel,
    pieces: &[Vec<String>],
    progress: &dyn Progress,
    hint: &HintFor,
) -> Partial {
    let runs = runs(pieces.len(), model.parallel);
    let longest = runs.iter().map(|r| r.len()).max().unwrap_or(0);
    let rounds = (0..longest).map(|round| {
        runs.iter()
            .filter(|r| round < r.len())
            .map(|r| (r.start + round, r.clone()))
            .collect()
    });
    translate_groups(model, pieces, progress, hint, rounds)
}

/// Texts whose hints need no other outcome, in requests of 8 texts per prompt decoded at
/// once: the engine starts the next as soon as one ends, and only the last few of a request
/// wait for each other (between requests the bar moves).
fn translate_independent(
    model: &mut LoadedModel,
    pieces: &[Vec<String>],
    progress: &dyn Progress,
    hint: &HintFor,
) -> Partial {
    let size = (8 * model.parallel).max(1);
    let all: Vec<usize> = (0..pieces.len()).collect();
    let groups = all
        .chunks(size)
        .map(|ks| ks.iter().map(|&k| (k, k..k)).collect());
    translate_groups(model, pieces, progress, hint, groups)
}

/// One request per group of (text, the run whose outcomes its hint may know); stops at the
/// first failed request, keeping what came before.
fn translate_groups(
    model: &mut LoadedModel,
    pieces: &[Vec<String>],
    progress: &dyn Progress,
    hint: &HintFor,
    groups: impl Iterator<Item = Vec<(usize, std::ops::Range<usize>)>>,
) -> Partial {
    let mut out: Vec<Option<Outcome>> = vec![None; pieces.len()];
    for group in groups {
        let mut texts = Vec::new();
        let mut hints = Vec::new();
        for (k, run) in &group {
            let known = |j: usize| match run.contains(&j) {
                true => out[j].clone(),
                false => None,
            };
            let h = hint(*k, &known);
            texts.extend(pieces[*k].iter().cloned());
            hints.extend(std::iter::repeat(h).take(pieces[*k].len()));
        }
        let answers = match model.engine.translate_with(texts, hints) {
            Ok(answers) => answers,
            Err(e) => {
                return Partial {
                    outcomes: out,
                    stopped: Some(e),
                }
            }
        };
        let mut at = 0;
        for (k, _) in &group {
            let n = pieces[*k].len();
            out[*k] = Some(outcome(&pieces[*k], &answers.part(at..at + n)));
            at += n;
        }
        progress.advance(group.len() as u64);
        relabel(progress, model.engine.tokens());
    }
    Partial {
        outcomes: out,
        stopped: None,
    }
}

/// The runs on as many threads; this one counts progress. The first failure stops every run
/// after its current text.
fn translate_runs(
    remote: &crate::models::remote::RemoteEngine,
    pieces: &[Vec<String>],
    progress: &dyn Progress,
    hint: &HintFor,
) -> Partial {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut partial = Partial {
        outcomes: vec![None; pieces.len()],
        stopped: None,
    };
    std::thread::scope(|s| {
        for run in runs(pieces.len(), remote.parallel()) {
            let (tx, stop) = (tx.clone(), &stop);
            s.spawn(move || {
                let mut mine: Vec<Option<Outcome>> = vec![None; pieces.len()];
                for k in run {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let h = hint(k, &|j| mine.get(j).cloned().flatten());
                    let got = remote.translate_text(&pieces[k], &h);
                    let got = got.map(|answers| outcome(&pieces[k], &answers));
                    if let Ok(o) = &got {
                        mine[k] = Some(o.clone());
                    } else {
                        stop.store(true, Ordering::Relaxed);
                    }
                    let failed = got.is_err();
                    let _ = tx.send((k, got));
                    if failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (k, got) in rx {
            match got {
                Ok(o) => partial.outcomes[k] = Some(o),
                Err(e) => {
                    partial.stopped.get_or_insert(e.into());
                }
            }
            progress.advance(1);
            relabel(progress, remote.tokens());
        }
    });
    partial
}

/// One text's outcome from the answers for its pieces.
fn outcome(ps: &[String], answers: &crate::models::engine::Answers) -> Outcome {
    let flat: Vec<(usize, &str)> = ps.iter().map(|p| (0, p.as_str())).collect();
    let outs = answers
        .texts
        .iter()
        .enumerate()
        .map(|(j, t)| match answers.problem(j) {
            Some(p) => Err(p.to_string()),
            None => Ok(t.clone()),
        })
        .collect();
    join_pieces(std::slice::from_ref(&ps.to_vec()), &flat, outs)
        .pop()
        .expect("one text")
}

fn relabel(progress: &dyn Progress, t: crate::models::protocol::TokenCounts) {
    if t.millis > 0 {
        progress.relabel(&format!(
            "translating, {:.1} tokens/s written",
            t.generated as f64 * 1000.0 / t.millis as f64
        ));
    }
}

/// Translate every piece, shortest first in batches, and join each text's pieces again.
pub(super) fn translate_pieces(
    model: &mut LoadedModel,
    pieces: &[Vec<String>],
    progress: &dyn Progress,
) -> Result<Vec<Outcome>> {
    let flat = flatten(pieces);
    let mut order: Vec<usize> = (0..flat.len()).collect();
    order.sort_by_key(|&i| flat[i].1.len());
    let words: usize = flat.iter().map(|(_, p)| p.split_whitespace().count()).sum();
    progress.start(
        &format!("translating {} segments, {words} words", pieces.len()),
        Some(flat.len() as u64),
        Unit::Items,
    );
    let mut outs: Vec<Outcome> = vec![Ok(String::new()); flat.len()];
    let started = std::time::Instant::now();
    let mut words_done = 0;
    for batch in order.chunks(BATCH) {
        let texts = batch.iter().map(|&i| flat[i].1.to_string()).collect();
        let answers = model.engine.translate_with(texts, Vec::new())?;
        for (j, &i) in batch.iter().enumerate() {
            outs[i] = match answers.problem(j) {
                Some(p) => Err(p.to_string()),
                None => Ok(answers.texts[j].clone()),
            };
            words_done += flat[i].1.split_whitespace().count();
        }
        progress.advance(batch.len() as u64);
        let rate = words_done as f64 / started.elapsed().as_secs_f64().max(1e-3);
        progress.relabel(&format!("translating, {rate:.0} words/s"));
    }
    progress.finish();
    Ok(join_pieces(pieces, &flat, outs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_contiguous_near_equal_and_cover_everything() {
        assert_eq!(runs(10, 4), [0..2, 2..5, 5..7, 7..10]);
        assert_eq!(runs(3, 8), [0..1, 1..2, 2..3]);
        assert_eq!(
            runs(5, 1),
            runs(5, 2)[..1]
                .iter()
                .map(|r| r.start..5)
                .collect::<Vec<_>>()
        );
        assert_eq!((runs(0, 8).len(), runs(0, 8)[0].len()), (1, 0));
    }

    #[test]
    fn clauses_cut_after_punctuation_and_dashes() {
        assert_eq!(
            clauses("Один, два; три: четыре — пять-шесть"),
            ["Один,", "два;", "три:", "четыре —", "пять-шесть"]
        );
        assert_eq!(clauses("a,b"), ["a,b"]);
    }
}
