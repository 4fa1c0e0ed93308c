//! Glossary files into and out of the termbase, through the [`super::terms`] formats: every
//! file of an import in one transaction (a malformed one changes nothing), exports streamed.

use super::terms::{term_format_for, Pair, TermFormat};
use crate::memory::{Memory, TermImportReport};
use crate::progress::{Progress, Unit as ProgressUnit};
use crate::terms::TermFilter;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What an import of glossary files did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TermImportSummary {
    pub files: usize,
    pub terms: TermImportReport,
    /// Entries that gave no term (a TBX concept without one of the pair's languages).
    pub skipped: u64,
}

/// Import glossary files into the termbase, all in one transaction.
pub fn import_files(
    memory: &mut Memory,
    paths: &[PathBuf],
    pair: &Pair,
    progress: &dyn Progress,
) -> Result<TermImportSummary, crate::Error> {
    let mut formats = Vec::with_capacity(paths.len());
    let mut total = 0;
    for path in paths {
        formats.push(term_format_for(path)?);
        total += std::fs::metadata(path)
            .map_err(|e| crate::Error::io(path, e))?
            .len();
    }
    progress.start("importing terms", Some(total), ProgressUnit::Bytes);
    let mut skipped = 0;
    let report = memory.import_terms(|imp| {
        for (path, format) in paths.iter().zip(formats) {
            let mut reader = format.reader(path, pair)?;
            let mut seen = 0;
            while let Some(term) = reader.next_term()? {
                imp.add(&term)?;
                let now = reader.bytes_read();
                progress.advance(now - seen);
                seen = now;
            }
            skipped += reader.skipped();
        }
        Ok::<_, crate::Error>(())
    })?;
    progress.finish();
    Ok(TermImportSummary {
        files: paths.len(),
        terms: report,
        skipped,
    })
}

/// Export the entries of a pair to `out` in `format`; returns how many were written.
pub fn export(
    memory: &Memory,
    pair: &Pair,
    format: &dyn TermFormat,
    out: Box<dyn Write + '_>,
    path: &Path,
) -> Result<u64, crate::Error> {
    let mut writer = format.writer(out, path, pair)?;
    let filter = TermFilter {
        source_lang: Some(pair.from.clone()),
        target_lang: Some(pair.to.clone()),
        ..TermFilter::default()
    };
    let mut n = 0;
    memory.list_terms(&filter, |t| {
        n += 1;
        writer.term(&t).map_err(crate::Error::from)
    })?;
    writer.finish()?;
    Ok(n)
}
