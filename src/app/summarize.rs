//! `babeldesk summarize`.

use super::{bar::Bars, out, read_input, Ctx};
use crate::cli::{Format, Method, SummarizeArgs};
use anyhow::Result;
use babeldesk::memory::Memory;
use babeldesk::models::protocol::Generation;
use babeldesk::models::{resolve, Task};
use babeldesk::pipeline::{self, summarize::Summary, LoadedModel};
use babeldesk::progress::{Progress, Unit};
use babeldesk::text::Document;
use std::path::PathBuf;
use std::process::ExitCode;

/// Models loaded once per command and shared by all files.
#[derive(Default)]
pub struct Loaded {
    pub embedder: Option<LoadedModel>,
    pub summarizer: Option<LoadedModel>,
    pub translator: Option<LoadedModel>,
}

pub fn run(ctx: &Ctx, args: SummarizeArgs) -> Result<ExitCode> {
    let files = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        super::expand_inputs(&args.files)?
    };
    if let Some(r) = args.ratio {
        if !(r > 0.0 && r <= 1.0) {
            anyhow::bail!("--ratio must be in (0, 1], got {r}");
        }
    }
    if let (Some(min), Some(max)) = (args.min_words, args.max_words) {
        if min > max {
            anyhow::bail!("--min-words {min} is more than --max-words {max}");
        }
    }
    let to = args
        .to
        .as_deref()
        .map(|t| super::translate::check_lang("--to", t))
        .transpose()?;
    let bars = ctx.progress();
    let memory = if args.no_cache {
        None
    } else {
        Some(ctx.memory()?)
    };
    let mut loaded = Loaded::default();
    let mut results = Vec::new();
    if files.len() > 1 {
        bars.start("summarizing", Some(files.len() as u64), Unit::Items);
    }
    for file in &files {
        let (bytes, name) = read_input(file)?;
        let doc = Document::from_bytes(bytes, &name, args.keep_all)?;
        let summary = match (&to, doc.language) {
            (Some(to), Some(from)) if from != to => {
                let english = translated(ctx, &args, &doc, from, to, &mut loaded, &bars)?;
                let mut s =
                    summarize_doc(ctx, &args, &english, &mut loaded, memory.as_ref(), &bars)?;
                s.translated_from = Some(from.to_string());
                s.language = Some(to.clone());
                for sentence in &mut s.sentences {
                    (sentence.start, sentence.end) = (None, None);
                }
                s
            }
            _ => summarize_doc(ctx, &args, &doc, &mut loaded, memory.as_ref(), &bars)?,
        };
        if args.format == Format::Text {
            out::text_out(&render(&summary))?;
        }
        results.push(summary);
        bars.advance(1);
    }
    bars.finish();
    if args.format == Format::Json {
        out::json(&results)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn render(s: &Summary) -> String {
    let lang = s.language.as_deref().unwrap_or("?");
    let cached = if s.cached { ", cached" } else { "" };
    let mut t = out::bold(&format!(
        "== {} ({lang}, {}, {}{cached})",
        s.file, s.method, s.model
    ));
    t.push('\n');
    for sent in &s.sentences {
        t.push_str(&format!("- {}\n", sent.text));
    }
    t.push('\n');
    t
}

pub fn summarize_doc(
    ctx: &Ctx,
    args: &SummarizeArgs,
    doc: &Document,
    loaded: &mut Loaded,
    memory: Option<&Memory>,
    bars: &Bars,
) -> Result<Summary> {
    let lang = doc.language.unwrap_or("en");
    let abstractive = match args.method {
        Method::Abstractive => true,
        Method::Extractive => false,
        Method::Auto => {
            args.model.model_dir.is_some()
                || args.model.model.is_some()
                || summarizer_installed(ctx, lang)
        }
    };
    let key = cache_key(doc, args, abstractive);
    // The cache key names the model that will run, so installing one later is not hidden by
    // a summary the fallback made.
    let entry = if abstractive {
        Some(pipeline::choose_summarizer(
            &ctx.registry,
            &ctx.settings,
            &ctx.env,
            super::wanted(&args.model),
            lang,
        )?)
    } else {
        None
    };
    let model_name = if let Some(e) = &entry {
        e.id.clone()
    } else {
        installed_embedder(ctx, lang).unwrap_or_else(|| "lexical".into())
    };
    let method = if abstractive {
        "abstractive"
    } else {
        "extractive"
    };
    if let Some(mem) = memory {
        if let Some(json) = mem.cached_summary(&key, &model_name, method, &options(args))? {
            if let Ok(mut s) = serde_json::from_str::<Summary>(&json) {
                s.cached = true;
                s.file = doc.name.clone();
                return Ok(s);
            }
        }
    }
    let summary = if abstractive {
        let entry = entry.expect("chosen above");
        if loaded.summarizer.as_ref().map_or(true, |m| {
            m.entry.id != entry.id || m.entry.languages != entry.languages
        }) {
            // Words to tokens: BPE spends about 1.3 tokens on an English word; allow 2.
            let generation = Generation {
                num_beams: args.model.beams,
                max_length: args
                    .model
                    .max_length
                    .or(args.max_words.map(|w| w as i64 * 2 + 8)),
                min_length: args.model.min_length.or(args.min_words.map(|w| w as i64)),
                ..Default::default()
            };
            let generation = if args.model.beams == Some(1) {
                Generation {
                    min_length: generation.min_length.or(Some(0)),
                    no_repeat_ngram_size: Some(0),
                    ..generation
                }
            } else {
                generation
            };
            loaded.summarizer = Some(pipeline::load(
                &ctx.settings,
                &ctx.env,
                &entry,
                args.model.model_dir.as_deref(),
                generation,
                bars,
            )?);
        }
        let mut s = pipeline::summarize::abstractive(
            doc,
            loaded.summarizer.as_mut().expect("loaded above"),
            args.max_words,
            bars,
        )?;
        if let Some(max) = args.max_words {
            for sentence in &mut s.sentences {
                sentence.text = babeldesk::summarize::trim_to_words(&sentence.text, max);
            }
        }
        s
    } else {
        let embedder = embedder(ctx, lang, loaded, bars)?;
        pipeline::summarize::extractive(doc, embedder, length(args))?
    };
    if let Some(mem) = memory {
        mem.store_summary(
            &key,
            &model_name,
            method,
            &options(args),
            &serde_json::to_string(&summary)?,
        )?;
    }
    Ok(summary)
}

/// The article translated into `to` through the memory and the pair's Marian model (loaded
/// once per command, and only when the memory lacks a sentence).
fn translated(
    ctx: &Ctx,
    args: &SummarizeArgs,
    doc: &Document,
    from: &str,
    to: &str,
    loaded: &mut Loaded,
    bars: &Bars,
) -> Result<Document> {
    let entry = pipeline::choose_translator(
        &ctx.registry,
        &ctx.settings,
        &ctx.env,
        pipeline::Wanted {
            model_dir: args.translate_model_dir.as_deref(),
            ..Default::default()
        },
        from,
        to,
    )?;
    let mut memory = ctx.memory()?;
    let options = pipeline::translate::Options::default().for_model(&entry);
    let t = match loaded.translator.as_mut() {
        Some(model) => {
            pipeline::translate::translate(doc, from, to, Some(&mut memory), model, &options, bars)?
        }
        None => {
            let mut lazy = pipeline::LazyModel::new(|| {
                pipeline::load(
                    &ctx.settings,
                    &ctx.env,
                    &entry,
                    args.translate_model_dir.as_deref(),
                    Generation::default(),
                    bars,
                )
            });
            let t = pipeline::translate::translate(
                doc,
                from,
                to,
                Some(&mut memory),
                &mut lazy,
                &options,
                bars,
            )?;
            loaded.translator = lazy.into_loaded();
            t
        }
    };
    bars.note(&format!(
        "{}: translated {from} → {to} first ({} of {} segments from memory)",
        doc.name,
        t.from_memory,
        t.segments.len()
    ));
    Ok(Document::from_bytes(t.text.into_bytes(), &doc.name, true)?)
}

/// The sentence-embedding model for `lang`, loaded once; `None` (lexical fallback) when the
/// registry has none for the language or it is not installed.
pub fn embedder<'a>(
    ctx: &Ctx,
    lang: &str,
    loaded: &'a mut Loaded,
    bars: &Bars,
) -> Result<Option<&'a mut LoadedModel>> {
    let candidates = ctx.registry.find(Task::Embedding, lang, None);
    let Some(entry) = candidates.first() else {
        bars.note(&format!(
            "no sentence-embedding model covers '{lang}': using the lexical similarity graph"
        ));
        return Ok(None);
    };
    if loaded
        .embedder
        .as_ref()
        .is_some_and(|m| m.entry.id == entry.id)
    {
        return Ok(loaded.embedder.as_mut());
    }
    match pipeline::load(
        &ctx.settings,
        &ctx.env,
        entry,
        None,
        Generation::default(),
        bars,
    ) {
        Ok(m) => {
            loaded.embedder = Some(m);
            Ok(loaded.embedder.as_mut())
        }
        Err(babeldesk::Error::ModelMissing { id, .. }) => {
            bars.say(&format!("note: {id} is not installed (babeldesk models pull {id}); using the lexical similarity graph"));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn installed_embedder(ctx: &Ctx, lang: &str) -> Option<String> {
    ctx.registry
        .find(Task::Embedding, lang, None)
        .into_iter()
        .find(|e| resolve::resolve(e, None, &ctx.settings.models_dir, &ctx.env).is_ok())
        .map(|e| e.id.clone())
}

fn summarizer_installed(ctx: &Ctx, lang: &str) -> bool {
    ctx.registry
        .find(Task::Summarization, lang, None)
        .iter()
        .any(|e| resolve::resolve(e, None, &ctx.settings.models_dir, &ctx.env).is_ok())
}

fn options(args: &SummarizeArgs) -> String {
    serde_json::json!({ "sentences": args.sentences, "ratio": args.ratio, "beams": args.model.beams, "max_length": args.model.max_length, "min_length": args.model.min_length, "max_words": args.max_words, "min_words": args.min_words, "to": args.to, "model_dir": args.model.model_dir }).to_string()
}

fn length(args: &SummarizeArgs) -> pipeline::summarize::Length {
    pipeline::summarize::Length {
        sentences: args.sentences,
        ratio: args.ratio,
        max_words: args.max_words,
        min_words: args.min_words,
    }
}

fn cache_key(doc: &Document, args: &SummarizeArgs, abstractive: bool) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(doc.text.as_bytes());
    h.update([args.keep_all as u8, abstractive as u8]);
    babeldesk::models::store::hex(&h.finalize())
}
