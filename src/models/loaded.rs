//! Starting and holding models: a model's engine process, started at once or on first need.

use super::engine::{engine_exe, Engine};
use super::protocol::{Generation, LoadRequest, Reply};
use super::registry::ModelEntry;
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

/// A model running in its own engine process.
pub struct LoadedModel {
    pub entry: ModelEntry,
    pub engine: Engine,
    pub max_input_tokens: Option<i64>,
    pub load_millis: u64,
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
    })?;
    let (device, max_input_tokens) = match reply {
        Reply::Loaded {
            device,
            max_input_tokens,
            ..
        } => (device, max_input_tokens),
        other => return Err(EngineError::Unexpected(format!("{other:?}")).into()),
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
