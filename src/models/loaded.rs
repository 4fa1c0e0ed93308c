//! Starting and holding models: a model's engine process, started at once or on first need.

use super::engine::{engine_exe, Answers, Engine};
use super::protocol::{Generation, Hint, LoadRequest, Precision, Reply, TokenCounts};
use super::registry::{Architecture, ModelEntry, Task};
use super::remote::{RemoteEngine, RemoteOptions};
use super::resolve::{self, Resolved};
use crate::config::{Env, Settings};
use crate::error::EngineError;
use crate::progress::Progress;
use crate::Result;
use std::path::Path;
use std::time::Instant;

/// Where translations come from when the memory has none: a model loaded on first need.
pub trait ModelSource {
    fn get(&mut self) -> Result<&mut LoadedModel>;
    fn loaded(&mut self) -> Option<&mut LoadedModel>;
}

/// What runs a loaded model: an engine process here, or a server over HTTP.
pub enum Backend {
    Local(Engine),
    Remote(RemoteEngine),
}

impl Backend {
    /// Translations of `texts`, each with its hint (or no hints at all).
    pub fn translate_with(&mut self, texts: Vec<String>, hints: Vec<Hint>) -> Result<Answers> {
        match self {
            Backend::Local(e) => e.translate_with(texts, hints),
            Backend::Remote(r) => Ok(r.translate_with(texts, hints)?),
        }
    }

    /// Summaries of `texts`, each within `max_words` where the engine can keep a budget.
    pub fn summarize_within(
        &mut self,
        texts: Vec<String>,
        max_words: Option<usize>,
    ) -> Result<Answers> {
        match self {
            Backend::Local(e) => e.summarize_within(texts, max_words),
            Backend::Remote(r) => Ok(r.summarize_within(texts, max_words.unwrap_or(80))?),
        }
    }

    /// Tokens each text takes (estimated for a server: the API has no tokenizer).
    pub fn count_tokens(&mut self, texts: Vec<String>) -> Result<Vec<usize>> {
        match self {
            Backend::Local(e) => e.count_tokens(texts),
            Backend::Remote(_) => Ok(texts
                .iter()
                .map(|t| RemoteEngine::estimate_tokens(t))
                .collect()),
        }
    }

    pub fn embed(&mut self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        match self {
            Backend::Local(e) => e.embed(texts),
            Backend::Remote(_) => Err(crate::error::EngineError::Failed(
                "a chat model on a server makes no embeddings".into(),
            )
            .into()),
        }
    }

    /// Tokens read and written so far.
    pub fn tokens(&self) -> TokenCounts {
        match self {
            Backend::Local(e) => e.tokens,
            Backend::Remote(r) => r.tokens(),
        }
    }

    /// Requests made so far.
    pub fn calls(&self) -> usize {
        match self {
            Backend::Local(e) => e.calls,
            Backend::Remote(r) => r.calls(),
        }
    }

    /// The server, when the model runs on one (it takes requests from several threads).
    pub fn remote(&self) -> Option<&RemoteEngine> {
        match self {
            Backend::Local(_) => None,
            Backend::Remote(r) => Some(r),
        }
    }
}

/// A model running in its own engine process, or on a server.
pub struct LoadedModel {
    pub entry: ModelEntry,
    pub engine: Backend,
    pub max_input_tokens: Option<i64>,
    pub load_millis: u64,
    /// Texts the model works on at once: prompts a GGUF model decodes together, requests in
    /// flight to a server; 1 for models that batch their own way (Marian, BART).
    pub parallel: usize,
    /// int8 or fp32 for a local seq2seq or embedding model; none for GGUF and servers.
    pub precision: Option<Precision>,
}

/// Prompts a local GGUF model decodes together unless `--parallel` says otherwise: on 2 CPU
/// cores 8 gave 1.12x the segments/s of 4 at the same chrF, for 460 MiB more memory
/// (`make bench-llm-speed`).
pub const LOCAL_PARALLEL: usize = 8;
/// The most: each takes a context's worth of KV cache (about 110 MiB for Qwen 1.5B).
pub const MAX_LOCAL_PARALLEL: usize = 16;

impl LoadedModel {
    /// Whether this is the model `entry` names, for the same languages. A server's model is
    /// planned as `(default)@HOST` when not named and known by its name once connected: any
    /// loaded server model serves a server entry (one server per command).
    pub fn serves(&self, entry: &ModelEntry) -> bool {
        let same = match entry.architecture {
            Architecture::Remote => self.entry.architecture == Architecture::Remote,
            _ => self.entry.id == entry.id,
        };
        same && self.entry.languages == entry.languages
    }
}

impl ModelSource for LoadedModel {
    fn get(&mut self) -> Result<&mut LoadedModel> {
        Ok(self)
    }
    fn loaded(&mut self) -> Option<&mut LoadedModel> {
        Some(self)
    }
}

/// A model started only when first needed (a document the memory covers needs none).
pub struct LazyModel<'a> {
    load: Box<dyn FnMut() -> Result<LoadedModel> + 'a>,
    model: Option<LoadedModel>,
}

impl<'a> LazyModel<'a> {
    pub fn new(load: impl FnMut() -> Result<LoadedModel> + 'a) -> LazyModel<'a> {
        LazyModel {
            load: Box::new(load),
            model: None,
        }
    }

    /// The model, if it was needed, to keep for the next document.
    pub fn into_loaded(self) -> Option<LoadedModel> {
        self.model
    }
}

impl ModelSource for LazyModel<'_> {
    fn get(&mut self) -> Result<&mut LoadedModel> {
        if self.model.is_none() {
            self.model = Some((self.load)()?);
        }
        Ok(self.model.as_mut().expect("loaded above"))
    }
    fn loaded(&mut self) -> Option<&mut LoadedModel> {
        self.model.as_mut()
    }
}

/// Find `entry` offline and start it in an engine process.
pub fn load(
    settings: &Settings,
    env: &dyn Env,
    entry: &ModelEntry,
    model_dir: Option<&Path>,
    generation: Generation,
    progress: &dyn Progress,
) -> Result<LoadedModel> {
    if entry.architecture == Architecture::Remote {
        let Some(server) = &settings.remote else {
            return Err(EngineError::Failed("no model server is set (--engine-url)".into()).into());
        };
        return connect(server, entry.task, entry.languages.clone(), progress);
    }
    let Resolved { inventory, source } =
        resolve::resolve(entry, model_dir, &settings.models_dir, env)?;
    progress.note(&format!(
        "model {} from {} ({source:?})",
        entry.id,
        inventory.dir.display()
    ));
    let changed = inventory.changed_since_stamp();
    if !changed.is_empty() {
        progress.warn(&format!(
            "warning: {}: {} changed since its checksum was checked; run `babeldesk models verify {}`",
            entry.id,
            changed.join(", "),
            entry.id
        ));
    }
    let started = Instant::now();
    let parallel = match entry.architecture {
        Architecture::Gguf => {
            let asked = settings.parallel.unwrap_or(LOCAL_PARALLEL);
            if asked > MAX_LOCAL_PARALLEL {
                progress.warn(&format!(
                    "note: --parallel {asked}: a local GGUF model decodes at most {MAX_LOCAL_PARALLEL} sentences together (a model server takes more); using {MAX_LOCAL_PARALLEL}"
                ));
            }
            asked.clamp(1, MAX_LOCAL_PARALLEL)
        }
        _ => 1,
    };
    let mut engine = Engine::start_exe(engine_exe(entry.architecture), env)?;
    let reply = engine.load(LoadRequest {
        task: entry.task,
        architecture: entry.architecture,
        dir: inventory.dir.clone(),
        weights: inventory.weights.clone().unwrap_or_default(),
        languages: entry.languages.clone(),
        device: settings.device,
        generation,
        cache_dir: settings.cache_dir.clone(),
        parallel: Some(parallel),
        threads: settings.threads,
        precision: settings.precision,
    })?;
    let (device, max_input_tokens, precision) = match reply {
        Reply::Loaded {
            device,
            max_input_tokens,
            precision,
            ..
        } => (device, max_input_tokens, precision),
        other => return Err(EngineError::Unexpected(format!("{other:?}")).into()),
    };
    let load_millis = started.elapsed().as_millis() as u64;
    let how = precision.map(|p| format!(", {p}")).unwrap_or_default();
    progress.note(&format!(
        "model {} loaded on {device}{how} in {load_millis} ms",
        entry.id
    ));
    let max_input_tokens = max_input_tokens.or(entry.max_input_tokens.map(i64::from));
    Ok(LoadedModel {
        entry: entry.clone(),
        engine: Backend::Local(engine),
        max_input_tokens,
        load_millis,
        parallel,
        precision,
    })
}

/// A request cap for pieces sent to a server: a sentence, examples and the answer must fit
/// a context the API does not tell.
const REMOTE_MAX_INPUT_TOKENS: i64 = 1024;

/// Connect to the server `opts` names, for `task` from `from` into `to` (`from` empty for
/// summaries).
pub fn connect(
    opts: &RemoteOptions,
    task: Task,
    languages: Vec<String>,
    progress: &dyn Progress,
) -> Result<LoadedModel> {
    let started = Instant::now();
    let remote = RemoteEngine::connect(opts, languages.clone())?;
    let load_millis = started.elapsed().as_millis() as u64;
    progress.note(&format!(
        "model {} on {}, {} requests in flight",
        remote.model_id(),
        remote.shown(),
        remote.parallel()
    ));
    let parallel = remote.parallel();
    Ok(LoadedModel {
        parallel,
        entry: remote_entry(&remote.model_id(), task, languages),
        engine: Backend::Remote(remote),
        max_input_tokens: Some(REMOTE_MAX_INPUT_TOKENS),
        load_millis,
        precision: None,
    })
}

/// The registry-like entry of a model on a server (units record its id).
pub fn remote_entry(id: &str, task: Task, languages: Vec<String>) -> ModelEntry {
    ModelEntry {
        id: id.to_string(),
        task,
        architecture: Architecture::Remote,
        languages,
        hf_repo: String::new(),
        revision: String::new(),
        license: String::new(),
        description: "an instruct model on an OpenAI-compatible server".into(),
        max_input_tokens: Some(REMOTE_MAX_INPUT_TOKENS as u32),
        files: Vec::new(),
        weights: Vec::new(),
        mirror: None,
    }
}
