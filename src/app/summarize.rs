//! `babeldesk summarize`: flags into [`summarize::Options`], summaries printed.

use super::inputs::{Inputs, Tally};
use super::{out, read_input, Ctx};
use crate::cli::{Format, Method, SummarizeArgs};
use anyhow::Result;
use babeldesk::pipeline::summarize::{self, Length, MethodChoice, Summarizer, Summary};
use babeldesk::progress::{Progress, Unit};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(ctx: &Ctx, args: SummarizeArgs) -> Result<ExitCode> {
    let inputs = match args.files.is_empty() {
        true => Inputs::expand(&[PathBuf::from("-")])?,
        false => Inputs::expand(&args.files)?,
    };
    let options = options(&args)?;
    let bars = ctx.progress();
    // The memory holds the summary cache, and the translations made for --to.
    let memory = if options.cache || options.to.is_some() {
        Some(ctx.memory()?)
    } else {
        None
    };
    let mut summarizer = Summarizer::new(ctx.pipeline(), options, memory, &bars);
    let mut results = Vec::new();
    let mut tally = Tally::default();
    if inputs.files.len() > 1 {
        bars.start("summarizing", Some(inputs.files.len() as u64), Unit::Items);
    }
    for file in &inputs.files {
        let result = read_input(file).and_then(|(bytes, name)| {
            let doc = super::open_document(bytes, &name, Some(args.keep_all), "summarized", &bars)?;
            Ok((name, summarizer.summarize(&doc)?.summary))
        });
        let result = match inputs.several() {
            true => tally.count(&file.display().to_string(), result)?,
            false => Some(result?),
        };
        bars.advance(1);
        let Some((name, summary)) = result else {
            continue;
        };
        if summary.sentences.iter().any(|s| s.cut) {
            bars.warn(&format!(
                "note: {name}: a sentence longer than --max-words was cut at a word boundary"
            ));
        }
        if args.format == Format::Text {
            out::text_out(&render(&summary))?;
        }
        results.push(summary);
    }
    bars.finish();
    if args.format == Format::Json {
        out::json(&results)?;
    }
    tally.report(&inputs, "summarized", &bars);
    Ok(tally.exit_code())
}

/// The library's options for the summarize flags, checked.
fn options(args: &SummarizeArgs) -> Result<summarize::Options> {
    if let (Some(min), Some(max)) = (args.min_words, args.max_words) {
        if min > max {
            let why = format!("--min-words {min} is more than --max-words {max}");
            return Err(super::Usage(why).into());
        }
    }
    let mut options = model_options(&args.model, args.method);
    options.length = Length {
        sentences: args.sentences,
        ratio: args.ratio,
        max_words: args.max_words,
        min_words: args.min_words,
    };
    options.to = args.to.as_ref().map(|t| t.to_string());
    options.translate_model_dir = args.translate_model_dir.clone();
    options.keep_all = args.keep_all;
    options.cache = !args.no_cache;
    Ok(options)
}

/// Method and model flags as summary options (shared with `eval summarize`).
pub fn model_options(m: &crate::cli::ModelArgs, method: Method) -> summarize::Options {
    summarize::Options {
        method: match method {
            Method::Auto => MethodChoice::Auto,
            Method::Extractive => MethodChoice::Extractive,
            Method::Abstractive => MethodChoice::Abstractive,
        },
        model: m.model.clone(),
        model_dir: m.model_dir.clone(),
        engine: super::engine_choice(m),
        beams: m.beams,
        max_length: m.max_length,
        min_length: m.min_length,
        ..Default::default()
    }
}

pub fn render(s: &Summary) -> String {
    let lang = s.language.as_deref().unwrap_or("?");
    let cached = if s.cached { ", cached" } else { "" };
    let mut t = out::bold(&format!(
        "== {} ({lang}, {}, {}{cached})",
        s.file,
        s.method.name(),
        s.model
    ));
    t.push('\n');
    for sent in &s.sentences {
        t.push_str(&format!("- {}\n", sent.text));
    }
    t.push('\n');
    t
}
