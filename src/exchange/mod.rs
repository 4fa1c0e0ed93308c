//! Translation-memory exchange formats, one file per format behind [`TmFormat`]: TMX 1.4b now,
//! XLIFF or CSV can follow without touching the memory or the commands.

pub mod glossary;
pub mod tbx;
pub mod termbase;
pub mod terms;
pub mod tmx;
mod xml;

use crate::memory::{Concurrency, Filter, ImportReport, Memory, NewUnit, Staged};
use crate::progress::{Progress, Unit as ProgressUnit};
use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A malformed file, with the place where reading stopped.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{}: unknown format (known: {known})", path.display())]
    UnknownFormat { path: PathBuf, known: String },
}

impl ExchangeError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ExchangeError {
        ExchangeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn syntax(path: &Path, line: u64, column: u64, message: String) -> ExchangeError {
        ExchangeError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    }
}

/// Reads units from one file, a unit at a time, so files of any size stream.
pub trait TmReader {
    fn next_unit(&mut self) -> Result<Option<NewUnit>, ExchangeError>;
    /// Bytes of the file read so far (for progress bars).
    fn bytes_read(&self) -> u64;
    /// Entries that could not become a unit (no source segment, empty segments).
    fn skipped(&self) -> u64;
}

/// Writes units to one output, a unit at a time.
pub trait TmWriter {
    /// Write one unit: what a stored unit has, less its row id (see `From<Unit> for NewUnit`).
    fn unit(&mut self, unit: &NewUnit) -> Result<(), ExchangeError>;
    fn finish(self: Box<Self>) -> Result<(), ExchangeError>;
}

pub trait TmFormat: Sync {
    fn name(&self) -> &'static str;
    /// File name extensions, lower case, without the dot.
    fn extensions(&self) -> &'static [&'static str];
    fn reader(&self, path: &Path) -> Result<Box<dyn TmReader>, ExchangeError>;
    fn writer<'a>(
        &self,
        out: Box<dyn Write + 'a>,
        path: &Path,
    ) -> Result<Box<dyn TmWriter + 'a>, ExchangeError>;
}

/// What an import of files did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportSummary {
    pub files: usize,
    #[serde(flatten)]
    pub units: ImportReport,
    /// Entries that gave no unit: no variant in the source language, or an empty segment.
    pub skipped: u64,
}

/// What the parsing thread hands the writing thread.
enum Parsed {
    Units(Vec<Staged>, u64),
    FileDone { skipped: u64 },
}

/// Import files into the memory in one transaction: a malformed file, an interrupted process
/// or a full disk leaves the memory exactly as it was. One thread parses and stages units
/// (keys, hashes, tokens) while this one writes them.
pub fn import_files(
    memory: &mut Memory,
    paths: &[PathBuf],
    progress: &dyn Progress,
) -> Result<ImportSummary, crate::Error> {
    let mut formats = Vec::with_capacity(paths.len());
    let mut total = 0;
    for path in paths {
        formats.push(for_path(path)?);
        total += std::fs::metadata(path)
            .map_err(|e| crate::Error::io(path, e))?
            .len();
    }
    // A shared PostgreSQL memory can stop one of two imports that wait on each other's units
    // (a deadlock); that attempt changed nothing, so it is made again, alone.
    let mut attempt = 1;
    loop {
        let concurrency = match attempt {
            1 => Concurrency::Shared,
            _ => Concurrency::Alone,
        };
        match import_once(memory, paths, formats.clone(), total, progress, concurrency) {
            Err(crate::Error::Memory(e)) if e.is_conflict() && attempt < 3 => attempt += 1,
            result => return result,
        }
    }
}

fn import_once(
    memory: &mut Memory,
    paths: &[PathBuf],
    formats: Vec<&'static dyn TmFormat>,
    total: u64,
    progress: &dyn Progress,
    concurrency: Concurrency,
) -> Result<ImportSummary, crate::Error> {
    progress.start("importing", Some(total), ProgressUnit::Bytes);
    let mut skipped = 0;
    let report = std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Result<Parsed, ExchangeError>>(64);
        scope.spawn(move || {
            for (path, format) in paths.iter().zip(formats) {
                let result = (|| {
                    let mut reader = format.reader(path)?;
                    let mut batch = Vec::with_capacity(256);
                    let mut sent = 0;
                    while let Some(unit) = reader.next_unit()? {
                        batch.push(Staged::new(unit));
                        if batch.len() == 256 {
                            let now = reader.bytes_read();
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(256));
                            if send.send(Ok(Parsed::Units(full, now - sent))).is_err() {
                                return Ok(());
                            }
                            sent = now;
                        }
                    }
                    let now = reader.bytes_read();
                    let _ = send.send(Ok(Parsed::Units(batch, now - sent)));
                    let _ = send.send(Ok(Parsed::FileDone {
                        skipped: reader.skipped(),
                    }));
                    Ok(())
                })();
                if let Err(e) = result {
                    let _ = send.send(Err(e));
                    return;
                }
            }
        });
        memory.import_with(concurrency, |importer| {
            // Dropping `receive` on an early return stops the parser at its next send.
            for parsed in receive {
                match parsed? {
                    Parsed::Units(units, bytes) => {
                        for unit in units {
                            importer.add_staged(unit)?;
                        }
                        progress.advance(bytes);
                    }
                    Parsed::FileDone { skipped: s, .. } => skipped += s,
                }
            }
            Ok::<_, crate::Error>(())
        })
    })?;
    progress.finish();
    Ok(ImportSummary {
        files: paths.len(),
        units: report,
        skipped,
    })
}

/// Export the units a filter selects to `out` (a file or standard output) in `format`.
pub fn export(
    memory: &Memory,
    filter: &Filter,
    format: &dyn TmFormat,
    out: Box<dyn Write + '_>,
    path: &Path,
) -> Result<u64, crate::Error> {
    let mut writer = format.writer(out, path)?;
    let mut n = 0;
    memory.list(filter, |unit| {
        n += 1;
        writer.unit(&unit.into()).map_err(crate::Error::from)
    })?;
    writer.finish()?;
    Ok(n)
}

pub const FORMATS: &[&dyn TmFormat] = &[&tmx::Tmx];

/// The format for a file, by its extension; TMX when there is none (standard output).
pub fn for_path(path: &Path) -> Result<&'static dyn TmFormat, ExchangeError> {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return Ok(&tmx::Tmx);
    };
    let ext = ext.to_ascii_lowercase();
    FORMATS
        .iter()
        .copied()
        .find(|f| f.extensions().contains(&ext.as_str()))
        .ok_or_else(|| ExchangeError::UnknownFormat {
            path: path.to_path_buf(),
            known: FORMATS
                .iter()
                .flat_map(|f| f.extensions())
                .map(|e| format!(".{e}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Counts the bytes a reader hands out.
pub(crate) struct Counting<R> {
    pub inner: R,
    pub count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Where a writer puts its text: buffered, and named by its path in errors.
pub(crate) struct Output<'a> {
    out: BufWriter<Box<dyn Write + 'a>>,
    path: PathBuf,
}

impl<'a> Output<'a> {
    pub fn new(out: Box<dyn Write + 'a>, path: &Path) -> Output<'a> {
        Output {
            out: BufWriter::with_capacity(1 << 16, out),
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn put(&mut self, s: &str) -> Result<(), ExchangeError> {
        self.out
            .write_all(s.as_bytes())
            .map_err(|e| ExchangeError::io(&self.path, e))
    }

    pub fn finish(&mut self) -> Result<(), ExchangeError> {
        self.out
            .flush()
            .map_err(|e| ExchangeError::io(&self.path, e))
    }
}

/// Line and column (1-based, columns in characters) of a byte offset in a text stream.
pub fn line_column(text: impl BufRead, offset: u64) -> (u64, u64) {
    let (mut line, mut column) = (1, 1);
    let mut seen = 0u64;
    for byte in text.bytes() {
        let Ok(b) = byte else { break };
        if seen >= offset {
            break;
        }
        seen += 1;
        if b == b'\n' {
            line += 1;
            column = 1;
        } else if b & 0xC0 != 0x80 {
            column += 1;
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_extension() {
        assert_eq!(for_path(Path::new("a.TMX")).unwrap().name(), "TMX");
        assert_eq!(for_path(Path::new("-")).unwrap().name(), "TMX");
        let e = for_path(Path::new("a.csv")).err().unwrap().to_string();
        assert_eq!(e, "a.csv: unknown format (known: .tmx)");
    }

    #[test]
    fn line_and_column_count_characters() {
        let text = "ab\nпри<x";
        let at = text.find('<').unwrap() as u64;
        assert_eq!(line_column(text.as_bytes(), at), (2, 4));
        assert_eq!(line_column(text.as_bytes(), 0), (1, 1));
    }
}
