//! Bytes in, checked text and paragraphs out.

use super::Span;
use crate::error::DocumentProblem;
use crate::{Error, Result};

/// UTF-16 text (with a byte order mark, or ASCII-led without one) as UTF-8, with the input
/// offset of every UTF-8 byte (and of the end), so byte ranges still point into the input.
pub fn decode_utf16(bytes: &[u8], name: &str) -> Option<Result<(String, Vec<usize>)>> {
    let (little, skip) = match bytes {
        [0xFF, 0xFE, ..] => (true, 2),
        [0xFE, 0xFF, ..] => (false, 2),
        [a, 0, ..] if text_byte(*a) => (true, 0),
        [0, b, ..] if text_byte(*b) => (false, 0),
        _ => return None,
    };
    let body = &bytes[skip..];
    let units = body.chunks(2).map(|c| match (c, little) {
        ([a, b], true) => u16::from_le_bytes([*a, *b]),
        ([a, b], false) => u16::from_be_bytes([*a, *b]),
        _ => 0xFFFF,
    });
    let (mut text, mut origin) = (String::new(), Vec::new());
    let mut at = skip;
    for c in char::decode_utf16(units) {
        let Ok(c) = c else {
            return Some(Err(problem(name, DocumentProblem::BadUtf16(at))));
        };
        if c == '\0' || (c == '\u{FFFF}' && body.len() % 2 == 1 && at + 1 == bytes.len()) {
            return Some(Err(problem(name, DocumentProblem::Binary(at))));
        }
        let width = c.len_utf16() * 2;
        for _ in 0..c.len_utf8() {
            origin.push(at);
        }
        text.push(c);
        at += width;
    }
    origin.push(bytes.len());
    if text.trim().is_empty() {
        return Some(Err(problem(name, DocumentProblem::Empty)));
    }
    Some(Ok((text, origin)))
}

/// A byte that starts text: a printable ASCII character or whitespace.
fn text_byte(b: u8) -> bool {
    b.is_ascii_graphic() || b.is_ascii_whitespace()
}

/// Decode a document, refusing what is not text: empty input, binary data (NUL bytes) and
/// invalid UTF-8 (with the byte offset of the first bad byte).
pub fn decode(bytes: Vec<u8>, name: &str) -> Result<String> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(problem(name, DocumentProblem::Empty));
    }
    if let Some((kind, hint)) = packed_format(&bytes) {
        return Err(problem(name, DocumentProblem::NotText(kind, hint)));
    }
    if let Some(pos) = bytes.iter().take(8192).position(|&b| b == 0) {
        return Err(problem(name, DocumentProblem::Binary(pos)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        match looks_cyrillic_8bit(e.as_bytes()) {
            true => problem(name, DocumentProblem::Cp1251(at)),
            false => problem(name, DocumentProblem::NotUtf8(at)),
        }
    })
}

/// Formats whose first bytes say they are not text, with a hint where there is one.
fn packed_format(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    const NOT_YET: &str =
        " (Word, OpenDocument and PDF files are not read yet: save it as text or HTML)";
    let signatures: [(&[u8], &str, &str); 8] = [
        (b"%PDF-", "a PDF file", NOT_YET),
        (
            b"PK\x03\x04",
            "a zip archive (a Word or OpenDocument file, say)",
            NOT_YET,
        ),
        (b"\xD0\xCF\x11\xE0", "an old Word (.doc) file", NOT_YET),
        (b"{\\rtf", "an RTF file", NOT_YET),
        (b"\xFF\xD8\xFF", "a JPEG image", ""),
        (b"\x89PNG", "a PNG image", ""),
        (b"GIF8", "a GIF image", ""),
        (b"\x1F\x8B", "a gzip archive", ""),
    ];
    signatures
        .iter()
        .find(|(magic, _, _)| bytes.starts_with(magic))
        .map(|(_, kind, hint)| (*kind, *hint))
}

/// Whether bytes that are not UTF-8 look like Russian in windows-1251 or KOI8-R: most bytes
/// above ASCII are letters there (0xC0–0xFF), they are a good part of all letters (unlike
/// the accents of a Latin-1 text), and there are no control bytes.
fn looks_cyrillic_8bit(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(65536)];
    let high = sample.iter().filter(|&&b| b >= 0x80).count();
    let letters = sample.iter().filter(|&&b| b >= 0xC0).count();
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !b.is_ascii_whitespace())
        .count();
    let latin = sample.iter().filter(|b| b.is_ascii_alphabetic()).count();
    high > 0 && letters * 10 >= high * 8 && letters * 10 >= (latin + letters) * 3 && control == 0
}

fn problem(name: &str, problem: DocumentProblem) -> Error {
    Error::Document {
        name: name.to_string(),
        problem,
    }
}

/// Non-empty lines, trimmed, as paragraphs. News pages put one paragraph per line; blank lines
/// only separate.
pub fn paragraphs(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed_start = line.len() - line.trim_start().len();
        let content = line.trim();
        if !content.is_empty() {
            let start = offset + trimmed_start;
            out.push(Span {
                start,
                end: start + content.len(),
            });
        }
        offset += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_formats_are_named_and_8bit_cyrillic_is_told_apart() {
        let e = |b: &[u8]| decode(b.to_vec(), "f").unwrap_err().to_string();
        assert!(e(b"%PDF-1.7\n\xe2\xe3\xcf\xd3").contains("a PDF file, not a text document"));
        assert!(e(b"PK\x03\x04\x14\x00").contains("Word or OpenDocument"));
        assert!(e(b"\xFF\xD8\xFF\xE0\x00\x10JFIF").contains("a JPEG image"));
        // "Привет, мир" in windows-1251 and in KOI8-R; Latin-1 French is another matter.
        assert!(e(b"\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0").contains("iconv -f cp1251"));
        assert!(e(b"\xf0\xd2\xc9\xd7\xc5\xd4, \xcd\xc9\xd2").contains("iconv -f cp1251"));
        let latin = e(b"le caf\xe9 est \xe0 c\xf4t\xe9 de la gare");
        assert!(
            latin.contains("ENCODING") && !latin.contains("cp1251"),
            "{latin}"
        );
    }

    #[test]
    fn refuses_non_text() {
        assert!(decode(b"  \n".to_vec(), "a.txt")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(decode(b"ab\0cd".to_vec(), "b.bin")
            .unwrap_err()
            .to_string()
            .contains("NUL byte at offset 2"));
        let cp1251 = vec![b'o', b'k', 0xcf, 0xf0, 0xe8];
        assert!(decode(cp1251, "c.txt")
            .unwrap_err()
            .to_string()
            .contains("offset 2"));
        assert_eq!(decode(b"\xEF\xBB\xBFhi".to_vec(), "d").unwrap(), "hi");
    }

    #[test]
    fn paragraphs_keep_byte_ranges() {
        let text = "  First line.  \n\nВторая строка.\r\nlast";
        let ps = paragraphs(text);
        let got: Vec<&str> = ps.iter().map(|s| s.of(text)).collect();
        assert_eq!(got, ["First line.", "Вторая строка.", "last"]);
    }
}
