//! Translating a document segment by segment through the translation memory and a Marian
//! model. Every segment keeps its byte range, so the output is reassembled with the original
//! paragraphs and spacing.
//!
//! For each distinct segment: the memory is asked first (with the neighbouring segments as
//! context); 101 and 100 matches are reused as they are, fuzzy ones (≥ `min_match`) are
//! reported, and used only with `use_fuzzy`. The rest go to the model, in batches sorted by
//! length; the model is not even started when the memory has everything. New pairs are stored
//! with origin `mt`, the model id, the document, the position and the context.

use super::pieces::{split_long, translate_each, translate_pieces};
use super::LoadedModel;
use crate::memory::{context_hash, Memory, NewUnit, Origin, Query};
use crate::models::protocol::{Example, Hint, TokenCounts};
use crate::progress::Progress;
use crate::text::{Document, Span};
use crate::Result;
use serde::Serialize;
use std::collections::HashMap;

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
