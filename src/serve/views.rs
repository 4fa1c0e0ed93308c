//! The pages as data: one askama template each (src/serve/templates/), HTML-escaped.

use crate::memory::{DocumentInfo, Unit};
use askama::Template;

#[derive(Template)]
#[template(path = "index.html")]
pub struct Index {
    pub title: String,
    pub docs: Vec<DocLink>,
}

pub struct DocLink {
    pub info: DocumentInfo,
    pub href: String,
}

#[derive(Template)]
#[template(path = "document.html")]
pub struct Document {
    pub title: String,
    pub csrf: String,
    pub name: String,
    /// The name, URL-encoded for links.
    pub name_q: String,
    /// This page's path and query, to come back to after a change.
    pub back: String,
    pub rows: Vec<SegmentRow>,
    pub approved: usize,
    pub rejected: usize,
    pub flagged: usize,
}

pub struct SegmentRow {
    /// The unit's id; 0 for a failed segment, which has none.
    pub id: i64,
    pub position: String,
    /// How `translate` got it: memory, fuzzy, model, failed, or stored (not recorded).
    pub band: &'static str,
    /// "memory 101", "fuzzy 87", "model", "failed"; empty when not recorded.
    pub band_label: String,
    pub source: String,
    pub target: String,
    pub source_lang: String,
    pub target_lang: String,
    pub origin: &'static str,
    pub status: &'static str,
    pub model: Option<String>,
    pub flags: Vec<String>,
    pub terms: Vec<String>,
}

/// The memory browser's filter fields as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct FilterForm {
    pub from: String,
    pub to: String,
    pub origin: String,
    pub status: String,
    pub model: String,
    pub document: String,
    pub since: String,
    pub q: String,
    pub fuzzy: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "units.html")]
pub struct Units {
    pub title: String,
    pub csrf: String,
    pub f: FilterForm,
    pub origins: Vec<&'static str>,
    pub statuses: Vec<&'static str>,
    /// The filter as a query string (no paging), for the TMX download.
    pub query: String,
    pub back: String,
    pub fuzzy: bool,
    pub rows: Vec<UnitRow>,
    pub next: Option<String>,
    pub message: Option<String>,
}

pub struct UnitRow {
    pub id: i64,
    pub score: u8,
    pub pair: String,
    pub source: String,
    pub target: String,
    pub origin: &'static str,
    pub status: &'static str,
    pub document: String,
    pub updated_at: String,
}

#[derive(Template)]
#[template(path = "unit.html")]
pub struct UnitPage {
    pub title: String,
    pub csrf: String,
    pub u: Unit,
    pub model: String,
    pub document: String,
    pub position: String,
    pub doc_href: Option<String>,
    /// Neighbouring segments of the same document: (id, source, target).
    pub prev: Option<(i64, String, String)>,
    pub next: Option<(i64, String, String)>,
    pub flags: Vec<String>,
    pub terms: Vec<String>,
    pub history: Vec<HistoryRow>,
}

pub struct HistoryRow {
    pub when: String,
    pub what: String,
    /// (class, text): same, removed or added words.
    pub pieces: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "stats.html")]
pub struct Stats {
    pub title: String,
    pub units: i64,
    pub terms: i64,
    pub documents: usize,
    pub groups: Vec<(String, Vec<Bar>)>,
}

pub struct Bar {
    pub label: String,
    pub count: i64,
    /// Pixels of 300.
    pub width: i64,
}

#[derive(Template)]
#[template(path = "import.html")]
pub struct Import {
    pub title: String,
    pub csrf: String,
    pub message: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct Error {
    pub title: String,
    pub message: String,
}
