//! What every parser must hold to on any input, checked by the fuzz targets (`fuzz/`, `make
//! fuzz`) and by the corpus replay in `make test` (`tests/cli/fuzz_replay.rs`): one home, so
//! the campaign and the suite check the same things. Each function takes raw bytes, returns
//! nothing and panics when an invariant breaks; an input being refused (an error) is fine.
//!
//! Beyond "no panic":
//! - TMX and glossaries: what was read, written by babeldesk's own writer, reads back the same.
//! - Documents: every span lies inside the text on char boundaries and maps inside the input;
//!   no text is dropped silently (each word is in a paragraph or reported as left out).
//! - Keys and scores: keys are trimmed with single spaces; a score is in 0..=101, symmetric,
//!   and the early stop of a `min` never changes a score that reaches it.
//! - The engine protocol: one reply line, valid JSON, per request line; remote answers parse.
//! - The review server: no request makes it fail (5xx) or panic.

use crate::exchange::terms::{Pair, TermFormat, TERM_FORMATS};
use crate::exchange::{tmx::Tmx, ExchangeError, TmFormat};
use crate::memory::score::{score, Prepared};
use crate::memory::{key, NewUnit};
use crate::models::protocol::{self, Reply, Request};
use crate::terms::{NewTerm, Term};
use crate::text::{Document, Span};
use std::path::{Path, PathBuf};

thread_local! {
    static SCRATCH: tempfile::TempDir = tempfile::tempdir().expect("a temporary folder");
}

/// `data` as a file named `name` in this thread's scratch folder.
fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let path = SCRATCH.with(|d| d.path().join(name));
    std::fs::write(&path, data).expect("the scratch folder takes files");
    path
}

fn read_units(format: &dyn TmFormat, path: &Path) -> Result<Vec<NewUnit>, String> {
    let mut reader = format.reader(path).map_err(|e| e.to_string())?;
    let mut units = Vec::new();
    while let Some(u) = reader.next_unit().map_err(|e| e.to_string())? {
        units.push(u);
    }
    Ok(units)
}

/// TMX: read; what was read, written and read again, is the same.
pub fn tmx(data: &[u8]) {
    let path = scratch_file("in.tmx", data);
    let Ok(units) = read_units(&Tmx, &path) else {
        return;
    };
    for u in &units {
        assert!(!u.source.trim().is_empty(), "a unit with no source: {u:?}");
    }
    let out = scratch_file("out.tmx", b"");
    let file = std::fs::File::create(&out).expect("scratch file");
    let mut writer = Tmx.writer(Box::new(file), &out).expect("a TMX writer");
    for u in &units {
        writer.unit(u).expect("writing to a scratch file");
    }
    writer.finish().expect("writing to a scratch file");
    let again = read_units(&Tmx, &out)
        .unwrap_or_else(|e| panic!("babeldesk cannot read its own TMX back: {e}"));
    // A unit whose text was control characters alone has none left: it is skipped (and
    // counted) on the way back.
    let units: Vec<NewUnit> = units
        .iter()
        .map(xml_carried_unit)
        .filter(|u| !u.source.trim().is_empty() && !u.target.trim().is_empty())
        .collect();
    assert_eq!(
        units, again,
        "TMX import → export → import changed the units"
    );
}

/// Text as XML 1.0 can carry it: control characters other than tab and line breaks, which
/// a careless tool may have put in a file and babeldesk keeps as data, cannot be exported.
fn xml_carried(s: &str) -> String {
    s.chars()
        .filter(|&c| c >= ' ' || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

fn xml_carried_unit(u: &NewUnit) -> NewUnit {
    let opt = |s: &Option<String>| s.as_deref().map(xml_carried);
    NewUnit {
        source: xml_carried(&u.source),
        target: xml_carried(&u.target),
        model: opt(&u.model),
        document: opt(&u.document),
        prev_hash: opt(&u.prev_hash),
        next_hash: opt(&u.next_hash),
        ..u.clone()
    }
}

fn read_terms(format: &dyn TermFormat, path: &Path, pair: &Pair) -> Result<Vec<NewTerm>, String> {
    let mut reader = format.reader(path, pair).map_err(|e| e.to_string())?;
    let mut terms = Vec::new();
    while let Some(t) = reader.next_term().map_err(|e| e.to_string())? {
        terms.push(t);
    }
    Ok(terms)
}

/// Glossaries: the first byte picks TBX, TSV or CSV; the rest is the file. What was read
/// reads back the same after babeldesk writes it.
pub fn glossary(data: &[u8]) {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let format = TERM_FORMATS[pick as usize % TERM_FORMATS.len()];
    let ext = format.extensions()[0];
    let pair = Pair::new("ru", "en").expect("valid tags");
    let path = scratch_file(&format!("in.{ext}"), data);
    let Ok(terms) = read_terms(format, &path, &pair) else {
        return;
    };
    for t in &terms {
        assert!(
            !t.source.is_empty() && !t.target.is_empty(),
            "an empty term: {t:?}"
        );
        assert_eq!((&*t.source_lang, &*t.target_lang), ("ru", "en"));
    }
    let out = scratch_file(&format!("out.{ext}"), b"");
    let file = std::fs::File::create(&out).expect("scratch file");
    let mut writer = format
        .writer(Box::new(file), &out, &pair)
        .expect("a writer");
    for (i, entry) in terms.iter().enumerate() {
        let stored = Term {
            id: i as i64 + 1,
            entry: entry.clone(),
            source_key: String::new(),
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        };
        // A TSV glossary cannot hold a tab or line break in a note: the writer refuses such
        // an entry with an error saying so (tested in the CLI suite), which is no failure.
        if let Err(e) = writer.term(&stored) {
            let refused = matches!(&e, ExchangeError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::InvalidInput);
            assert!(refused, "writing to a scratch file failed: {e}");
            return;
        }
    }
    writer.finish().expect("writing to a scratch file");
    let again = read_terms(format, &out, &pair)
        .unwrap_or_else(|e| panic!("babeldesk cannot read its own {} back: {e}", format.name()));
    let terms: Vec<NewTerm> = match format.name() {
        "TBX" => terms
            .iter()
            .map(|t| NewTerm {
                source: xml_carried(&t.source),
                target: xml_carried(&t.target),
                note: t.note.as_deref().map(xml_carried),
                pos: t.pos.as_deref().map(xml_carried),
                ..t.clone()
            })
            .filter(|t| !t.source.trim().is_empty() && !t.target.trim().is_empty())
            .collect(),
        _ => terms,
    };
    assert_eq!(
        terms,
        again,
        "{} export → import changed the terms",
        format.name()
    );
}

/// Documents: the first byte picks the name (a web page or text) and `keep_all`.
pub fn document(data: &[u8]) {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let name = if pick & 1 == 0 {
        "page.html"
    } else {
        "note.txt"
    };
    let keep_all = pick & 2 != 0;
    let Ok(doc) = Document::from_bytes(data.to_vec(), name, keep_all) else {
        return;
    };
    let text = &doc.text;
    let inside = |s: &Span, what: &str| {
        assert!(
            s.start <= s.end && s.end <= text.len(),
            "{what} {s:?} outside the text ({} bytes)",
            text.len()
        );
        assert!(
            text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
            "{what} {s:?} not on char boundaries"
        );
        let (a, b) = doc.input_range(*s);
        assert!(
            a <= b && b <= data.len(),
            "{what} {s:?} maps to input {a}..{b} of {} bytes",
            data.len()
        );
    };
    for p in doc.paragraphs.iter().chain(&doc.left_out) {
        inside(p, "paragraph");
    }
    if keep_all {
        assert!(doc.left_out.is_empty(), "keep_all left text out");
    }
    for (paragraph, sentences) in doc.paragraphs.iter().zip(doc.sentences()) {
        for s in &sentences {
            inside(s, "sentence");
            assert!(
                paragraph.start <= s.start && s.end <= paragraph.end,
                "sentence {s:?} outside its paragraph {paragraph:?}"
            );
        }
        for (i, c) in paragraph.of(text).char_indices() {
            let at = paragraph.start + i;
            assert!(
                c.is_whitespace() || sentences.iter().any(|s| s.start <= at && at < s.end),
                "{c:?} at byte {at} is in no sentence of its paragraph {paragraph:?}"
            );
        }
    }
    let kept = |at: usize| {
        doc.paragraphs
            .iter()
            .chain(&doc.left_out)
            .any(|p| p.start <= at && at < p.end)
    };
    for (at, c) in text.char_indices() {
        assert!(
            c.is_whitespace() || kept(at),
            "{c:?} at byte {at} is neither kept nor reported as left out"
        );
    }
    for line in doc.left_out_lines() {
        assert!(line.start <= line.end && line.end <= data.len());
    }
}

/// Keys and scores: the input is two texts split at the first NUL; the byte after it is `min`.
pub fn key_and_score(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (a, rest) = text.split_once('\0').unwrap_or((&text, ""));
    let (b, min) = match rest.rsplit_once('\0') {
        Some((b, m)) => (b, m.bytes().next().unwrap_or(0) % 102),
        None => (rest, 0),
    };
    for k in [key::key(a), key::key(b)] {
        assert_eq!(k, k.trim(), "a key with spaces at its ends: {k:?}");
        assert!(!k.contains("  "), "a key with a double space: {k:?}");
    }
    let (pa, pb) = (Prepared::new(a), Prepared::new(b));
    let ab = score(&pa, &pb, 0).expect("every pair scores at least 0");
    let ba = score(&pb, &pa, 0).expect("every pair scores at least 0");
    assert!(ab <= 101, "score {ab} out of 0..=101");
    assert_eq!(ab, ba, "score({a:?}, {b:?}) is not symmetric");
    let with_min = score(&pa, &pb, min);
    assert_eq!(
        with_min,
        (ab >= min).then_some(ab),
        "min {min} changed the score of {a:?} / {b:?}"
    );
    assert_eq!(score(&pa, &pa, 100), Some(100), "{a:?} against itself");
}

/// The engine protocol: request lines in, one valid reply line out per non-blank request.
pub fn protocol(data: &[u8]) {
    let _ = serde_json::from_slice::<Reply>(data);
    let _ = serde_json::from_slice::<Request>(data);
    let mut out = Vec::new();
    let code = protocol::serve(data, &mut out, |request| {
        Ok(Reply::Error {
            message: format!("{:?}", std::mem::discriminant(&request)),
        })
    });
    let requests = data
        .split(|&b| b == b'\n')
        .filter(|l| !String::from_utf8_lossy(l).trim().is_empty())
        .count();
    let out = String::from_utf8(out).expect("replies are UTF-8");
    let replies: Vec<&str> = out.lines().collect();
    assert!(replies.len() <= requests, "more replies than requests");
    if code == 0 && !replies.last().is_some_and(|r| r.contains("\"bye\"")) {
        assert_eq!(replies.len(), requests, "a request went unanswered");
    }
    for r in replies {
        serde_json::from_str::<Reply>(r).unwrap_or_else(|e| panic!("bad reply {r:?}: {e}"));
    }
    let _ = crate::models::remote::read_completion(&String::from_utf8_lossy(data));
}

/// The review server: `data` is one request. Its first byte picks what it carries (the
/// right token, the CSRF token, a right Host), then the method, path and query on one line,
/// header lines, a blank line and the body, as on the wire.
pub fn serve_request(data: &[u8]) {
    crate::serve::fuzz_one_request(data);
}
