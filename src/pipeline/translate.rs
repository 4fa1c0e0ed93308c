//! Translating a document segment by segment through the translation memory and a model
//! (Marian, or an instruct model). Every segment keeps its byte range, so the output is
//! reassembled with the original paragraphs and spacing.
//!
//! The job runs in stages, each a function below: [`look_up`] asks the memory for each
//! distinct segment (with the neighbouring segments as context): 101 and 100 matches are
//! reused as they are, fuzzy ones (≥ `min_match`) are reported, and used only with
//! `use_fuzzy`; [`translate_misses`] sends the rest to the model (not even started when the
//! memory has everything); [`record_outcomes`] turns answers into segments; [`store`] keeps
//! new pairs with origin `mt`, the model id, the document, the position and the context;
//! [`check_quality`] flags what a reader should doubt; [`assemble`] lays the document out
//! again; and [`record`] keeps what each segment was made of for the review page. Before all of them, the termbase's entries and the Chinese names in each segment are
//! found (`super::terms`): an instruct model is told their renderings, a Marian model gets them
//! protected in its input, and QA checks every translation against them.

use super::pieces::{split_long, translate_each, translate_pieces, Outcome, Partial};
use super::terms::{self, Found, Protect};
use crate::config::Precision;
use crate::memory::{context_hash, Band, DocSegment, Memory, NewUnit, Origin, Query, Status};
use crate::models::loaded::{LoadedModel, ModelSource};
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
    /// Tell the model the termbase's renderings and the names in pinyin (QA checks them
    /// either way).
    pub terms: bool,
    /// How terms reach a Marian model.
    pub protect: Protect,
    /// Look up and store translation units (off: the memory given serves its termbase only).
    pub use_memory: bool,
    /// What an instruct model is shown of the previous sentence.
    pub context: Context,
}

/// What an instruct model is shown of the previous sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Context {
    /// Its source and translation (the source alone when the translation is not known yet:
    /// the first sentence of a run).
    Full,
    /// Its source alone.
    Source,
    /// Nothing: every sentence's prompt is known at once. The default: on Qwen 1.5B the
    /// context cost half the prompt tokens and bought no chrF.
    #[default]
    None,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_match: 75,
            use_fuzzy: false,
            examples: 0,
            example_min: 50,
            terms: true,
            protect: Protect::default(),
            use_memory: true,
            context: Context::None,
        }
    }
}

impl Options {
    /// The options for a model: instruct models get examples and context.
    pub fn for_model(self, entry: &crate::models::ModelEntry) -> Options {
        if entry.architecture.is_chat() {
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

/// Where a segment's target came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentOrigin {
    /// Reused from the translation memory.
    Memory,
    /// Translated by the model now.
    Mt,
    /// The model's answer was unusable: the target is the source, and nothing was stored.
    Failed,
}

impl SegmentOrigin {
    pub fn name(self) -> &'static str {
        match self {
            SegmentOrigin::Memory => "memory",
            SegmentOrigin::Mt => "mt",
            SegmentOrigin::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub source: String,
    pub target: String,
    /// Byte offsets of `source` in the input.
    pub start: usize,
    pub end: usize,
    pub origin: SegmentOrigin,
    /// The memory's score for a reused unit (101, 100, or fuzzy with --use-fuzzy).
    pub score: Option<u8>,
    /// The memory unit reused or stored (none with --no-memory).
    pub unit_id: Option<i64>,
    /// The model that made the target, when known.
    pub model: Option<String>,
    /// int8 or fp32, when a local seq2seq model made the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
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
    /// Termbase entries found in the source (byte ranges in the input).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<crate::terms::TermMatch>,
    /// Chinese names found in the source, with their pinyin (byte ranges in the input).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<crate::terms::names::Name>,
    /// What a reader should doubt in this translation (byte ranges in the input).
    pub qa: Vec<crate::qa::QaFlag>,
}

impl Segment {
    /// A segment with only its texts set (positions are set when the document is assembled).
    fn new(source: &str, target: String) -> Segment {
        Segment {
            source: source.to_string(),
            target,
            start: 0,
            end: 0,
            origin: SegmentOrigin::Mt,
            score: None,
            unit_id: None,
            model: None,
            precision: None,
            split_into: None,
            fuzzy: None,
            examples: None,
            problem: None,
            terms: Vec::new(),
            names: Vec::new(),
            qa: Vec::new(),
        }
    }
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
    /// Segments with QA flags.
    pub flagged: usize,
    pub stored: usize,
    /// Tokens the model read and wrote for this document (engines that count them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenCounts>,
    /// Article paragraphs that look like another language than `from` (they are translated
    /// as `from` all the same; check them).
    pub other_language: Vec<OtherLanguage>,
    /// Lines taken for page junk around the article and not translated (`--keep-all`
    /// translates them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<crate::text::LeftOut>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OtherLanguage {
    /// Index of the paragraph in the article (0-based).
    pub paragraph: usize,
    pub language: &'static str,
}

/// The document's segments, and each distinct text once: a repeated sentence is looked up and
/// translated at its first place only.
struct Segments<'d> {
    paragraphs: Vec<Vec<Span>>,
    spans: Vec<Span>,
    texts: Vec<&'d str>,
    /// The first place of each distinct text.
    first: Vec<usize>,
    /// Each segment's distinct text.
    distinct_of: Vec<usize>,
}

impl<'d> Segments<'d> {
    fn of(doc: &'d Document) -> Segments<'d> {
        let paragraphs = doc.sentences();
        let spans: Vec<Span> = paragraphs.iter().flatten().copied().collect();
        let texts: Vec<&str> = spans.iter().map(|s| s.of(&doc.text)).collect();
        let mut first = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let distinct_of = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                *index.entry(t).or_insert_with(|| {
                    first.push(i);
                    first.len() - 1
                })
            })
            .collect();
        Segments {
            paragraphs,
            spans,
            texts,
            first,
            distinct_of,
        }
    }

    /// Hashes of the segments before and after segment `i` (the memory's context).
    fn context(&self, i: usize) -> (Option<String>, Option<String>) {
        (
            i.checked_sub(1).map(|p| context_hash(self.texts[p])),
            self.texts.get(i + 1).map(|n| context_hash(n)),
        )
    }

    /// The text of distinct text `u`.
    fn text(&self, u: usize) -> &'d str {
        self.texts[self.first[u]]
    }
}

/// What is known of one distinct text: its translation once there is one (positions are set
/// when the document is assembled), the memory's fuzzy hint, and examples for the model.
#[derive(Default)]
struct Slot {
    done: Option<Segment>,
    hint: Option<FuzzyMatch>,
    examples: Vec<Example>,
    found: Found,
    /// Units of this very text a reviewer rejected (id, target): the model is told them, and
    /// an answer equal to one is flagged and not stored.
    rejected: Vec<(i64, String)>,
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
    let segs = Segments::of(doc);
    let matcher = terms::matcher(memory.as_deref(), from, to)?;
    if !options.use_memory {
        memory = None;
    }
    let texts: Vec<&str> = (0..segs.first.len()).map(|u| segs.text(u)).collect();
    let mut slots: Vec<Slot> = terms::recognize(&texts, from, matcher.as_ref())
        .into_iter()
        .map(|found| Slot {
            found,
            ..Slot::default()
        })
        .collect();
    if let Some(mem) = memory.as_deref_mut() {
        look_up(&segs, from, to, mem, options, &mut slots)?;
    }
    let misses: Vec<usize> = (0..slots.len())
        .filter(|&u| slots[u].done.is_none())
        .collect();
    let (mut model_id, mut tokens, mut stored) = (None, None, 0);
    if !misses.is_empty() {
        let model = models.get()?;
        model_id = Some(model.entry.id.clone());
        let before = model.engine.tokens();
        let (outcomes, stopped) =
            translate_misses(&segs, &slots, &misses, model, options, progress)?;
        let used = model.engine.tokens() - before;
        tokens = (used.prompt + used.generated > 0).then_some(used);
        let done = outcomes.iter().flatten().count();
        record_outcomes(
            &segs,
            &mut slots,
            &misses,
            outcomes,
            (&model.entry.id, model.precision),
            options,
        );
        if let Some(mem) = memory.as_deref_mut() {
            stored = store(doc, &segs, from, to, mem, &mut slots, &misses)?;
        }
        if let Some(e) = stopped {
            // Nothing done: the cause alone (a wrong key, a server not there) says it all.
            if done == 0 {
                return Err(e);
            }
            return Err(crate::Error::Stopped {
                done,
                total: misses.len(),
                kept: match stored {
                    0 => "",
                    _ => " (they are in the memory: the same command again goes on from there)",
                },
                source: Box::new(e),
            });
        }
    }
    let model_calls = models.loaded().map_or(0, |m| m.engine.calls());
    check_quality(&segs, &mut slots, from, to);
    let mut t = assemble(doc, &segs, slots, from, to);
    if let Some(mem) = memory.as_deref_mut() {
        record(doc, from, to, mem, &t.segments)?;
    }
    t.model = model_id;
    t.translated = misses.len();
    t.stored = stored;
    t.tokens = tokens;
    t.model_calls = model_calls;
    Ok(t)
}

/// Stage 1: the memory's matches. 101/100 (and fuzzy with `use_fuzzy`) are reused, weaker
/// ones kept as hints, and matches above `example_min` kept as examples for the model.
fn look_up(
    segs: &Segments,
    from: &str,
    to: &str,
    mem: &mut Memory,
    options: &Options,
    slots: &mut [Slot],
) -> Result<()> {
    let mut reused = Vec::new();
    for (u, slot) in slots.iter_mut().enumerate() {
        let (prev, next) = segs.context(segs.first[u]);
        let mut q = Query::new(segs.text(u), from, to);
        q.prev_hash = prev.as_deref();
        q.next_hash = next.as_deref();
        q.min_score = options.min_match;
        q.limit = 1;
        if options.examples > 0 {
            q.min_score = options.min_match.min(options.example_min);
            q.limit = options.examples;
        }
        // Rejected units are asked for too (they are never reused), to be named to the model.
        let limit = q.limit;
        q.include_rejected = true;
        q.limit += 3;
        let (rejected, mut matches): (Vec<_>, Vec<_>) = mem
            .lookup(&q)?
            .into_iter()
            .partition(|m| m.unit.status == Status::Rejected);
        matches.truncate(limit);
        slot.rejected = rejected
            .into_iter()
            .filter(|m| m.score >= 100)
            .map(|m| (m.unit.id, m.unit.target))
            .collect();
        slot.examples = matches
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
            slot.done = Some(Segment {
                origin: SegmentOrigin::Memory,
                score: Some(best.score),
                unit_id: Some(best.unit.id),
                model: best.unit.model,
                precision: best.unit.precision,
                ..Segment::new(segs.text(u), best.unit.target)
            });
        } else {
            slot.hint = Some(FuzzyMatch {
                score: best.score,
                unit_id: best.unit.id,
                source: best.unit.source,
                target: best.unit.target,
            });
        }
    }
    mem.record_use(&reused)?;
    Ok(())
}

/// Stage 2: the model's translations of the misses, each with how many pieces it was sent as
/// (None where the model stopped before it, with the error that stopped it). With examples,
/// in document order (in runs, on a server: see [`translate_each`]), so the previous
/// sentence's translation is known when its successor is asked for (it was a miss before it,
/// or came from the memory); the first of a run gets the previous sentence's source alone.
fn translate_misses(
    segs: &Segments,
    slots: &[Slot],
    misses: &[usize],
    model: &mut LoadedModel,
    options: &Options,
    progress: &dyn Progress,
) -> Result<(Vec<Option<Done>>, Option<crate::Error>)> {
    // A Marian model cannot be told the terms: they are protected in its input instead.
    let how = if options.terms && options.examples == 0 {
        options.protect
    } else {
        Protect::Off
    };
    let protected: Vec<terms::Protected> = misses
        .iter()
        .map(|&u| terms::protect(segs.text(u), &slots[u].found, how))
        .collect();
    let texts: Vec<&str> = protected.iter().map(|p| p.text.as_str()).collect();
    let pieces = split_long(model, &texts)?;
    let partial = if options.examples > 0 {
        let independent = options.context != Context::Full;
        translate_each(model, &pieces, progress, independent, |k, done| {
            let i = segs.first[misses[k]];
            let shown = match options.context {
                Context::None => None,
                _ => i.checked_sub(1),
            };
            let previous = shown.and_then(|p| {
                let pu = segs.distinct_of[p];
                let target = match &slots[pu].done {
                    _ if options.context == Context::Source => Some(String::new()),
                    Some(s) if s.problem.is_none() => Some(s.target.clone()),
                    Some(_) => None,
                    // Not known yet (another run's): the source alone.
                    None => match done(misses.binary_search(&pu).ok()?) {
                        Some(outcome) => outcome.ok(),
                        None => Some(String::new()),
                    },
                }?;
                Some(Example {
                    source: segs.texts[p].to_string(),
                    target,
                })
            });
            let slot = &slots[misses[k]];
            Hint {
                examples: slot.examples.clone(),
                previous,
                terms: if options.terms {
                    terms::renderings(&slot.found)
                } else {
                    Vec::new()
                },
                rejected: slot.rejected.iter().map(|(_, t)| t.clone()).collect(),
            }
        })
    } else {
        Partial {
            outcomes: translate_pieces(model, &pieces, progress)?
                .into_iter()
                .map(Some)
                .collect(),
            stopped: None,
        }
    };
    let outcomes = partial
        .outcomes
        .into_iter()
        .zip(&protected)
        .zip(&pieces)
        .map(|((o, p), ps)| Some((o?.map(|t| terms::restore(&t, &p.slots)), ps.len())))
        .collect();
    Ok((outcomes, partial.stopped))
}

/// A miss's outcome and how many pieces it was sent as.
type Done = (Outcome, usize);

/// Stage 3: each miss becomes a segment: translated, or failed with the source kept.
fn record_outcomes(
    segs: &Segments,
    slots: &mut [Slot],
    misses: &[usize],
    outcomes: Vec<Option<Done>>,
    (model_id, precision): (&str, Option<Precision>),
    options: &Options,
) {
    for (&u, done) in misses.iter().zip(outcomes) {
        let Some((outcome, pieces)) = done else {
            continue;
        };
        let source = segs.text(u);
        let (target, origin, problem) = match outcome {
            Ok(t) => (t, SegmentOrigin::Mt, None),
            Err(p) => (source.to_string(), SegmentOrigin::Failed, Some(p)),
        };
        let slot = &mut slots[u];
        slot.done = Some(Segment {
            origin,
            model: Some(model_id.to_string()),
            precision,
            split_into: (pieces > 1).then_some(pieces),
            fuzzy: slot.hint.take(),
            examples: (options.examples > 0).then_some(slot.examples.len()),
            problem,
            ..Segment::new(source, target)
        });
    }
}

/// Stage 4: the new translations into the memory, in one transaction, with the document, the
/// position and the context. Failed and empty ones are not stored. Returns how many were.
fn store(
    doc: &Document,
    segs: &Segments,
    from: &str,
    to: &str,
    mem: &mut Memory,
    slots: &mut [Slot],
    misses: &[usize],
) -> Result<usize> {
    let mut units = Vec::new();
    for &u in misses {
        let Some(seg) = slots[u].done.as_ref() else {
            continue;
        };
        if seg.origin != SegmentOrigin::Mt
            || seg.target.trim().is_empty()
            || repeated(&slots[u].rejected, &seg.target).is_some()
        {
            continue;
        }
        let i = segs.first[u];
        let (prev, next) = segs.context(i);
        let mut unit = NewUnit::new(from, to, &seg.source, &seg.target);
        unit.origin = Origin::Mt;
        unit.model = seg.model.clone();
        unit.precision = seg.precision;
        unit.document = Some(doc.name.clone());
        unit.position = Some(i as i64);
        unit.prev_hash = prev;
        unit.next_hash = next;
        units.push((u, unit));
    }
    let mut ids = Vec::new();
    let report = mem.import(|imp| {
        for (_, unit) in &units {
            ids.push(imp.add(unit)?);
        }
        Ok::<_, crate::Error>(())
    })?;
    for ((u, _), id) in units.iter().zip(ids) {
        if let Some(seg) = slots[*u].done.as_mut() {
            seg.unit_id = id;
        }
    }
    Ok(report.added as usize)
}

/// Last stage: what the document was made of, segment by segment, for the review page: the
/// unit each used and how (101, 100, fuzzy, model, failed).
fn record(
    doc: &Document,
    from: &str,
    to: &str,
    mem: &mut Memory,
    segments: &[Segment],
) -> Result<()> {
    let recorded: Vec<DocSegment> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| DocSegment {
            position: i as i64,
            source: s.source.clone(),
            unit_id: s.unit_id,
            band: match (s.origin, s.score) {
                (SegmentOrigin::Memory, Some(101)) => Band::Context,
                (SegmentOrigin::Memory, Some(100)) => Band::Exact,
                (SegmentOrigin::Memory, _) => Band::Fuzzy,
                (SegmentOrigin::Mt, _) => Band::Model,
                (SegmentOrigin::Failed, _) => Band::Failed,
            },
            score: s.score,
            problem: s.problem.clone(),
        })
        .collect();
    Ok(mem.record_document(&doc.name, from, to, &recorded)?)
}

/// Stage 5: QA flags on every translated segment (a failed one has its problem already).
fn check_quality(segs: &Segments, slots: &mut [Slot], from: &str, to: &str) {
    for (u, slot) in slots.iter_mut().enumerate() {
        let Some(seg) = slot.done.as_mut() else {
            continue;
        };
        if seg.origin == SegmentOrigin::Failed {
            continue;
        }
        let from_memory = seg.origin == SegmentOrigin::Memory;
        seg.qa = terms::check(
            segs.text(u),
            &seg.target,
            from,
            to,
            &slot.found,
            from_memory,
        );
        seg.terms = slot.found.terms.clone();
        seg.names = slot.found.names.clone();
        if seg.origin == SegmentOrigin::Mt {
            if let Some(id) = repeated(&slot.rejected, &seg.target) {
                seg.qa.push(crate::qa::rejected_again(id, seg.source.len()));
            }
        }
    }
}

/// The rejected unit a model answer repeats, if it does.
fn repeated(rejected: &[(i64, String)], target: &str) -> Option<i64> {
    rejected
        .iter()
        .find(|(_, t)| t.trim() == target.trim())
        .map(|(id, _)| *id)
}

/// Stage 6: every segment in document order with its byte range, the translated text laid
/// out as the original, and the counts.
fn assemble(
    doc: &Document,
    segs: &Segments,
    slots: Vec<Slot>,
    from: &str,
    to: &str,
) -> Translation {
    let done: Vec<Segment> = slots
        .into_iter()
        .map(|s| s.done.expect("every segment is found or translated"))
        .collect();
    let segments: Vec<Segment> = segs
        .spans
        .iter()
        .enumerate()
        .map(|(i, span)| placed(doc, *span, segs.texts[i], &done[segs.distinct_of[i]]))
        .collect();
    let mut layout = Vec::new();
    let mut k = 0;
    for para in &segs.paragraphs {
        layout.push((k..k + para.len()).collect::<Vec<_>>());
        k += para.len();
    }
    let count = |o: SegmentOrigin| segments.iter().filter(|s| s.origin == o).count();
    Translation {
        file: doc.name.clone(),
        from: from.to_string(),
        to: to.to_string(),
        model: None,
        from_memory: count(SegmentOrigin::Memory),
        translated: 0,
        failed: count(SegmentOrigin::Failed),
        flagged: segments.iter().filter(|s| !s.qa.is_empty()).count(),
        stored: 0,
        tokens: None,
        text: reassemble(doc, &segs.paragraphs, &segments),
        segments,
        paragraphs: layout,
        model_calls: 0,
        skipped: doc.left_out_lines(),
        other_language: doc
            .foreign_paragraphs
            .iter()
            .filter(|(_, l)| *l != crate::text::langtag::primary(from))
            .map(|&(paragraph, language)| OtherLanguage {
                paragraph,
                language,
            })
            .collect(),
    }
}

/// A distinct text's segment at one of its places: its ranges (and those of its terms, names
/// and flags, which are kept relative to the segment until now) as byte ranges in the input.
fn placed(doc: &Document, span: Span, source: &str, seg: &Segment) -> Segment {
    let at = |s: usize, e: usize| {
        doc.input_range(Span {
            start: span.start + s,
            end: span.start + e,
        })
    };
    let (start, end) = doc.input_range(span);
    let mut out = Segment {
        source: source.to_string(),
        start,
        end,
        ..seg.clone()
    };
    for t in &mut out.terms {
        (t.start, t.end) = at(t.start, t.end);
    }
    for n in &mut out.names {
        (n.start, n.end) = at(n.start, n.end);
    }
    for f in &mut out.qa {
        (f.start, f.end) = at(f.start, f.end);
    }
    out
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

/// Lines of a test set, each with the memory's matches as examples (what `eval translate
/// --examples-from` measures) and the renderings of its terms and names (`--terms-from`,
/// `--names`): an instruct model is told them one line at a time; a Marian model gets them as
/// placeholders. Nothing is stored.
pub fn translate_lines_with(
    model: &mut LoadedModel,
    lines: &[&str],
    examples: &[Vec<Example>],
    found: &[Found],
    progress: &dyn Progress,
) -> Result<Vec<std::result::Result<String, String>>> {
    let empty = Found::default();
    let found_at = |k: usize| found.get(k).unwrap_or(&empty);
    if !model.entry.architecture.is_chat() {
        let protected: Vec<terms::Protected> = lines
            .iter()
            .enumerate()
            .map(|(k, l)| terms::protect(l, found_at(k), Protect::default()))
            .collect();
        let texts: Vec<&str> = protected.iter().map(|p| p.text.as_str()).collect();
        let outs = translate_lines(model, &texts, progress)?;
        return Ok(outs
            .into_iter()
            .zip(&protected)
            .map(|(o, p)| o.map(|t| terms::restore(&t, &p.slots)))
            .collect());
    }
    let pieces = split_long(model, lines)?;
    translate_each(model, &pieces, progress, true, |k, _| Hint {
        examples: examples.get(k).cloned().unwrap_or_default(),
        terms: terms::renderings(found_at(k)),
        ..Hint::default()
    })
    .all()
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
