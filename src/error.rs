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
    #[error("{0}")]
    Engine(String),
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Memory(#[from] crate::memory::MemoryError),
    #[error(transparent)]
    Exchange(#[from] crate::exchange::ExchangeError),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
