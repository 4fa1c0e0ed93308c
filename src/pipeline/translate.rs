//! Translating a document segment by segment through the translation memory and a Marian
//! model. Every segment keeps its byte range, so the output is reassembled with the original
//! paragraphs and spacing.
//!
//! For each distinct segment: the memory is asked first (with the neighbouring segments as
//! context); 101 and 100 matches are reused as they are, fuzzy ones (≥ `min_match`) are
//! reported, and used only with `use_fuzzy`. The rest go to the model, in batches sorted by
//! length; the model is not even started when the memory has everything. New pairs are stored
//! with origin `mt`, the model id, the document, the position and the context.

use super::LoadedModel;
use crate::memory::{context_hash, Memory, NewUnit, Origin, Query};
use crate::models::protocol::{Example, Hint, TokenCounts};
use crate::progress::{Progress, Unit};
use crate::text::{Document, Span};
use crate::Result;
use serde::Serialize;
use std::collections::HashMap;

const BATCH: usize = 16;

#[derive(Debug, Clone)]
pub struct Options {
    /// Lowest fuzzy score reported (and used with `use_fuzzy`).
    pub min_match: u8,
    pub use_fuzzy: bool,
    /// Memory matches shown to an instruct model as examples (0: none, and segments go to
    /// the model in batches; more: one at a time in document order, each prompt with its
    /// examples and the previous sentence's translation).
    pub examples: usize,
    /// Lowest score of a memory match used as an example.
    pub example_min: u8,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_match: 75,
            use_fuzzy: false,
            examples: 0,
            example_min: 50,
        }
    }
}

impl Options {
    /// The options for a model: instruct models get examples and context.
    pub fn for_model(self, entry: &crate::models::ModelEntry) -> Options {
        if entry.architecture == crate::models::Architecture::Gguf {
            Options {
                examples: 3,
                ..self
            }
        } else {
            self
        }
    }
}

/// A fuzzy match the memory had for a segment, shown beside the translation.
#[derive(Debug, Clone, Serialize)]
pub struct FuzzyMatch {
    pub score: u8,
    pub unit_id: i64,
    pub source: String,
    pub target: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub source: String,
    pub target: String,
    /// Byte offsets of `source` in the input.
    pub start: usize,
    pub end: usize,
    /// `memory` (reused from the translation memory), `mt` (translated now) or `failed` (the
    /// model's answer was unusable: `target` is then the source, and nothing was stored).
    pub origin: &'static str,
    /// The memory's score for a reused unit (101, 100, or fuzzy with --use-fuzzy).
    pub score: Option<u8>,
    /// The memory unit reused or stored (none with --no-memory).
    pub unit_id: Option<i64>,
    /// The model that made the target, when known.
    pub model: Option<String>,
    /// Pieces the model got when the segment was over its input limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_into: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuzzy: Option<FuzzyMatch>,
    /// Memory matches the model was shown as examples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub examples: Option<usize>,
    /// Why the model's answer was not used (origin `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Translation {
    pub file: String,
    pub from: String,
    pub to: String,
    /// The model used for new translations (none when everything came from memory).
    pub model: Option<String>,
    pub segments: Vec<Segment>,
    /// Segment indices per paragraph, to lay the output out.
    #[serde(skip)]
    pub paragraphs: Vec<Vec<usize>>,
    /// The translated article, paragraphs separated by blank lines.
    pub text: String,
    /// Translation batches sent to the model (0 when the memory had everything).
    pub model_calls: usize,
    pub from_memory: usize,
    pub translated: usize,
    /// Segments whose translation failed (origin `failed`).
    pub failed: usize,
    pub stored: usize,
    /// Tokens the model read and wrote for this document (engines that count them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenCounts>,
    /// Article paragraphs that look like another language than `from` (they are translated
    /// as `from` all the same; check them).
    pub other_language: Vec<OtherLanguage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OtherLanguage {
    /// Index of the paragraph in the article (0-based).
    pub paragraph: usize,
    pub language: &'static str,
}

/// Where translations come from when the memory has none: a model loaded on first need.
pub trait ModelSource {
    fn get(&mut self) -> Result<&mut LoadedModel>;
    fn loaded(&mut self) -> Option<&mut LoadedModel>;
}

pub fn translate(
    doc: &Document,
    from: &str,
    to: &str,
    mut memory: Option<&mut Memory>,
    models: &mut dyn ModelSource,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Translation> {
    let paragraphs = doc.sentences();
    let spans: Vec<Span> = paragraphs.iter().flatten().copied().collect();
    let texts: Vec<&str> = spans.iter().map(|s| s.of(&doc.text)).collect();
    let context = |i: usize| {
        (
            i.checked_sub(1).map(|p| context_hash(texts[p])),
            texts.get(i + 1).map(|n| context_hash(n)),
        )
    };
    // Repeated segments are looked up and translated once, at their first place.
    let mut first: Vec<usize> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let of_segment: Vec<usize> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            *index.entry(t).or_insert_with(|| {
                first.push(i);
                first.len() - 1
            })
        })
        .collect();

    struct Found {
        target: String,
        origin: &'static str,
        score: Option<u8>,
        unit_id: Option<i64>,
        model: Option<String>,
        split_into: Option<usize>,
        fuzzy: Option<FuzzyMatch>,
        examples: Option<usize>,
        problem: Option<String>,
    }
    let mut found: Vec<Option<Found>> = (0..first.len()).map(|_| None).collect();
    let mut hints: Vec<Option<FuzzyMatch>> = vec![None; first.len()];
    let mut examples: Vec<Vec<Example>> = vec![Vec::new(); first.len()];
    if let Some(mem) = memory.as_deref_mut() {
        let mut reused = Vec::new();
        for (u, &i) in first.iter().enumerate() {
            let (prev, next) = context(i);
            let mut q = Query::new(texts[i], from, to);
            q.prev_hash = prev.as_deref();
            q.next_hash = next.as_deref();
            q.min_score = options.min_match;
            q.limit = 1;
            if options.examples > 0 {
                q.min_score = options.min_match.min(options.example_min);
                q.limit = options.examples;
            }
            let matches = mem.lookup(&q)?;
            examples[u] = matches
                .iter()
                .filter(|m| m.score >= options.example_min && m.score < 101)
                .map(|m| Example {
                    source: m.unit.source.clone(),
                    target: m.unit.target.clone(),
                })
                .collect();
            let Some(best) = matches.into_iter().next() else {
                continue;
            };
            if best.score < options.min_match {
                continue;
            }
            if best.score >= 100 || options.use_fuzzy {
                reused.push(best.unit.id);
                found[u] = Some(Found {
                    target: best.unit.target,
                    origin: "memory",
                    score: Some(best.score),
                    unit_id: Some(best.unit.id),
                    model: best.unit.model,
                    split_into: None,
                    fuzzy: None,
                    examples: None,
                    problem: None,
                });
            } else {
                hints[u] = Some(FuzzyMatch {
                    score: best.score,
                    unit_id: best.unit.id,
                    source: best.unit.source,
                    target: best.unit.target,
                });
            }
        }
        mem.record_use(&reused)?;
    }

    let misses: Vec<usize> = (0..first.len()).filter(|&u| found[u].is_none()).collect();
    let mut model_id = None;
    let mut stored = 0;
    let mut tokens = None;
    if !misses.is_empty() {
        let model = models.get()?;
        model_id = Some(model.entry.id.clone());
        let before = model.engine.tokens;
        let miss_texts: Vec<&str> = misses.iter().map(|&u| texts[first[u]]).collect();
        let pieces = split_long(model, &miss_texts)?;
        let targets = if options.examples > 0 {
            // One at a time in document order: the previous sentence's translation is known
            // when its successor is asked for (it is a miss before it, or came from memory).
            translate_each(model, &pieces, progress, |k, so_far| {
                let i = first[misses[k]];
                let previous = i.checked_sub(1).and_then(|p| {
                    let pu = of_segment[p];
                    let target = match &found[pu] {
                        Some(f) if f.problem.is_none() => Some(f.target.clone()),
                        Some(_) => None,
                        None => misses
                            .binary_search(&pu)
                            .ok()
                            .and_then(|pk| so_far.get(pk)?.as_ref().ok().cloned()),
                    }?;
                    Some(Example {
                        source: texts[p].to_string(),
                        target,
                    })
                });
                Hint {
                    examples: examples[misses[k]].clone(),
                    previous,
                }
            })?
        } else {
            translate_pieces(model, &pieces, progress)?
        };
        let after = model.engine.tokens;
        if after.prompt + after.generated > before.prompt + before.generated {
            tokens = Some(TokenCounts {
                prompt: after.prompt - before.prompt,
                generated: after.generated - before.generated,
                millis: after.millis - before.millis,
            });
        }
        let mut units = Vec::new();
        for (k, &u) in misses.iter().enumerate() {
            let i = first[u];
            let (prev, next) = context(i);
            let (target, problem) = match &targets[k] {
                Ok(t) => (t.clone(), None),
                Err(p) => (texts[i].to_string(), Some(p.clone())),
            };
            if memory.is_some() && problem.is_none() && !target.trim().is_empty() {
                let mut unit = NewUnit::new(from, to, texts[i], &target);
                unit.origin = Origin::Mt;
                unit.model = model_id.clone();
                unit.document = Some(doc.name.clone());
                unit.position = Some(i as i64);
                unit.prev_hash = prev;
                unit.next_hash = next;
                units.push((u, unit));
            }
            found[u] = Some(Found {
                target,
                origin: if problem.is_some() { "failed" } else { "mt" },
                score: None,
                unit_id: None,
                model: model_id.clone(),
                split_into: (pieces[k].len() > 1).then_some(pieces[k].len()),
                fuzzy: hints[u].take(),
                examples: (options.examples > 0).then_some(examples[u].len()),
                problem,
            });
        }
        if let Some(mem) = memory.as_deref_mut() {
            let mut ids = Vec::new();
            let report = mem.import(|imp| {
                for (_, unit) in &units {
                    ids.push(imp.add(unit)?);
                }
                Ok::<_, crate::Error>(())
            })?;
            stored = report.added as usize;
            for ((u, _), id) in units.iter().zip(ids) {
                if let Some(f) = found[*u].as_mut() {
                    f.unit_id = id;
                }
            }
        }
    }

    let found: Vec<Found> = found
        .into_iter()
        .map(|f| f.expect("every segment is found or translated"))
        .collect();
    let segments: Vec<Segment> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let f = &found[of_segment[i]];
            let (start, end) = doc.input_range(*s);
            Segment {
                source: texts[i].to_string(),
                target: f.target.clone(),
                start,
                end,
                origin: f.origin,
                score: f.score,
                unit_id: f.unit_id,
                model: f.model.clone(),
                split_into: f.split_into,
                fuzzy: f.fuzzy.clone(),
                examples: f.examples,
                problem: f.problem.clone(),
            }
        })
        .collect();
    let mut layout = Vec::new();
    let mut k = 0;
    for para in &paragraphs {
        layout.push((k..k + para.len()).collect::<Vec<_>>());
        k += para.len();
    }
    let text = reassemble(doc, &paragraphs, &segments);
    let model_calls = models.loaded().map_or(0, |m| m.engine.calls);
    Ok(Translation {
        file: doc.name.clone(),
        from: from.to_string(),
        to: to.to_string(),
        model: model_id,
        from_memory: segments.iter().filter(|s| s.origin == "memory").count(),
        translated: misses.len(),
        failed: segments.iter().filter(|s| s.origin == "failed").count(),
        stored,
        tokens,
        segments,
        paragraphs: layout,
        text,
        model_calls,
        other_language: doc
            .foreign_paragraphs
            .iter()
            .filter(|(_, l)| *l != from)
            .map(|&(paragraph, language)| OtherLanguage {
                paragraph,
                language,
            })
            .collect(),
    })
}

/// Translate lines as they are (one segment each, no memory): for test sets, whose lines must
/// stay aligned with their references.
/// A failed line is Err with the reason.
pub fn translate_lines(
    model: &mut LoadedModel,
    lines: &[&str],
    progress: &dyn Progress,
) -> Result<Vec<std::result::Result<String, String>>> {
    let pieces = split_long(model, lines)?;
    translate_pieces(model, &pieces, progress)
}

/// Lines of a test set, one at a time, each with the memory's matches as examples (what
/// `eval translate --examples-from` measures). Nothing is stored.
pub fn translate_lines_with_examples(
    model: &mut LoadedModel,
    lines: &[&str],
    examples: &[Vec<Example>],
    progress: &dyn Progress,
) -> Result<Vec<std::result::Result<String, String>>> {
    let pieces = split_long(model, lines)?;
    translate_each(model, &pieces, progress, |k, _| Hint {
        examples: examples.get(k).cloned().unwrap_or_default(),
        previous: None,
    })
}

/// The best memory matches of `text` scoring at least `min`, as examples.
pub fn examples_for(
    memory: &Memory,
    text: &str,
    from: &str,
    to: &str,
    min: u8,
    limit: usize,
) -> Result<Vec<Example>> {
    let mut q = Query::new(text, from, to);
    q.min_score = min;
    q.limit = limit;
    // A 100/101 match is the answer itself, not an example.
    Ok(memory
        .lookup(&q)?
        .into_iter()
        .filter(|m| m.score < 100)
        .map(|m| Example {
            source: m.unit.source,
            target: m.unit.target,
        })
        .collect())
}

/// Each text as the pieces the model gets: itself, or, when it is over the model's input
/// limit, clauses (split after , ; : and dashes) grouped to fit; words as a last resort.
/// Nothing is ever cut off.
fn split_long(model: &mut LoadedModel, texts: &[&str]) -> Result<Vec<Vec<String>>> {
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
                let words: Vec<&str> = c.split_whitespace().collect();
                let per = (words.len() * budget / cn).max(1);
                words.chunks(per).map(|w| w.join(" ")).collect()
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
fn join_pieces(
    pieces: &[Vec<String>],
    flat: &[(usize, &str)],
    outs: Vec<std::result::Result<String, String>>,
) -> Vec<std::result::Result<String, String>> {
    let mut joined: Vec<std::result::Result<String, String>> =
        vec![Ok(String::new()); pieces.len()];
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

/// Translate every text one after another, each piece with the hint `hint(k, done)` for its
/// text, where `done` holds the texts before it.
fn translate_each(
    model: &mut LoadedModel,
    pieces: &[Vec<String>],
    progress: &dyn Progress,
    mut hint: impl FnMut(usize, &[std::result::Result<String, String>]) -> Hint,
) -> Result<Vec<std::result::Result<String, String>>> {
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
    let mut out = Vec::with_capacity(pieces.len());
    for (k, ps) in pieces.iter().enumerate() {
        let h = hint(k, &out);
        let answers = model.engine.translate_with(ps.clone(), vec![h; ps.len()])?;
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
        let joined = join_pieces(std::slice::from_ref(ps), &flat, outs)
            .pop()
            .expect("one text");
        out.push(joined);
        progress.advance(1);
        let t = model.engine.tokens;
        if t.millis > 0 {
            progress.relabel(&format!(
                "translating, {:.1} tokens/s written",
                t.generated as f64 * 1000.0 / t.millis as f64
            ));
        }
    }
    progress.finish();
    Ok(out)
}

/// Translate every piece, shortest first in batches, and join each text's pieces again.
fn translate_pieces(
    model: &mut LoadedModel,
    pieces: &[Vec<String>],
    progress: &dyn Progress,
) -> Result<Vec<std::result::Result<String, String>>> {
    let flat = flatten(pieces);
    let mut order: Vec<usize> = (0..flat.len()).collect();
    order.sort_by_key(|&i| flat[i].1.len());
    let words: usize = flat.iter().map(|(_, p)| p.split_whitespace().count()).sum();
    progress.start(
        &format!("translating {} segments, {words} words", pieces.len()),
        Some(flat.len() as u64),
        Unit::Items,
    );
    let mut outs: Vec<std::result::Result<String, String>> = vec![Ok(String::new()); flat.len()];
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

/// The translated paragraphs, with the original spacing between sentences.
fn reassemble(doc: &Document, paragraphs: &[Vec<Span>], segments: &[Segment]) -> String {
    let mut text = String::new();
    let mut k = 0;
    for (pi, para) in paragraphs.iter().enumerate() {
        if pi > 0 {
            text.push_str("\n\n");
        }
        for (si, span) in para.iter().enumerate() {
            if si > 0 {
                let gap = &doc.text[para[si - 1].end..span.start];
                text.push_str(if gap.is_empty() { " " } else { gap });
            }
            text.push_str(&segments[k].target);
            k += 1;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_cut_after_punctuation_and_dashes() {
        assert_eq!(
            clauses("Один, два; три: четыре — пять-шесть"),
            ["Один,", "два;", "три:", "четыре —", "пять-шесть"]
        );
        assert_eq!(clauses("a,b"), ["a,b"]);
    }
}
