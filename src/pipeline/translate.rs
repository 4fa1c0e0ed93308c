//! Translating a document sentence by sentence with a Marian model, keeping each segment's byte
//! range so the output is reassembled paragraph by paragraph. (The translation memory joins
//! this pipeline next.)

use super::LoadedModel;
use crate::progress::{Progress, Unit};
use crate::text::{Document, Span};
use crate::Result;
use serde::Serialize;
use std::collections::HashMap;

const BATCH: usize = 16;

#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub source: String,
    pub target: String,
    pub start: usize,
    pub end: usize,
    pub origin: &'static str,
    pub model: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Translation {
    pub file: String,
    pub from: String,
    pub to: String,
    pub model: String,
    pub segments: Vec<Segment>,
    /// The translated article, one paragraph per line pair.
    pub text: String,
    /// Model calls made (batches).
    pub model_calls: usize,
}

pub fn translate(
    doc: &Document,
    from: &str,
    to: &str,
    model: &mut LoadedModel,
    progress: &dyn Progress,
) -> Result<Translation> {
    let paragraphs = doc.sentences();
    let spans: Vec<Span> = paragraphs.iter().flatten().copied().collect();
    // Repeated sentences are translated once.
    let mut unique: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for s in &spans {
        let t = s.of(&doc.text);
        index.entry(t).or_insert_with(|| {
            unique.push(t);
            unique.len() - 1
        });
    }
    // Similar lengths in a batch waste less padding.
    let mut order: Vec<usize> = (0..unique.len()).collect();
    order.sort_by_key(|&i| unique[i].len());
    let mut targets = vec![String::new(); unique.len()];
    progress.start("translating", Some(unique.len() as u64), Unit::Items);
    let calls_before = model.engine.calls;
    for batch in order.chunks(BATCH) {
        let texts = batch.iter().map(|&i| unique[i].to_string()).collect();
        for (&i, out) in batch.iter().zip(model.engine.translate(texts)?) {
            targets[i] = out;
        }
        progress.advance(batch.len() as u64);
    }
    progress.finish();
    let segments: Vec<Segment> = spans
        .iter()
        .map(|s| {
            let source = s.of(&doc.text);
            Segment {
                source: source.to_string(),
                target: targets[index[source]].clone(),
                start: s.start,
                end: s.end,
                origin: "mt",
                model: model.entry.id.clone(),
            }
        })
        .collect();
    let mut text = String::new();
    let mut k = 0;
    for (pi, para) in paragraphs.iter().enumerate() {
        if pi > 0 {
            text.push_str("\n\n");
        }
        // Keep the spacing between sentences as it was in the original paragraph.
        for (si, span) in para.iter().enumerate() {
            if si > 0 {
                let gap = &doc.text[para[si - 1].end..span.start];
                text.push_str(if gap.is_empty() { " " } else { gap });
            }
            text.push_str(&segments[k].target);
            k += 1;
        }
    }
    Ok(Translation {
        file: doc.name.clone(),
        from: from.to_string(),
        to: to.to_string(),
        model: model.entry.id.clone(),
        segments,
        text,
        model_calls: model.engine.calls - calls_before,
    })
}
