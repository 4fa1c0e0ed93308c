//! The CLI ⇄ engine protocol: one JSON object per line over the engine's stdin/stdout.
//! Versioned: the client's `hello` names its version and the engine refuses a mismatch, so a
//! stale engine executable fails loudly instead of misreading requests.

use super::registry::{Architecture, Task};
use crate::config::Device;
pub use crate::config::Precision;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub const PROTOCOL_VERSION: u32 = 2;

/// Decoding settings; `None` keeps the model's own defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub num_beams: Option<i64>,
    pub max_length: Option<i64>,
    pub min_length: Option<i64>,
    pub no_repeat_ngram_size: Option<i64>,
}

/// A source sentence and its translation, shown to an instruct model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub source: String,
    pub target: String,
}

/// A rendering the translation must use (a termbase entry, a Chinese name read as pinyin) or
/// must not use (a forbidden termbase entry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rendering {
    pub source: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forbidden: bool,
}

/// What an instruct model is told besides the text: translation-memory matches as examples,
/// the previous sentence with its translation, and the renderings to use. Marian models ignore
/// it (their terms are protected in the text itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hint {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Example>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<Rendering>,
    /// Translations of this very text a reviewer rejected: not to be given again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadRequest {
    pub task: Task,
    pub architecture: Architecture,
    pub dir: PathBuf,
    /// The weight file inside `dir`.
    pub weights: String,
    pub languages: Vec<String>,
    pub device: Device,
    #[serde(default)]
    pub generation: Generation,
    /// Where the engine may keep files it derives from the model (patched configs).
    pub cache_dir: PathBuf,
    /// Texts worked on at once (the GGUF engine decodes as many prompts together); the
    /// engine's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<usize>,
    /// CPU threads (the GGUF engine); the engine's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// int8 or fp32 (seq2seq and embedding models); `auto` lets the engine choose.
    #[serde(default)]
    pub precision: Precision,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Hello {
        version: u32,
    },
    Load(LoadRequest),
    Translate {
        texts: Vec<String>,
        /// One per text, or none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        hints: Vec<Hint>,
    },
    Summarize {
        texts: Vec<String>,
        /// A word budget the summary must keep (instruct models; BART/T5 use the lengths
        /// they were loaded with).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_words: Option<usize>,
    },
    Embed {
        texts: Vec<String>,
    },
    /// Token counts with the loaded model's own tokenizer.
    CountTokens {
        texts: Vec<String>,
    },
    Shutdown,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenCounts {
    pub prompt: u64,
    pub generated: u64,
    /// Time spent generating (prompt reading included), in milliseconds.
    pub millis: u64,
}

impl std::ops::AddAssign for TokenCounts {
    fn add_assign(&mut self, other: TokenCounts) {
        self.prompt += other.prompt;
        self.generated += other.generated;
        self.millis += other.millis;
    }
}

/// What was counted between two readings of a running total.
impl std::ops::Sub for TokenCounts {
    type Output = TokenCounts;
    fn sub(self, earlier: TokenCounts) -> TokenCounts {
        TokenCounts {
            prompt: self.prompt.saturating_sub(earlier.prompt),
            generated: self.generated.saturating_sub(earlier.generated),
            millis: self.millis.saturating_sub(earlier.millis),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Hello {
        version: u32,
        engine: String,
        cuda_devices: i64,
    },
    Loaded {
        device: String,
        millis: u64,
        max_input_tokens: Option<i64>,
        /// What the model runs in, when the engine has a choice (int8 or fp32).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precision: Option<Precision>,
    },
    Texts {
        texts: Vec<String>,
        /// Per text, what was wrong with the model's answer (`texts` then holds nothing
        /// usable); empty when all answers are good.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        problems: Vec<Option<String>>,
        /// Tokens the model read and wrote for this request, when the engine counts them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tokens: Option<TokenCounts>,
    },
    Embeddings {
        vectors: Vec<Vec<f32>>,
    },
    Counts {
        counts: Vec<usize>,
    },
    Bye,
    Error {
        message: String,
    },
}

/// An error from a library the engines use (tch, rust-bert, tokenizers, llama.cpp).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why an engine could not answer a request. Variants keep their causes; the client gets
/// [`EngineFailure::message`], the error and its causes on one line.
#[derive(Debug, thiserror::Error)]
pub enum EngineFailure {
    /// A file that could not be read or written.
    #[error("{}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that is missing or not what it should be (bad JSON, a bad safetensors header).
    #[error("{}", path.display())]
    BadFile {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    /// A model file the engine's library refused, with its reason in parentheses.
    #[error("{}: {what} ({source})", path.display())]
    Refused {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: Cause,
    },
    /// A request this engine cannot serve: no model loaded, another protocol.
    #[error("{0}")]
    Request(String),
    /// A model this engine cannot run: another architecture, language or task, a config that
    /// lacks a needed key.
    #[error("{0}")]
    Unsupported(String),
    /// A device the engine cannot use.
    #[error("{0}")]
    Device(String),
    /// A failure inside the model library, as the library tells it.
    #[error(transparent)]
    Library(Cause),
    /// A failure inside the model library, with what was being done.
    #[error("{context}")]
    Model {
        context: String,
        #[source]
        source: Cause,
    },
    /// A panic inside the engine (tch and llama.cpp report some failures so): its first line.
    #[error("model failure: {0}")]
    Panic(String),
}

impl EngineFailure {
    pub fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EngineFailure::File {
            path: path.into(),
            source,
        }
    }

    pub fn bad_file(path: impl Into<PathBuf>, source: impl Into<Cause>) -> Self {
        EngineFailure::BadFile {
            path: path.into(),
            source: source.into(),
        }
    }

    pub fn refused(path: impl Into<PathBuf>, what: &'static str, source: impl Into<Cause>) -> Self {
        EngineFailure::Refused {
            path: path.into(),
            what,
            source: source.into(),
        }
    }

    pub fn library(source: impl Into<Cause>) -> Self {
        EngineFailure::Library(source.into())
    }

    pub fn model(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        EngineFailure::Model {
            context: context.into(),
            source: source.into(),
        }
    }

    pub fn request(message: impl Into<String>) -> Self {
        EngineFailure::Request(message.into())
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        EngineFailure::Unsupported(message.into())
    }

    fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        EngineFailure::Panic(one_line(message))
    }

    /// The error and its causes joined with ": ", on one line; a cause whose text is told
    /// already (many library errors repeat their source) is not told again.
    pub fn message(&self) -> String {
        let mut line = one_line(&self.to_string());
        let mut cause = std::error::Error::source(self);
        while let Some(e) = cause {
            let text = one_line(&e.to_string());
            if !text.is_empty() && !line.contains(&text) {
                line = format!("{line}: {text}");
            }
            cause = e.source();
        }
        line
    }
}

/// A library's message as one line: libtorch appends its C++ stack ("Exception raised
/// from … frame #0: …"), which tells a user nothing; lines are joined with spaces.
fn one_line(text: &str) -> String {
    let text = text.split("Exception raised from").next().unwrap_or(text);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Serve requests from `input` until `shutdown` or its end, answering each with one line. A
/// panic in `handle` (tch and llama.cpp report some failures so) becomes an error reply, never
/// a dead engine with a half-done job. Returns the process exit code.
pub fn serve(
    input: impl std::io::BufRead,
    mut output: impl std::io::Write,
    mut handle: impl FnMut(Request) -> std::result::Result<Reply, EngineFailure>,
) -> i32 {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    for line in input.lines() {
        let Ok(line) = line else { return 1 };
        if line.trim().is_empty() {
            continue;
        }
        let (reply, last) = match serde_json::from_str::<Request>(&line) {
            Err(e) => (
                Reply::Error {
                    message: format!("bad request: {e}"),
                },
                false,
            ),
            Ok(Request::Shutdown) => (Reply::Bye, true),
            Ok(req) => (
                catch_unwind(AssertUnwindSafe(|| handle(req)))
                    .unwrap_or_else(|p| Err(EngineFailure::from_panic(p.as_ref())))
                    .unwrap_or_else(|e| Reply::Error {
                        message: e.message(),
                    }),
                false,
            ),
        };
        let text = serde_json::to_string(&reply).expect("replies serialize");
        if writeln!(output, "{text}")
            .and_then(|_| output.flush())
            .is_err()
        {
            return 1;
        }
        if last {
            return 0;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_line_each() {
        let r = Request::Translate {
            texts: vec!["a\nb".into()],
            hints: vec![],
        };
        let line = serde_json::to_string(&r).unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(line, r#"{"op":"translate","texts":["a\nb"]}"#);
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), r);
        // A version-1 client's request still reads.
        let old: Request = serde_json::from_str(r#"{"op":"summarize","texts":["x"]}"#).unwrap();
        assert_eq!(
            old,
            Request::Summarize {
                texts: vec!["x".into()],
                max_words: None
            }
        );
        let reply: Reply = serde_json::from_str(r#"{"reply":"error","message":"boom"}"#).unwrap();
        assert_eq!(
            reply,
            Reply::Error {
                message: "boom".into()
            }
        );
    }
}

#[cfg(test)]
mod serve_tests {
    use super::*;

    #[test]
    fn panics_become_error_replies_and_shutdown_ends() {
        let input = concat!(
            "{\"op\":\"hello\",\"version\":2}\n",
            "not json\n",
            "{\"op\":\"count_tokens\",\"texts\":[]}\n",
            "{\"op\":\"shutdown\"}\n",
            "{\"op\":\"hello\",\"version\":2}\n"
        );
        let mut out = Vec::new();
        let code = serve(input.as_bytes(), &mut out, |req| match req {
            Request::Hello { version } => Ok(Reply::Hello {
                version,
                engine: "test".into(),
                cuda_devices: 0,
            }),
            _ => panic!("boom"),
        });
        assert_eq!(code, 0);
        let lines: Vec<Reply> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4, "nothing is answered after shutdown");
        assert!(
            matches!(&lines[1], Reply::Error { message } if message.starts_with("bad request"))
        );
        assert!(matches!(&lines[2], Reply::Error { message } if message == "model failure: boom"));
        assert_eq!(lines[3], Reply::Bye);
    }

    #[test]
    fn libtorch_stacks_are_left_out() {
        let torch = "Internal torch error: shape '[2, 3]' is invalid for input of size 4\n\
            Exception raised from computeStride at ../aten/src/ATen/TensorUtils.cpp:1 (most recent call first):\n\
            frame #0: c10::Error::Error(…) + 0x9a (0x7f in libc10.so)\n";
        let e = EngineFailure::model("loading model.safetensors", std::io::Error::other(torch));
        assert_eq!(
            e.message(),
            "loading model.safetensors: Internal torch error: shape '[2, 3]' is invalid for input of size 4"
        );
    }

    #[test]
    fn failures_tell_their_causes_once() {
        let gone = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let file = EngineFailure::file("/m/config.json", gone);
        assert_eq!(file.message(), "/m/config.json: gone");
        let header = EngineFailure::model("bad safetensors header", "eof");
        let bad = EngineFailure::bad_file("/m/w.safetensors", header);
        assert_eq!(
            bad.message(),
            "/m/w.safetensors: bad safetensors header: eof"
        );
        let refused = EngineFailure::refused("/m/x.gguf", "not a usable GGUF model", "null");
        assert_eq!(
            refused.message(),
            "/m/x.gguf: not a usable GGUF model (null)"
        );
    }
}
