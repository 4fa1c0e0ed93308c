//! The files a command runs over, and how a run over several goes on past a bad one: every
//! file skipped or failed is named on stderr with why, and the run ends with a count.

use super::bar::Bars;
use super::out;
use anyhow::Result;
use babeldesk::progress::Progress;
use std::path::{Path, PathBuf};

/// The extensions babeldesk reads as documents.
const READ: [&str; 4] = ["txt", "md", "html", "htm"];

/// Files to process: files as given, folders expanded to their documents (sorted), and the
/// other files found in those folders with why they are not read.
pub struct Inputs {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, String)>,
    /// Whether a folder was given (a run over several files, even if it holds one).
    pub folder: bool,
}

impl Inputs {
    pub fn expand(given: &[PathBuf]) -> Result<Inputs> {
        let mut inputs = Inputs {
            files: Vec::new(),
            skipped: Vec::new(),
            folder: false,
        };
        for p in given {
            if p.is_dir() {
                inputs.folder = true;
                inputs.add_folder(p)?;
            } else {
                inputs.files.push(p.clone());
            }
        }
        Ok(inputs)
    }

    fn add_folder(&mut self, dir: &Path) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| babeldesk::Error::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            // Hidden files (.DS_Store, editor swap files) are nobody's articles.
            .filter(|f| {
                f.is_file()
                    && !f
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        entries.sort();
        let before = self.files.len();
        for f in entries {
            match not_read(&f) {
                None => self.files.push(f),
                Some(why) => self.skipped.push((f, why)),
            }
        }
        if self.files.len() == before {
            anyhow::bail!(
                "{}: no .txt, .md or .html files in this folder{}",
                dir.display(),
                match self.skipped.len() {
                    0 => String::new(),
                    n => format!(" ({n} other files, not read)"),
                }
            );
        }
        Ok(())
    }

    /// Whether one failure should end the run (a single file given) or be counted.
    pub fn several(&self) -> bool {
        self.folder || self.files.len() > 1
    }
}

/// Why a file in a folder is not read as a document, from its extension.
fn not_read(f: &Path) -> Option<String> {
    let ext = f
        .extension()
        .map(|x| x.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if READ.contains(&ext.as_str()) {
        return None;
    }
    Some(match ext.as_str() {
        "pdf" | "docx" | "doc" | "odt" | "rtf" => format!(
            "a .{ext} file: Word, OpenDocument and PDF files are not read yet; save it as text or HTML"
        ),
        "" => "no extension: babeldesk reads .txt, .md and .html files".into(),
        _ => format!("a .{ext} file: babeldesk reads .txt, .md and .html files"),
    })
}

/// How a run over several files went.
#[derive(Default)]
pub struct Tally {
    pub done: usize,
    pub failed: usize,
}

impl Tally {
    /// The outcome of one file: counted when it is that file's own problem (it cannot be
    /// read, is no text, has nothing to summarize) and the run goes on; anything else (the
    /// memory, a model) ends the run.
    pub fn count<T>(&mut self, name: &str, result: Result<T>) -> Result<Option<T>> {
        match result {
            Ok(v) => {
                self.done += 1;
                Ok(Some(v))
            }
            Err(e) if file_problem(&e) => {
                self.failed += 1;
                out::err_line(&format!("babeldesk: {name}: not done: {e:#}"));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// 1 when a file failed (skipped files are not failures: they are not articles).
    pub fn exit_code(&self) -> std::process::ExitCode {
        std::process::ExitCode::from(u8::from(self.failed > 0))
    }

    /// The skipped files, one line each, and the count: `what` is the verb ("summarized").
    pub fn report(&self, inputs: &Inputs, what: &str, bars: &Bars) {
        for (f, why) in &inputs.skipped {
            out::err_line(&format!("babeldesk: {}: skipped: {why}", f.display()));
        }
        if self.failed > 0 || !inputs.skipped.is_empty() {
            let total = self.done + self.failed + inputs.skipped.len();
            out::err_line(&format!(
                "babeldesk: {} of {total} files {what}; {} failed, {} skipped",
                self.done,
                self.failed,
                inputs.skipped.len()
            ));
        } else {
            bars.note(&format!("{} files {what}", self.done));
        }
    }
}

/// Whether the error is about one input file alone.
fn file_problem(e: &anyhow::Error) -> bool {
    use babeldesk::Error;
    matches!(
        e.downcast_ref::<Error>(),
        Some(Error::Document { .. } | Error::Io { .. } | Error::NoSummary { .. })
    )
}
