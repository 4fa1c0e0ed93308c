//! Translation and abstractive summarization through rust-bert's own pipelines.

use super::int8::Int8Seq2Seq;
use super::layers;
use super::search::SearchOptions;
use super::{marian, read_json, EngineResult};
use babeldesk::models::protocol::{EngineFailure, Generation, LoadRequest, Precision};
use babeldesk::models::registry::Architecture;
use rust_bert::pipelines::common::{ModelResource, ModelType, TokenizerOption};
use rust_bert::pipelines::summarization::{SummarizationConfig, SummarizationModel};
use rust_bert::pipelines::translation::{Language, TranslationConfig, TranslationModel};
use rust_bert::resources::LocalResource;
use std::path::{Path, PathBuf};

fn local(path: PathBuf) -> LocalResource {
    LocalResource { local_path: path }
}

fn language(code: &str) -> EngineResult<Language> {
    Ok(
        match code
            .split(['-', '_'])
            .next()
            .unwrap_or(code)
            .to_ascii_lowercase()
            .as_str()
        {
            "ru" => Language::Russian,
            "en" => Language::English,
            "uk" => Language::Ukrainian,
            "de" => Language::German,
            "fr" => Language::French,
            "es" => Language::Spanish,
            "it" => Language::Italian,
            "zh" => Language::ChineseMandarin,
            other => {
                return Err(EngineFailure::unsupported(format!(
                    "language '{other}' is not supported by the translation engine"
                )))
            }
        },
    )
}

/// `max_length` above the position table panics inside rust-bert: cap it.
fn cap(generation: &Generation, default: i64, max_positions: i64) -> i64 {
    generation
        .max_length
        .unwrap_or(default)
        .clamp(1, max_positions)
}

fn max_positions(dir: &Path) -> EngineResult<i64> {
    let cfg = read_json(&dir.join("config.json"))?;
    Ok(cfg
        .get("max_position_embeddings")
        .and_then(|v| v.as_i64())
        .unwrap_or(512))
}

fn count(tokenizer: &TokenizerOption, texts: &[String]) -> Vec<usize> {
    texts.iter().map(|t| tokenizer.tokenize(t).len()).collect()
}

pub struct Translator {
    backend: TranslatorBackend,
    pub max_input_tokens: i64,
    pub precision: Precision,
}

enum TranslatorBackend {
    /// rust-bert's pipeline: fp32, token for token transformers.
    RustBert(Box<TranslationModel>),
    /// babeldesk's own forward pass with int8 Linear layers.
    Int8(Box<Int8Seq2Seq>),
}

impl Translator {
    pub fn load(req: &LoadRequest, device: tch::Device) -> EngineResult<Translator> {
        if req.architecture != Architecture::Marian {
            return Err(EngineFailure::unsupported(format!(
                "translation with {:?} models is not supported yet",
                req.architecture
            )));
        }
        let prepared = marian::prepare(&req.dir, &req.weights, &req.cache_dir)?;
        let (src, tgt) = match req.languages.as_slice() {
            [s, t, ..] => (language(s)?, language(t)?),
            _ => {
                return Err(EngineFailure::unsupported(
                    "a translation model needs a source and a target language",
                ))
            }
        };
        let max_pos = prepared.max_position_embeddings;
        let g = &req.generation;
        let options = SearchOptions {
            num_beams: g.num_beams.unwrap_or(4).max(1),
            max_length: cap(g, 512, max_pos),
            min_length: g.min_length.unwrap_or(0),
            no_repeat_ngram_size: g.no_repeat_ngram_size.unwrap_or(0),
            early_stopping: true,
            length_penalty: 1.0,
        };
        let precision = layers::precision(req, device)?;
        if precision == Precision::Int8 {
            let weights = req.dir.join(&req.weights);
            let t = Int8Seq2Seq::load(&req.dir, &weights, req.architecture, options, precision)?;
            return Ok(Translator {
                max_input_tokens: t.max_input_tokens(),
                backend: TranslatorBackend::Int8(Box::new(t)),
                precision,
            });
        }
        let mut config = TranslationConfig::new(
            ModelType::Marian,
            ModelResource::Torch(Box::new(local(prepared.weights))),
            local(prepared.config),
            local(req.dir.join("vocab.json")),
            Some(local(req.dir.join("source.spm"))),
            [src],
            [tgt],
            device,
        );
        config.num_beams = options.num_beams;
        config.max_length = Some(options.max_length);
        config.min_length = options.min_length;
        config.no_repeat_ngram_size = options.no_repeat_ngram_size;
        config.early_stopping = options.early_stopping;
        config.length_penalty = options.length_penalty;
        config.do_sample = false;
        let model = TranslationModel::new(config)
            .map_err(|e| EngineFailure::model(format!("loading {}", req.dir.display()), e))?;
        Ok(Translator {
            backend: TranslatorBackend::RustBert(Box::new(model)),
            max_input_tokens: max_pos,
            precision,
        })
    }

    pub fn translate(&self, texts: &[String]) -> EngineResult<Vec<String>> {
        match &self.backend {
            TranslatorBackend::Int8(t) => t.generate_texts(texts),
            TranslatorBackend::RustBert(m) => {
                let out = tch::no_grad(|| m.translate(texts, None, None))
                    .map_err(EngineFailure::library)?;
                Ok(out.into_iter().map(|s| s.trim().to_string()).collect())
            }
        }
    }

    pub fn count_tokens(&self, texts: &[String]) -> Vec<usize> {
        match &self.backend {
            TranslatorBackend::Int8(t) => count(t.tokenizer(), texts),
            TranslatorBackend::RustBert(m) => count(m.get_tokenizer(), texts),
        }
    }
}

pub struct Summarizer {
    backend: SummarizerBackend,
    pub max_input_tokens: Option<i64>,
    pub precision: Precision,
}

enum SummarizerBackend {
    RustBert(Box<SummarizationModel>),
    Int8(Box<Int8Seq2Seq>),
}

/// rust-bert's summarization defaults (`SummarizationConfig`), with the request's settings.
fn summary_options(g: &Generation, max_input: Option<i64>) -> SearchOptions {
    SearchOptions {
        num_beams: g.num_beams.unwrap_or(3).max(1),
        max_length: cap(g, 142, max_input.unwrap_or(i64::MAX)),
        min_length: g.min_length.unwrap_or(56),
        no_repeat_ngram_size: g.no_repeat_ngram_size.unwrap_or(3),
        early_stopping: true,
        length_penalty: 1.0,
    }
}

impl Summarizer {
    pub fn load(req: &LoadRequest, device: tch::Device) -> EngineResult<Summarizer> {
        let dir = &req.dir;
        let (model_type, vocab, merges, max_input) = match req.architecture {
            Architecture::Bart => {
                let max = max_positions(dir)?;
                (
                    ModelType::Bart,
                    dir.join("vocab.json"),
                    Some(local(dir.join("merges.txt"))),
                    Some(max),
                )
            }
            // T5's relative positions do not truncate; the caller still chunks by its own limit.
            Architecture::T5 => (ModelType::T5, dir.join("spiece.model"), None, None),
            other => {
                return Err(EngineFailure::unsupported(format!(
                    "summarization with {other:?} models is not supported"
                )))
            }
        };
        let options = summary_options(&req.generation, max_input);
        let precision = match req.architecture {
            Architecture::T5 if req.precision == Precision::Int8 => {
                return Err(EngineFailure::unsupported(
                    "--precision int8: T5 models have no int8 engine yet; use --precision fp32",
                ))
            }
            Architecture::T5 => Precision::Fp32,
            _ => layers::precision(req, device)?,
        };
        if precision == Precision::Int8 {
            let weights = dir.join(&req.weights);
            let m = Int8Seq2Seq::load(dir, &weights, req.architecture, options, precision)?;
            return Ok(Summarizer {
                backend: SummarizerBackend::Int8(Box::new(m)),
                max_input_tokens: max_input,
                precision,
            });
        }
        let weights = ModelResource::Torch(Box::new(local(dir.join(&req.weights))));
        let mut config = SummarizationConfig::new(
            model_type,
            weights,
            local(dir.join("config.json")),
            local(vocab),
            merges,
        );
        config.device = device;
        config.num_beams = options.num_beams;
        config.max_length = Some(options.max_length);
        config.min_length = options.min_length;
        config.no_repeat_ngram_size = options.no_repeat_ngram_size;
        let model = SummarizationModel::new(config)
            .map_err(|e| EngineFailure::model(format!("loading {}", dir.display()), e))?;
        Ok(Summarizer {
            backend: SummarizerBackend::RustBert(Box::new(model)),
            max_input_tokens: max_input,
            precision,
        })
    }

    pub fn summarize(&self, texts: &[String]) -> EngineResult<Vec<String>> {
        match &self.backend {
            SummarizerBackend::Int8(m) => m.generate_texts(texts),
            SummarizerBackend::RustBert(m) => {
                let out = tch::no_grad(|| m.summarize(texts)).map_err(EngineFailure::library)?;
                Ok(out.into_iter().map(|s| s.trim().to_string()).collect())
            }
        }
    }

    pub fn count_tokens(&self, texts: &[String]) -> Vec<usize> {
        match &self.backend {
            SummarizerBackend::Int8(m) => count(m.tokenizer(), texts),
            SummarizerBackend::RustBert(m) => count(m.get_tokenizer(), texts),
        }
    }
}
