//! Terminology in translation: what the termbase and the name reader find in each segment, the
//! renderings an instruct model is told to use, terms protected in a Marian model's input, and
//! the QA flags on the result.

use crate::memory::Memory;
use crate::models::protocol::Rendering;
use crate::qa::{self, QaFlag, QaKind};
use crate::terms::names::{self, Name};
use crate::terms::{Matcher, TermMatch, TermStatus};
use crate::Result;

/// How terms reach a seq2seq (Marian) model, which cannot be told them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protect {
    /// Each term is replaced by a placeholder the model copies (`ZX0`), and the rendering is
    /// put back in its place afterwards.
    #[default]
    Placeholder,
    /// Each term is replaced by its target rendering, which the model is left to copy.
    Inline,
    /// Terms are only checked afterwards.
    Off,
}

/// What was found in one segment: termbase entries and Chinese names, byte ranges into it.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub terms: Vec<TermMatch>,
    pub names: Vec<Name>,
}

/// The termbase of a language pair, loaded from the memory (none without one).
pub(super) fn matcher(memory: Option<&Memory>, from: &str, to: &str) -> Result<Option<Matcher>> {
    let Some(mem) = memory else {
        return Ok(None);
    };
    let terms = mem.terms_for(from, to)?;
    Ok((!terms.is_empty()).then(|| Matcher::new(from, terms)))
}

/// Terms and names in each text. Names are read in Russian only (Palladius is a Russian
/// system), over the whole document so a declined form is resolved by the others.
pub(super) fn recognize(texts: &[&str], from: &str, matcher: Option<&Matcher>) -> Vec<Found> {
    let names = if crate::text::langtag::primary(from) == "ru" {
        names::find_in_texts(texts)
    } else {
        vec![Vec::new(); texts.len()]
    };
    texts
        .iter()
        .zip(names)
        .map(|(text, names)| {
            let terms = matcher.map(|m| m.find(text)).unwrap_or_default();
            // A name the termbase has an entry for is the termbase's.
            let names = names
                .into_iter()
                .filter(|n| !terms.iter().any(|t| t.start < n.end && n.start < t.end))
                .collect();
            Found { terms, names }
        })
        .collect()
}

/// The renderings an instruct model is told: termbase entries (preferred to use, forbidden to
/// avoid), then names as pinyin.
pub(super) fn renderings(found: &Found) -> Vec<Rendering> {
    let mut out: Vec<Rendering> = found
        .terms
        .iter()
        .map(|t| Rendering {
            source: t.source.clone(),
            target: t.target.clone(),
            forbidden: t.status == TermStatus::Forbidden,
        })
        .collect();
    out.extend(found.names.iter().map(|n| Rendering {
        source: n.base.clone(),
        target: n.pinyin.clone(),
        forbidden: false,
    }));
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert((r.source.clone(), r.target.clone())));
    out
}

/// A text as a seq2seq model gets it, and what to put back into its translation.
pub(super) struct Protected {
    pub text: String,
    /// (placeholder, rendering) pairs.
    pub slots: Vec<(String, String)>,
}

/// The text with each preferred term and name replaced, as `how` says.
pub(super) fn protect(text: &str, found: &Found, how: Protect) -> Protected {
    let mut spans: Vec<(usize, usize, &str)> = found
        .terms
        .iter()
        .filter(|t| t.status == TermStatus::Preferred)
        .map(|t| (t.start, t.end, t.target.as_str()))
        .chain(
            found
                .names
                .iter()
                .map(|n| (n.start, n.end, n.pinyin.as_str())),
        )
        .collect();
    spans.sort_by_key(|s| s.0);
    spans.dedup_by_key(|s| s.0);
    if how == Protect::Off || spans.is_empty() {
        return Protected {
            text: text.to_string(),
            slots: Vec::new(),
        };
    }
    let (mut out, mut slots, mut at) = (String::new(), Vec::new(), 0);
    for (start, end, rendering) in spans {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        match how {
            Protect::Placeholder => {
                let mark = format!("ZX{}", slots.len());
                out.push_str(&mark);
                slots.push((mark, rendering.to_string()));
            }
            _ => out.push_str(rendering),
        }
        at = end;
    }
    out.push_str(&text[at..]);
    Protected { text: out, slots }
}

/// The translation with each placeholder the model kept replaced by its rendering.
pub(super) fn restore(translation: &str, slots: &[(String, String)]) -> String {
    let mut out = translation.to_string();
    // Longest marks first, so ZX1 does not eat the start of ZX10.
    let mut order: Vec<&(String, String)> = slots.iter().collect();
    order.sort_by_key(|(m, _)| std::cmp::Reverse(m.len()));
    for (mark, rendering) in order {
        out = out.replace(mark.as_str(), rendering);
    }
    out
}

/// The QA flags of one translated segment. A memory unit reused as it is gets its term
/// problems as `memory_conflict`: its target contradicts the termbase.
pub(super) fn check(
    source: &str,
    target: &str,
    from: &str,
    to: &str,
    found: &Found,
    from_memory: bool,
) -> Vec<QaFlag> {
    let checks = qa::Checks {
        from,
        to,
        terms: &found.terms,
        names: &found.names,
    };
    let mut flags = qa::check(source, target, &checks);
    if from_memory {
        for f in &mut flags {
            if matches!(f.kind, QaKind::MissingTerm | QaKind::ForbiddenTerm) {
                f.kind = QaKind::MemoryConflict;
                f.detail = format!("memory match: {}", f.detail);
            }
        }
    }
    flags
}

/// The terms and names of each line of a test set (`eval translate --terms-from/--names`):
/// entries from `memory`'s termbase when given, names when `names` is set.
pub fn find_in_lines(
    lines: &[&str],
    from: &str,
    to: &str,
    memory: Option<&Memory>,
    names: bool,
) -> Result<Vec<Found>> {
    let matcher = matcher(memory, from, to)?;
    let mut found = recognize(lines, from, matcher.as_ref());
    if !names {
        found.iter_mut().for_each(|f| f.names.clear());
    }
    Ok(found)
}

/// One aligned piece of an existing translation and its QA flags (`terms check`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Checked {
    pub source: String,
    pub target: String,
    /// Byte range of `source` in the source document.
    pub start: usize,
    pub end: usize,
    pub qa: Vec<QaFlag>,
}

/// How `check_translation` paired the two documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Alignment {
    /// Sentence by sentence (same number of sentences in each paragraph pair).
    Sentences,
    /// Paragraph by paragraph (same number of paragraphs).
    Paragraphs,
    /// The documents as a whole (their paragraphs do not pair up).
    Document,
}

/// QA of an existing translation: the documents are paired paragraph by paragraph (sentence by
/// sentence where both have as many), else checked as a whole.
pub fn check_translation(
    source: &crate::text::Document,
    translation: &str,
    from: &str,
    to: &str,
    memory: Option<&Memory>,
) -> Result<(Alignment, Vec<Checked>)> {
    use crate::text::Span;
    let matcher = matcher(memory, from, to)?;
    let tgt_paras = crate::text::reader::paragraphs(translation);
    let src_paras = &source.paragraphs;
    let whole = |t: &str| Span {
        start: 0,
        end: t.len(),
    };
    let mut pairs: Vec<(Span, &str)> = Vec::new();
    let alignment = if src_paras.len() == tgt_paras.len() {
        let mut sentences = true;
        for (sp, tp) in src_paras.iter().zip(&tgt_paras) {
            let ss = crate::text::segment::sentences(&source.text, *sp);
            let ts = crate::text::segment::sentences(translation, *tp);
            if ss.len() == ts.len() {
                pairs.extend(ss.iter().zip(&ts).map(|(s, t)| (*s, t.of(translation))));
            } else {
                sentences = false;
                pairs.push((*sp, tp.of(translation)));
            }
        }
        if sentences {
            Alignment::Sentences
        } else {
            Alignment::Paragraphs
        }
    } else {
        pairs.push((whole(&source.text), translation));
        Alignment::Document
    };
    let texts: Vec<&str> = pairs.iter().map(|(s, _)| s.of(&source.text)).collect();
    let found = recognize(&texts, from, matcher.as_ref());
    let checked = pairs
        .iter()
        .zip(&found)
        .map(|((span, target), found)| {
            let text = span.of(&source.text);
            let (start, end) = source.input_range(*span);
            let qa = check(text, target, from, to, found, false)
                .into_iter()
                .map(|f| {
                    let (s, e) = source.input_range(Span {
                        start: span.start + f.start,
                        end: span.start + f.end,
                    });
                    QaFlag {
                        start: s,
                        end: e,
                        ..f
                    }
                })
                .collect();
            Checked {
                source: text.to_string(),
                target: target.trim().to_string(),
                start,
                end,
                qa,
            }
        })
        .collect();
    Ok((alignment, checked))
}

/// QA of stored units (`memory qa`): the units a filter selects that have flags.
pub fn check_units(
    memory: &Memory,
    filter: &crate::memory::Filter,
) -> Result<Vec<(crate::memory::Unit, Vec<QaFlag>)>> {
    let mut matchers: std::collections::HashMap<(String, String), Option<Matcher>> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    memory.list(filter, |unit| {
        let pair = (unit.source_lang.clone(), unit.target_lang.clone());
        if !matchers.contains_key(&pair) {
            let m = matcher(Some(memory), &pair.0, &pair.1)?;
            matchers.insert(pair.clone(), m);
        }
        let found = recognize(&[unit.source.as_str()], &pair.0, matchers[&pair].as_ref())
            .pop()
            .unwrap_or_default();
        let flags = check(&unit.source, &unit.target, &pair.0, &pair.1, &found, false);
        if !flags.is_empty() {
            out.push((unit, flags));
        }
        Ok::<_, crate::Error>(())
    })?;
    Ok(out)
}

/// The terms, names and QA flags of a document's stored units (the review page), names read
/// over the whole document as `translate` reads them.
pub fn check_document(
    memory: &Memory,
    units: &[crate::memory::Unit],
) -> Result<Vec<(Found, Vec<QaFlag>)>> {
    let Some(first) = units.first() else {
        return Ok(Vec::new());
    };
    let (from, to) = (first.source_lang.as_str(), first.target_lang.as_str());
    let matcher = matcher(Some(memory), from, to)?;
    let texts: Vec<&str> = units.iter().map(|u| u.source.as_str()).collect();
    let found = recognize(&texts, from, matcher.as_ref());
    Ok(units
        .iter()
        .zip(found)
        .map(|(u, f)| {
            let flags = check(
                &u.source,
                &u.target,
                &u.source_lang,
                &u.target_lang,
                &f,
                false,
            );
            (f, flags)
        })
        .collect())
}

/// The Chinese names of a document, once each (first place), byte ranges in the input.
pub fn names_in(doc: &crate::text::Document) -> Vec<Name> {
    let spans: Vec<crate::text::Span> = doc.paragraphs.clone();
    let texts: Vec<&str> = spans.iter().map(|s| s.of(&doc.text)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (span, names) in spans.iter().zip(names::find_in_texts(&texts)) {
        for n in names {
            if seen.insert(n.base.clone()) {
                let (start, end) = doc.input_range(crate::text::Span {
                    start: span.start + n.start,
                    end: span.start + n.end,
                });
                out.push(Name { start, end, ..n });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, term: &str, target: &str) -> Found {
        let start = text.find(term).unwrap();
        Found {
            terms: vec![TermMatch {
                start,
                end: start + term.len(),
                found: term.to_string(),
                term_id: 1,
                source: term.to_string(),
                target: target.to_string(),
                status: TermStatus::Preferred,
            }],
            names: Vec::new(),
        }
    }

    #[test]
    fn placeholders_go_in_and_come_back() {
        let text = "Контракты в области НИОКР подписаны.";
        let f = found(text, "НИОКР", "R&D");
        let p = protect(text, &f, Protect::Placeholder);
        assert_eq!(p.text, "Контракты в области ZX0 подписаны.");
        assert_eq!(
            restore("Contracts in the field of ZX0 were signed.", &p.slots),
            "Contracts in the field of R&D were signed."
        );
        let inline = protect(text, &f, Protect::Inline);
        assert_eq!(inline.text, "Контракты в области R&D подписаны.");
        assert!(inline.slots.is_empty());
        assert_eq!(protect(text, &f, Protect::Off).text, text);
    }
}
