//! Summaries, in one place:
//! - this file: the options ([`Options`]), which method and model run, the summary cache (kept
//!   in the memory database through [`Memory::cached_summary`]), and translate-then-summarize
//!   (`summarize --to` and `digest` share it);
//! - [`length`]: length rules (sentence budget, words → generation tokens);
//! - [`make`]: the summary of one document, extractive or abstractive, long articles chunked;
//! - [`rank`]: which sentences an extractive summary takes (centrality and MMR).

mod length;
mod make;
pub mod rank;

pub use length::{tokens_for_words, Length};
pub use make::{abstractive, chunk, extractive};

use super::translate::{self, Translation};
use super::{choose_summarizer, choose_translator, EngineChoice, Wanted};
use crate::config::{Env, Settings};
use crate::memory::Memory;
use crate::models::loaded::{load, LazyModel, LoadedModel};
use crate::models::protocol::Generation;
use crate::models::{resolve, ModelEntry, Registry, Task};
use crate::progress::Progress;
use crate::text::{langtag, words, Document};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How a summary was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SummaryMethod {
    /// Sentences picked from the article.
    Extractive,
    /// New text written by a model.
    Abstractive,
}

impl SummaryMethod {
    pub fn name(self) -> &'static str {
        match self {
            SummaryMethod::Extractive => "extractive",
            SummaryMethod::Abstractive => "abstractive",
        }
    }
}

/// Which method the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MethodChoice {
    /// Abstractive when a summarization model is installed (or named), else extractive.
    #[default]
    Auto,
    Extractive,
    Abstractive,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummarySentence {
    pub text: String,
    /// Byte offsets into the input (extractive only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
    /// The sentence alone was over `--max-words` and was cut at a word boundary.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timings {
    pub model_ms: u64,
    pub total_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub file: String,
    pub language: Option<String>,
    pub method: SummaryMethod,
    pub model: String,
    pub sentences: Vec<SummarySentence>,
    pub timings: Timings,
    #[serde(default)]
    pub cached: bool,
    /// The article's own language when it was translated first (`--to`); offsets then refer
    /// to nothing in the input and are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translated_from: Option<String>,
}

/// What to do when an article should be translated first but no translation model is
/// installed for its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Untranslatable {
    /// Fail with the error that names the models to get (`summarize --to`).
    #[default]
    Fail,
    /// Summarize it in its own language, with a note saying why (`digest`).
    SummarizeAsIs,
}

/// What a summary should be, as the flags say.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub method: MethodChoice,
    pub length: Length,
    /// The abstractive model: `--model`, `--model-dir`, `--engine`.
    pub model: Option<String>,
    pub model_dir: Option<PathBuf>,
    pub engine: Option<EngineChoice>,
    pub beams: Option<i64>,
    pub max_length: Option<i64>,
    pub min_length: Option<i64>,
    /// Summarize in this language: an article in another one is translated first.
    pub to: Option<String>,
    pub untranslatable: Untranslatable,
    /// The translation model folder for `to` (default: the registry's model for the pair).
    pub translate_model_dir: Option<PathBuf>,
    /// The document was read with page junk kept (part of the cache key).
    pub keep_all: bool,
    /// Read and write the summary cache.
    pub cache: bool,
}

/// Where models and settings come from.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub registry: &'a Registry,
    pub settings: &'a Settings,
    pub env: &'a dyn Env,
}

/// A summary, and the translation made first when there was one.
#[derive(Debug, Clone, Serialize)]
pub struct Summarized {
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation: Option<Translation>,
    /// Why the article was not translated first, when it should have been.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Summarizes documents one after another, loading each model once and keeping it.
pub struct Summarizer<'a> {
    ctx: Context<'a>,
    options: Options,
    /// The translation memory (translations for `to`, and the summary cache).
    memory: Option<Memory>,
    progress: &'a dyn Progress,
    embedder: Option<LoadedModel>,
    summarizer: Option<LoadedModel>,
    translator: Option<LoadedModel>,
    /// What was missing and said once already (a model id, a language pair).
    told: std::collections::HashSet<String>,
}

impl<'a> Summarizer<'a> {
    pub fn new(
        ctx: Context<'a>,
        options: Options,
        memory: Option<Memory>,
        progress: &'a dyn Progress,
    ) -> Summarizer<'a> {
        Summarizer {
            ctx,
            options,
            memory,
            progress,
            embedder: None,
            summarizer: None,
            translator: None,
            told: Default::default(),
        }
    }

    /// The summary of `doc`: in `to` when that is set and the article is in another language
    /// (translated first, through the memory), else in its own language.
    pub fn summarize(&mut self, doc: &Document) -> Result<Summarized> {
        match (self.options.to.clone(), doc.language) {
            (Some(to), Some(from)) if from != langtag::primary(&to) => {
                self.translated_first(doc, from, &to)
            }
            _ => Ok(Summarized {
                summary: self.summarize_as_is(doc)?,
                translation: None,
                note: None,
            }),
        }
    }

    fn translated_first(&mut self, doc: &Document, from: &str, to: &str) -> Result<Summarized> {
        let wanted = Wanted {
            model_dir: self.options.translate_model_dir.as_deref(),
            ..Default::default()
        };
        let c = self.ctx;
        let entry = match choose_translator(c.registry, c.settings, c.env, wanted, from, to) {
            Ok(entry) => entry,
            Err(why) if self.options.untranslatable == Untranslatable::SummarizeAsIs => {
                if self.told.insert(format!("{from}→{to}")) {
                    self.progress.warn(&format!(
                        "note: {from} articles are summarized untranslated: {why}"
                    ));
                }
                return Ok(Summarized {
                    summary: self.summarize_as_is(doc)?,
                    translation: None,
                    note: Some(format!("not translated: {why}")),
                });
            }
            Err(e) => return Err(e),
        };
        let t = self.translate(doc, from, to, &entry)?;
        self.progress.note(&format!(
            "{}: translated {from} → {to} first ({} of {} segments from memory)",
            doc.name,
            t.from_memory,
            t.segments.len()
        ));
        let mut translated = Document::from_bytes(t.text.clone().into_bytes(), &doc.name, true)?;
        // It is in `to`, whatever a detector makes of a weak model's English.
        if let Some(code) = crate::text::lang::code(crate::text::langtag::primary(to)) {
            translated.language = Some(code);
        }
        let mut summary = self.summarize_as_is(&translated)?;
        summary.translated_from = Some(from.to_string());
        summary.language = Some(to.to_string());
        for sentence in &mut summary.sentences {
            (sentence.start, sentence.end) = (None, None);
        }
        Ok(Summarized {
            summary,
            translation: Some(t),
            note: None,
        })
    }

    /// `doc` translated through the memory; the model is started only when the memory lacks
    /// a sentence, and kept for the next document of the same pair.
    fn translate(
        &mut self,
        doc: &Document,
        from: &str,
        to: &str,
        entry: &ModelEntry,
    ) -> Result<Translation> {
        let options = translate::Options::default().for_model(entry);
        if let Some(model) = self.translator.as_mut().filter(|m| m.serves(entry)) {
            let memory = self.memory.as_mut();
            return translate::translate(doc, from, to, memory, model, &options, self.progress);
        }
        let (c, progress) = (self.ctx, self.progress);
        let dir = self.options.translate_model_dir.clone();
        let mut lazy = LazyModel::new(|| {
            load(
                c.settings,
                c.env,
                entry,
                dir.as_deref(),
                Generation::default(),
                progress,
            )
        });
        let t = translate::translate(
            doc,
            from,
            to,
            self.memory.as_mut(),
            &mut lazy,
            &options,
            progress,
        )?;
        if let Some(model) = lazy.into_loaded() {
            self.translator = Some(model);
        }
        Ok(t)
    }

    /// The summary of `doc` in its own language: from the cache when it has one for the same
    /// text, method, model and options, else made and cached.
    fn summarize_as_is(&mut self, doc: &Document) -> Result<Summary> {
        make::check_has_sentences(doc)?;
        let lang = doc.language.unwrap_or("en");
        let method = self.method_for(lang);
        // The cache key names the model that will run, so installing one later is not hidden
        // by a summary the fallback made.
        let entry = match method {
            SummaryMethod::Abstractive => Some(self.summarizer_entry(lang)?),
            SummaryMethod::Extractive => None,
        };
        let model_name = match &entry {
            Some(e) => e.id.clone(),
            None => match self.installed_embedder(lang) {
                Some(id) => id,
                None => {
                    self.tell_missing_embedder(lang);
                    "lexical".into()
                }
            },
        };
        let key = cache_key(doc, self.options.keep_all, method);
        if let Some(mut s) = self.cached(&key, &model_name, method)? {
            s.cached = true;
            s.file = doc.name.clone();
            return Ok(s);
        }
        let summary = match entry {
            Some(entry) => self.abstractive(doc, &entry)?,
            None => {
                let length = self.options.length;
                let progress = self.progress;
                extractive(doc, self.embedder(lang)?, length, progress)?
            }
        };
        if let Some(mem) = self.memory.as_ref().filter(|_| self.options.cache) {
            let json = serde_json::to_string(&summary).expect("summaries serialize");
            mem.store_summary(
                &key,
                &model_name,
                method.name(),
                &self.cache_options(),
                &json,
            )?;
        }
        Ok(summary)
    }

    fn cached(&self, key: &str, model: &str, method: SummaryMethod) -> Result<Option<Summary>> {
        let Some(mem) = self.memory.as_ref().filter(|_| self.options.cache) else {
            return Ok(None);
        };
        let json = mem.cached_summary(key, model, method.name(), &self.cache_options())?;
        // A cached summary written by another version is made again.
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// The options that change a summary, as the cache stores them.
    fn cache_options(&self) -> String {
        let o = &self.options;
        serde_json::json!({
            "sentences": o.length.sentences, "ratio": o.length.ratio, "beams": o.beams,
            "max_length": o.max_length, "min_length": o.min_length,
            "max_words": o.length.max_words, "min_words": o.length.min_words,
            "to": o.to, "model_dir": o.model_dir,
        })
        .to_string()
    }

    fn method_for(&self, lang: &str) -> SummaryMethod {
        let o = &self.options;
        let abstractive = match o.method {
            MethodChoice::Abstractive => true,
            MethodChoice::Extractive => false,
            MethodChoice::Auto => {
                o.model_dir.is_some() || o.model.is_some() || self.summarizer_installed(lang)
            }
        };
        if abstractive {
            SummaryMethod::Abstractive
        } else {
            SummaryMethod::Extractive
        }
    }

    fn summarizer_entry(&self, lang: &str) -> Result<ModelEntry> {
        let wanted = Wanted {
            model: self.options.model.as_deref(),
            model_dir: self.options.model_dir.as_deref(),
            engine: self.options.engine,
        };
        let c = self.ctx;
        choose_summarizer(c.registry, c.settings, c.env, wanted, lang)
    }

    /// An abstractive summary, cut to `max_words` at the last sentence that fits.
    fn abstractive(&mut self, doc: &Document, entry: &ModelEntry) -> Result<Summary> {
        let stale = self.summarizer.as_ref().map_or(true, |m| !m.serves(entry));
        if stale {
            let c = self.ctx;
            let dir = self.options.model_dir.as_deref();
            let model = load(
                c.settings,
                c.env,
                entry,
                dir,
                self.generation(),
                self.progress,
            )?;
            self.summarizer = Some(model);
        }
        let model = self.summarizer.as_mut().expect("loaded above");
        let max_words = self.options.length.max_words;
        let mut s = abstractive(doc, model, max_words, self.progress)?;
        if let Some(max) = max_words {
            for sentence in &mut s.sentences {
                sentence.text = words::trim_to_words(&sentence.text, max);
            }
        }
        Ok(s)
    }

    /// Generation settings for BART/T5: the flags, else lengths from the word limits.
    fn generation(&self) -> Generation {
        let o = &self.options;
        let g = Generation {
            num_beams: o.beams,
            max_length: o.max_length.or(o.length.max_words.map(tokens_for_words)),
            min_length: o.min_length.or(o.length.min_words.map(|w| w as i64)),
            ..Default::default()
        };
        if o.beams == Some(1) {
            Generation {
                min_length: g.min_length.or(Some(0)),
                no_repeat_ngram_size: Some(0),
                ..g
            }
        } else {
            g
        }
    }

    /// The sentence-embedding model for `lang`, loaded once; `None` (the lexical fallback)
    /// when the registry has none for the language or it is not installed.
    fn embedder(&mut self, lang: &str) -> Result<Option<&mut LoadedModel>> {
        let candidates = self.ctx.registry.find(Task::Embedding, lang, None);
        let Some(entry) = candidates.first() else {
            self.progress.note(&format!(
                "no sentence-embedding model covers '{lang}': using the lexical similarity graph"
            ));
            return Ok(None);
        };
        if !self
            .embedder
            .as_ref()
            .is_some_and(|m| m.entry.id == entry.id)
        {
            let c = self.ctx;
            match load(
                c.settings,
                c.env,
                entry,
                None,
                Generation::default(),
                self.progress,
            ) {
                Ok(m) => self.embedder = Some(m),
                Err(Error::ModelMissing { .. }) => {
                    self.tell_missing_embedder(lang);
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.embedder.as_mut())
    }

    /// Once a run: the sentence-embedding model for `lang` is not installed, so extractive
    /// summaries rank sentences by word overlap, and how to get it.
    fn tell_missing_embedder(&mut self, lang: &str) {
        let candidates = self.ctx.registry.find(Task::Embedding, lang, None);
        let Some(entry) = candidates.first() else {
            return;
        };
        if self.told.insert(entry.id.clone()) {
            let id = &entry.id;
            self.progress.warn(&format!("note: {id} is not installed, so summaries rank sentences by word overlap (weaker); get it with `babeldesk models pull {id}`"));
        }
    }

    fn installed_embedder(&self, lang: &str) -> Option<String> {
        let c = self.ctx;
        c.registry
            .find(Task::Embedding, lang, None)
            .into_iter()
            .find(|e| resolve::resolve(e, None, &c.settings.models_dir, c.env).is_ok())
            .map(|e| e.id.clone())
    }

    fn summarizer_installed(&self, lang: &str) -> bool {
        let c = self.ctx;
        c.registry
            .find(Task::Summarization, lang, None)
            .iter()
            .any(|e| resolve::resolve(e, None, &c.settings.models_dir, c.env).is_ok())
    }
}

fn cache_key(doc: &Document, keep_all: bool, method: SummaryMethod) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(doc.text.as_bytes());
    h.update([keep_all as u8, (method == SummaryMethod::Abstractive) as u8]);
    crate::models::store::hex(&h.finalize())
}
