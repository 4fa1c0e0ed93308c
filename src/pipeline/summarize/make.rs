//! Making the summary of one document: extractive (sentence embeddings, or a lexical graph for
//! languages the embedding model does not cover) or abstractive (BART/T5, or an instruct model,
//! chunked at sentence boundaries so nothing is silently truncated).

use super::{rank, Length, Summary, SummaryMethod, SummarySentence, Timings};
use crate::error::DocumentProblem;
use crate::models::loaded::LoadedModel;
use crate::progress::Progress;
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

/// Extractive summary; `embedder` is `None` when the language is not covered, and the lexical
/// similarity vectors are used instead.
pub fn extractive(
    doc: &Document,
    embedder: Option<&mut LoadedModel>,
    length: Length,
) -> Result<Summary> {
    let started = Instant::now();
    let spans = article_sentences(doc);
    if spans.is_empty() {
        return Err(nothing_to_summarize(doc));
    }
    let texts: Vec<&str> = spans.iter().map(|s| s.of(&doc.text)).collect();
    let model_started = Instant::now();
    let (vectors, model) = match embedder {
        Some(m) => (
            m.engine
                .embed(texts.iter().map(|s| s.to_string()).collect())?,
            m.entry.id.clone(),
        ),
        None => (rank::lexical_vectors(&texts), "lexical".to_string()),
    };
    let model_ms = model_started.elapsed().as_millis() as u64;
    let n = length.sentence_budget(spans.len());
    let words: Vec<usize> = texts.iter().map(|t| t.split_whitespace().count()).collect();
    let picked = rank::select_words(&vectors, &words, n, length.max_words, length.min_words);
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
