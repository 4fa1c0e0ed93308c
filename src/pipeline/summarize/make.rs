//! Making the summary of one document: extractive (sentence embeddings, or a lexical graph for
//! languages the embedding model does not cover) or abstractive (BART/T5, or an instruct model,
//! chunked at sentence boundaries so nothing is silently truncated).

use super::{rank, Length, Summary, SummaryMethod, SummarySentence, Timings};
use crate::error::DocumentProblem;
use crate::models::loaded::LoadedModel;
use crate::progress::{Progress, Unit as ProgressUnit};
use crate::text::{words, Document, Span};
use crate::{Error, Result};
use std::time::Instant;

/// Refuse a document with no sentence before any model is started for it.
pub(super) fn check_has_sentences(doc: &Document) -> Result<()> {
    match article_sentences(doc).is_empty() {
        true => Err(nothing_to_summarize(doc)),
        false => Ok(()),
    }
}

fn nothing_to_summarize(doc: &Document) -> Error {
    Error::Document {
        name: doc.name.clone(),
        problem: DocumentProblem::NoSentences,
    }
}

/// Flattened article sentences with their spans; pieces without a letter are not sentences.
fn article_sentences(doc: &Document) -> Vec<Span> {
    doc.sentences()
        .into_iter()
        .flatten()
        .filter(|s| s.of(&doc.text).chars().any(char::is_alphabetic))
        .collect()
}

/// The most sentences of one article the embedding model compares.
const MAX_EMBEDDED: usize = 4000;

/// Sentences embedded in batches, with a bar when there are many (a long report).
fn embed(
    model: &mut LoadedModel,
    texts: &[&str],
    progress: &dyn Progress,
) -> Result<Vec<rank::Vector>> {
    const BATCH: usize = 256;
    let bar = texts.len() > BATCH;
    if bar {
        progress.start(
            "embedding sentences",
            Some(texts.len() as u64),
            ProgressUnit::Items,
        );
    }
    // Sentences of like length go together: a batch is padded to its longest.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let mut out = vec![rank::Vector::new(); texts.len()];
    for batch in order.chunks(BATCH) {
        let vectors = model
            .engine
            .embed(batch.iter().map(|&i| texts[i].to_string()).collect())?;
        for (&i, v) in batch.iter().zip(&vectors) {
            out[i] = rank::from_dense(v);
        }
        progress.advance(batch.len() as u64);
    }
    if bar {
        progress.finish();
    }
    Ok(out)
}

/// Extractive summary; `embedder` is `None` when the language is not covered, and the lexical
/// similarity vectors are used instead.
pub fn extractive(
    doc: &Document,
    embedder: Option<&mut LoadedModel>,
    length: Length,
    progress: &dyn Progress,
) -> Result<Summary> {
    let started = Instant::now();
    let spans = article_sentences(doc);
    if spans.is_empty() {
        return Err(nothing_to_summarize(doc));
    }
    let texts: Vec<&str> = spans.iter().map(|s| s.of(&doc.text)).collect();
    let words: Vec<usize> = texts.iter().map(|t| t.split_whitespace().count()).collect();
    let n = length.sentence_budget(spans.len());
    let model_started = Instant::now();
    let lexical = rank::lexical_vectors(&texts);
    // Every sentence is a candidate, but in a report longer than MAX_EMBEDDED sentences only
    // the most central by word overlap are embedded (the rest could not be picked anyway,
    // and embedding all of 2 MB takes minutes here).
    let candidates: Vec<usize> = match &embedder {
        Some(_) if texts.len() > MAX_EMBEDDED => {
            progress.warn(&format!(
                "note: {}: {} sentences; the {MAX_EMBEDDED} most central by word overlap are compared by the embedding model",
                doc.name,
                texts.len()
            ));
            rank::most_central(&lexical, MAX_EMBEDDED)
        }
        _ => (0..texts.len()).collect(),
    };
    let (vectors, model) = match embedder {
        Some(m) => {
            let chosen: Vec<&str> = candidates.iter().map(|&i| texts[i]).collect();
            (embed(m, &chosen, progress)?, m.entry.id.clone())
        }
        None => (lexical, "lexical".to_string()),
    };
    let model_ms = model_started.elapsed().as_millis() as u64;
    let candidate_words: Vec<usize> = candidates.iter().map(|&i| words[i]).collect();
    let picked: Vec<usize> = rank::select_words(
        &vectors,
        &candidate_words,
        n,
        length.max_words,
        length.min_words,
    )
    .into_iter()
    .map(|k| candidates[k])
    .collect();
    Ok(Summary {
        file: doc.name.clone(),
        language: doc.language.map(str::to_string),
        method: SummaryMethod::Extractive,
        model,
        sentences: picked
            .into_iter()
            .map(|i| {
                // One sentence longer than the whole budget is cut at a word boundary (and
                // says so), never printed whole.
                let text = match length.max_words {
                    Some(max) if words[i] > max => words::first_words(texts[i], max),
                    _ => texts[i],
                };
                let span = Span {
                    start: spans[i].start,
                    end: spans[i].start + text.len(),
                };
                SummarySentence {
                    text: text.to_string(),
                    start: Some(doc.input_range(span).0),
                    end: Some(doc.input_range(span).1),
                    cut: text.len() < texts[i].len(),
                }
            })
            .collect(),
        timings: Timings {
            model_ms,
            total_ms: started.elapsed().as_millis() as u64,
        },
        cached: false,
        translated_from: None,
    })
}

/// Abstractive summary. Articles longer than the model's input limit are cut at sentence
/// boundaries into chunks that fit (counted with the model's own tokenizer), each chunk is
/// summarized, and the joined chunk summaries are summarized again while still too long.
pub fn abstractive(
    doc: &Document,
    model: &mut LoadedModel,
    max_words: Option<usize>,
    progress: &dyn Progress,
) -> Result<Summary> {
    let started = Instant::now();
    let spans = article_sentences(doc);
    if spans.is_empty() {
        return Err(nothing_to_summarize(doc));
    }
    let limit = model.max_input_tokens.unwrap_or(512).max(16) as usize;
    let mut pieces: Vec<String> = spans.iter().map(|s| s.of(&doc.text).to_string()).collect();
    let summary = loop {
        let chunks = chunk(model, &pieces, limit)?;
        progress.note(&format!(
            "chunks: {} (input limit {limit} tokens)",
            chunks.len()
        ));
        // Instruct models are told the budget (and keep it); BART/T5 got it as lengths.
        let outs = model
            .engine
            .summarize_within(chunks.clone(), max_words)?
            .into_result()
            .map_err(|e| Error::NoSummary {
                name: doc.name.clone(),
                source: Box::new(e),
            })?;
        if outs.len() == 1 {
            break outs.into_iter().next().unwrap_or_default();
        }
        // Stop if another round would not shrink the text (random or degenerate models).
        let shrunk: usize = outs.iter().map(String::len).sum();
        if shrunk >= chunks.iter().map(String::len).sum::<usize>() {
            break outs.join(" ");
        }
        pieces = outs;
    };
    Ok(Summary {
        file: doc.name.clone(),
        language: doc.language.map(str::to_string),
        method: SummaryMethod::Abstractive,
        model: model.entry.id.clone(),
        sentences: vec![SummarySentence {
            text: summary,
            start: None,
            end: None,
            cut: false,
        }],
        timings: Timings {
            model_ms: started.elapsed().as_millis() as u64,
            total_ms: started.elapsed().as_millis() as u64,
        },
        cached: false,
        translated_from: None,
    })
}

/// Group sentences into chunks of at most `limit` tokens (a sentence longer than the limit is
/// its own chunk and is split by words).
pub fn chunk(model: &mut LoadedModel, sentences: &[String], limit: usize) -> Result<Vec<String>> {
    // Leave room for special tokens (and T5's "summarize: " prefix).
    let budget = limit.saturating_sub(8).max(8);
    let counts = model.engine.count_tokens(sentences.to_vec())?;
    let mut chunks = Vec::new();
    let (mut cur, mut cur_tokens) = (Vec::<String>::new(), 0usize);
    for (s, &n) in sentences.iter().zip(&counts) {
        if n > budget {
            // An overlong sentence: word slices of proportional size, each its own chunk.
            if !cur.is_empty() {
                chunks.push(cur.join(" "));
                cur.clear();
                cur_tokens = 0;
            }
            chunks.extend(words::equal_slices(s, n, budget));
            continue;
        }
        if cur_tokens + n > budget && !cur.is_empty() {
            chunks.push(cur.join(" "));
            cur.clear();
            cur_tokens = 0;
        }
        cur.push(s.clone());
        cur_tokens += n;
    }
    if !cur.is_empty() {
        chunks.push(cur.join(" "));
    }
    Ok(chunks)
}
