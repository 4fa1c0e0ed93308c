//! Translation units: the types callers see. No SQL here.

pub use crate::config::Precision;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "'{s}' is not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use word_enum;

word_enum!(
    /// Who made the target text.
    Origin { Mt = "mt", Human = "human", Import = "import" }
);
word_enum!(
    /// Where a person's review left the unit. Rejected units are never reused.
    Status { Draft = "draft", Approved = "approved", Rejected = "rejected" }
);

/// A unit to store. Languages are BCP-47 tags (see [`crate::text::langtag`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewUnit {
    pub source_lang: String,
    pub target_lang: String,
    pub source: String,
    pub target: String,
    pub origin: Origin,
    pub status: Status,
    pub model: Option<String>,
    pub document: Option<String>,
    pub position: Option<i64>,
    /// Context hashes of the neighbouring source segments ([`super::key::context_hash`]).
    pub prev_hash: Option<String>,
    pub next_hash: Option<String>,
    /// JSON maps of inline-code placeholders to their original markup (TMX).
    pub source_tags: Option<String>,
    pub target_tags: Option<String>,
    /// Times as `YYYY-MM-DDTHH:MM:SSZ`; now when absent.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub use_count: i64,
    /// int8 or fp32, for a translation a local seq2seq model made (beside `model`).
    pub precision: Option<Precision>,
}

impl From<&Unit> for NewUnit {
    /// A stored unit as it would be stored again elsewhere (a copy), times and counts kept.
    fn from(u: &Unit) -> NewUnit {
        NewUnit {
            source_lang: u.source_lang.clone(),
            target_lang: u.target_lang.clone(),
            source: u.source.clone(),
            target: u.target.clone(),
            origin: u.origin,
            status: u.status,
            model: u.model.clone(),
            document: u.document.clone(),
            position: u.position,
            prev_hash: u.prev_hash.clone(),
            next_hash: u.next_hash.clone(),
            source_tags: u.source_tags.clone(),
            target_tags: u.target_tags.clone(),
            created_at: Some(u.created_at.clone()),
            updated_at: Some(u.updated_at.clone()),
            use_count: u.use_count,
            precision: u.precision,
        }
    }
}

impl NewUnit {
    pub fn new(source_lang: &str, target_lang: &str, source: &str, target: &str) -> NewUnit {
        NewUnit {
            source_lang: source_lang.to_owned(),
            target_lang: target_lang.to_owned(),
            source: source.to_owned(),
            target: target.to_owned(),
            origin: Origin::Import,
            status: Status::Draft,
            model: None,
            document: None,
            position: None,
            prev_hash: None,
            next_hash: None,
            source_tags: None,
            target_tags: None,
            created_at: None,
            updated_at: None,
            use_count: 0,
            precision: None,
        }
    }

    /// What makes two units the same: pair, source, target and context.
    pub fn ident(&self) -> i64 {
        super::key::hash(&[
            &self.source_lang,
            &self.target_lang,
            &self.source,
            &self.target,
            self.prev_hash.as_deref().unwrap_or(""),
            self.next_hash.as_deref().unwrap_or(""),
        ])
    }
}

/// A stored unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    pub id: i64,
    pub source_lang: String,
    pub target_lang: String,
    pub source: String,
    pub target: String,
    pub source_key: String,
    pub origin: Origin,
    pub status: Status,
    pub model: Option<String>,
    pub document: Option<String>,
    pub position: Option<i64>,
    pub prev_hash: Option<String>,
    pub next_hash: Option<String>,
    #[serde(skip)]
    pub source_tags: Option<String>,
    #[serde(skip)]
    pub target_tags: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub use_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
}

/// A stored unit as the fields a new one is made of (what exchange writers need).
impl From<Unit> for NewUnit {
    fn from(u: Unit) -> NewUnit {
        NewUnit {
            source_lang: u.source_lang,
            target_lang: u.target_lang,
            source: u.source,
            target: u.target,
            origin: u.origin,
            status: u.status,
            model: u.model,
            document: u.document,
            position: u.position,
            prev_hash: u.prev_hash,
            next_hash: u.next_hash,
            source_tags: u.source_tags,
            target_tags: u.target_tags,
            created_at: Some(u.created_at),
            updated_at: Some(u.updated_at),
            use_count: u.use_count,
            precision: u.precision,
        }
    }
}

/// An earlier state of a unit's target, kept when a person edits or reviews it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub target: String,
    pub origin: Origin,
    pub status: Status,
    pub changed_at: String,
}

/// A lookup result: the unit and how well its source matches the query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub score: u8,
    #[serde(flatten)]
    pub unit: Unit,
}

/// Which units a listing or export covers.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Source and target language; a primary tag (`en`) also matches its regions (`en-GB`).
    pub source_lang: Option<String>,
    pub target_lang: Option<String>,
    pub origin: Option<Origin>,
    pub status: Option<Status>,
    /// Changed at or after this time (`YYYY-MM-DD` or a full timestamp).
    pub since: Option<String>,
    /// Made by this model.
    pub model: Option<String>,
    /// From this document.
    pub document: Option<String>,
    /// Only units with a larger id: the next page after a page ending at this id (keyset
    /// paging, as fast on the last page of a million units as on the first).
    pub after: Option<i64>,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// A day for [`Filter::since`]: `YYYY-MM-DD`, a real calendar day (no 2023-02-29, no
/// 2024-13-45); the error says so in one line.
pub fn day(s: &str) -> Result<String, String> {
    let bad = || format!("'{s}' is not a day: write YYYY-MM-DD (e.g. 2024-03-31)");
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, String> {
        let part = &s[r];
        match part.bytes().all(|c| c.is_ascii_digit()) {
            true => part.parse().map_err(|_| bad()),
            false => Err(bad()),
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day == 0 || day > days {
        return Err(bad());
    }
    Ok(s.to_string())
}

word_enum!(
    /// How `translate` got a segment's target: reused from the memory (101: same text and
    /// context, 100: same text, fuzzy with --use-fuzzy), made by the model, or failed.
    Band { Context = "101", Exact = "100", Fuzzy = "fuzzy", Model = "model", Failed = "failed" }
);

/// One segment of a translated document as `translate` made it (see [`Band`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DocSegment {
    pub position: i64,
    pub source: String,
    /// The unit reused or stored; none for a failed segment or one not stored.
    pub unit_id: Option<i64>,
    pub band: Band,
    pub score: Option<u8>,
    /// Why the model's answer was not used (band `failed`).
    pub problem: Option<String>,
}

/// A segment of a document for review: what `translate` recorded (or, for a document
/// translated before that was kept, what its stored units say) and the unit as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRow {
    pub position: i64,
    pub source: String,
    pub band: Option<Band>,
    pub score: Option<u8>,
    pub problem: Option<String>,
    pub unit: Option<Unit>,
}

/// A translated document the memory knows: its units' document name and pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentInfo {
    pub document: String,
    pub source_lang: String,
    pub target_lang: String,
    pub units: i64,
    pub approved: i64,
    pub rejected: i64,
    pub human: i64,
    pub updated_at: String,
}

/// What a lookup asks for.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub source: &'a str,
    pub source_lang: &'a str,
    pub target_lang: &'a str,
    pub prev_hash: Option<&'a str>,
    pub next_hash: Option<&'a str>,
    pub min_score: u8,
    pub limit: usize,
    /// Review commands show rejected units too; reuse never does.
    pub include_rejected: bool,
}

impl<'a> Query<'a> {
    pub fn new(source: &'a str, source_lang: &'a str, target_lang: &'a str) -> Query<'a> {
        Query {
            source,
            source_lang,
            target_lang,
            prev_hash: None,
            next_hash: None,
            min_score: 75,
            limit: 5,
            include_rejected: false,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Units read from the input.
    pub read: u64,
    pub added: u64,
    /// Units already in the memory (or earlier in the input): merged, not doubled.
    pub merged: u64,
}

/// Does a stored tag belong to the asked language? The one rule for every command: the same
/// tag, or the same language where one side names no region. `en` matches `en`, `en-GB` and
/// `en-US`; `en-GB` matches `en-GB` and plain `en`, never `en-US` (tags are stored
/// normalized, see [`crate::text::langtag`]). An empty `asked` matches every language.
pub fn lang_matches(stored: &str, asked: &str) -> bool {
    let is_base_of = |base: &str, tag: &str| {
        !base.contains('-')
            && tag.len() > base.len()
            && tag.starts_with(base)
            && tag.as_bytes()[base.len()] == b'-'
    };
    asked.is_empty() || stored == asked || is_base_of(asked, stored) || is_base_of(stored, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_real_calendar_days() {
        for ok in ["2024-02-29", "2023-12-31", "2000-02-29", "1999-01-01"] {
            assert_eq!(day(ok).unwrap(), ok);
        }
        for bad in [
            "2024-13-45",
            "2023-02-29",
            "2024-01-01garbage",
            "1900-02-29",
            "2024-1-1",
            "2024-00-10",
            "+024-01-01",
            "",
        ] {
            assert!(day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn words_round_trip() {
        for o in Origin::ALL {
            assert_eq!(o.as_str().parse::<Origin>().unwrap(), *o);
        }
        assert!("robot".parse::<Status>().unwrap_err().contains("draft"));
    }

    #[test]
    fn primary_tag_matches_regions() {
        assert!(lang_matches("en-GB", "en"));
        assert!(lang_matches("en", "en"));
        // A unit without a region serves every region of its language.
        assert!(lang_matches("en", "en-GB"));
        assert!(!lang_matches("en-US", "en-GB"));
        assert!(!lang_matches("eng", "en"));
    }

    /// The identity (stored with every unit; duplicates merge on it) is pair, source, target
    /// and context, and nothing else.
    #[test]
    fn ident_depends_on_context() {
        let a = NewUnit::new("ru", "en", "Да.", "Yes.");
        // A fixed value: FNV-1a of "ru", "en", "Да.", "Yes.", "", "" joined by 0xff bytes
        // (computed with an independent Python FNV-1a). Stored idents must never change.
        assert_eq!(a.ident(), 5_390_346_784_245_704_173);
        // Built separately, differing only in what is not identity: the same unit.
        let mut same = NewUnit::new("ru", "en", "Да.", "Yes.");
        same.origin = Origin::Mt;
        same.status = Status::Approved;
        same.model = Some("opus-mt-ru-en".into());
        same.document = Some("report.txt".into());
        same.position = Some(7);
        same.source_tags = Some("{}".into());
        same.created_at = Some("2024-01-01T00:00:00Z".into());
        same.use_count = 3;
        assert_eq!(same.ident(), a.ident());
        // Each identity field on its own makes another unit.
        let changes: [fn(&mut NewUnit); 6] = [
            |u| u.source_lang = "uk".into(),
            |u| u.target_lang = "en-GB".into(),
            |u| u.source = "Да!".into(),
            |u| u.target = "Yes!".into(),
            |u| u.prev_hash = Some("a430d84680aabd0b".into()),
            |u| u.next_hash = Some("a430d84680aabd0b".into()),
        ];
        let mut seen = vec![a.ident()];
        for change in changes {
            let mut b = NewUnit::new("ru", "en", "Да.", "Yes.");
            change(&mut b);
            assert!(!seen.contains(&b.ident()), "{b:?}");
            seen.push(b.ident());
        }
    }
}
