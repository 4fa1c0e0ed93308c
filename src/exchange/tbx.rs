//! TBX (ISO 30042), read as a stream (a concept entry at a time) and written as TBX-Basic v2.
//!
//! Read: TBX v2 (`<martif>`: `termEntry` / `langSet` / `tig`, or `ntig` / `termGrp`), as
//! memoQ, Trados MultiTerm and OmegaT exchange it, and TBX v3 (`<tbx>`: `conceptEntry` /
//! `langSec` / `termSec`, data categories as `termNote`/`descrip` or as their own elements).
//! Each concept entry gives one term per (source term, target term) pair of the [`Pair`]'s
//! languages; an entry without both languages is skipped. A target term whose
//! administrativeStatus is deprecated/superseded (or normativeAuthorization deprecatedTerm) is
//! forbidden. Definitions and notes of the entry, of the two language sections and of the two
//! terms become the note; the part of speech is the source term's (else the target's).
//!
//! Safety as in `xml.rs`, whose decoding and bounds TBX shares with TMX: no DTD is read, a
//! DOCTYPE that declares entities is refused and an unknown `&entity;` is an error (nothing is
//! expanded, no "billion laughs"); UTF-8, UTF-16 with a byte order mark, or a declared encoding;
//! runs of text are bounded, and so are a concept entry's size and terms and the nesting depth.

use super::terms::{term_format, Pair, TermReader, TermWriter};
use super::xml::{attr, check_attributes, local, xml_chars, XmlInput};
use super::{ExchangeError, Output};
use crate::memory::lang_matches;
use crate::terms::{NewTerm, Term, TermStatus};
use crate::text::langtag;
use quick_xml::events::{BytesStart, BytesText, Event};
use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::path::Path;

pub struct Tbx;

term_format!(Tbx, "TBX", ["tbx"], TbxReader, TbxWriter);

/// The largest concept entry accepted (16 MiB of markup): an entry is held whole until its end
/// tag, so this bounds the memory a hostile file can take.
pub const MAX_ENTRY_BYTES: u64 = 16 << 20;
/// The most terms one concept entry may have (its pairs are their cross product).
pub const MAX_ENTRY_TERMS: usize = 256;
/// The deepest nesting of elements accepted.
pub const MAX_DEPTH: usize = 64;

/// One term (`tig`, `ntig`, `termSec`).
#[derive(Default)]
struct Item {
    text: String,
    pos: Option<String>,
    forbidden: bool,
    notes: Vec<String>,
    /// A `<term>` straight inside a language section: the item ends with the term.
    implicit: bool,
}

/// One language section (`langSet`, `langSec`).
struct LangSet {
    lang: String,
    notes: Vec<String>,
    items: Vec<Item>,
}

/// One concept entry (`termEntry`, `conceptEntry`).
struct Entry {
    start: u64,
    notes: Vec<String>,
    langs: Vec<LangSet>,
    terms: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Term,
    Pos,
    Status,
    Note,
}

/// Text being gathered for a field until the element that opened it ends.
struct Capture {
    field: Field,
    depth: usize,
    text: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Source,
    Target,
}

pub struct TbxReader {
    pair: Pair,
    input: XmlInput,
    stack: Vec<String>,
    entry: Option<Entry>,
    lang: Option<LangSet>,
    item: Option<Item>,
    capture: Option<Capture>,
    pending: VecDeque<NewTerm>,
    skipped: u64,
    root_seen: bool,
    done: bool,
}

impl TbxReader {
    pub fn open(path: &Path, pair: &Pair) -> Result<TbxReader, ExchangeError> {
        Ok(TbxReader {
            pair: pair.clone(),
            input: XmlInput::open(path, "TBX")?,
            stack: Vec::new(),
            entry: None,
            lang: None,
            item: None,
            capture: None,
            pending: VecDeque::new(),
            skipped: 0,
            root_seen: false,
            done: false,
        })
    }

    fn step(&mut self) -> Result<(), ExchangeError> {
        let at = self.input.position();
        if let Some(e) = self
            .entry
            .as_ref()
            .filter(|e| at - e.start > MAX_ENTRY_BYTES)
        {
            let m = format!(
                "a concept entry longer than {} MiB: not a termbase babeldesk accepts",
                MAX_ENTRY_BYTES >> 20
            );
            return Err(self.input.error_at(e.start, m));
        }
        let done = match self.input.next_event()? {
            Event::Start(e) => self.start(&e),
            Event::Empty(e) => self.start(&e).and_then(|()| self.end()),
            Event::End(_) => self.end(),
            Event::Text(t) => return self.text(&t),
            Event::CData(t) => {
                let text = self.input.utf8(&t)?;
                self.gather(text);
                Ok(())
            }
            Event::DocType(d) => refuse_entities(&d),
            // Never read: no external DTD, no processing instructions.
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => Ok(()),
            Event::Eof => self.eof(),
        };
        done.map_err(|m| self.input.error_at(self.input.at(), m))
    }

    fn start(&mut self, e: &BytesStart) -> Result<(), String> {
        let name = local(e);
        check_attributes(e, &name)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("elements nested more than {MAX_DEPTH} deep"));
        }
        let parent = self.stack.last().cloned();
        match (parent.as_deref(), name.as_str()) {
            (None, "martif" | "tbx") if self.root_seen => {
                return Err("a second root element: a file has one".into())
            }
            (None, "martif" | "tbx") => self.root_seen = true,
            (None, other) => {
                return Err(format!(
                    "not a TBX file: the root element is <{other}>, not <martif> or <tbx>"
                ))
            }
            (Some(p), "termEntry" | "conceptEntry") => {
                if p != "body" {
                    return Err(format!("<{name}> inside <{p}>, expected inside <body>"));
                }
                self.entry = Some(Entry {
                    start: self.input.at(),
                    notes: Vec::new(),
                    langs: Vec::new(),
                    terms: 0,
                });
            }
            (Some(p), "langSet" | "langSec") => self.open_lang(e, &name, p)?,
            (Some(p), "tig" | "ntig" | "termSec") => {
                if !matches!(p, "langSet" | "langSec") || self.item.is_some() {
                    return Err(format!("<{name}> inside <{p}>, expected inside <langSet>"));
                }
                self.item = Some(Item::default());
            }
            (Some(p), _) if self.capture.is_none() => self.open_field(e, &name, p)?,
            // Markup inside a term or a note (`<hi>`, `<foreign>`): its text is kept.
            _ => {}
        }
        self.stack.push(name);
        Ok(())
    }

    fn open_lang(&mut self, e: &BytesStart, name: &str, parent: &str) -> Result<(), String> {
        if !matches!(parent, "termEntry" | "conceptEntry") {
            return Err(format!(
                "<{name}> inside <{parent}>, expected inside <termEntry>"
            ));
        }
        let lang = match attr(e, "xml:lang")?.or(attr(e, "lang")?) {
            Some(l) => langtag::normalize(&l)?,
            None => return Err(format!("<{name}> without xml:lang")),
        };
        self.lang = Some(LangSet {
            lang,
            notes: Vec::new(),
            items: Vec::new(),
        });
        Ok(())
    }

    /// Start gathering the text of an element babeldesk keeps; other elements are passed over.
    fn open_field(&mut self, e: &BytesStart, name: &str, parent: &str) -> Result<(), String> {
        let field = match name {
            "term" => Some(Field::Term),
            // TBX v2 and v3 DCA style say the data category in `type`, v3 DCT style by name.
            "termNote" | "descrip" => attr(e, "type")?.and_then(|t| category(&t)),
            "note" => Some(Field::Note),
            other => category(other),
        };
        let Some(field) = field else { return Ok(()) };
        match field {
            Field::Term if self.item.as_ref().is_some_and(|i| !i.text.is_empty()) => {
                return Err("a second <term> in one term group".into())
            }
            Field::Term if self.item.is_none() => {
                if !matches!(parent, "langSet" | "langSec") {
                    return Err(format!("<term> inside <{parent}>, expected inside <tig>"));
                }
                self.item = Some(Item {
                    implicit: true,
                    ..Item::default()
                });
            }
            Field::Pos | Field::Status if self.item.is_none() => return Ok(()),
            // A note of a transaction or a cross reference is not about the term.
            Field::Note if self.entry.is_none() || !holds_notes(parent) => return Ok(()),
            _ => {}
        }
        self.capture = Some(Capture {
            field,
            depth: self.stack.len() + 1,
            text: String::new(),
        });
        Ok(())
    }

    fn end(&mut self) -> Result<(), String> {
        let depth = self.stack.len();
        let name = self.stack.pop().unwrap_or_default();
        if self.capture.as_ref().is_some_and(|c| c.depth == depth) {
            self.close_field()?;
        }
        match name.as_str() {
            "tig" | "ntig" | "termSec" => self.close_item()?,
            "langSet" | "langSec" => {
                if let (Some(l), Some(e)) = (self.lang.take(), self.entry.as_mut()) {
                    e.langs.push(l);
                }
            }
            "termEntry" | "conceptEntry" => {
                if let Some(e) = self.entry.take() {
                    self.expand(e);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn close_field(&mut self) -> Result<(), String> {
        let Some(c) = self.capture.take() else {
            return Ok(());
        };
        let text = c.text.trim().to_owned();
        match (c.field, self.item.as_mut()) {
            (Field::Term, Some(item)) => {
                item.text = text;
                if item.implicit {
                    self.close_item()?;
                }
            }
            (Field::Pos, Some(item)) if !text.is_empty() => item.pos = Some(text),
            (Field::Status, Some(item)) => item.forbidden |= is_forbidden(&text),
            (Field::Note, _) if !text.is_empty() => self.note(text),
            _ => {}
        }
        Ok(())
    }

    /// A note goes to the innermost open level: the term, the language section, the entry.
    fn note(&mut self, text: String) {
        let notes = match (&mut self.item, &mut self.lang, &mut self.entry) {
            (Some(i), _, _) => &mut i.notes,
            (None, Some(l), _) => &mut l.notes,
            (None, None, Some(e)) => &mut e.notes,
            _ => return,
        };
        notes.push(text);
    }

    fn close_item(&mut self) -> Result<(), String> {
        let Some(item) = self.item.take().filter(|i| !i.text.is_empty()) else {
            return Ok(());
        };
        let (Some(entry), Some(lang)) = (self.entry.as_mut(), self.lang.as_mut()) else {
            return Ok(());
        };
        entry.terms += 1;
        if entry.terms > MAX_ENTRY_TERMS {
            return Err(format!(
                "a concept entry with more than {MAX_ENTRY_TERMS} terms: not a termbase babeldesk accepts"
            ));
        }
        lang.items.push(item);
        Ok(())
    }

    fn text(&mut self, t: &BytesText) -> Result<(), ExchangeError> {
        let words = t.iter().position(|b| !b.is_ascii_whitespace());
        if let Some(first) = words.filter(|_| self.stack.is_empty()) {
            let m = "not a TBX file: text outside the root element";
            return Err(self.input.error_at(self.input.at() + first as u64, m));
        }
        if self.capture.is_none() {
            return Ok(());
        }
        let text = self.input.unescape(self.input.utf8(t)?)?;
        self.gather(&text);
        Ok(())
    }

    fn gather(&mut self, text: &str) {
        if let Some(c) = self.capture.as_mut() {
            c.text.push_str(text);
        }
    }

    fn eof(&mut self) -> Result<(), String> {
        if let Some(open) = self.stack.last() {
            return Err(format!("the file ends inside <{open}>"));
        }
        if !self.root_seen {
            return Err("not a TBX file: no <martif> or <tbx> element".into());
        }
        self.done = true;
        Ok(())
    }

    /// Which side of the pair a language section is on; a tag that fits both sides only
    /// loosely (`en` for `en-US`→`en-GB`) is on neither.
    fn side(&self, lang: &str) -> Option<Side> {
        let (from, to) = (&self.pair.from, &self.pair.to);
        match (lang_matches(lang, from), lang_matches(lang, to)) {
            (true, false) => Some(Side::Source),
            (false, true) => Some(Side::Target),
            (true, true) if lang == from => Some(Side::Source),
            (true, true) if lang == to => Some(Side::Target),
            _ => None,
        }
    }

    /// One term per (source term, target term) of an entry; an entry that gives none is skipped.
    fn expand(&mut self, entry: Entry) {
        let side = |want: Side| {
            let langs = entry
                .langs
                .iter()
                .filter(|l| self.side(&l.lang) == Some(want));
            langs
                .flat_map(|l| l.items.iter().map(move |i| (l, i)))
                .collect::<Vec<_>>()
        };
        let (sources, targets) = (side(Side::Source), side(Side::Target));
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for &(sl, s) in &sources {
            for &(tl, t) in &targets {
                if !seen.insert((s.text.as_str(), t.text.as_str())) {
                    continue;
                }
                let mut n = self.pair.term(&s.text, &t.text);
                n.pos = s.pos.clone().or_else(|| t.pos.clone());
                if t.forbidden {
                    n.status = TermStatus::Forbidden;
                }
                let notes = [&entry.notes, &sl.notes, &tl.notes, &s.notes, &t.notes];
                n.note = join_notes(notes.into_iter().flatten());
                out.push(n);
            }
        }
        if out.is_empty() {
            self.skipped += 1;
        }
        self.pending.extend(out);
    }
}

impl TermReader for TbxReader {
    fn next_term(&mut self) -> Result<Option<NewTerm>, ExchangeError> {
        while self.pending.is_empty() && !self.done {
            self.step()?;
        }
        Ok(self.pending.pop_front())
    }

    fn bytes_read(&self) -> u64 {
        self.input.bytes_read()
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }
}

/// The field a TBX data category name fills, if babeldesk keeps it. Tools spell the names
/// differently (`partOfSpeech`, MultiTerm's `Part of speech`, `Definition`).
fn category(name: &str) -> Option<Field> {
    let key: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "partofspeech" => Some(Field::Pos),
        "administrativestatus" | "normativeauthorization" => Some(Field::Status),
        "definition" | "note" | "comment" => Some(Field::Note),
        _ => None,
    }
}

fn holds_notes(parent: &str) -> bool {
    matches!(
        parent,
        "termEntry"
            | "conceptEntry"
            | "langSet"
            | "langSec"
            | "tig"
            | "ntig"
            | "termGrp"
            | "termSec"
            | "descripGrp"
    )
}

/// Whether an administrativeStatus or normativeAuthorization value says "do not use".
fn is_forbidden(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "deprecatedterm-admn-sts" | "supersededterm-admn-sts" | "deprecatedterm" | "supersededterm"
    )
}

/// Distinct notes in order, joined; `None` when there are none.
fn join_notes<'a>(notes: impl Iterator<Item = &'a String>) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for n in notes {
        if !out.contains(&n.as_str()) {
            out.push(n.as_str());
        }
    }
    (!out.is_empty()).then(|| out.join("; "))
}

/// An internal DTD subset that declares entities is refused outright: babeldesk never expands
/// them, and saying so at the DOCTYPE is clearer than failing at the first use.
fn refuse_entities(doctype: &[u8]) -> Result<(), String> {
    if doctype.windows(8).any(|w| w == b"<!ENTITY") {
        return Err("the DOCTYPE declares entities, which babeldesk does not expand; remove the internal DTD subset".into());
    }
    Ok(())
}

pub struct TbxWriter<'a> {
    out: Output<'a>,
}

impl<'a> TbxWriter<'a> {
    pub fn new(
        out: Box<dyn Write + 'a>,
        path: &Path,
        pair: &Pair,
    ) -> Result<TbxWriter<'a>, ExchangeError> {
        let mut out = Output::new(out, path);
        out.put(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <!DOCTYPE martif SYSTEM \"TBXBasiccoreStructV02.dtd\">\n\
             <martif type=\"TBX-Basic\" xml:lang=\"{}\">\n  <martifHeader>\n    <fileDesc>\n      \
             <sourceDesc><p>babeldesk {}</p></sourceDesc>\n    </fileDesc>\n    <encodingDesc>\n      \
             <p type=\"XCSURI\">TBXBasicXCSV02.xcs</p>\n    </encodingDesc>\n  </martifHeader>\n  \
             <text>\n    <body>\n",
            esc(&pair.from),
            env!("CARGO_PKG_VERSION")
        ))?;
        Ok(TbxWriter { out })
    }
}

impl TermWriter for TbxWriter<'_> {
    fn term(&mut self, t: &Term) -> Result<(), ExchangeError> {
        let e = &t.entry;
        let mut x = format!("      <termEntry id=\"t{}\">\n", t.id);
        if let Some(note) = e.note.as_deref().filter(|n| !n.trim().is_empty()) {
            x += &format!("        <note>{}</note>\n", esc(note));
        }
        let pos = e.pos.as_deref();
        x += &lang_set(&e.source_lang, &e.source, pos, TermStatus::Preferred);
        x += &lang_set(&e.target_lang, &e.target, pos, e.status);
        x += "      </termEntry>\n";
        self.out.put(&x)
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExchangeError> {
        self.out.put("    </body>\n  </text>\n</martif>\n")?;
        self.out.finish()
    }
}

fn lang_set(lang: &str, term: &str, pos: Option<&str>, status: TermStatus) -> String {
    let mut x = format!(
        "        <langSet xml:lang=\"{}\">\n          <tig>\n            <term>{}</term>\n",
        esc(lang),
        esc(term)
    );
    if let Some(pos) = pos.filter(|p| !p.trim().is_empty()) {
        x += &format!(
            "            <termNote type=\"partOfSpeech\">{}</termNote>\n",
            esc(pos)
        );
    }
    let status = match status {
        TermStatus::Preferred => "preferredTerm-admn-sts",
        TermStatus::Forbidden => "deprecatedTerm-admn-sts",
    };
    x += &format!(
        "            <termNote type=\"administrativeStatus\">{status}</termNote>\n          </tig>\n        </langSet>\n"
    );
    x
}

/// Text as XML character data: escaped, without the control characters XML cannot carry, and
/// with carriage returns as references so that XML's line-end handling keeps them.
fn esc(s: &str) -> String {
    quick_xml::escape::escape(xml_chars(s)).replace('\r', "&#13;")
}

#[cfg(test)]
mod tests {
    use super::super::terms::testing::{imported, pair, read, samples, write};
    use super::*;

    fn read_tbx(xml: &str) -> Result<(Vec<NewTerm>, u64), ExchangeError> {
        read(&Tbx, "t.tbx", xml.as_bytes(), &pair())
    }

    fn terms(xml: &str) -> Vec<(String, String, TermStatus)> {
        let (terms, _) = read_tbx(xml).unwrap();
        terms
            .into_iter()
            .map(|t| (t.source, t.target, t.status))
            .collect()
    }

    fn error(xml: &str) -> String {
        read_tbx(xml).unwrap_err().to_string()
    }

    /// As memoQ exports: TBX v2, `ntig`/`termGrp`, language tags in lower case.
    const MEMOQ: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<martif type="TBX" xml:lang="en-us">
  <martifHeader><fileDesc><sourceDesc><p>memoQ</p></sourceDesc></fileDesc></martifHeader>
  <text>
    <body>
      <termEntry id="_1">
        <descrip type="definition">Parliament &amp; its lower house</descrip>
        <langSet xml:lang="en-us">
          <ntig>
            <termGrp>
              <term>State Duma</term>
              <termNote type="partOfSpeech">noun</termNote>
            </termGrp>
            <descrip type="context">The State Duma passed the bill.</descrip>
          </ntig>
        </langSet>
        <langSet xml:lang="ru-ru">
          <ntig><termGrp><term>Госдума</term></termGrp></ntig>
          <ntig><termGrp><term>Государственная дума</term></termGrp><note>full form</note></ntig>
        </langSet>
        <transacGrp><transac type="transactionType">origination</transac><note>by admin</note></transacGrp>
      </termEntry>
    </body>
  </text>
</martif>
"#;

    #[test]
    fn memoq_v2_entries_give_each_source_and_target_pair() {
        let (terms, skipped) = read_tbx(MEMOQ).unwrap();
        assert_eq!(skipped, 0);
        let got: Vec<_> = terms
            .iter()
            .map(|t| (t.source.as_str(), t.target.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("Госдума", "State Duma"),
                ("Государственная дума", "State Duma")
            ]
        );
        let (a, b) = (&terms[0], &terms[1]);
        assert_eq!(
            (a.source_lang.as_str(), a.target_lang.as_str()),
            ("ru", "en")
        );
        assert_eq!(
            a.pos.as_deref(),
            Some("noun"),
            "the target's when the source has none"
        );
        assert_eq!(a.note.as_deref(), Some("Parliament & its lower house"));
        assert_eq!(
            b.note.as_deref(),
            Some("Parliament & its lower house; full form")
        );
        assert_eq!(a.status, TermStatus::Preferred);
    }

    /// As Trados MultiTerm exports: `descripGrp`, `tig`, upper-case tags, its own spellings.
    #[test]
    fn trados_v2_synonyms_forbidden_and_skipped_entries() {
        let xml = r#"<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd">
<martif type="TBX" xml:lang="en-US"><martifHeader/><text><body>
<termEntry id="c1">
  <descripGrp><descrip type="Definition">Head of a press office</descrip></descripGrp>
  <langSet xml:lang="RU"><tig><term>пресс-секретарь</term><termNote type="Part of speech">noun</termNote></tig>
    <tig><term>пресс-атташе</term></tig></langSet>
  <langSet xml:lang="EN-US"><tig><term>press secretary</term></tig>
    <tig><term>press attaché</term><termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></tig>
    <tig><term>spokesman</term><termNote type="normativeAuthorization">supersededTerm</termNote></tig></langSet>
  <langSet xml:lang="de"><tig><term>Pressesprecher</term></tig></langSet>
</termEntry>
<termEntry id="c2"><langSet xml:lang="ru"><tig><term>Кремль</term></tig></langSet><langSet xml:lang="de"><tig><term>Kreml</term></tig></langSet></termEntry>
<termEntry id="c3"><langSet xml:lang="en"><tig><term>Kremlin</term></tig></langSet></termEntry>
<termEntry id="c4"><langSet xml:lang="ru"><tig><term>   </term></tig></langSet><langSet xml:lang="en"><tig><term>x</term></tig></langSet></termEntry>
</body></text></martif>"#;
        // MultiTerm writes UTF-16 with a byte order mark.
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let (terms, skipped) = read(&Tbx, "t.tbx", &bytes, &pair()).unwrap();
        let forbidden = TermStatus::Forbidden;
        let got: Vec<_> = terms
            .iter()
            .map(|t| (t.source.as_str(), t.target.as_str(), t.status))
            .collect();
        let p = TermStatus::Preferred;
        assert_eq!(
            got,
            [
                ("пресс-секретарь", "press secretary", p),
                ("пресс-секретарь", "press attaché", forbidden),
                ("пресс-секретарь", "spokesman", forbidden),
                ("пресс-атташе", "press secretary", p),
                ("пресс-атташе", "press attaché", forbidden),
                ("пресс-атташе", "spokesman", forbidden),
            ]
        );
        assert_eq!(terms[0].pos.as_deref(), Some("noun"));
        assert_eq!(terms[3].pos, None);
        assert_eq!(terms[0].note.as_deref(), Some("Head of a press office"));
        assert_eq!(skipped, 3, "no English, no Russian, an empty Russian term");
    }

    #[test]
    fn tbx_v3_dca_and_dct_styles_are_read() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<?xml-model href="TBXcoreStructV03_TBX-Basic_integrated.rng"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2" xmlns:basic="http://www.tbxinfo.net/ns/basic">
  <tbxHeader><fileDesc><sourceDesc><p>OmegaT</p></sourceDesc></fileDesc></tbxHeader>
  <text><body>
    <conceptEntry id="1">
      <langSec xml:lang="ru"><termSec><term>санкции</term><termNote type="partOfSpeech">noun</termNote><note>plural</note></termSec></langSec>
      <langSec xml:lang="en-GB"><descrip type="definition">restrictive measures</descrip>
        <termSec><term>sanctions</term></termSec>
        <termSec><term>embargo</term><basic:administrativeStatus>deprecatedTerm-admn-sts</basic:administrativeStatus></termSec></langSec>
    </conceptEntry>
    <conceptEntry id="2"><langSec xml:lang="ru"><term>МИД</term></langSec><langSec xml:lang="en"><term>Foreign Ministry</term></langSec></conceptEntry>
  </body></text>
</tbx>"#;
        let (terms, skipped) = read_tbx(xml).unwrap();
        assert_eq!(skipped, 0);
        let t = &terms[0];
        assert_eq!(
            (t.source.as_str(), t.target.as_str()),
            ("санкции", "sanctions")
        );
        assert_eq!(
            (t.pos.as_deref(), t.note.as_deref()),
            (Some("noun"), Some("restrictive measures; plural"))
        );
        assert_eq!(
            (terms[1].target.as_str(), terms[1].status),
            ("embargo", TermStatus::Forbidden)
        );
        assert_eq!(
            (terms[2].source.as_str(), terms[2].target.as_str()),
            ("МИД", "Foreign Ministry")
        );
        assert_eq!(terms.len(), 3);
    }

    #[test]
    fn entities_are_never_expanded() {
        let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE martif [\n<!ENTITY lol \"lol\">\n<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n]>\n<martif><text><body><termEntry><langSet xml:lang=\"ru\"><tig><term>&lol3;</term></tig></langSet><langSet xml:lang=\"en\"><tig><term>x</term></tig></langSet></termEntry></body></text></martif>";
        let e = error(bomb);
        assert!(e.ends_with(":2:1: the DOCTYPE declares entities, which babeldesk does not expand; remove the internal DTD subset"), "{e}");
        let used = "<martif><text><body><termEntry><langSet xml:lang=\"ru\"><tig><term>a &xxe; b</term></tig></langSet></termEntry></body></text></martif>";
        let e = error(used);
        assert!(
            e.ends_with(":1:68: unknown entity &xxe; (entities are not expanded)"),
            "{e}"
        );
        let ok = "<martif><text><body><termEntry><langSet xml:lang=\"ru\"><tig><term>&lt;&#1044;&#x430;&gt; &amp; &quot;&apos;</term></tig></langSet><langSet xml:lang=\"en\"><tig><term><![CDATA[Yes <b>]]></term></tig></langSet></termEntry></body></text></martif>";
        assert_eq!(terms(ok)[0].0, "<Да> & \"'");
        assert_eq!(terms(ok)[0].1, "Yes <b>");
    }

    #[test]
    fn malformed_files_say_where() {
        let entry = "<termEntry><langSet xml:lang=\"ru\"><tig><term>a</term></tig></langSet>";
        let cases = [
            (format!("<martif><text><body>\n{entry}\n</langSet></body></text></martif>"), ":3:1: ill-formed document: expected `</termEntry>`, but `</langSet>` was found"),
            (format!("<martif><text><body>{entry}"), "the file ends inside <termEntry>"),
            (format!("<martif><text><body>\n  {entry}</termEntry></body></text></martif>\n<martif/>"), ":3:1: a second root element"),
            ("<html><body/></html>".into(), ":1:1: not a TBX file: the root element is <html>"),
            ("\u{feff}just prose".into(), ":1:1: not a TBX file: it does not start with markup"),
            ("".into(), "not a TBX file: no <martif> or <tbx> element"),
            ("<martif><text><body><termEntry>\n<langSet><tig/></langSet></termEntry></body></text></martif>".into(), ":2:1: <langSet> without xml:lang"),
            ("<martif><text><body><termEntry><langSet xml:lang=\"ru\">\n  <tig><term>a</term><term>b</term></tig></langSet></termEntry></body></text></martif>".into(), ":2:22: a second <term> in one term group"),
            ("<martif><text><termEntry/></text></martif>".into(), ":1:15: <termEntry> inside <text>, expected inside <body>"),
            ("<tbx><text><body><conceptEntry><langSec xml:lang=\"ru\"><termSec><term>\u{431}\u{44b}\u{442}\u{44c}\u{431}\u{44b}</term></termSec></langSec></conceptEntry>\n</body></text></tbx> trailing".into(), ":2:22: not a TBX file: text outside the root element"),
        ];
        for (xml, want) in cases {
            let e = error(&xml);
            assert!(e.contains(want), "{e} should contain {want}");
        }
    }

    #[test]
    fn hostile_input_is_refused_in_bounded_memory() {
        let tigs: String = (0..MAX_ENTRY_TERMS + 1)
            .map(|i| format!("<tig><term>t{i}</term></tig>"))
            .collect();
        let xml = format!("<martif><text><body><termEntry><langSet xml:lang=\"ru\">{tigs}</langSet></termEntry></body></text></martif>");
        assert!(error(&xml).contains("more than 256 terms"));
        let deep = format!("<martif>{}", "<a>".repeat(100));
        let e = error(&deep);
        assert!(
            e.contains(":1:198: elements nested more than 64 deep"),
            "{e}"
        );
        let mut huge = String::from("<martif><text><body><termEntry>");
        for _ in 0..20 {
            huge += &format!("<note>{}</note>", "x".repeat(1 << 20));
        }
        assert!(error(&huge).contains(":1:21: a concept entry longer than 16 MiB"));
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(MEMOQ.encode_utf16().flat_map(u16::to_le_bytes));
        let (terms, _) = read(&Tbx, "t.tbx", &bytes, &pair()).unwrap();
        assert_eq!(terms[0].source, "Госдума");
    }

    #[test]
    fn write_then_read_gives_the_same_entries() {
        let terms = samples();
        let bytes = write(&Tbx, &terms, &pair()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE martif SYSTEM \"TBXBasiccoreStructV02.dtd\">\n<martif type=\"TBX-Basic\" xml:lang=\"ru\">"), "{text}");
        assert!(text.contains("<termEntry id=\"t1\">\n        <note>lower house; &lt;&amp;&gt;&quot;&apos; kept</note>"), "{text}");
        assert!(text.contains("<term>press secretary</term>\n            <termNote type=\"partOfSpeech\">noun</termNote>\n            <termNote type=\"administrativeStatus\">deprecatedTerm-admn-sts</termNote>"), "{text}");
        let (back, skipped) = read(&Tbx, "t.tbx", &bytes, &pair()).unwrap();
        assert_eq!(skipped, 0);
        assert_eq!(back, terms.iter().map(imported).collect::<Vec<_>>());
        // A term of a regional pair is found by the plain languages, and the other way round.
        let regional = Pair::new("ru-RU", "en-US").unwrap();
        assert_eq!(read(&Tbx, "t.tbx", &bytes, &regional).unwrap().0.len(), 3);
    }
}
