//! The match-band report CAT tools give before a job: how much of a document the memory
//! already covers, in segments and words per band.

use crate::memory::{context_hash, normalized_key, Memory, Query};
use crate::text::Document;
use crate::Result;
use serde::Serialize;
use std::collections::HashSet;

/// Bands from best to worst; "repetitions" are segments seen earlier in the same document.
pub const BANDS: [&str; 8] = [
    "101",
    "100",
    "95-99",
    "85-94",
    "75-84",
    "50-74",
    "no match",
    "repetitions",
];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Band {
    pub band: &'static str,
    pub segments: u64,
    pub words: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub file: String,
    pub from: String,
    pub to: String,
    pub segments: u64,
    pub words: u64,
    pub bands: Vec<Band>,
    /// Lines taken for page junk around the article and not analyzed (`--keep-all` analyzes
    /// them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<crate::text::LeftOut>,
}

fn band_of(score: Option<u8>) -> usize {
    match score {
        Some(101) => 0,
        Some(100) => 1,
        Some(95..=99) => 2,
        Some(85..=94) => 3,
        Some(75..=84) => 4,
        Some(50..=74) => 5,
        _ => 6,
    }
}

/// Look every segment of the article up (with its context) and count it in its band.
pub fn analyze(doc: &Document, from: &str, to: &str, memory: &Memory) -> Result<Analysis> {
    let spans: Vec<&str> = doc
        .sentences()
        .into_iter()
        .flatten()
        .map(|s| s.of(&doc.text))
        .collect();
    let mut bands: Vec<Band> = BANDS
        .iter()
        .map(|b| Band {
            band: b,
            segments: 0,
            words: 0,
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total_words = 0;
    for (i, source) in spans.iter().enumerate() {
        let key = normalized_key(source);
        let words = source.split_whitespace().count() as u64;
        total_words += words;
        let band = if !seen.insert(key) {
            7
        } else {
            let prev = i.checked_sub(1).map(|p| context_hash(spans[p]));
            let next = spans.get(i + 1).map(|n| context_hash(n));
            let mut q = Query::new(source, from, to);
            q.prev_hash = prev.as_deref();
            q.next_hash = next.as_deref();
            q.min_score = 50;
            q.limit = 1;
            band_of(memory.lookup(&q)?.first().map(|m| m.score))
        };
        bands[band].segments += 1;
        bands[band].words += words;
    }
    Ok(Analysis {
        file: doc.name.clone(),
        from: from.to_string(),
        to: to.to_string(),
        segments: spans.len() as u64,
        words: total_words,
        bands,
        skipped: doc.left_out_lines(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::NewUnit;

    #[test]
    fn counts_bands_and_repetitions() {
        let dir = tempfile::tempdir().unwrap();
        let mut mem = Memory::open(&dir.path().join("tm.sqlite")).unwrap();
        mem.add(&NewUnit::new(
            "ru",
            "en",
            "Завод открыли в прошлом году на севере.",
            "x",
        ))
        .unwrap();
        mem.add(&NewUnit::new(
            "ru",
            "en",
            "Работы начнутся весной и закончатся осенью.",
            "y",
        ))
        .unwrap();
        let text =
            "Завод открыли в прошлом году на севере. Работы начнутся летом и закончатся осенью. \
                    Погода была хорошей весь день. Завод открыли в прошлом году на севере.\n";
        let doc = Document::from_bytes(text.as_bytes().to_vec(), "t.txt", true).unwrap();
        let a = analyze(&doc, "ru", "en", &mem).unwrap();
        let count = |b: &str| a.bands.iter().find(|x| x.band == b).unwrap().segments;
        assert_eq!(a.segments, 4);
        assert_eq!(
            (
                count("100"),
                count("75-84"),
                count("no match"),
                count("repetitions")
            ),
            (1, 1, 1, 1)
        );
        // Words counted by hand, sentence by sentence (7, 6, 5 and the repeated 7), not by the
        // loop that fills the bands; the document's own word count agrees.
        assert_eq!(text.split_whitespace().count(), 7 + 6 + 5 + 7);
        assert_eq!(a.words, 25);
        let words = |b: &str| a.bands.iter().find(|x| x.band == b).unwrap().words;
        assert_eq!(
            (
                words("100"),
                words("75-84"),
                words("no match"),
                words("repetitions")
            ),
            (7, 6, 5, 7)
        );
        for b in ["101", "95-99", "85-94", "50-74"] {
            assert_eq!((count(b), words(b)), (0, 0), "{b}");
        }
    }
}
