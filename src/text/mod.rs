//! Reading documents: bytes to checked UTF-8 text, paragraphs, the article among page junk,
//! sentences and the language, every piece keeping its byte range in the original text.

pub mod article;
pub mod html;
pub mod lang;
pub mod langtag;
pub mod reader;
pub mod segment;
pub mod words;

/// A byte range into the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn of<'a>(&self, text: &'a str) -> &'a str {
        &text[self.start..self.end]
    }
}

/// How positions in `Document::text` map back to the input bytes.
#[derive(Debug, Clone)]
enum InputMap {
    /// Plain text: the same bytes, after a byte order mark of this length.
    Shift(usize),
    /// A web page: the input range of each text byte.
    Html {
        starts: Vec<usize>,
        ends: Vec<usize>,
    },
    /// UTF-16 input: the input offset of each UTF-8 byte of the text, and of its end.
    Utf16(Vec<usize>),
}

/// A paragraph left out as page junk: its line in the text and its input byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LeftOut {
    pub line: usize,
    pub start: usize,
    pub end: usize,
}

/// A document read for work: checked text, its language, and the paragraphs that make up the
/// article (all of them with `keep_all`). Web pages are reduced to their text first.
#[derive(Debug, Clone)]
pub struct Document {
    pub name: String,
    pub text: String,
    pub language: Option<&'static str>,
    pub paragraphs: Vec<Span>,
    /// Article paragraphs in another language than the document's (index, language).
    pub foreign_paragraphs: Vec<(usize, &'static str)>,
    /// Paragraphs taken for page junk around the article and left out (none with
    /// `keep_all`): reported, never dropped silently.
    pub left_out: Vec<Span>,
    map: InputMap,
}

impl Document {
    pub fn from_bytes(bytes: Vec<u8>, name: &str, keep_all: bool) -> crate::Result<Document> {
        let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        // UTF-16 is transcoded; `origin` maps the UTF-8 text back to the input's bytes.
        let (decoded, origin) = match reader::decode_utf16(&bytes, name) {
            Some(d) => {
                let (text, origin) = d?;
                (text, Some(origin))
            }
            None => (reader::decode(bytes, name)?, None),
        };
        let at = |p: usize| origin.as_ref().map_or(p + bom, |o| o[p]);
        let html_name = [".html", ".htm", ".xhtml"]
            .iter()
            .any(|e| name.to_ascii_lowercase().ends_with(e));
        let (text, map) = if html_name || html::looks_like_html(&decoded) {
            let e = html::extract(&decoded);
            if e.text.trim().is_empty() {
                return Err(crate::Error::Document {
                    name: name.to_string(),
                    problem: crate::error::DocumentProblem::NoPageText,
                });
            }
            let shift = |v: Vec<usize>| v.into_iter().map(at).collect();
            (
                e.text,
                InputMap::Html {
                    starts: shift(e.starts),
                    ends: shift(e.ends),
                },
            )
        } else {
            match origin {
                Some(origin) => (decoded, InputMap::Utf16(origin)),
                None => (decoded, InputMap::Shift(bom)),
            }
        };
        let all = reader::paragraphs(&text);
        let layout = match map {
            InputMap::Html { .. } => article::Layout::Page,
            _ => article::Layout::Plain,
        };
        let picked = if keep_all {
            Vec::new()
        } else {
            article::article(&text, &all, layout)
        };
        // No prose block found (or --keep-all): better the whole page than nothing.
        let (paragraphs, left_out) = if picked.is_empty() {
            (all, Vec::new())
        } else {
            let left_out = (0..all.len())
                .filter(|i| !picked.contains(i))
                .map(|i| all[i])
                .collect();
            (picked.into_iter().map(|i| all[i]).collect(), left_out)
        };
        let texts: Vec<&str> = paragraphs.iter().map(|p| p.of(&text)).collect();
        let (language, each) = lang::detect_paragraphs(&texts);
        let foreign_paragraphs = each
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let l = (*l)?;
                (Some(l) != language && texts[i].split_whitespace().count() >= 4).then_some((i, l))
            })
            .collect();
        Ok(Document {
            name: name.to_string(),
            text,
            language,
            paragraphs,
            foreign_paragraphs,
            left_out,
            map,
        })
    }

    /// The input bytes a span of `text` came from (they differ for web pages and after a BOM).
    pub fn input_range(&self, span: Span) -> (usize, usize) {
        match &self.map {
            InputMap::Shift(n) => (span.start + n, span.end + n),
            InputMap::Utf16(origin) => (origin[span.start], origin[span.end]),
            InputMap::Html { starts, ends } if span.end > span.start => {
                (starts[span.start], ends[span.end - 1])
            }
            InputMap::Html { starts, .. } => {
                let at = starts.get(span.start).copied().unwrap_or(0);
                (at, at)
            }
        }
    }

    /// The paragraphs left out as page junk, each with its input byte range and its line
    /// number in the text (1-based).
    pub fn left_out_lines(&self) -> Vec<LeftOut> {
        self.left_out
            .iter()
            .map(|span| {
                let (start, end) = self.input_range(*span);
                let line = 1 + self.text[..span.start].matches('\n').count();
                LeftOut { line, start, end }
            })
            .collect()
    }

    /// Sentences of the article, paragraph by paragraph.
    pub fn sentences(&self) -> Vec<Vec<Span>> {
        self.paragraphs
            .iter()
            .map(|p| segment::sentences(&self.text, *p))
            .collect()
    }
}

#[cfg(test)]
mod seed_gold {
    use super::*;
    use sha2::Digest;

    /// The Russian seed: the article's sentences, exactly, and nothing of the page junk.
    #[test]
    fn russian_seed_article_sentences() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
        let Some(seed) = std::fs::read_dir(&dir).ok().and_then(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("003_"))
            })
        }) else {
            crate::testing::skip(&format!(
                "{} is missing (the client's sample articles)",
                dir.display()
            ));
            return;
        };
        let gold: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/segment/seed-003.json"))
                .unwrap();
        let bytes = std::fs::read(&seed).unwrap();
        let sha = format!("{:x}", sha2::Sha256::digest(&bytes));
        assert_eq!(
            gold["sha256"],
            sha.as_str(),
            "the seed changed; redo the gold by hand"
        );
        let doc = Document::from_bytes(bytes, "003", false).unwrap();
        assert_eq!(doc.language, Some("ru"));
        let got: Vec<(usize, usize)> = doc
            .sentences()
            .into_iter()
            .flatten()
            .map(|s| doc.input_range(s))
            .collect();
        let want: Vec<(usize, usize)> = gold["sentences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_u64().unwrap() as usize,
                    r[1].as_u64().unwrap() as usize,
                )
            })
            .collect();
        assert_eq!(got, want);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_is_read_and_ranges_point_into_its_bytes() {
        let text = "Завод открыли весной. Работы идут.\n";
        for (bom, le) in [(true, true), (true, false), (false, true), (false, false)] {
            let mut bytes: Vec<u8> = match (bom, le) {
                (true, true) => vec![0xFF, 0xFE],
                (true, false) => vec![0xFE, 0xFF],
                _ => Vec::new(),
            };
            let body = if bom {
                text.to_string()
            } else {
                format!("A {text}")
            };
            for u in body.encode_utf16() {
                bytes.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            let doc = Document::from_bytes(bytes.clone(), "utf16.txt", true).unwrap();
            let first = doc.sentences()[0][0];
            let (start, end) = doc.input_range(first);
            let units: Vec<u16> = bytes[start..end]
                .chunks(2)
                .map(|c| {
                    if le {
                        u16::from_le_bytes([c[0], c[1]])
                    } else {
                        u16::from_be_bytes([c[0], c[1]])
                    }
                })
                .collect();
            assert_eq!(
                String::from_utf16(&units).unwrap(),
                first.of(&doc.text),
                "{bom} {le}"
            );
        }
        let lone_surrogate = [0xFF, 0xFE, 0x41, 0x00, 0x00, 0xD8, 0x41, 0x00];
        let e = Document::from_bytes(lone_surrogate.to_vec(), "bad.txt", true).unwrap_err();
        assert!(
            e.to_string()
                .contains("not valid UTF-16 text (bad code unit at byte 4)"),
            "{e}"
        );
    }
}
