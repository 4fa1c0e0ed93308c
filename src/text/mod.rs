//! Reading documents: bytes to checked UTF-8 text, paragraphs, the article among page junk,
//! sentences and the language, every piece keeping its byte range in the original text.

pub mod article;
pub mod lang;
pub mod langtag;
pub mod reader;
pub mod segment;

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

/// A document read for work: checked text, its language, and the paragraphs that make up the
/// article (all of them with `keep_all`).
#[derive(Debug, Clone)]
pub struct Document {
    pub name: String,
    pub text: String,
    pub language: Option<&'static str>,
    pub paragraphs: Vec<Span>,
}

impl Document {
    pub fn from_bytes(bytes: Vec<u8>, name: &str, keep_all: bool) -> crate::Result<Document> {
        let text = reader::decode(bytes, name)?;
        let all = reader::paragraphs(&text);
        let paragraphs = if keep_all {
            all
        } else {
            let picked = article::article(&text, &all);
            if picked.is_empty() {
                // No prose block found: better the whole page than nothing.
                all
            } else {
                picked.into_iter().map(|i| all[i]).collect()
            }
        };
        let body: String = paragraphs
            .iter()
            .map(|p| p.of(&text))
            .collect::<Vec<_>>()
            .join("\n");
        let language = lang::detect(&body);
        Ok(Document {
            name: name.to_string(),
            text,
            language,
            paragraphs,
        })
    }

    /// Sentences of the article, paragraph by paragraph.
    pub fn sentences(&self) -> Vec<Vec<Span>> {
        self.paragraphs
            .iter()
            .map(|p| segment::sentences(&self.text, *p))
            .collect()
    }
}
