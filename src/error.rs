use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure the library reports. Variants keep their causes so the binary can print the
/// whole chain on one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration in {}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("invalid value for {name}: {message}")]
    InvalidValue { name: String, message: String },
    #[error("unknown model '{0}' (run `babeldesk models list` to see the registry)")]
    UnknownModel(String),
    #[error("model '{id}' is not installed: missing {missing} (looked in {searched}); get it with `babeldesk models pull {id}` or `babeldesk models import {id} DIR`")]
    ModelMissing {
        id: String,
        missing: String,
        searched: String,
    },
    #[error("no {what} is installed: get one with {options}")]
    NoModelInstalled { what: String, options: String },
    #[error("model folder {} is incomplete: missing {missing}", dir.display())]
    ModelDirIncomplete { dir: PathBuf, missing: String },
    #[error("checksum mismatch for {file}: expected sha256 {expected}, got {actual}; the file was rejected")]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("download of {url} failed")]
    Download {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("could not get '{id}': {hub}; mirror: {mirror}")]
    PullFailed {
        id: String,
        hub: String,
        mirror: String,
    },
    #[error("mirror for '{id}' failed: {message}")]
    Mirror { id: String, message: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The model stopped answering partway through a document; what was done is kept.
    #[error("translation stopped after {done} of {total} new segments{kept}")]
    Stopped {
        done: usize,
        total: usize,
        kept: &'static str,
        #[source]
        source: Box<Error>,
    },
    #[error("{name}: {problem}")]
    Document {
        name: String,
        problem: DocumentProblem,
    },
    #[error(transparent)]
    Choice(#[from] ChoiceError),
    #[error("{name}: no summary")]
    NoSummary {
        name: String,
        #[source]
        source: Box<Error>,
    },
    #[error(transparent)]
    Memory(#[from] crate::memory::MemoryError),
    #[error(transparent)]
    Exchange(#[from] crate::exchange::ExchangeError),
}

/// Why a document cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DocumentProblem {
    #[error("the document is empty")]
    Empty,
    #[error("binary data (NUL byte at offset {0}), not a text document")]
    Binary(usize),
    #[error("not UTF-8 text (invalid byte at offset {0}); it looks like a Cyrillic 8-bit encoding: convert it first, e.g. with iconv -f cp1251 -t utf-8")]
    Cp1251(usize),
    #[error("not UTF-8 text (invalid byte at offset {0}); convert it to UTF-8 first (e.g. with iconv -f ENCODING -t utf-8)")]
    NotUtf8(usize),
    #[error("{0}, not a text document: babeldesk reads plain text, Markdown and HTML{1}")]
    NotText(&'static str, &'static str),
    #[error("the web page has no text outside scripts, navigation and markup")]
    NoPageText,
    #[error("no sentence to summarize")]
    NoSentences,
    #[error("not valid UTF-16 text (bad code unit at byte {0})")]
    BadUtf16(usize),
}

/// Why no model could be chosen for a job as the flags ask.
#[derive(Debug, thiserror::Error)]
pub enum ChoiceError {
    #[error("model '{id}' does {does}, not {wanted}")]
    WrongTask {
        id: String,
        does: String,
        wanted: String,
    },
    #[error("no {what} in the registry ({covers}); for another, give its folder with --model-dir DIR or add it to a registry file (BABELDESK_REGISTRY)")]
    NotInRegistry { what: String, covers: String },
    #[error("--engine {engine} does not run '{id}' ({architecture} model)")]
    WrongEngine {
        engine: String,
        id: String,
        architecture: String,
    },
    #[error("{}: several GGUF files ({}); keep one per folder", dir.display(), files.join(", "))]
    SeveralGguf { dir: PathBuf, files: Vec<String> },
    #[error("{}: model_type '{kind}' is not supported (marian, bart, t5, bert, or a .gguf file)", config.display())]
    UnsupportedModelType { config: PathBuf, kind: String },
    #[error("model '{0}' lists no weights")]
    NoWeights(String),
}

/// What went wrong talking to a model engine process.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot start the model engine {}", exe.display())]
    Start {
        exe: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("engine {} speaks another protocol: {reply}", exe.display())]
    Protocol { exe: PathBuf, reply: String },
    #[error("the model engine stopped unexpectedly ({status}){tail}")]
    Died { status: String, tail: String },
    #[error("engine sent an unreadable reply: {answer}")]
    Unreadable {
        answer: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("unexpected engine reply: {0}")]
    Unexpected(String),
    /// The engine's own error message (a model that cannot load, a bad request).
    #[error("{0}")]
    Failed(String),
    /// A model's answer that the checks refused (for callers that need every answer).
    #[error("{0}")]
    Unusable(String),
    #[error(transparent)]
    Remote(#[from] crate::models::remote::RemoteError),
}

impl From<crate::models::remote::RemoteError> for Error {
    fn from(e: crate::models::remote::RemoteError) -> Error {
        Error::Engine(EngineError::Remote(e))
    }
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// An error and its causes on one line, as the CLI prints them ("a: b: c").
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    parts.retain(|p| !p.is_empty());
    parts.join(": ").replace('\n', " ")
}
