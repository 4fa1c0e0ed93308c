//! Automatic QA of translated segments: which ones a reader should doubt. Like the checks of
//! Xbench or memoQ, but run on every segment without being asked: termbase renderings missing
//! or forbidden ones used, numbers that did not survive, source words left untranslated, and
//! Chinese names whose pinyin is not in the translation.
//!
//! Every check is linear in the text; the patterns are compiled once per process.

use crate::terms::names::Name;
use crate::terms::stem::Stems;
use crate::terms::{TermMatch, TermStatus};
use crate::text::langtag::{script, Script};
use regex::{Captures, Regex};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

/// What a flag says is wrong. The declaration order is the order of summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QaKind {
    MissingTerm,
    ForbiddenTerm,
    Number,
    Untranslated,
    Name,
    MemoryConflict,
    /// The model gave again a translation a reviewer rejected.
    RejectedAgain,
}

impl QaKind {
    pub const ALL: [QaKind; 7] = [
        QaKind::MissingTerm,
        QaKind::ForbiddenTerm,
        QaKind::Number,
        QaKind::Untranslated,
        QaKind::Name,
        QaKind::MemoryConflict,
        QaKind::RejectedAgain,
    ];

    /// The name in JSON and on flag lines: `missing_term`.
    pub fn as_str(self) -> &'static str {
        match self {
            QaKind::MissingTerm => "missing_term",
            QaKind::ForbiddenTerm => "forbidden_term",
            QaKind::Number => "number",
            QaKind::Untranslated => "untranslated",
            QaKind::Name => "name",
            QaKind::MemoryConflict => "memory_conflict",
            QaKind::RejectedAgain => "rejected_again",
        }
    }

    /// The words for a summary line ("2 missing term").
    pub fn label(self) -> &'static str {
        match self {
            QaKind::MissingTerm => "missing term",
            QaKind::ForbiddenTerm => "forbidden term",
            QaKind::Number => "number",
            QaKind::Untranslated => "untranslated",
            QaKind::Name => "name",
            QaKind::MemoryConflict => "memory conflict",
            QaKind::RejectedAgain => "rejected again",
        }
    }
}

/// One doubt about a segment. `start..end` is a byte range of the SOURCE segment: the words the
/// flag is about, or the whole segment when nothing narrower applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QaFlag {
    pub kind: QaKind,
    pub detail: String,
    pub start: usize,
    pub end: usize,
}

/// What the checks of one segment know besides its text: languages, termbase matches and
/// Chinese names found in the source.
pub struct Checks<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub terms: &'a [TermMatch],
    pub names: &'a [Name],
}

/// All checks of a translated segment, sorted by where they point in the source.
pub fn check(source: &str, target: &str, checks: &Checks) -> Vec<QaFlag> {
    let mut flags = term_flags(target, checks, false);
    flags.extend(number_flags(source, target, checks));
    flags.extend(untranslated_flags(source, target, checks));
    flags.extend(name_flags(target, checks));
    finish(flags)
}

/// The term checks of [`check`] with kind `MemoryConflict`, for a memory match reused as it is:
/// its target contradicts the termbase (a preferred rendering missing or a forbidden one used).
pub fn memory_conflicts(_source: &str, target: &str, checks: &Checks) -> Vec<QaFlag> {
    finish(term_flags(target, checks, true))
}

/// "3 segments flagged: 2 missing terms, 1 number": segments with a flag, then flags counted by
/// kind in the order of [`QaKind::ALL`]. `None` when nothing is flagged.
pub fn summary(flags_per_segment: &[&[QaFlag]]) -> Option<String> {
    let segments = flags_per_segment.iter().filter(|f| !f.is_empty()).count();
    if segments == 0 {
        return None;
    }
    let mut counts = [0usize; QaKind::ALL.len()];
    for f in flags_per_segment.iter().flat_map(|s| s.iter()) {
        counts[f.kind as usize] += 1;
    }
    let parts: Vec<String> = QaKind::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| match (n, *k) {
            (1, _) | (_, QaKind::Untranslated | QaKind::RejectedAgain) => {
                format!("{n} {}", k.label())
            }
            _ => format!("{n} {}s", k.label()),
        })
        .collect();
    let s = if segments == 1 { "" } else { "s" };
    Some(format!(
        "{segments} segment{s} flagged: {}",
        parts.join(", ")
    ))
}

/// The flag for a model answer equal to the rejected translation of unit `id`.
pub fn rejected_again(id: i64, source_len: usize) -> QaFlag {
    flag(
        QaKind::RejectedAgain,
        format!("the model gave again the translation a reviewer rejected (unit {id}); correct it with `babeldesk memory edit {id} --target …`"),
        0,
        source_len,
    )
}

fn flag(kind: QaKind, detail: String, start: usize, end: usize) -> QaFlag {
    QaFlag {
        kind,
        detail,
        start,
        end,
    }
}

/// Sorted by start (then end, kind, detail), without duplicates.
fn finish(mut flags: Vec<QaFlag>) -> Vec<QaFlag> {
    flags.sort_by(|a, b| {
        (a.start, a.end, a.kind, &a.detail).cmp(&(b.start, b.end, b.kind, &b.detail))
    });
    flags.dedup();
    flags
}

// ---------------------------------------------------------------------------------------------
// Terms

/// A translation ready for rendering look-ups: its stems in order and its lower-cased text.
struct Rendered {
    stems: Vec<String>,
    lower: String,
}

impl Rendered {
    fn new(stems: &Stems, text: &str) -> Rendered {
        Rendered {
            stems: stems.words(text).into_iter().map(|w| w.stem).collect(),
            lower: text.to_lowercase(),
        }
    }

    /// Whether `rendering` is in the translation: its stems as a consecutive run (so case and
    /// inflection do not matter), or its text as a whole-word substring ("R&D", whose `&` is
    /// no word).
    fn has(&self, stems: &Stems, rendering: &str) -> bool {
        let want: Vec<String> = stems.words(rendering).into_iter().map(|w| w.stem).collect();
        if !want.is_empty() && self.stems.windows(want.len()).any(|w| w == want.as_slice()) {
            return true;
        }
        let needle = rendering.trim().to_lowercase();
        !needle.is_empty() && whole_word(&self.lower, &needle)
    }
}

/// Whether `needle` occurs in `hay` with no letter or digit glued to either side ("ai" is not
/// in "said").
fn whole_word(hay: &str, needle: &str) -> bool {
    let glued = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    hay.match_indices(needle).any(|(i, m)| {
        !glued(hay[..i].chars().next_back()) && !glued(hay[i + m.len()..].chars().next())
    })
}

/// MissingTerm / ForbiddenTerm flags (or MemoryConflict ones for a reused memory target).
fn term_flags(target: &str, checks: &Checks, memory: bool) -> Vec<QaFlag> {
    if checks.terms.is_empty() {
        return Vec::new();
    }
    let stems = Stems::new(checks.to);
    let text = Rendered::new(&stems, target);
    // Several entries can match one source span; any preferred rendering of it will do.
    let mut spans: BTreeMap<(usize, usize), Vec<&TermMatch>> = BTreeMap::new();
    for m in checks.terms {
        spans.entry((m.start, m.end)).or_default().push(m);
    }
    let (missing, forbidden, prefix) = match memory {
        true => (
            QaKind::MemoryConflict,
            QaKind::MemoryConflict,
            "memory match: ",
        ),
        false => (QaKind::MissingTerm, QaKind::ForbiddenTerm, ""),
    };
    let mut out = Vec::new();
    for ((start, end), ms) in spans {
        let mut wanted: Vec<&str> = Vec::new();
        for m in ms.iter().filter(|m| m.status == TermStatus::Preferred) {
            if !wanted.contains(&m.target.as_str()) {
                wanted.push(&m.target);
            }
        }
        if !wanted.is_empty() && !wanted.iter().any(|t| text.has(&stems, t)) {
            let list: Vec<String> = wanted.iter().map(|t| format!("\"{t}\"")).collect();
            let detail = format!(
                "{prefix}\"{}\" → {} missing",
                ms[0].found,
                list.join(" or ")
            );
            out.push(flag(missing, detail, start, end));
        }
        for m in ms.iter().filter(|m| m.status == TermStatus::Forbidden) {
            if text.has(&stems, &m.target) {
                let detail = format!("{prefix}\"{}\" → \"{}\" is forbidden", m.found, m.target);
                out.push(flag(forbidden, detail, start, end));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// A number in a text: where (with its multiplier word), its value, and where its numeral alone
/// ends (`start..numeral_end`, the digits as written).
#[derive(Debug, Clone, PartialEq)]
struct Num {
    start: usize,
    end: usize,
    numeral_end: usize,
    value: f64,
    scaled: bool,
}

/// Languages that write 49,4 for 49.4 (and group thousands with spaces).
const DECIMAL_COMMA: &[&str] = &[
    "ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "de", "fr", "es", "it", "pt", "nl", "pl",
    "cs", "sk", "sl", "hr", "bs", "sv", "no", "nb", "nn", "da", "fi", "hu", "ro", "tr", "el", "et",
    "lv", "lt", "id", "vi", "ca",
];

fn decimal_comma(lang: &str) -> bool {
    DECIMAL_COMMA.contains(&crate::text::langtag::primary(lang))
}

/// Thousands, millions… after a number, Russian and English; `k`/`m`/`b` count only after a
/// currency sign ("$3m"), since "5 m" is metres.
const MULTIPLIER: &str = r"(?i:тыс\b\.?|тысяч(?:ами|ах|ей|а|и|у)?\b|миллион(?:ами|ах|ов|ом|а|у|е)?\b|млн\b\.?|миллиард(?:ами|ах|ов|ом|а|у|е)?\b|млрд\b\.?|триллион(?:ами|ах|ов|ом|а|у|е)?\b|трлн\b\.?|thousands?\b|millions?\b|billions?\b|trillions?\b|mln\b|mn\b|bln\b|bn\b|trn\b|tn\b|[kmb]\b)";

/// English numbers written as words, the way MT often writes small ones ("three").
const SPELLED: &str = r"(?i:\b(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|seven|eight|nine))?\b|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|hundred)\b)";

/// Dates (25.05.2011, 2011-05-25), or a numeral or spelled number with its multiplier.
fn number_regex(comma: bool) -> &'static Regex {
    static COMMA: OnceLock<Regex> = OnceLock::new();
    static DOT: OnceLock<Regex> = OnceLock::new();
    let build = |numeral: &str| {
        let date = r"\b\d{1,2}\.\d{1,2}\.\d{4}\b|\b\d{4}-\d{2}-\d{2}\b";
        Regex::new(&format!(
            r"(?P<date>{date})|(?P<cur>[$€£¥₽]\s?)?(?:(?P<num>{numeral})|(?P<word>{SPELLED})(?:\s+(?P<hundred>(?i:hundred)\b))?)(?:\s*(?P<mult>{MULTIPLIER}))?"
        ))
        .expect("number pattern")
    };
    // The `\b` after a thousands group keeps "May 25 2011" from reading as 25 201 and 1.
    let space = r"[ \u{A0}\u{2009}\u{202F}]";
    if comma {
        COMMA.get_or_init(|| {
            build(&format!(
                r"\d{{1,3}}(?:{space}\d{{3}})+\b(?:,\d+)?|\d+(?:,\d+)?"
            ))
        })
    } else {
        DOT.get_or_init(|| {
            build(&format!(
                r"\d{{1,3}}(?:,\d{{3}})+\b(?:\.\d+)?|\d{{1,3}}(?:{space}\d{{3}})+\b(?:\.\d+)?|\d+(?:\.\d+)?"
            ))
        })
    }
}

/// The numbers of a text written in `lang`'s conventions.
fn numbers(text: &str, lang: &str) -> Vec<Num> {
    let comma = decimal_comma(lang);
    let mut out = Vec::new();
    for c in number_regex(comma).captures_iter(text) {
        if let Some(d) = c.name("date") {
            out.extend(date_parts(d.start(), d.as_str()));
        } else if let Some(n) = number(&c, comma) {
            out.push(n);
        }
    }
    out
}

/// A date's day and year: the month is often a word in the other language ("25 May").
fn date_parts(at: usize, date: &str) -> Vec<Num> {
    let mut parts = Vec::new();
    let mut pos = at;
    for p in date.split(['.', '-']) {
        parts.push((pos, p));
        pos += p.len() + 1;
    }
    // dd.mm.yyyy or yyyy-mm-dd: either way the first and last parts, never the middle one.
    [parts[0], parts[2]]
        .into_iter()
        .map(|(start, p)| Num {
            start,
            end: start + p.len(),
            numeral_end: start + p.len(),
            value: p.parse().unwrap_or(0.0),
            scaled: false,
        })
        .collect()
}

/// One numeral or spelled number with its multiplier.
fn number(c: &Captures, comma: bool) -> Option<Num> {
    let (numeral, base) = if let Some(n) = c.name("num") {
        let digits: String = n
            .as_str()
            .chars()
            .filter(|ch| ch.is_ascii_digit() || *ch == if comma { ',' } else { '.' })
            .map(|ch| if ch == ',' { '.' } else { ch })
            .collect();
        (n, digits.parse::<f64>().ok()?)
    } else {
        let w = c.name("word")?;
        let hundreds = if c.name("hundred").is_some() {
            100.0
        } else {
            1.0
        };
        (w, spelled_value(w.as_str())? * hundreds)
    };
    let scale = c
        .name("mult")
        .map_or(1.0, |m| multiplier(m.as_str(), c.name("cur").is_some()));
    let end = match c.name("mult") {
        Some(m) if scale != 1.0 => m.end(),
        _ => c.name("hundred").map_or(numeral.end(), |h| h.end()),
    };
    Some(Num {
        start: numeral.start(),
        end,
        numeral_end: numeral.end(),
        value: base * scale,
        scaled: scale != 1.0,
    })
}

/// The value of a multiplier word; 1 for a bare `k`/`m`/`b` without a currency sign.
fn multiplier(word: &str, currency: bool) -> f64 {
    let w = word.trim_end_matches('.').to_lowercase();
    let starts = |ps: &[&str]| ps.iter().any(|p| w.starts_with(p));
    if starts(&["тыс", "thousand"]) || (currency && w == "k") {
        1e3
    } else if starts(&["млн", "миллион", "million"])
        || w == "mln"
        || w == "mn"
        || (currency && w == "m")
    {
        1e6
    } else if starts(&["млрд", "миллиард", "billion"])
        || w == "bn"
        || w == "bln"
        || (currency && w == "b")
    {
        1e9
    } else if starts(&["трлн", "триллион", "trillion"]) || w == "tn" || w == "trn" {
        1e12
    } else {
        1.0
    }
}

/// "three" → 3, "twenty-five" → 25, "hundred" → 100.
fn spelled_value(word: &str) -> Option<f64> {
    const WORDS: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let one = |w: &str| -> Option<usize> {
        if w == "hundred" {
            return Some(100);
        }
        WORDS
            .iter()
            .position(|x| *x == w)
            .or_else(|| TENS.iter().position(|x| *x == w).map(|i| 20 + 10 * i))
    };
    let lower = word.to_lowercase();
    let mut sum = 0;
    for part in lower.split('-') {
        sum += one(part)?;
    }
    Some(sum as f64)
}

fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Every source number must be in the translation: the same value, or (for a number without a
/// multiplier) the same digits as written. One flag per distinct value, at its first place.
fn number_flags(source: &str, target: &str, checks: &Checks) -> Vec<QaFlag> {
    let found = numbers(target, checks.to);
    let spaced = normalize_spaces(target);
    let mut seen: Vec<f64> = Vec::new();
    let mut out = Vec::new();
    for n in numbers(source, checks.from) {
        if seen.iter().any(|v| same_value(*v, n.value)) {
            continue;
        }
        seen.push(n.value);
        let literal = normalize_spaces(&source[n.start..n.numeral_end]);
        let as_written = !n.scaled && digits_in(&spaced, &literal);
        if as_written || found.iter().any(|t| same_value(t.value, n.value)) {
            continue;
        }
        let written = source[n.start..n.end].to_string();
        let value = show_value(n.value);
        let detail = if normalize_spaces(&written) == value {
            format!("{written} not in the translation")
        } else {
            format!("{written} ({value}) not in the translation")
        };
        out.push(flag(QaKind::Number, detail, n.start, n.end));
    }
    out
}

/// No-break and thin spaces read as plain ones, so "20 000" is "20 000" whichever was typed.
fn normalize_spaces(s: &str) -> String {
    s.replace(['\u{A0}', '\u{2009}', '\u{202F}'], " ")
}

/// Whether `digits` occurs in `hay` with no digit glued to either side.
fn digits_in(hay: &str, digits: &str) -> bool {
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    hay.match_indices(digits).any(|(i, m)| {
        !glued(hay[..i].chars().next_back()) && !glued(hay[i + m.len()..].chars().next())
    })
}

/// 20000000 for 2e7, 49.4 for 49.4.
fn show_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

// ---------------------------------------------------------------------------------------------
// Untranslated words

/// Cyrillic words of 3+ letters left in a Latin-script translation, one flag per distinct word,
/// pointing at the same word in the source (or the same stem, or else the whole source).
fn untranslated_flags(source: &str, target: &str, checks: &Checks) -> Vec<QaFlag> {
    if script(checks.from) != Some(Script::Cyrillic) || script(checks.to) != Some(Script::Latin) {
        return Vec::new();
    }
    static WORD: OnceLock<Regex> = OnceLock::new();
    let word = WORD.get_or_init(|| {
        Regex::new(r"\p{Cyrillic}+(?:[-'’]\p{Cyrillic}+)*").expect("cyrillic word pattern")
    });
    let stems = Stems::new(checks.from);
    let mut source_words = None;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in word.find_iter(target) {
        let lower = m.as_str().to_lowercase();
        if lower.chars().filter(|c| c.is_alphabetic()).count() < 3 || !seen.insert(lower.clone()) {
            continue;
        }
        let words = source_words.get_or_insert_with(|| stems.words(source));
        let stem = stems.stem(&lower);
        let at = words
            .iter()
            .find(|w| source[w.start..w.end].to_lowercase() == lower)
            .or_else(|| words.iter().find(|w| w.stem == stem));
        let (start, end) = at.map_or((0, source.len()), |w| (w.start, w.end));
        let detail = format!("\"{}\" left untranslated", m.as_str());
        out.push(flag(QaKind::Untranslated, detail, start, end));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Chinese names

/// Lower-cased letter runs with pinyin tone marks folded ("Chén Lì-yán's" → chen, li, yan, s):
/// the apostrophe of Xi'an, hyphens and spaces all just separate runs.
fn pinyin_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = fold_tone(c);
        if c.is_alphabetic() {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn fold_tone(c: char) -> char {
    match c {
        'ā' | 'á' | 'ǎ' | 'à' => 'a',
        'ē' | 'é' | 'ě' | 'è' => 'e',
        'ī' | 'í' | 'ǐ' | 'ì' => 'i',
        'ō' | 'ó' | 'ǒ' | 'ò' => 'o',
        'ū' | 'ú' | 'ǔ' | 'ù' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' | 'ü' => 'u',
        _ => c,
    }
}

/// Whether consecutive tokens spell `key` exactly, starting and ending on token edges
/// ("chen" + "li" + "yan" spells "chenliyan"; "chenliyans" does not).
fn spells(tokens: &[String], key: &str) -> bool {
    (0..tokens.len()).any(|i| {
        let mut rest = key;
        for t in &tokens[i..] {
            match rest.strip_prefix(t.as_str()) {
                Some("") => return true,
                Some(r) => rest = r,
                None => return false,
            }
        }
        false
    })
}

/// Chinese names whose full pinyin is not in the translation. A name inside a termbase match
/// is left to the term check.
fn name_flags(target: &str, checks: &Checks) -> Vec<QaFlag> {
    if checks.names.is_empty() {
        return Vec::new();
    }
    let tokens = pinyin_tokens(target);
    let mut out = Vec::new();
    for n in checks.names {
        let in_term = checks
            .terms
            .iter()
            .any(|t| t.start <= n.start && n.end <= t.end);
        let key = pinyin_tokens(&n.pinyin).concat();
        let other_form = crate::terms::names::also_written(n)
            .iter()
            .any(|f| spells(&tokens, &pinyin_tokens(f).concat()));
        if in_term || key.is_empty() || spells(&tokens, &key) || other_form {
            continue;
        }
        let detail = format!("{} → {}: not in the translation", n.found, n.pinyin);
        out.push(flag(QaKind::Name, detail, n.start, n.end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "Университет заключил контракты в области НИОКР на общую сумму свыше \
                          20 млн юаней /около 3 млн долл. США/.";
    const TARGET: &str = "The university signed contracts in the field of R&D worth over \
                          20 million yuan (about $3 million).";

    /// A termbase match of `found` in `source` (its first occurrence).
    fn term(source: &str, found: &str, target: &str, status: TermStatus) -> TermMatch {
        let start = source.find(found).expect("term in source");
        TermMatch {
            start,
            end: start + found.len(),
            found: found.to_owned(),
            term_id: 1,
            source: found.to_owned(),
            target: target.to_owned(),
            status,
        }
    }

    fn name(source: &str, found: &str, pinyin: &str) -> Name {
        let start = source.find(found).expect("name in source");
        Name {
            start,
            end: start + found.len(),
            found: found.to_owned(),
            base: found.to_owned(),
            pinyin: pinyin.to_owned(),
            conventional: false,
        }
    }

    fn run(source: &str, target: &str, terms: &[TermMatch], names: &[Name]) -> Vec<QaFlag> {
        let checks = Checks {
            from: "ru",
            to: "en",
            terms,
            names,
        };
        check(source, target, &checks)
    }

    fn kinds(flags: &[QaFlag]) -> Vec<QaKind> {
        flags.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_faithful_translation_has_no_flags() {
        let terms = [term(SOURCE, "НИОКР", "R&D", TermStatus::Preferred)];
        assert_eq!(run(SOURCE, TARGET, &terms, &[]), []);
    }

    #[test]
    fn a_lost_multiplier_is_a_number_flag() {
        let target = TARGET.replace("20 million yuan", "20 yuan");
        let flags = run(SOURCE, &target, &[], &[]);
        assert_eq!(kinds(&flags), [QaKind::Number]);
        assert_eq!(flags[0].detail, "20 млн (20000000) not in the translation");
        assert_eq!(&SOURCE[flags[0].start..flags[0].end], "20 млн");
    }

    #[test]
    fn a_missing_preferred_rendering_is_flagged() {
        let terms = [term(SOURCE, "НИОКР", "R&D", TermStatus::Preferred)];
        let target = TARGET.replace("R&D", "NIOKR");
        let flags = run(SOURCE, &target, &terms, &[]);
        assert_eq!(kinds(&flags), [QaKind::MissingTerm]);
        assert_eq!(flags[0].detail, "\"НИОКР\" → \"R&D\" missing");
        assert_eq!(
            (flags[0].start, flags[0].end),
            (terms[0].start, terms[0].end)
        );
    }

    #[test]
    fn renderings_match_across_case_and_inflection() {
        let source = "Инициатива «Пояса и пути» открыла новые рынки.";
        let mut terms = vec![term(
            source,
            "Пояса и пути",
            "Belt and Road",
            TermStatus::Preferred,
        )];
        let target = "The BELT AND ROADS initiative opened new markets.";
        assert_eq!(run(source, target, &terms, &[]), []);
        // Any one of several preferred renderings of the same span is enough.
        terms.push(term(
            source,
            "Пояса и пути",
            "One Belt, One Road",
            TermStatus::Preferred,
        ));
        let target = "The One Belt, One Road initiative opened new markets.";
        assert_eq!(run(source, target, &terms, &[]), []);
        let flags = run(
            source,
            "The Silk Road initiative opened new markets.",
            &terms,
            &[],
        );
        assert_eq!(
            flags[0].detail,
            "\"Пояса и пути\" → \"Belt and Road\" or \"One Belt, One Road\" missing"
        );
    }

    #[test]
    fn a_forbidden_rendering_present_is_flagged() {
        let source = "Инициатива «Пояса и пути» открыла новые рынки.";
        let terms = [
            term(
                source,
                "Пояса и пути",
                "Belt and Road",
                TermStatus::Preferred,
            ),
            term(
                source,
                "Пояса и пути",
                "Path and Way",
                TermStatus::Forbidden,
            ),
        ];
        let target = "The Path and Way initiative opened new markets.";
        let flags = run(source, target, &terms, &[]);
        assert_eq!(kinds(&flags), [QaKind::MissingTerm, QaKind::ForbiddenTerm]);
        assert_eq!(
            flags[1].detail,
            "\"Пояса и пути\" → \"Path and Way\" is forbidden"
        );
        let ok = "The Belt and Road initiative opened new markets.";
        assert_eq!(run(source, ok, &terms, &[]), []);
    }

    #[test]
    fn a_short_rendering_is_not_found_inside_a_word() {
        let source = "Он говорил об ИИ.";
        let terms = [term(source, "ИИ", "AI", TermStatus::Preferred)];
        let flags = run(source, "He said so.", &terms, &[]);
        assert_eq!(kinds(&flags), [QaKind::MissingTerm]);
    }

    #[test]
    fn memory_conflicts_are_term_checks_of_a_reused_target() {
        let source = "В 2013 году инициатива «Пояса и пути» открыла новые рынки.";
        let terms = [
            term(
                source,
                "Пояса и пути",
                "Belt and Road",
                TermStatus::Preferred,
            ),
            term(
                source,
                "Пояса и пути",
                "Path and Way",
                TermStatus::Forbidden,
            ),
        ];
        let checks = Checks {
            from: "ru",
            to: "en",
            terms: &terms,
            names: &[],
        };
        // The year 2013 is missing too, but a memory conflict is about the termbase alone.
        let flags = memory_conflicts(source, "The Path and Way initiative.", &checks);
        assert_eq!(
            kinds(&flags),
            [QaKind::MemoryConflict, QaKind::MemoryConflict]
        );
        assert_eq!(
            flags[0].detail,
            "memory match: \"Пояса и пути\" → \"Belt and Road\" missing"
        );
        let ok = memory_conflicts(source, "The Belt and Road initiative.", &checks);
        assert_eq!(ok, []);
    }

    #[test]
    fn cyrillic_left_in_the_target_is_untranslated() {
        let source = "Инициатива «Пояса и пути» открыла новые рынки.";
        let target = "The Пояса and Road initiative opened new рынки, и more.";
        let flags = run(source, target, &[], &[]);
        assert_eq!(kinds(&flags), [QaKind::Untranslated, QaKind::Untranslated]);
        assert_eq!(&source[flags[0].start..flags[0].end], "Пояса");
        assert_eq!(flags[0].detail, "\"Пояса\" left untranslated");
        assert_eq!(&source[flags[1].start..flags[1].end], "рынки");
    }

    #[test]
    fn untranslated_words_point_at_a_stem_or_the_whole_source() {
        let source = "Инициатива «Пояса и пути» открыла новые рынки.";
        let target = "The Пояс initiative opened new markets in Москва, Москва.";
        let flags = run(source, target, &[], &[]);
        assert_eq!(flags.len(), 2, "{flags:?}");
        assert_eq!((flags[0].start, flags[0].end), (0, source.len()));
        assert_eq!(flags[0].detail, "\"Москва\" left untranslated");
        assert_eq!(&source[flags[1].start..flags[1].end], "Пояса");
        // Only into a Latin-script language.
        let checks = Checks {
            from: "ru",
            to: "uk",
            terms: &[],
            names: &[],
        };
        assert_eq!(check(source, "Ініціатива «Пояса і шляху».", &checks), []);
    }

    #[test]
    fn a_chinese_name_needs_its_full_pinyin() {
        let source = "Мэр города Чэнь Лиянь заявил о новых планах.";
        let names = [name(source, "Чэнь Лиянь", "Chen Liyan")];
        let flags = run(source, "Mayor Chény Líny announced new plans.", &[], &names);
        assert_eq!(kinds(&flags), [QaKind::Name]);
        assert_eq!(
            flags[0].detail,
            "Чэнь Лиянь → Chen Liyan: not in the translation"
        );
        assert_eq!(&source[flags[0].start..flags[0].end], "Чэнь Лиянь");
        for ok in [
            "Mayor Chen Liyan announced new plans.",
            "Mayor Chen Li-yan announced new plans.",
            "Mayor CHEN LIYAN announced new plans.",
            "Mayor Chen Liyan's plans are new.",
        ] {
            assert_eq!(run(source, ok, &[], &names), [], "{ok}");
        }
        for bad in [
            "Mayor Chen announced new plans.",
            "Mayor Chen Liyang announced.",
        ] {
            assert_eq!(
                kinds(&run(source, bad, &[], &names)),
                [QaKind::Name],
                "{bad}"
            );
        }
    }

    #[test]
    fn a_conventional_name_may_take_its_other_english_forms() {
        let source = "Посол Китая посетил завод.";
        let names = crate::terms::names::find(source);
        assert_eq!(names[0].pinyin, "China");
        for ok in [
            "The Chinese ambassador visited the plant.",
            "China's ambassador visited the plant.",
        ] {
            assert_eq!(run(source, ok, &[], &names), [], "{ok}");
        }
        let flags = run(source, "The ambassador visited the plant.", &[], &names);
        assert_eq!(kinds(&flags), [QaKind::Name]);
    }

    #[test]
    fn names_ignore_the_apostrophe_and_skip_term_spans() {
        let source = "В Сиани открылась выставка.";
        let names = [name(source, "Сиани", "Xi'an")];
        assert_eq!(
            run(source, "An exhibition opened in Xian.", &[], &names),
            []
        );
        assert_eq!(
            run(source, "An exhibition opened in Xi'an.", &[], &names),
            []
        );
        // Already a term: the term check speaks for it, once.
        let terms = [term(source, "Сиани", "Xi'an", TermStatus::Preferred)];
        let flags = run(source, "An exhibition opened in Sian.", &terms, &names);
        assert_eq!(kinds(&flags), [QaKind::MissingTerm]);
    }

    #[test]
    fn numbers_survive_local_conventions() {
        for (source, target) in [
            ("Рост составил 49,4%.", "Growth was 49.4%."),
            ("Пришли 20 000 человек.", "20,000 people came."),
            ("Пришли 20\u{a0}000 человек.", "20 000 people came."),
            ("Завод открыт в 2011 году.", "The plant opened in 2011."),
            ("Это случилось 25 мая.", "It happened on May 25."),
            (
                "Заседание 25.05.2011 прошло.",
                "The meeting on May 25, 2011 took place.",
            ),
            ("Сдано 100 тыс. квартир.", "100,000 flats were handed over."),
            (
                "Сдано 100 тыс. квартир.",
                "A hundred thousand flats were handed over.",
            ),
            (
                "Выделено 1,5 млрд рублей.",
                "1.5 billion rubles were allocated.",
            ),
            ("Выделено 1,5 млрд рублей.", "1.5 bn rubles were allocated."),
            ("Прибыли 3 делегации.", "Three delegations arrived."),
            ("Прибыли 25 делегаций.", "Twenty-five delegations arrived."),
            ("Это 68-я сессия.", "This is the 68th session."),
            ("Сумма 3 млн долл.", "The sum is $3m."),
            ("Сумма 20 млн долл.", "The sum is 20,000,000 dollars."),
            ("Рост составил 49,4%.", "Growth was 49,4%."),
            ("Население 2,5 тысячи человек.", "The population is 2,500."),
            (
                "Выпущено 7 миллионов акций.",
                "7 million shares were issued.",
            ),
        ] {
            assert_eq!(run(source, target, &[], &[]), [], "{source} / {target}");
        }
    }

    #[test]
    fn missing_or_changed_numbers_are_flagged_once_each() {
        let flags = run(
            "Рост составил 49,4%, а не 49,4%.",
            "Growth was 94.4%.",
            &[],
            &[],
        );
        assert_eq!(kinds(&flags), [QaKind::Number]);
        assert_eq!(flags[0].detail, "49,4 (49.4) not in the translation");
        let flags = run(
            "Завод открыт в 2011 году.",
            "The plant opened in 2012.",
            &[],
            &[],
        );
        assert_eq!(flags[0].detail, "2011 not in the translation");
        // "5 m" is five metres, not five million.
        let flags = run("Сумма 5 млн.", "The sum is 5 m.", &[], &[]);
        assert_eq!(kinds(&flags), [QaKind::Number]);
        // "May 25 2011" is two numbers, not 25 201 and 1.
        let flags = run(
            "Это было 25 мая 2011 года.",
            "It was May 25 2011.",
            &[],
            &[],
        );
        assert_eq!(flags, []);
        // A millennium is no multiplier: 2 тысячелетия is 2.
        assert_eq!(
            run("За 2 тысячелетия.", "Over two millennia.", &[], &[]),
            []
        );
    }

    #[test]
    fn flags_come_sorted_by_source_position() {
        let terms = [term(SOURCE, "НИОКР", "R&D", TermStatus::Preferred)];
        let target = "The университет signed contracts in the field of NIOKR worth 20 yuan \
                      (about $3 million).";
        let flags = run(SOURCE, target, &terms, &[]);
        assert_eq!(
            kinds(&flags),
            [QaKind::Untranslated, QaKind::MissingTerm, QaKind::Number]
        );
        assert!(flags.windows(2).all(|w| w[0].start <= w[1].start));
    }

    #[test]
    fn summary_counts_segments_and_kinds_in_a_fixed_order() {
        let f = |kind| flag(kind, String::new(), 0, 1);
        let a = [f(QaKind::Number), f(QaKind::MissingTerm)];
        let b = [f(QaKind::MissingTerm)];
        let c = [f(QaKind::Untranslated)];
        let segments: [&[QaFlag]; 4] = [&a, &[], &b, &c];
        assert_eq!(
            summary(&segments).as_deref(),
            Some("3 segments flagged: 2 missing terms, 1 number, 1 untranslated")
        );
        assert_eq!(
            summary(&[&b]).as_deref(),
            Some("1 segment flagged: 1 missing term")
        );
        assert_eq!(summary(&[&[], &[]]), None);
        assert_eq!(QaKind::MemoryConflict.as_str(), "memory_conflict");
        assert_eq!(
            serde_json::to_string(&QaKind::MissingTerm).unwrap(),
            "\"missing_term\""
        );
    }
}
