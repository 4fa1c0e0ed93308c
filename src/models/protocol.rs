//! The CLI ⇄ engine protocol: one JSON object per line over the engine's stdin/stdout.
//! Versioned: the client's `hello` names its version and the engine refuses a mismatch, so a
//! stale engine executable fails loudly instead of misreading requests.

use super::registry::{Architecture, Task};
use crate::config::Device;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub const PROTOCOL_VERSION: u32 = 1;

/// Decoding settings; `None` keeps the model's own defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub num_beams: Option<i64>,
    pub max_length: Option<i64>,
    pub min_length: Option<i64>,
    pub no_repeat_ngram_size: Option<i64>,
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
    },
    Summarize {
        texts: Vec<String>,
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
    },
    Texts {
        texts: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_line_each() {
        let r = Request::Translate {
            texts: vec!["a\nb".into()],
        };
        let line = serde_json::to_string(&r).unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(line, r#"{"op":"translate","texts":["a\nb"]}"#);
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), r);
        let reply: Reply = serde_json::from_str(r#"{"reply":"error","message":"boom"}"#).unwrap();
        assert_eq!(
            reply,
            Reply::Error {
                message: "boom".into()
            }
        );
    }
}
