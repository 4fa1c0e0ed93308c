//! The jobs behind the commands, as library calls: pick and load models, read documents,
//! summarize, translate. Nothing here prints; results come back as data.

pub mod analyze;
mod choose;
mod pieces;
pub mod summarize;
pub mod translate;

pub use choose::{
    choose, choose_summarizer, choose_translator, entry_for_dir, EngineChoice, Wanted,
};

use crate::config::{Env, Settings};
use crate::models::engine::{engine_exe, Engine};
use crate::models::protocol::{Generation, LoadRequest, Reply};
use crate::models::registry::ModelEntry;
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
    let mut engine = Engine::start_exe(engine_exe(entry.architecture))?;
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
