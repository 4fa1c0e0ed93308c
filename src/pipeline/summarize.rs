//! Summaries of one document: extractive (sentence embeddings, or a lexical graph for languages
//! the embedding model does not cover) or abstractive (BART/T5, or an instruct model, chunked at
//! sentence boundaries so nothing is silently truncated).

use super::LoadedModel;
use crate::progress::Progress;
use crate::text::{Document, Span};
use crate::{summarize, Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummarySentence {
    pub text: String,
    /// Byte offsets into the input (extractive only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timings {
    pub model_ms: u64,
    pub total_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub file: String,
    pub language: Option<String>,
    pub method: String,
    pub model: String,
    pub sentences: Vec<SummarySentence>,
    pub timings: Timings,
    #[serde(default)]
    pub cached: bool,
    /// The article's own language when it was translated first (`--to`); offsets then refer
    /// to nothing in the input and are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translated_from: Option<String>,
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
/// How long a summary may be.
#[derive(Debug, Clone, Copy, Default)]
pub struct Length {
    pub sentences: Option<usize>,
    pub ratio: Option<f32>,
    pub max_words: Option<usize>,
    pub min_words: Option<usize>,
}

impl Length {
    pub fn sentences(n: usize) -> Length {
        Length {
            sentences: Some(n),
            ..Length::default()
        }
    }
}

pub fn extractive(
    doc: &Document,
    embedder: Option<&mut LoadedModel>,
    length: Length,
) -> Result<Summary> {
    let started = Instant::now();
    let spans = article_sentences(doc);
    if spans.is_empty() {
        return Err(Error::Input(format!(
            "{}: no sentence to summarize",
            doc.name
        )));
    }
    let texts: Vec<&str> = spans.iter().map(|s| s.of(&doc.text)).collect();
    let model_started = Instant::now();
    let (vectors, model) = match embedder {
        Some(m) => (
            m.engine
                .embed(texts.iter().map(|s| s.to_string()).collect())?,
            m.entry.id.clone(),
        ),
        None => (summarize::lexical_vectors(&texts), "lexical".to_string()),
    };
    let model_ms = model_started.elapsed().as_millis() as u64;
    let n = match length {
        Length {
            sentences: None,
            ratio: None,
            max_words: Some(_),
            ..
        } => usize::MAX,
        _ => summarize::budget(spans.len(), length.sentences, length.ratio),
    };
    let words: Vec<usize> = texts.iter().map(|t| t.split_whitespace().count()).collect();
    let picked = summarize::select_words(&vectors, &words, n, length.max_words, length.min_words);
    Ok(Summary {
        file: doc.name.clone(),
        language: doc.language.map(str::to_string),
        method: "extractive".into(),
        model,
        sentences: picked
            .into_iter()
            .map(|i| SummarySentence {
                text: texts[i].to_string(),
                start: Some(doc.input_range(spans[i]).0),
                end: Some(doc.input_range(spans[i]).1),
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
        return Err(Error::Input(format!(
            "{}: no sentence to summarize",
            doc.name
        )));
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
            .map_err(|e| Error::Input(format!("{}: no summary: {e}", doc.name)))?;
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
        method: "abstractive".into(),
        model: model.entry.id.clone(),
        sentences: vec![SummarySentence {
            text: summary,
            start: None,
            end: None,
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
            // Split an overlong sentence into word slices of proportional size.
            let words: Vec<&str> = s.split_whitespace().collect();
            let per = (words.len() * budget / n).max(1);
            for w in words.chunks(per) {
                if !cur.is_empty() {
                    chunks.push(cur.join(" "));
                    cur.clear();
                    cur_tokens = 0;
                }
                chunks.push(w.join(" "));
            }
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
