//! Termbase exchange formats, one file per format behind [`TermFormat`], the way TMX sits
//! behind `TmFormat`: TBX (ISO 30042), the tab-separated OmegaT glossary and CSV.
//!
//! Glossary files do not say which languages they hold, so every reader and writer is given the
//! language [`Pair`]; every entry a reader yields is in that pair, with origin `Import`.

use super::{glossary, tbx, ExchangeError};
use crate::terms::{NewTerm, Term};
use crate::text::langtag;
use std::io::Write;
use std::path::Path;

/// The languages of an import or export, as normalized BCP-47 tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub from: String,
    pub to: String,
}

impl Pair {
    /// Normalizes both tags (`RU` → `ru`, `en_us` → `en-US`).
    pub fn new(from: &str, to: &str) -> Result<Pair, String> {
        Ok(Pair {
            from: langtag::normalize(from)?,
            to: langtag::normalize(to)?,
        })
    }

    /// An imported entry in this pair (terms trimmed, preferred until told otherwise).
    pub fn term(&self, source: &str, target: &str) -> NewTerm {
        NewTerm::new(&self.from, &self.to, source, target)
    }
}

/// Reads entries from one file, an entry at a time, so files of any size stream.
pub trait TermReader {
    fn next_term(&mut self) -> Result<Option<NewTerm>, ExchangeError>;
    /// Bytes of the file read so far (for progress bars).
    fn bytes_read(&self) -> u64;
    /// Entries that gave no term (a TBX concept without one of the pair's languages).
    fn skipped(&self) -> u64;
}

/// Writes entries to one output, an entry at a time.
pub trait TermWriter {
    fn term(&mut self, t: &Term) -> Result<(), ExchangeError>;
    fn finish(self: Box<Self>) -> Result<(), ExchangeError>;
}

pub trait TermFormat: Sync {
    fn name(&self) -> &'static str;
    /// File name extensions, lower case, without the dot.
    fn extensions(&self) -> &'static [&'static str];
    fn reader(&self, path: &Path, pair: &Pair) -> Result<Box<dyn TermReader>, ExchangeError>;
    fn writer<'a>(
        &self,
        out: Box<dyn Write + 'a>,
        path: &Path,
        pair: &Pair,
    ) -> Result<Box<dyn TermWriter + 'a>, ExchangeError>;
}

/// The [`TermFormat`] of a format whose reader opens with `open(path, pair)` and whose writer
/// starts with `new(out, path, pair)`, as every format here does.
macro_rules! term_format {
    ($format:ty, $name:literal, [$($ext:literal),+], $reader:ident, $writer:ident) => {
        impl $crate::exchange::terms::TermFormat for $format {
            fn name(&self) -> &'static str {
                $name
            }

            fn extensions(&self) -> &'static [&'static str] {
                &[$($ext),+]
            }

            fn reader(
                &self,
                path: &std::path::Path,
                pair: &$crate::exchange::terms::Pair,
            ) -> Result<
                Box<dyn $crate::exchange::terms::TermReader>,
                $crate::exchange::ExchangeError,
            > {
                Ok(Box::new($reader::open(path, pair)?))
            }

            fn writer<'a>(
                &self,
                out: Box<dyn std::io::Write + 'a>,
                path: &std::path::Path,
                pair: &$crate::exchange::terms::Pair,
            ) -> Result<
                Box<dyn $crate::exchange::terms::TermWriter + 'a>,
                $crate::exchange::ExchangeError,
            > {
                Ok(Box::new($writer::new(out, path, pair)?))
            }
        }
    };
}
pub(crate) use term_format;

pub const TERM_FORMATS: &[&dyn TermFormat] = &[&tbx::Tbx, &glossary::Tsv, &glossary::Csv];

/// The format for a file, by its extension; TBX when there is none (`-`, standard output).
pub fn term_format_for(path: &Path) -> Result<&'static dyn TermFormat, ExchangeError> {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return Ok(&tbx::Tbx);
    };
    let ext = ext.to_ascii_lowercase();
    TERM_FORMATS
        .iter()
        .copied()
        .find(|f| f.extensions().contains(&ext.as_str()))
        .ok_or_else(|| ExchangeError::UnknownFormat {
            path: path.to_path_buf(),
            known: TERM_FORMATS
                .iter()
                .flat_map(|f| f.extensions())
                .map(|e| format!(".{e}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Helpers the format tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::terms::{TermOrigin, TermStatus};

    pub fn pair() -> Pair {
        Pair::new("ru", "en").unwrap()
    }

    /// Read `bytes` as a file named `name` in `format`: the terms and the skipped count.
    pub fn read(
        format: &dyn TermFormat,
        name: &str,
        bytes: &[u8],
        pair: &Pair,
    ) -> Result<(Vec<NewTerm>, u64), ExchangeError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let mut r = format.reader(&path, pair)?;
        let mut out = Vec::new();
        while let Some(t) = r.next_term()? {
            assert_eq!(t.origin, TermOrigin::Import);
            out.push(t);
        }
        assert_eq!(r.bytes_read(), bytes.len() as u64);
        Ok((out, r.skipped()))
    }

    /// Write `terms` in `format`: the file's bytes.
    pub fn write(
        format: &dyn TermFormat,
        terms: &[Term],
        pair: &Pair,
    ) -> Result<Vec<u8>, ExchangeError> {
        let mut bytes = Vec::new();
        let mut w = format.writer(Box::new(&mut bytes), Path::new("out"), pair)?;
        for t in terms {
            w.term(t)?;
        }
        w.finish()?;
        Ok(bytes)
    }

    pub fn stored(id: i64, source: &str, target: &str) -> Term {
        Term {
            id,
            entry: NewTerm {
                origin: TermOrigin::Human,
                ..NewTerm::new("ru", "en", source, target)
            },
            source_key: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    /// Terms that test what a format must carry: Cyrillic, markup characters, a forbidden
    /// term, a part of speech, quotes and commas.
    pub fn samples() -> Vec<Term> {
        let mut a = stored(1, "Государственная дума", "State Duma");
        a.entry.pos = Some("properNoun".into());
        a.entry.note = Some("lower house; <&>\"' kept".into());
        let mut b = stored(2, "пресс-секретарь", "press secretary");
        b.entry.status = TermStatus::Forbidden;
        b.entry.pos = Some("noun".into());
        let c = stored(3, "\"Газпром\", ПАО", "Gazprom, PJSC");
        vec![a, b, c]
    }

    /// What reading back a written term must give.
    pub fn imported(t: &Term) -> NewTerm {
        NewTerm {
            origin: TermOrigin::Import,
            ..t.entry.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_extension() {
        let name = |p: &str| term_format_for(Path::new(p)).unwrap().name();
        assert_eq!(name("a.TBX"), "TBX");
        assert_eq!(name("-"), "TBX");
        assert_eq!(name("glossary.txt"), "TSV");
        assert_eq!(name("g.utf8"), "TSV");
        assert_eq!(name("g.tab"), "TSV");
        assert_eq!(name("dir.v2/g.Csv"), "CSV");
        let e = term_format_for(Path::new("a.xlsx"))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "a.xlsx: unknown format (known: .tbx, .tsv, .tab, .txt, .utf8, .csv)"
        );
    }

    #[test]
    fn pairs_are_normalized() {
        let p = Pair::new("RU", "en_us").unwrap();
        assert_eq!((p.from.as_str(), p.to.as_str()), ("ru", "en-US"));
        assert!(Pair::new("russian!", "en").is_err());
        let t = p.term("  кот ", "cat\n");
        assert_eq!((t.source.as_str(), t.target.as_str()), ("кот", "cat"));
        assert_eq!(t.origin, crate::terms::TermOrigin::Import);
    }
}
