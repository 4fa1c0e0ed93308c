//! The jobs behind the commands, as library calls: pick and load models, read documents,
//! summarize, translate. Nothing here prints; results come back as data.

pub mod analyze;
pub mod summarize;
pub mod translate;

use crate::config::{Env, Settings};
use crate::models::engine::Engine;
use crate::models::protocol::{Generation, LoadRequest, Reply};
use crate::models::registry::{Architecture, FileSpec, ModelEntry, Registry, Task};
use crate::models::resolve::{self, Resolved};
use crate::progress::Progress;
use crate::{Error, Result};
use std::path::Path;
use std::time::Instant;

/// A model running in its own engine process.
pub struct LoadedModel {
    pub entry: ModelEntry,
    pub engine: Engine,
    pub max_input_tokens: Option<i64>,
    pub load_millis: u64,
}

impl translate::ModelSource for LoadedModel {
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

impl translate::ModelSource for LazyModel<'_> {
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

/// Which registry entry a command uses: `--model ID`, else the entry describing `--model-dir`,
/// else the registry's model for the task and languages.
pub fn choose(
    registry: &Registry,
    task: Task,
    model: Option<&str>,
    model_dir: Option<&Path>,
    langs: &[&str],
) -> Result<ModelEntry> {
    if let Some(id) = model {
        let entry = registry.get(id)?;
        if entry.task != task {
            return Err(Error::Input(
                format!("model '{id}' does {:?}, not {task:?}", entry.task).to_lowercase(),
            ));
        }
        return Ok(entry.clone());
    }
    if let Some(dir) = model_dir {
        return entry_for_dir(task, dir, langs);
    }
    let found = registry.find(
        task,
        langs.first().copied().unwrap_or("en"),
        langs.get(1).copied(),
    );
    found.first().map(|e| (*e).clone()).ok_or_else(|| {
        Error::Input(format!(
            "no {} model for {} in the registry",
            format!("{task:?}").to_lowercase(),
            langs.join("→")
        ))
    })
}

/// Describe a bare model folder (`--model-dir`) from its config.json's `model_type`.
pub fn entry_for_dir(task: Task, dir: &Path, langs: &[&str]) -> Result<ModelEntry> {
    let config = dir.join("config.json");
    let text = std::fs::read_to_string(&config).map_err(|e| Error::io(&config, e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Config {
        path: config.clone(),
        message: e.to_string(),
    })?;
    let kind = json
        .get("model_type")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let (architecture, files): (Architecture, &[&str]) = match kind {
        "marian" => (
            Architecture::Marian,
            &["config.json", "vocab.json", "source.spm"],
        ),
        "bart" => (
            Architecture::Bart,
            &["config.json", "vocab.json", "merges.txt"],
        ),
        "t5" => (Architecture::T5, &["config.json", "spiece.model"]),
        "bert" => (Architecture::Bert, &["config.json", "tokenizer.json"]),
        other => {
            return Err(Error::Input(format!(
                "{}: model_type '{other}' is not supported (marian, bart, t5, bert)",
                config.display()
            )))
        }
    };
    let spec = |n: &str| FileSpec {
        name: n.to_string(),
        sha256: None,
    };
    Ok(ModelEntry {
        id: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into()),
        task,
        architecture,
        languages: langs.iter().map(|s| s.to_string()).collect(),
        hf_repo: String::new(),
        revision: "main".into(),
        license: "unknown".into(),
        description: format!("model folder {}", dir.display()),
        max_input_tokens: None,
        files: files.iter().map(|n| spec(n)).collect(),
        weights: vec![spec("model.safetensors"), spec("rust_model.ot")],
        mirror: None,
    })
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
    let Resolved { inventory, source } =
        resolve::resolve(entry, model_dir, &settings.models_dir, env)?;
    progress.note(&format!(
        "model {} from {} ({source:?})",
        entry.id,
        inventory.dir.display()
    ));
    let started = Instant::now();
    let mut engine = Engine::start()?;
    let reply = engine.load(LoadRequest {
        task: entry.task,
        architecture: entry.architecture,
        dir: inventory.dir.clone(),
        weights: inventory.weights.clone().unwrap_or_default(),
        languages: entry.languages.clone(),
        device: settings.device,
        generation,
        cache_dir: settings.cache_dir.clone(),
    })?;
    let (device, max_input_tokens) = match reply {
        Reply::Loaded {
            device,
            max_input_tokens,
            ..
        } => (device, max_input_tokens),
        other => return Err(Error::Engine(format!("unexpected engine reply: {other:?}"))),
    };
    let load_millis = started.elapsed().as_millis() as u64;
    progress.note(&format!(
        "model {} loaded on {device} in {load_millis} ms",
        entry.id
    ));
    let max_input_tokens = max_input_tokens.or(entry.max_input_tokens.map(i64::from));
    Ok(LoadedModel {
        entry: entry.clone(),
        engine,
        max_input_tokens,
        load_millis,
    })
}
