//! TMX 1.4b, read as a stream (quick-xml) and written a unit at a time.
//!
//! Safety: the DOCTYPE is skipped, never read, so no external entity is fetched and no entity
//! is expanded (XXE and "billion laughs" are inert); an unknown `&entity;` is an error.
//! Encodings: UTF-8, and UTF-16 with a byte order mark (transcoded); anything else that is not
//! UTF-8 is an error with its place.
//!
//! Inline codes (`<bpt>`, `<ept>`, `<ph>`, `<it>`, `<ut>`, `<hi>`) become placeholders in the
//! text (`<g1>…</g1>`, `<x2/>`, `<h3>…</h3>`), numbered by their `x` (else `i`) attribute, so
//! source and target agree; the original markup is kept beside the unit and written back on
//! export, so import → export → import gives the same units.
//!
//! Units: each `<tu>` gives one unit per target variant, from the variant in the `srclang`
//! of the `<tu>` (else of the header); `srclang="*all*"` gives every ordered pair. Languages
//! are normalized (`EN-us` → `en-US`). babeldesk's own fields travel as `x-babeldesk-*` props.

use super::xml::{attr, check_attributes, local, xml_chars, XmlInput};
use super::{ExchangeError, Output, TmFormat, TmReader, TmWriter};
use crate::memory::{NewUnit, Origin, Status};
use crate::text::langtag;
use quick_xml::events::{BytesStart, Event};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::Path;

pub use super::xml::{MAX_ATTRIBUTES, MAX_RUN};

pub struct Tmx;

impl TmFormat for Tmx {
    fn name(&self) -> &'static str {
        "TMX"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["tmx"]
    }

    fn reader(&self, path: &Path) -> Result<Box<dyn TmReader>, ExchangeError> {
        Ok(Box::new(TmxReader::open(path)?))
    }

    fn writer<'a>(
        &self,
        out: Box<dyn Write + 'a>,
        path: &Path,
    ) -> Result<Box<dyn TmWriter + 'a>, ExchangeError> {
        Ok(Box::new(TmxWriter::new(out, path)?))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum SrcLang {
    All,
    Tag(String),
}

#[derive(Default)]
struct Tu {
    srclang: Option<SrcLang>,
    created: Option<String>,
    changed: Option<String>,
    usage: i64,
    props: HashMap<String, String>,
    variants: Vec<Variant>,
}

struct Variant {
    lang: String,
    text: String,
    tags: BTreeMap<String, String>,
    created: Option<String>,
    changed: Option<String>,
}

#[derive(Default)]
struct Seg {
    text: String,
    tags: BTreeMap<String, String>,
    next: u32,
    open_bpt: HashMap<String, String>,
    open_hi: Vec<String>,
    inline: Option<Inline>,
}

/// An inline code being copied verbatim until its end tag.
struct Inline {
    depth: u32,
    raw: String,
    placeholder: String,
}

pub struct TmxReader {
    input: XmlInput,
    stack: Vec<String>,
    header_srclang: Option<SrcLang>,
    tu: Option<Tu>,
    tuv: Option<Variant>,
    seg: Option<Seg>,
    prop: Option<(String, String)>,
    pending: VecDeque<NewUnit>,
    skipped: u64,
    root_seen: bool,
    done: bool,
}

impl TmxReader {
    pub fn open(path: &Path) -> Result<TmxReader, ExchangeError> {
        Ok(TmxReader {
            input: XmlInput::open(path, "TMX")?,
            stack: Vec::new(),
            header_srclang: None,
            tu: None,
            tuv: None,
            seg: None,
            prop: None,
            pending: VecDeque::new(),
            skipped: 0,
            root_seen: false,
            done: false,
        })
    }

    fn step(&mut self) -> Result<(), ExchangeError> {
        let event = self.input.next_event()?;
        let fail = |this: &Self, m: String| Err(this.input.error_at(this.input.at(), m));
        match event {
            Event::Start(e) => {
                self.start(&e, false).or_else(|m| fail(self, m))?;
            }
            Event::Empty(e) => {
                self.start(&e, true).or_else(|m| fail(self, m))?;
                self.end(&local(&e)).or_else(|m| fail(self, m))?;
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                self.end(&name).or_else(|m| fail(self, m))?;
                self.stack.pop();
            }
            Event::Text(t) => {
                if self.stack.is_empty() && t.iter().any(|b| !b.is_ascii_whitespace()) {
                    return fail(
                        self,
                        "not a TMX file: text outside the <tmx> element".into(),
                    );
                }
                self.text(&t)?;
            }
            Event::CData(t) => {
                let raw = self.input.utf8(&t)?;
                if let Some(seg) = self.seg.as_mut() {
                    match seg.inline.as_mut() {
                        Some(i) => i.raw.push_str(&format!("<![CDATA[{raw}]]>")),
                        None => seg.text.push_str(raw),
                    }
                }
            }
            // Never read: no external entities, no entity expansion.
            Event::DocType(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if let Some(open) = self.stack.last() {
                    return fail(self, format!("the file ends inside <{open}>"));
                }
                if !self.root_seen {
                    return fail(self, "not a TMX file: no <tmx> element".into());
                }
                self.done = true;
            }
        }
        Ok(())
    }

    /// Text inside an inline code is kept as markup; inside a segment or a prop, as text.
    fn text(&mut self, t: &[u8]) -> Result<(), ExchangeError> {
        let raw = self.input.utf8(t)?;
        if let Some(Inline { raw: r, .. }) = self.seg.as_mut().and_then(|s| s.inline.as_mut()) {
            r.push_str(raw);
        } else if self.seg.is_some() || self.prop.is_some() {
            let text = self.input.unescape(raw)?;
            if let Some(seg) = self.seg.as_mut() {
                seg.text.push_str(&text);
            } else if let Some((_, v)) = self.prop.as_mut() {
                v.push_str(&text);
            }
        }
        Ok(())
    }

    fn start(&mut self, e: &BytesStart, empty: bool) -> Result<(), String> {
        let name = local(e);
        check_attributes(e, &name)?;
        if let Some(seg) = self.seg.as_mut() {
            start_inside_seg(seg, e, &name, empty)?;
            if !empty {
                self.stack.push(name);
            }
            return Ok(());
        }
        let parent = self.stack.last().map(String::as_str);
        match (parent, name.as_str()) {
            (None, "tmx") if self.root_seen => {
                return Err("a second <tmx> element: a file has one root".into())
            }
            (None, "tmx") => self.root_seen = true,
            (None, other) => return Err(format!("not a TMX file: the root element is <{other}>")),
            (Some("tmx"), "header") => {
                self.header_srclang = Some(match attr(e, "srclang")? {
                    Some(s) => srclang(&s)?,
                    None => SrcLang::All,
                });
            }
            (Some("body"), "tu") => {
                self.tu = Some(Tu {
                    srclang: attr(e, "srclang")?.map(|s| srclang(&s)).transpose()?,
                    created: attr(e, "creationdate")?.and_then(|d| tmx_date(&d)),
                    changed: attr(e, "changedate")?.and_then(|d| tmx_date(&d)),
                    // A count that is not a whole number ≥ 0 is not a count: 0.
                    usage: attr(e, "usagecount")?
                        .and_then(|n| n.trim().parse::<u32>().ok())
                        .map_or(0, i64::from),
                    ..Tu::default()
                })
            }
            (Some(p), "tu") => return Err(format!("<tu> inside <{p}>, expected inside <body>")),
            (Some("tu"), "tuv") => {
                let lang = match attr(e, "xml:lang")?.or(attr(e, "lang")?) {
                    Some(l) => langtag::normalize(&l)?,
                    None => return Err("<tuv> without xml:lang".into()),
                };
                self.tuv = Some(Variant {
                    lang,
                    text: String::new(),
                    tags: BTreeMap::new(),
                    created: attr(e, "creationdate")?.and_then(|d| tmx_date(&d)),
                    changed: attr(e, "changedate")?.and_then(|d| tmx_date(&d)),
                });
            }
            (Some(p), "tuv") => return Err(format!("<tuv> inside <{p}>, expected inside <tu>")),
            (Some("tuv"), "seg") => self.seg = Some(Seg::default()),
            (Some(p), "seg") => return Err(format!("<seg> inside <{p}>, expected inside <tuv>")),
            (Some("tu"), "prop") => {
                self.prop = Some((attr(e, "type")?.unwrap_or_default(), String::new()));
            }
            _ => {}
        }
        if !empty {
            self.stack.push(name);
        }
        Ok(())
    }

    fn end(&mut self, name: &str) -> Result<(), String> {
        if let Some(seg) = self.seg.as_mut() {
            if name != "seg" || seg.inline.is_some() {
                end_inside_seg(seg, name);
                return Ok(());
            }
        }
        match name {
            "seg" => {
                if let (Some(seg), Some(tuv)) = (self.seg.take(), self.tuv.as_mut()) {
                    tuv.text = seg.text;
                    tuv.tags = seg.tags;
                }
            }
            "tuv" => {
                if let (Some(v), Some(tu)) = (self.tuv.take(), self.tu.as_mut()) {
                    tu.variants.push(v);
                }
            }
            "prop" => {
                if let (Some((k, v)), Some(tu)) = (self.prop.take(), self.tu.as_mut()) {
                    tu.props.insert(k, v);
                }
            }
            "tu" => {
                if let Some(tu) = self.tu.take() {
                    self.expand(tu);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// One unit per (source, target) variant pair of a `<tu>`.
    fn expand(&mut self, tu: Tu) {
        let src = tu
            .srclang
            .clone()
            .or_else(|| self.header_srclang.clone())
            .unwrap_or(SrcLang::All);
        let sources: Vec<usize> = match &src {
            SrcLang::All => (0..tu.variants.len()).collect(),
            SrcLang::Tag(t) => tu
                .variants
                .iter()
                .position(|v| &v.lang == t)
                .or_else(|| {
                    let p = langtag::primary(t);
                    tu.variants
                        .iter()
                        .position(|v| langtag::primary(&v.lang) == p)
                })
                .into_iter()
                .collect(),
        };
        if sources.is_empty() {
            self.skipped += 1;
            return;
        }
        let prop = |k: &str| tu.props.get(&format!("x-babeldesk-{k}")).cloned();
        let (pending, skipped) = (self.pending.len(), self.skipped);
        for &s in &sources {
            let source = &tu.variants[s];
            for (t, target) in tu.variants.iter().enumerate() {
                if t == s || target.lang == source.lang {
                    continue;
                }
                if source.text.trim().is_empty() || target.text.trim().is_empty() {
                    self.skipped += 1;
                    continue;
                }
                let mut u = NewUnit::new(&source.lang, &target.lang, &source.text, &target.text);
                u.origin = prop("origin")
                    .and_then(|o| o.parse().ok())
                    .unwrap_or(Origin::Import);
                u.status = prop("status")
                    .and_then(|o| o.parse().ok())
                    .unwrap_or(Status::Draft);
                u.model = prop("model");
                u.precision = prop("precision").and_then(|p| match p.parse() {
                    Ok(crate::config::Precision::Auto) | Err(_) => None,
                    Ok(p) => Some(p),
                });
                u.document = prop("document");
                u.position = prop("position").and_then(|p| p.parse().ok());
                u.prev_hash = prop("prev");
                u.next_hash = prop("next");
                u.source_tags = tags_json(&source.tags);
                u.target_tags = tags_json(&target.tags);
                u.created_at = target.created.clone().or_else(|| tu.created.clone());
                u.updated_at = target.changed.clone().or_else(|| tu.changed.clone());
                u.use_count = tu.usage;
                self.pending.push_back(u);
            }
        }
        // A <tu> that gave nothing (one variant, or all in one language) is skipped too.
        if self.pending.len() == pending && self.skipped == skipped {
            self.skipped += 1;
        }
    }
}

fn start_inside_seg(seg: &mut Seg, e: &BytesStart, name: &str, empty: bool) -> Result<(), String> {
    let raw_tag = format!(
        "<{}{}>",
        String::from_utf8_lossy(e.as_ref()),
        if empty { "/" } else { "" }
    );
    if let Some(inline) = seg.inline.as_mut() {
        inline.raw.push_str(&raw_tag);
        if !empty {
            inline.depth += 1;
        }
        return Ok(());
    }
    seg.next += 1;
    let x = attr(e, "x")?;
    let i = attr(e, "i")?;
    // TMX's x and i are numbers; any other value (`i="1>"`) would break the placeholder.
    let number = |seg: &Seg, n: Option<String>| {
        n.filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or_else(|| seg.next.to_string())
    };
    let placeholder = match name {
        "bpt" => {
            let n = number(seg, x.or(i.clone()));
            let p = free(seg, |k| format!("<g{n}{k}>"));
            seg.open_bpt
                .insert(i.unwrap_or_default(), p[2..p.len() - 1].to_owned());
            p
        }
        // The `</g…>` of its `<bpt>`, unless a stray `<ept>` took that one already.
        "ept" => match seg.open_bpt.remove(&i.clone().unwrap_or_default()) {
            Some(id) if !seg.tags.contains_key(&format!("</g{id}>")) => format!("</g{id}>"),
            _ => free(seg, |k| format!("</g{}{k}>", number(seg, i.clone()))),
        },
        "ph" | "it" | "ut" => {
            let n = number(seg, x);
            free(seg, |k| format!("<x{n}{k}/>"))
        }
        "hi" => {
            let n = number(seg, x);
            let p = if empty {
                free(seg, |k| format!("<h{n}{k}/>"))
            } else {
                free(seg, |k| format!("<h{n}{k}>"))
            };
            if !empty {
                seg.open_hi.push(p[2..p.len() - 1].to_owned());
            }
            seg.tags.insert(p.clone(), raw_tag);
            seg.text.push_str(&p);
            return Ok(());
        }
        // Anything else inside <seg> is not TMX 1.4b: keep its text, drop the markup.
        _ => return Ok(()),
    };
    if empty {
        seg.tags.insert(placeholder.clone(), raw_tag);
        seg.text.push_str(&placeholder);
    } else {
        seg.inline = Some(Inline {
            depth: 0,
            raw: raw_tag,
            placeholder,
        });
    }
    Ok(())
}

fn end_inside_seg(seg: &mut Seg, name: &str) {
    if let Some(inline) = seg.inline.as_mut() {
        inline.raw.push_str(&format!("</{name}>"));
        if inline.depth > 0 {
            inline.depth -= 1;
            return;
        }
        let done = seg.inline.take().expect("checked above");
        seg.tags.insert(done.placeholder.clone(), done.raw);
        seg.text.push_str(&done.placeholder);
    } else if name == "hi" {
        if let Some(id) = seg.open_hi.pop() {
            let p = format!("</h{id}>");
            seg.tags.insert(p.clone(), "</hi>".into());
            seg.text.push_str(&p);
        }
    }
}

/// A placeholder not yet used in this segment: `make("")`, else `make("a")`, `make("b")`…
/// After `z` come `z1`, `z2`…: a segment may hold any number of codes with the same number.
fn free(seg: &Seg, make: impl Fn(&str) -> String) -> String {
    let mut p = make("");
    let mut n = 0u32;
    while seg.tags.contains_key(&p) || seg.open_bpt.values().any(|v| p == format!("<g{v}>")) {
        n += 1;
        p = match n {
            1..=26 => make(&char::from(b'a' + (n - 1) as u8).to_string()),
            _ => make(&format!("z{}", n - 26)),
        };
    }
    p
}

fn srclang(s: &str) -> Result<SrcLang, String> {
    if s.trim().eq_ignore_ascii_case("*all*") {
        Ok(SrcLang::All)
    } else {
        langtag::normalize(s).map(SrcLang::Tag)
    }
}

fn tags_json(tags: &BTreeMap<String, String>) -> Option<String> {
    (!tags.is_empty()).then(|| serde_json::to_string(tags).expect("a map of strings"))
}

/// `20020523T091200Z` → `2002-05-23T09:12:00Z`; `None` for anything else.
fn tmx_date(d: &str) -> Option<String> {
    let b = d.trim().as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    (b.len() == 16 && digits(0..8) && b[8] == b'T' && digits(9..15) && b[15] == b'Z').then(|| {
        let s = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).expect("ascii digits");
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            s(0..4),
            s(4..6),
            s(6..8),
            s(9..11),
            s(11..13),
            s(13..15)
        )
    })
}

/// `2002-05-23T09:12:00Z` → `20020523T091200Z`.
fn to_tmx_date(d: &str) -> String {
    d.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

impl TmReader for TmxReader {
    fn next_unit(&mut self) -> Result<Option<NewUnit>, ExchangeError> {
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

pub struct TmxWriter<'a> {
    out: Output<'a>,
}

impl<'a> TmxWriter<'a> {
    pub fn new(out: Box<dyn Write + 'a>, path: &Path) -> Result<TmxWriter<'a>, ExchangeError> {
        let mut out = Output::new(out, path);
        out.put(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\">\n  <header creationtool=\"babeldesk\" creationtoolversion=\"{}\" segtype=\"sentence\" o-tmf=\"babeldesk\" adminlang=\"en\" srclang=\"*all*\" datatype=\"plaintext\"/>\n  <body>\n",
            env!("CARGO_PKG_VERSION")
        ))?;
        Ok(TmxWriter { out })
    }
}

impl TmWriter for TmxWriter<'_> {
    fn unit(&mut self, u: &NewUnit) -> Result<(), ExchangeError> {
        let esc = |s: &str| quick_xml::escape::escape(xml_chars(s)).into_owned();
        let mut t = format!("    <tu srclang=\"{}\"", esc(&u.source_lang));
        for (name, date) in [
            ("creationdate", &u.created_at),
            ("changedate", &u.updated_at),
        ] {
            if let Some(date) = date.as_deref().filter(|d| !d.is_empty()) {
                t += &format!(" {name}=\"{}\"", to_tmx_date(date));
            }
        }
        if u.use_count > 0 {
            t += &format!(" usagecount=\"{}\"", u.use_count);
        }
        t += ">\n";
        let position = u.position.map(|p| p.to_string());
        for (k, v) in [
            ("origin", Some(u.origin.as_str())),
            ("status", Some(u.status.as_str())),
            ("model", u.model.as_deref()),
            ("precision", u.precision.map(|p| p.as_str())),
            ("document", u.document.as_deref()),
            ("position", position.as_deref()),
            ("prev", u.prev_hash.as_deref()),
            ("next", u.next_hash.as_deref()),
        ] {
            if let Some(v) = v {
                t += &format!("      <prop type=\"x-babeldesk-{k}\">{}</prop>\n", esc(v));
            }
        }
        for (lang, text, tags) in [
            (&u.source_lang, &u.source, &u.source_tags),
            (&u.target_lang, &u.target, &u.target_tags),
        ] {
            t += &format!(
                "      <tuv xml:lang=\"{}\"><seg>{}</seg></tuv>\n",
                esc(lang),
                seg_xml(text, tags.as_deref())
            );
        }
        t += "    </tu>\n";
        self.out.put(&t)
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExchangeError> {
        self.out.put("  </body>\n</tmx>\n")?;
        self.out.finish()
    }
}

/// Segment text as XML: placeholders with known markup get it back, the rest is escaped.
fn seg_xml(text: &str, tags: Option<&str>) -> String {
    let tags: BTreeMap<String, String> = tags
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        out.push_str(&quick_xml::escape::partial_escape(xml_chars(&rest[..lt])));
        let after = &rest[lt..];
        match after
            .find('>')
            .map(|gt| &after[..=gt])
            .and_then(|p| tags.get(p).map(|m| (p, m)))
        {
            Some((p, markup)) => {
                out.push_str(markup);
                rest = &after[p.len()..];
            }
            None => {
                out.push_str("&lt;");
                rest = &after[1..];
            }
        }
    }
    out.push_str(&quick_xml::escape::partial_escape(xml_chars(rest)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Filter, Memory, MemoryError};
    use std::fs::File;

    fn read_all(xml: &[u8]) -> Result<Vec<NewUnit>, ExchangeError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tmx");
        std::fs::write(&path, xml).unwrap();
        let mut r = TmxReader::open(&path)?;
        let mut out = Vec::new();
        while let Some(u) = r.next_unit()? {
            out.push(u);
        }
        Ok(out)
    }

    fn doc(header_srclang: &str, body: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<tmx version=\"1.4\"><header srclang=\"{header_srclang}\" \
             creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" \
             adminlang=\"en\" datatype=\"plaintext\"/>\n<body>{body}</body></tmx>\n"
        )
    }

    #[test]
    fn languages_are_mapped_and_srclang_picks_the_source() {
        let units = read_all(doc("EN-us", "<tu><tuv xml:lang=\"fr-ca\"><seg>Bonjour</seg></tuv><tuv xml:lang=\"en-US\"><seg>Hello</seg></tuv><tuv lang=\"DE\"><seg>Hallo</seg></tuv></tu>").as_bytes()).unwrap();
        let pairs: Vec<_> = units
            .iter()
            .map(|u| {
                (
                    u.source_lang.as_str(),
                    u.target_lang.as_str(),
                    u.source.as_str(),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [("en-US", "fr-CA", "Hello"), ("en-US", "de", "Hello")]
        );
        assert_eq!(units[0].origin, Origin::Import);
    }

    #[test]
    fn all_gives_every_ordered_pair() {
        let units = read_all(doc("*all*", "<tu><tuv xml:lang=\"ru\"><seg>Да</seg></tuv><tuv xml:lang=\"en\"><seg>Yes</seg></tuv></tu>").as_bytes()).unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(
            (units[1].source.as_str(), units[1].target.as_str()),
            ("Yes", "Да")
        );
    }

    #[test]
    fn inline_codes_become_placeholders_and_come_back() {
        let xml = doc("en", "<tu><tuv xml:lang=\"en\"><seg>Click <bpt i=\"1\" x=\"1\">&lt;b></bpt>here<ept i=\"1\">&lt;/b></ept> <ph x=\"2\">&lt;img src=\"<sub>a</sub>\"></ph> and <hi type=\"x\">this</hi>.</seg></tuv><tuv xml:lang=\"fr\"><seg><ph x=\"2\">&lt;img></ph> Cliquez <bpt i=\"1\" x=\"1\">&lt;b></bpt>ici<ept i=\"1\">&lt;/b></ept>.</seg></tuv></tu>");
        let units = read_all(xml.as_bytes()).unwrap();
        let u = &units[0];
        assert_eq!(u.source, "Click <g1>here</g1> <x2/> and <h4>this</h4>.");
        assert_eq!(u.target, "<x2/> Cliquez <g1>ici</g1>.");
        let tags: BTreeMap<String, String> =
            serde_json::from_str(u.source_tags.as_deref().unwrap()).unwrap();
        assert_eq!(
            tags["<x2/>"],
            "<ph x=\"2\">&lt;img src=\"<sub>a</sub>\"></ph>"
        );
        assert_eq!(
            seg_xml(&u.source, u.source_tags.as_deref()),
            "Click <bpt i=\"1\" x=\"1\">&lt;b></bpt>here<ept i=\"1\">&lt;/b></ept> <ph x=\"2\">&lt;img src=\"<sub>a</sub>\"></ph> and <hi type=\"x\">this</hi>."
        );
        // Text that only looks like a placeholder stays text.
        assert_eq!(seg_xml("a <g1> & b", None), "a &lt;g1&gt; &amp; b");
    }

    #[test]
    fn entities_are_never_expanded() {
        let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE tmx [\n<!ENTITY a \"aaaaaaaaaa\">\n<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n<tmx version=\"1.4\"><header srclang=\"en\"/><body><tu><tuv xml:lang=\"en\"><seg>&b;</seg></tuv><tuv xml:lang=\"fr\"><seg>&xxe;</seg></tuv></tu></body></tmx>";
        let e = read_all(bomb.as_bytes()).unwrap_err().to_string();
        assert!(
            e.ends_with(":7:76: unknown entity &b; (entities are not expanded)"),
            "{e}"
        );
        let ok = read_all(doc("en", "<tu><tuv xml:lang=\"en\"><seg>a &amp; b &#233; &#x44;</seg></tuv><tuv xml:lang=\"fr\"><seg>x</seg></tuv></tu>").as_bytes()).unwrap();
        assert_eq!(ok[0].source, "a & b é D");
    }

    #[test]
    fn malformed_files_say_where() {
        let cases: &[(&[u8], &str)] = &[
            (b"<tmx><header srclang=\"en\"/><body><tu><tuv xml:lang=\"en\"><seg>x</tuv></tu></body></tmx>", ":1:63: ill-formed document: expected `</seg>`, but `</tuv>` was found"),
            (b"<html><body/></html>", ":1:1: not a TMX file: the root element is <html>"),
            (b"<tmx><header srclang=\"en\"/><body><tu><tuv><seg>x</seg></tuv></tu></body></tmx>", ":1:38: <tuv> without xml:lang"),
            (b"<tmx><header srclang=\"en\"/><body><tu><tuv xml:lang=\"english!\"><seg>x</seg></tuv></tu></body></tmx>", ":1:38: 'english!' is not a BCP-47"),
            (b"<tmx><header srclang=\"en\"/><body>\n<tu><tuv xml:lang=\"en\"><seg>\xff</seg></tuv></tu>", ":2:29: text is not valid UTF-8"),
            (b"<tmx><header srclang=\"en\"/><body><tu>", "the file ends inside <tu>"),
            (b"", "not a TMX file: no <tmx> element"),
        ];
        for (xml, want) in cases {
            let e = read_all(xml).unwrap_err().to_string();
            assert!(e.contains(want), "{e} should contain {want}");
        }
    }

    #[test]
    fn hostile_input_is_refused_early_and_in_bounded_memory() {
        let nul = vec![0u8; 1 << 20];
        let e = read_all(&nul).unwrap_err().to_string();
        assert!(
            e.contains(":1:1: not a TMX file: it does not start with markup"),
            "{e}"
        );
        let prose = "just words, no markup at all\n".repeat(1000);
        let e = read_all(prose.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("does not start with markup"), "{e}");
        let mut huge =
            b"<tmx><header srclang=\"en\"/><body><tu><tuv xml:lang=\"en\"><seg>".to_vec();
        huge.resize(huge.len() + MAX_RUN + 10, b'a');
        let e = read_all(&huge).unwrap_err().to_string();
        assert!(e.contains("more than 16 MiB"), "{e}");
        let attrs: String = (0..40_000).map(|i| format!(" a{i}=\"x\"")).collect();
        let started = std::time::Instant::now();
        let e = read_all(doc("en", &format!("<tu{attrs}></tu>")).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("<tu> has 40000 attributes; at most 64"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let e = read_all(format!("{}<tmx/>", doc("en", "")).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("a second <tmx> element"), "{e}");
    }

    #[test]
    fn counts_and_usage_are_sane() {
        let tu = |attrs: &str, body: &str| format!("<tu{attrs}>{body}</tu>");
        let pair =
            "<tuv xml:lang=\"en\"><seg>Hi</seg></tuv><tuv xml:lang=\"ru\"><seg>Привет</seg></tuv>";
        let body = [
            tu(" usagecount=\"-5\"", pair),
            tu("", "<tuv xml:lang=\"en\"><seg>Alone</seg></tuv>"),
            tu("", "<tuv xml:lang=\"en\"><seg>Same</seg></tuv><tuv xml:lang=\"en-GB\"><seg>Same</seg></tuv>"),
        ]
        .concat();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tmx");
        std::fs::write(&path, doc("en", &body)).unwrap();
        let mut r = TmxReader::open(&path).unwrap();
        let mut units = Vec::new();
        while let Some(u) = r.next_unit().unwrap() {
            units.push(u);
        }
        assert_eq!(units.len(), 2, "en→ru, and en→en-GB");
        assert_eq!(units[0].use_count, 0);
        assert_eq!(r.skipped(), 1, "the <tu> with one variant");
    }

    #[test]
    fn declared_and_bomless_encodings_are_read() {
        let text = doc("en", "<tu><tuv xml:lang=\"en\"><seg>Caf\u{e9}</seg></tuv><tuv xml:lang=\"fr\"><seg>Caf\u{e9} cr\u{e8}me</seg></tuv></tu>")
            .replace("<?xml version=\"1.0\"?>", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>");
        let latin1: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
        let units = read_all(&latin1).unwrap();
        assert_eq!(units[0].source, "Café");
        assert_eq!(units[0].target, "Café crème");
        let plain = doc("en", "<tu><tuv xml:lang=\"en\"><seg>Hello</seg></tuv><tuv xml:lang=\"ru\"><seg>Привет</seg></tuv></tu>");
        let le: Vec<u8> = plain.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(read_all(&le).unwrap()[0].target, "Привет");
        let be: Vec<u8> = plain.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(read_all(&be).unwrap()[0].target, "Привет");
        let odd = plain.replace(
            "<?xml version=\"1.0\"?>",
            "<?xml version=\"1.0\" encoding=\"x-klingon\"?>",
        );
        let e = read_all(odd.as_bytes()).unwrap_err().to_string();
        assert!(
            e.contains(":1:1: the XML declaration names encoding=\"x-klingon\""),
            "{e}"
        );
    }

    #[test]
    fn utf16_with_bom_is_read() {
        let text = doc("en", "<tu><tuv xml:lang=\"en\"><seg>Hello</seg></tuv><tuv xml:lang=\"ru\"><seg>Привет</seg></tuv></tu>");
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        assert_eq!(read_all(&bytes).unwrap()[0].target, "Привет");
    }

    #[test]
    fn import_export_import_gives_the_same_units() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in.tmx");
        std::fs::write(&src, doc("en", "<tu creationdate=\"20200102T030405Z\" usagecount=\"3\"><tuv xml:lang=\"en\"><seg>Press <ph x=\"1\">&lt;br/></ph> now &amp; then</seg></tuv><tuv xml:lang=\"ru\"><seg>Нажмите <ph x=\"1\">&lt;br/></ph> сейчас</seg></tuv></tu><tu><tuv xml:lang=\"en\"><seg>Two</seg></tuv><tuv xml:lang=\"ru\"><seg>Два</seg></tuv><tuv xml:lang=\"ru\"><seg>Два</seg></tuv></tu>")).unwrap();
        let units = |mem: &Memory| {
            let mut v = Vec::new();
            mem.list(&Filter::default(), |mut u| {
                u.id = 0;
                v.push(u);
                Ok::<_, MemoryError>(())
            })
            .unwrap();
            v
        };
        let silent = crate::progress::Silent;
        let mut a = Memory::open(&dir.path().join("a.sqlite")).unwrap();
        let r = super::super::import_files(&mut a, &[src.clone()], &silent).unwrap();
        assert_eq!((r.units.added, r.units.merged), (2, 1));
        let out = dir.path().join("out.tmx");
        let file = File::create(&out).unwrap();
        super::super::export(&a, &Filter::default(), &Tmx, Box::new(file), &out).unwrap();
        let mut b = Memory::open(&dir.path().join("b.sqlite")).unwrap();
        super::super::import_files(&mut b, &[out.clone()], &silent).unwrap();
        assert_eq!(units(&a), units(&b));
        assert_eq!(units(&a)[0].created_at, "2020-01-02T03:04:05Z");
        assert_eq!(units(&a)[0].use_count, 3);
        // Importing the export again merges everything.
        let again = super::super::import_files(&mut b, &[out], &silent).unwrap();
        assert_eq!((again.units.added, again.units.merged), (0, 2));
    }
}
