//! Bytes in, checked text and paragraphs out.

use super::Span;
use crate::error::DocumentProblem;
use crate::{Error, Result};

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
    if let Some(pos) = bytes.iter().take(8192).position(|&b| b == 0) {
        return Err(problem(name, DocumentProblem::Binary(pos)));
    }
    String::from_utf8(bytes)
        .map_err(|e| problem(name, DocumentProblem::NotUtf8(e.utf8_error().valid_up_to())))
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
