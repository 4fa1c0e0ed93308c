//! Finding termbase entries in a source text: every entry is indexed by its first stem, and
//! the text's words are tried longest entry first, left to right, without overlaps. A 100k-entry
//! termbase costs one hash probe per word.

use super::stem::{Stems, Word};
use super::{Term, TermStatus};
use serde::Serialize;
use std::collections::HashMap;

/// An entry found in a text: where (bytes of the text), the words as written, and the entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermMatch {
    pub start: usize,
    pub end: usize,
    /// The words as they stand in the text ("Пояса и пути").
    pub found: String,
    pub term_id: i64,
    /// The entry's source and target terms ("Пояс и путь" → "Belt and Road").
    pub source: String,
    pub target: String,
    pub status: TermStatus,
}

/// The entries of one language pair, ready to be found in texts.
pub struct Matcher {
    stems: Stems,
    /// First stem → (entry's stems, entry), longest first.
    index: HashMap<String, Vec<(Vec<String>, Term)>>,
    len: usize,
}

impl Matcher {
    pub fn new(source_lang: &str, terms: impl IntoIterator<Item = Term>) -> Matcher {
        let stems = Stems::new(source_lang);
        let mut index: HashMap<String, Vec<(Vec<String>, Term)>> = HashMap::new();
        let mut len = 0;
        for term in terms {
            let key: Vec<String> = term
                .source_key
                .split(' ')
                .map(|w| stems.compared(w))
                .collect();
            if key.iter().all(String::is_empty) {
                continue;
            }
            len += 1;
            index.entry(key[0].clone()).or_default().push((key, term));
        }
        for list in index.values_mut() {
            // Longest first; a preferred rendering before a forbidden one, then the oldest.
            list.sort_by(|a, b| {
                b.0.len()
                    .cmp(&a.0.len())
                    .then(
                        (a.1.entry.status == TermStatus::Forbidden)
                            .cmp(&(b.1.entry.status == TermStatus::Forbidden)),
                    )
                    .then(a.1.id.cmp(&b.1.id))
            });
        }
        Matcher { stems, index, len }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries found in `text`, in text order. At each word the longest entry that
    /// matches wins, and all its renderings (preferred and forbidden) are reported.
    pub fn find(&self, text: &str) -> Vec<TermMatch> {
        if self.is_empty() {
            return Vec::new();
        }
        let words = self.stems.words(text);
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            match self.longest_at(&words, i) {
                Some((n, hits)) => {
                    let (start, end) = (words[i].start, words[i + n - 1].end);
                    for term in hits {
                        out.push(TermMatch {
                            start,
                            end,
                            found: text[start..end].to_string(),
                            term_id: term.id,
                            source: term.entry.source.clone(),
                            target: term.entry.target.clone(),
                            status: term.entry.status,
                        });
                    }
                    i += n;
                }
                None => i += 1,
            }
        }
        out
    }

    /// The longest entry length matching at word `i`, and every entry of that key.
    fn longest_at<'a>(&'a self, words: &[Word], i: usize) -> Option<(usize, Vec<&'a Term>)> {
        let list = self.index.get(&words[i].stem)?;
        let fits = |key: &[String]| {
            i + key.len() <= words.len() && key.iter().zip(&words[i..]).all(|(k, w)| *k == w.stem)
        };
        let (key, _) = list.iter().find(|(key, _)| fits(key))?;
        let n = key.len();
        let hits = list
            .iter()
            .filter(|(key, _)| key.len() == n && fits(key))
            .map(|(_, t)| t)
            .collect();
        Some((n, hits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terms::NewTerm;

    fn term(id: i64, source: &str, target: &str, status: TermStatus) -> Term {
        let mut entry = NewTerm::new("ru", "en", source, target);
        entry.status = status;
        Term {
            id,
            source_key: Stems::new("ru").key(source),
            entry,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn finds_inflected_multiword_terms_longest_first() {
        let m = Matcher::new(
            "ru",
            [
                term(1, "Пояс и путь", "Belt and Road", TermStatus::Preferred),
                term(
                    2,
                    "академия наук",
                    "academy of sciences",
                    TermStatus::Preferred,
                ),
                term(
                    3,
                    "Национальная академия наук",
                    "National Academy of Sciences",
                    TermStatus::Preferred,
                ),
                term(4, "НИОКР", "R&D", TermStatus::Preferred),
                term(5, "Пояс и путь", "Path and Way", TermStatus::Forbidden),
            ],
        );
        let text = "странами вдоль \"Пояса и пути\" в Национальной академии наук, НИОКР";
        let got: Vec<(String, String, TermStatus)> = m
            .find(text)
            .into_iter()
            .map(|t| (text[t.start..t.end].to_string(), t.target, t.status))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Пояса и пути".into(),
                    "Belt and Road".into(),
                    TermStatus::Preferred
                ),
                (
                    "Пояса и пути".into(),
                    "Path and Way".into(),
                    TermStatus::Forbidden
                ),
                (
                    "Национальной академии наук".into(),
                    "National Academy of Sciences".into(),
                    TermStatus::Preferred
                ),
                ("НИОКР".into(), "R&D".into(), TermStatus::Preferred),
            ]
        );
    }

    #[test]
    fn an_empty_termbase_finds_nothing() {
        assert!(Matcher::new("ru", []).find("Пояс и путь").is_empty());
    }
}
