//! `babeldesk translate`.

use super::{out, read_input, Ctx};
use crate::cli::{ContextArg, ProtectArg, TranslateArgs, TranslateFormat};
use anyhow::{bail, Result};
use babeldesk::exchange::{tmx::TmxWriter, TmWriter};
use babeldesk::memory::{Memory, NewUnit, Origin};
use babeldesk::models::loaded::LazyModel;
use babeldesk::pipeline::terms::Protect;
use babeldesk::pipeline::{
    self,
    translate::{Context, SegmentOrigin, Translation},
};
use babeldesk::progress::Progress;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(ctx: &Ctx, args: TranslateArgs) -> Result<ExitCode> {
    out::check_output(args.output.as_deref())?;
    let to = args.to.clone();
    let input = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    let (bytes, name) = read_input(&input)?;
    let bars = ctx.progress();
    let what = if args.dry_run {
        "analyzed"
    } else {
        "translated"
    };
    let doc = super::open_document(bytes, &name, Some(args.keep_all), what, &bars)?;
    let from = match args
        .from
        .clone()
        .or_else(|| doc.language.map(str::to_string))
    {
        Some(f) => f,
        None => bail!("{name}: cannot tell the document's language; say it with --from"),
    };
    // en-US → en-GB is a translation (the memory may hold it); en → en is not.
    if from == to {
        // A paragraph in another language is named: babeldesk translates documents whole.
        let others: Vec<String> = doc
            .foreign_paragraphs
            .iter()
            .map(|(i, l)| format!("paragraph {} is in {l}", i + 1))
            .collect();
        match others.is_empty() {
            true => bail!("{name}: the document is already in '{to}'"),
            false => bail!(
                "{name}: most of the document is already in '{to}' ({}); give that part alone, with --from",
                others.join(", ")
            ),
        }
    }
    if args.dry_run {
        let report = pipeline::analyze::analyze(&doc, &from, &to, &ctx.memory_read()?)?;
        let json = args.format == TranslateFormat::Json;
        let text = super::memory::analysis_text(&report, json, args.output.is_none())?;
        out::to(args.output.as_deref(), &text)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The model is chosen now (a bad --model fails early) but started only if needed; with
    // none installed, a document the memory covers still translates, and the error waits for
    // the first segment that needs a model.
    let wanted = super::wanted(&args.model);
    let (r, s, env) = (&ctx.registry, &ctx.settings, &ctx.env);
    let (entry, mut missing) = match pipeline::choose_translator(r, s, env, wanted, &from, &to) {
        Ok(entry) => (Some(entry), None),
        Err(
            e @ (babeldesk::Error::NoModelInstalled { .. } | babeldesk::Error::ModelMissing { .. }),
        ) => (None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let mut models = LazyModel::new(|| match (&entry, missing.take()) {
        (Some(entry), _) => super::load_model(ctx, entry, &args.model, &bars),
        (None, Some(e)) => Err(e),
        (None, None) => unreachable!("the load runs once"),
    });
    // Without the memory the termbase is still read (nothing is written); a memory that
    // cannot be read then only costs the terms, and says so.
    let mut memory = if !args.no_memory {
        Some(ctx.memory()?)
    } else if args.no_terms {
        None
    } else {
        ctx.memory_read()
            .map_err(|e| bars.say(&format!("note: termbase not read: {e:#}")))
            .ok()
    };
    let options = pipeline::translate::Options {
        min_match: args.min_match,
        use_fuzzy: args.use_fuzzy,
        terms: !args.no_terms,
        use_memory: !args.no_memory,
        protect: match args.protect {
            ProtectArg::Placeholder => Protect::Placeholder,
            ProtectArg::Inline => Protect::Inline,
            ProtectArg::Off => Protect::Off,
        },
        context: match args.context {
            ContextArg::Full => Context::Full,
            ContextArg::Source => Context::Source,
            ContextArg::None => Context::None,
        },
        ..Default::default()
    };
    let options = match &entry {
        Some(entry) => options.for_model(entry),
        None => options,
    };
    let result = pipeline::translate::translate(
        &doc,
        &from,
        &to,
        memory.as_mut(),
        &mut models,
        &options,
        &bars,
    )?;
    tell(&bars, &name, &result);
    let text = match args.format {
        TranslateFormat::Text => format!("{}\n", result.text),
        TranslateFormat::Json => out::json_text(&result)?,
        TranslateFormat::Bilingual => bilingual(&result),
        TranslateFormat::Tmx => tmx(&result, args.output.as_deref(), memory.as_ref())?,
    };
    out::to(args.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// What the user should know about a translation: counts and speed (with -v), segments that
/// failed and paragraphs in another language (always).
fn tell(bars: &super::bar::Bars, name: &str, result: &Translation) {
    bars.note(&format!(
        "{} segments: {} from memory, {} translated, {} stored; {} model calls",
        result.segments.len(),
        result.from_memory,
        result.translated,
        result.stored,
        result.model_calls
    ));
    if let Some(t) = &result.tokens {
        bars.note(&format!(
            "model read {} and wrote {} tokens in {:.1} s ({:.1} tokens/s written)",
            t.prompt,
            t.generated,
            t.millis as f64 / 1000.0,
            t.generated as f64 * 1000.0 / t.millis.max(1) as f64
        ));
    }
    for s in result
        .segments
        .iter()
        .filter(|s| s.origin == SegmentOrigin::Failed)
    {
        bars.say(&format!(
            "warning: {name}: the sentence at byte {} was not translated ({}); the source is kept and nothing was stored",
            s.start,
            s.problem.as_deref().unwrap_or("unusable answer")
        ));
    }
    let flags: Vec<&[babeldesk::qa::QaFlag]> =
        result.segments.iter().map(|s| s.qa.as_slice()).collect();
    if let Some(summary) = babeldesk::qa::summary(&flags) {
        bars.say(&format!(
            "qa: {name}: {summary} (see them with --format bilingual or json)"
        ));
    } else if result
        .segments
        .iter()
        .any(|s| !s.terms.is_empty() || !s.names.is_empty())
    {
        // Terms or names were there to check: say they passed.
        let (terms, names) = result
            .segments
            .iter()
            .fold((0, 0), |(t, n), s| (t + s.terms.len(), n + s.names.len()));
        let n = result.segments.len();
        bars.say(&format!(
            "qa: {name}: {n} segment{} checked, none flagged ({terms} term and {names} name renderings found)",
            if n == 1 { "" } else { "s" }
        ));
    }
    for o in &result.other_language {
        bars.say(&format!(
            "note: paragraph {} looks like '{}', not '{}'; it was translated as '{}'",
            o.paragraph + 1,
            o.language,
            result.from,
            result.from
        ));
    }
}

/// Source and target, segment by segment; a blank line between paragraphs.
fn bilingual(t: &Translation) -> String {
    let mut out = String::new();
    for (pi, para) in t.paragraphs.iter().enumerate() {
        if pi > 0 {
            out.push('\n');
        }
        for &k in para {
            let s = &t.segments[k];
            let tag = match s.score {
                Some(score) => format!("{} {score}", s.origin.name()),
                None => s.origin.name().to_string(),
            };
            out += &format!(
                "{:>4} {}  {}\n     {}  {}\n",
                k + 1,
                t.from,
                s.source,
                t.to,
                s.target
            );
            out += &format!("     [{tag}]\n");
            if let Some(p) = &s.problem {
                out += &format!("     [not translated: {p}]\n");
            }
            out += &super::terms::flag_lines(&s.qa);
            if let Some(f) = &s.fuzzy {
                out += &format!(
                    "     [memory had {} for unit {}: {}]\n",
                    f.score, f.unit_id, f.target
                );
            }
        }
    }
    out
}

/// The bilingual result as TMX: one unit per distinct segment.
/// The document's pairs as TMX: a model's new ones as `mt`, reused ones as the memory has them
/// (their origin, model and precision), so a reused machine translation is not passed off as
/// an import.
fn tmx(t: &Translation, output: Option<&Path>, memory: Option<&Memory>) -> Result<String> {
    let mut buf = Vec::new();
    {
        let path = output.unwrap_or(Path::new("-"));
        let mut w = Box::new(TmxWriter::new(Box::new(&mut buf), path)?);
        let mut seen = std::collections::HashSet::new();
        for s in &t.segments {
            if s.origin == SegmentOrigin::Failed || !seen.insert(s.source.as_str()) {
                continue;
            }
            let mut unit = NewUnit::new(&t.from, &t.to, &s.source, &s.target);
            let stored = match (s.origin, s.unit_id, memory) {
                (SegmentOrigin::Memory, Some(id), Some(m)) => m.get(id)?,
                _ => None,
            };
            (unit.origin, unit.model, unit.precision) = match (s.origin, stored) {
                (SegmentOrigin::Mt, _) => (Origin::Mt, s.model.clone(), s.precision),
                (_, Some(u)) => (u.origin, u.model, u.precision),
                _ => (Origin::Import, s.model.clone(), s.precision),
            };
            unit.document = Some(t.file.clone());
            w.unit(&unit)?;
        }
        w.finish()?;
    }
    Ok(String::from_utf8(buf)?)
}
