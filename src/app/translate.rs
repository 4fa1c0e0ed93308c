//! `babeldesk translate`.

use super::{out, read_input, Ctx};
use crate::cli::{Format, TranslateArgs};
use anyhow::{bail, Result};
use babeldesk::models::protocol::Generation;
use babeldesk::models::Task;
use babeldesk::pipeline;
use babeldesk::text::Document;
use std::path::PathBuf;
use std::process::ExitCode;

/// A BCP-47 primary language subtag we accept: 2-3 letters, optionally a region.
pub fn check_lang(flag: &str, code: &str) -> Result<String> {
    let primary = code.split(['-', '_']).next().unwrap_or_default();
    if !(2..=3).contains(&primary.len()) || !primary.chars().all(|c| c.is_ascii_alphabetic()) {
        bail!("{flag} '{code}' is not a language code (use BCP-47, e.g. ru, en, en-US)");
    }
    Ok(primary.to_ascii_lowercase())
}

pub fn run(ctx: &Ctx, args: TranslateArgs) -> Result<ExitCode> {
    let to = check_lang("--to", &args.to)?;
    let from = args
        .from
        .as_deref()
        .map(|f| check_lang("--from", f))
        .transpose()?;
    let input = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    let (bytes, name) = read_input(&input)?;
    let doc = Document::from_bytes(bytes, &name, args.keep_all)?;
    let from = match from.or_else(|| doc.language.map(str::to_string)) {
        Some(f) => f,
        None => bail!("{name}: cannot tell the document's language; say it with --from"),
    };
    if from == to {
        bail!("{name}: the document is already in '{to}'");
    }
    let bars = ctx.progress();
    let entry = pipeline::choose(
        &ctx.registry,
        Task::Translation,
        args.model.model.as_deref(),
        args.model.model_dir.as_deref(),
        &[&from, &to],
    )?;
    let generation = Generation {
        num_beams: args.model.beams,
        max_length: args.model.max_length,
        ..Default::default()
    };
    let mut model = pipeline::load(
        &ctx.settings,
        &ctx.env,
        &entry,
        args.model.model_dir.as_deref(),
        generation,
        &bars,
    )?;
    let result = pipeline::translate::translate(&doc, &from, &to, &mut model, &bars)?;
    let text = match args.format {
        Format::Text => format!("{}\n", result.text),
        Format::Json => serde_json::to_string_pretty(&result)? + "\n",
    };
    out::to(args.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
