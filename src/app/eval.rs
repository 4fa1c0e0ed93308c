//! `babeldesk eval …`: quality scores (BLEU, chrF, ROUGE) and throughput.

use super::{out, summarize, Ctx};
use crate::cli::{EvalCommand, EvalSummarizeArgs, EvalTranslateArgs, Format};
use anyhow::{bail, Context as _, Result};
use babeldesk::eval::{bleu, chrf, rouge};
use babeldesk::pipeline;
use babeldesk::pipeline::summarize::Summarizer;
use babeldesk::text::{lang, Document};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(ctx: &Ctx, cmd: EvalCommand) -> Result<ExitCode> {
    match cmd {
        EvalCommand::Translate(args) => translate(ctx, args)?,
        EvalCommand::Summarize(args) => summarize_set(ctx, args)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn read_lines(path: &Path) -> Result<Vec<String>> {
    let bytes = std::fs::read(path).map_err(|e| babeldesk::Error::io(path, e))?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8 text", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect())
}

/// Hypotheses to score, and how they were made.
#[derive(Default)]
struct Hyps {
    lines: Vec<String>,
    model: Option<String>,
    /// Lines whose translation failed (scored as empty).
    failed: usize,
    with_examples: usize,
    examples_per_line: Vec<usize>,
    tokens: Option<babeldesk::models::protocol::TokenCounts>,
}

/// Translate a test set's source lines with the chosen model, line by line (with the memory's
/// matches as examples when `--examples-from` names one).
fn translate_set(ctx: &Ctx, args: &EvalTranslateArgs, src: &[String]) -> Result<Hyps> {
    let to = args.to.clone();
    let from = match &args.from {
        Some(f) => f.clone(),
        None => match lang::detect(&src.join("\n")) {
            Some(l) => l.to_string(),
            None => bail!(
                "cannot tell the language of {}; say it with --from",
                args.src.display()
            ),
        },
    };
    let bars = ctx.progress();
    let entry = super::translation_entry(ctx, &args.model, &from, &to)?;
    let mut model = super::load_model(ctx, &entry, &args.model, &bars)?;
    let lines: Vec<&str> = src.iter().map(String::as_str).collect();
    let mut hyps = Hyps::default();
    let open = |flag: &str, db: &Path| -> Result<babeldesk::memory::Memory> {
        if !db.is_file() {
            bail!("{flag} {}: no such memory database", db.display());
        }
        let access = babeldesk::memory::Access::Read;
        Ok(babeldesk::memory::Memory::open_for(
            db,
            ctx.settings.lock_timeout,
            access,
        )?)
    };
    let mut examples = Vec::new();
    if let Some(db) = &args.examples_from {
        let memory = open("--examples-from", db)?;
        for l in &lines {
            let min = args.example_min;
            examples.push(pipeline::translate::examples_for(
                &memory, l, &from, &to, min, 3,
            )?);
        }
        hyps.with_examples = examples.iter().filter(|e| !e.is_empty()).count();
        hyps.examples_per_line = examples.iter().map(Vec::len).collect();
    }
    let termbase = match &args.terms_from {
        Some(db) => Some(open("--terms-from", db)?),
        None => None,
    };
    let found = if termbase.is_some() || args.names {
        pipeline::terms::find_in_lines(&lines, &from, &to, termbase.as_ref(), args.names)?
    } else {
        Vec::new()
    };
    let outs = if args.examples_from.is_some() || !found.is_empty() {
        pipeline::translate::translate_lines_with(&mut model, &lines, &examples, &found, &bars)?
    } else {
        pipeline::translate::translate_lines(&mut model, &lines, &bars)?
    };
    hyps.tokens = Some(model.engine.tokens()).filter(|t| t.generated > 0);
    // A failed line scores as an empty translation (and is counted).
    hyps.failed = outs.iter().filter(|o| o.is_err()).count();
    hyps.lines = outs.into_iter().map(|o| o.unwrap_or_default()).collect();
    hyps.model = Some(model.entry.id.clone());
    Ok(hyps)
}

fn translate(ctx: &Ctx, args: EvalTranslateArgs) -> Result<()> {
    out::check_output(args.output.as_deref())?;
    let src = read_lines(&args.src)?;
    let refs = read_lines(&args.reference)?;
    if src.len() != refs.len() {
        bail!(
            "{} has {} lines but {} has {}: a test set needs one reference per source line",
            args.src.display(),
            src.len(),
            args.reference.display(),
            refs.len()
        );
    }
    let started = Instant::now();
    let Hyps {
        lines: hyps,
        model,
        failed,
        with_examples,
        examples_per_line,
        tokens,
    } = match &args.hyp {
        Some(h) => {
            let lines = read_lines(h)?;
            if lines.len() != refs.len() {
                bail!(
                    "{} has {} lines, the references {}",
                    h.display(),
                    lines.len(),
                    refs.len()
                );
            }
            Hyps {
                lines,
                ..Hyps::default()
            }
        }
        None => translate_set(ctx, &args, &src)?,
    };
    let seconds = started.elapsed().as_secs_f64();
    if let Some(o) = &args.output {
        out::to(Some(o), &(hyps.join("\n") + "\n"))?;
    }
    let h: Vec<&str> = hyps.iter().map(String::as_str).collect();
    let r: Vec<&str> = refs.iter().map(String::as_str).collect();
    let b = bleu::corpus_bleu(&h, &r);
    let report = serde_json::json!({
        "segments": hyps.len(),
        "model": model,
        "bleu": b.score,
        "bleu_detail": b,
        "chrf": chrf::corpus_chrf(&h, &r),
        "seconds": seconds,
        "segments_per_second": hyps.len() as f64 / seconds.max(1e-9),
        "failed": failed,
        "with_examples": args.examples_from.as_ref().map(|_| with_examples),
        "examples_per_line": args.examples_from.as_ref().map(|_| &examples_per_line),
        "tokens": tokens,
        "generated_tokens_per_second": tokens.map(|t: babeldesk::models::protocol::TokenCounts| t.generated as f64 * 1000.0 / t.millis.max(1) as f64),
        "metric_signature": "sacrebleu 2.4 defaults: BLEU 13a, exp smoothing; chrF char order 6, beta 2",
    });
    if args.format == Format::Json {
        out::json(&report)
    } else {
        out::text_out(&format!(
            "segments {}{}{}\nBLEU     {:.2}  ({}, BP {:.3}, ratio {:.3})\nchrF     {:.2}\nspeed    {:.1} segments/s{}{}\n",
            hyps.len(),
            if failed > 0 { format!(" ({failed} failed, scored as empty)") } else { String::new() },
            args.examples_from.as_ref().map(|_| format!("; {with_examples} with memory examples")).unwrap_or_default(),
            b.score,
            b.precisions.iter().map(|p| format!("{p:.1}")).collect::<Vec<_>>().join("/"),
            b.brevity_penalty,
            b.sys_len as f64 / b.ref_len.max(1) as f64,
            report["chrf"].as_f64().unwrap_or(0.0),
            report["segments_per_second"].as_f64().unwrap_or(0.0),
            model.map(|m| format!(" ({m})")).unwrap_or_default(),
            tokens
                .map(|t| format!(
                    "\ntokens   {} read, {} written, {:.1} written/s",
                    t.prompt,
                    t.generated,
                    t.generated as f64 * 1000.0 / t.millis.max(1) as f64
                ))
                .unwrap_or_default()
        ))
    }
}

fn summarize_set(ctx: &Ctx, args: EvalSummarizeArgs) -> Result<()> {
    let docs = super::inputs::Inputs::expand(std::slice::from_ref(&args.docs))?.files;
    let mut options = summarize::model_options(&args.model, args.method);
    options.length.sentences = args.sentences;
    options.length.max_words = args.max_words;
    let bars = ctx.progress();
    let mut summarizer = Summarizer::new(ctx.pipeline(), options, None, &bars);
    let mut rows = Vec::new();
    let started = Instant::now();
    for doc_path in &docs {
        let name = doc_path.file_name().unwrap_or_default();
        let ref_path = args.refs.join(name);
        let reference = std::fs::read_to_string(&ref_path)
            .map_err(|e| babeldesk::Error::io(&ref_path, e))
            .with_context(|| format!("no reference summary for {}", doc_path.display()))?;
        let bytes = std::fs::read(doc_path).map_err(|e| babeldesk::Error::io(doc_path, e))?;
        let doc = Document::from_bytes(bytes, &doc_path.display().to_string(), false)?;
        let s = summarizer.summarize(&doc)?.summary;
        let text: Vec<&str> = s.sentences.iter().map(|x| x.text.as_str()).collect();
        let r = rouge::score(&reference, &text.join(" "));
        rows.push((
            doc_path.display().to_string(),
            s.method.name(),
            s.model.clone(),
            r,
        ));
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = rows.len().max(1) as f64;
    let mean = |f: fn(&rouge::Rouge) -> f64| rows.iter().map(|r| f(&r.3)).sum::<f64>() / n;
    let (r1, r2, rl) = (mean(|r| r.rouge1), mean(|r| r.rouge2), mean(|r| r.rouge_l));
    if args.format == Format::Json {
        let per: Vec<_> = rows
            .iter()
            .map(|(f, m, model, r)| serde_json::json!({"file": f, "method": m, "model": model, "rouge": r}))
            .collect();
        out::json(&serde_json::json!({
            "articles": rows.len(), "rouge1": r1, "rouge2": r2, "rougeL": rl,
            "seconds_per_article": seconds / n, "per_article": per,
        }))
    } else {
        let mut t = format!(
            "{:<40} {:>8} {:>8} {:>8}\n",
            "article", "ROUGE-1", "ROUGE-2", "ROUGE-L"
        );
        for (f, _, _, r) in &rows {
            t += &format!(
                "{f:<40} {:>8.4} {:>8.4} {:>8.4}\n",
                r.rouge1, r.rouge2, r.rouge_l
            );
        }
        t += &format!(
            "{:<40} {r1:>8.4} {r2:>8.4} {rl:>8.4}\n{:.2} s per article\n",
            "mean F1",
            seconds / n
        );
        out::text_out(&t)
    }
}
