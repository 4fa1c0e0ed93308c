//! Termbase entries: the types callers see. No SQL here (that is `memory::terms`).

use crate::memory::word_enum;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

word_enum!(
    /// Whether a rendering is the one to use or one never to use.
    TermStatus { Preferred = "preferred", Forbidden = "forbidden" }
);
word_enum!(
    /// Who made the entry: a person, an imported glossary, or babeldesk (accepted hints).
    TermOrigin { Human = "human", Import = "import", Auto = "auto" }
);

/// An entry to store. Languages are normalized BCP-47 tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTerm {
    pub source_lang: String,
    pub target_lang: String,
    pub source: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Part of speech as TBX-Basic names it (noun, verb, adjective, adverb, properNoun, other).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos: Option<String>,
    pub status: TermStatus,
    pub origin: TermOrigin,
}

impl NewTerm {
    pub fn new(source_lang: &str, target_lang: &str, source: &str, target: &str) -> NewTerm {
        NewTerm {
            source_lang: source_lang.to_owned(),
            target_lang: target_lang.to_owned(),
            source: source.trim().to_owned(),
            target: target.trim().to_owned(),
            note: None,
            pos: None,
            status: TermStatus::Preferred,
            origin: TermOrigin::Import,
        }
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    pub id: i64,
    #[serde(flatten)]
    pub entry: NewTerm,
    /// The source term's stems, space-separated: what recognition matches on.
    pub source_key: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Which entries a listing or export selects.
#[derive(Debug, Clone, Default)]
pub struct TermFilter {
    pub source_lang: Option<String>,
    pub target_lang: Option<String>,
    /// Case-insensitive text in the source or target term.
    pub text: Option<String>,
    pub status: Option<TermStatus>,
    pub origin: Option<TermOrigin>,
    pub limit: Option<usize>,
}
