//! `babeldesk terms …`: the termbase (add, list, show, edit, delete, import, export), checks of
//! existing translations, and the Chinese names of a document.

use super::{out, read_input, Ctx};
use crate::cli::{Format, TermOriginArg, TermPair, TermStatusArg, TermsCommand};
use anyhow::{bail, Context as _, Result};
use babeldesk::exchange::termbase;
use babeldesk::exchange::terms::{self as formats, Pair};
use babeldesk::memory::TermEdit;
use babeldesk::pipeline::terms as checks;
use babeldesk::qa::QaFlag;
use babeldesk::terms::{NewTerm, Term, TermFilter, TermOrigin, TermStatus};
use babeldesk::text::Document;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(ctx: &Ctx, cmd: TermsCommand) -> Result<ExitCode> {
    match cmd {
        TermsCommand::Add {
            source,
            target,
            pair,
            note,
            pos,
            forbidden,
            format,
        } => {
            let mut t = NewTerm::new(&pair.from, &pair.to, &source, &target);
            t.note = note.filter(|n| !n.trim().is_empty());
            t.pos = pos.filter(|p| !p.trim().is_empty());
            t.origin = TermOrigin::Human;
            if forbidden {
                t.status = TermStatus::Forbidden;
            }
            add(ctx, &t, format)?
        }
        TermsCommand::List {
            lang,
            search,
            status,
            origin,
            limit,
            format,
        } => list(ctx, lang.as_ref(), search, status, origin, limit, format)?,
        TermsCommand::Show { id, format } => show(ctx, id, format)?,
        TermsCommand::Edit {
            id,
            source,
            target,
            note,
            pos,
            status,
            format,
        } => {
            let edit = TermEdit {
                source,
                target,
                note,
                pos,
                status: status.map(status_of),
            };
            let term = ctx.memory()?.edit_term(id, &edit)?;
            print_terms(&[term], format, None)?;
        }
        TermsCommand::Delete { ids } => {
            let n = ctx.memory()?.delete_terms(&ids)?;
            if !ctx.quiet {
                out::err_line(&format!(
                    "deleted {n} entr{}",
                    if n == 1 { "y" } else { "ies" }
                ));
            }
        }
        TermsCommand::Import {
            files,
            pair,
            format,
        } => import(ctx, &files, &pair, format)?,
        TermsCommand::Export { output, pair } => export(ctx, output.as_deref(), &pair)?,
        TermsCommand::Check {
            source,
            translation,
            from,
            to,
            format,
        } => check(ctx, &source, &translation, from, &to, format)?,
        TermsCommand::Names {
            file,
            pair,
            accept,
            format,
        } => names(ctx, &file, &pair, accept, format)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn add(ctx: &Ctx, t: &NewTerm, format: Format) -> Result<()> {
    let mut mem = ctx.memory()?;
    let (id, what) = mem.add_term(t)?;
    let term = mem.term(id)?.context("the entry just stored is gone")?;
    let what = serde_json::to_value(what)?;
    print_terms(&[term], format, what.as_str())
}

fn list(
    ctx: &Ctx,
    lang: Option<&(String, String)>,
    text: Option<String>,
    status: Option<TermStatusArg>,
    origin: Option<TermOriginArg>,
    limit: Option<usize>,
    format: Format,
) -> Result<()> {
    let (source_lang, target_lang) = super::memory::pair_flag(lang);
    let filter = TermFilter {
        source_lang,
        target_lang,
        text,
        status: status.map(status_of),
        origin: origin.map(|o| match o {
            TermOriginArg::Human => TermOrigin::Human,
            TermOriginArg::Import => TermOrigin::Import,
            TermOriginArg::Auto => TermOrigin::Auto,
        }),
        limit,
    };
    let mut terms = Vec::new();
    ctx.memory_read()?.list_terms(&filter, |t| {
        terms.push(t);
        Ok::<_, babeldesk::Error>(())
    })?;
    print_terms(&terms, format, None)
}

fn status_of(s: TermStatusArg) -> TermStatus {
    match s {
        TermStatusArg::Preferred => TermStatus::Preferred,
        TermStatusArg::Forbidden => TermStatus::Forbidden,
    }
}

fn pair_of(p: &TermPair) -> Pair {
    Pair {
        from: p.from.clone(),
        to: p.to.clone(),
    }
}

/// Entries as JSON, or one line each: id, pair, status, source → target, note.
fn print_terms(terms: &[Term], format: Format, what: Option<&str>) -> Result<()> {
    if format == Format::Json {
        return match (terms, what) {
            ([t], Some(w)) => out::json(&serde_json::json!({ "stored": w, "term": t })),
            _ => out::json(&terms),
        };
    }
    if terms.is_empty() {
        out::err_line("no entries");
        return Ok(());
    }
    let mut t = String::new();
    for term in terms {
        let e = &term.entry;
        let status = match e.status {
            TermStatus::Preferred => out::paint("preferred", out::Style::Green),
            TermStatus::Forbidden => out::paint("forbidden", out::Style::Red),
        };
        t += &format!(
            "{:>4} {}→{} {} {} → {}{}\n",
            term.id,
            e.source_lang,
            e.target_lang,
            status,
            out::visible(&e.source),
            out::visible(&e.target),
            e.note
                .as_deref()
                .map(|n| format!("  ({})", out::visible(n)))
                .unwrap_or_default()
        );
    }
    if let Some(w) = what {
        t += &format!("({w})\n");
    }
    out::text_out(&t)
}

fn show(ctx: &Ctx, id: i64, format: Format) -> Result<()> {
    let mem = ctx.memory_read()?;
    let Some(term) = mem.term(id)? else {
        bail!("no term with id {id}");
    };
    let history = mem.term_history(id)?;
    if format == Format::Json {
        return out::json(&serde_json::json!({ "term": term, "history": history }));
    }
    let e = &term.entry;
    let mut t = format!(
        "term {}  {} → {}\nsource: {}\ntarget: {}\nstatus: {}  origin: {}\n",
        term.id,
        e.source_lang,
        e.target_lang,
        out::visible(&e.source),
        out::visible(&e.target),
        e.status,
        e.origin
    );
    for (k, v) in [("note", &e.note), ("part of speech", &e.pos)] {
        if let Some(v) = v {
            t += &format!("{k}: {}\n", out::visible(v));
        }
    }
    t += &format!(
        "stems: {}\ncreated {}, updated {}\n",
        term.source_key, term.created_at, term.updated_at
    );
    for h in &history {
        t += &format!(
            "  before {}: {} → {} ({}, {})\n",
            h.changed_at,
            out::visible(&h.source),
            out::visible(&h.target),
            h.status,
            h.origin
        );
    }
    out::text_out(&t)
}

fn import(ctx: &Ctx, files: &[PathBuf], pair: &TermPair, format: Format) -> Result<()> {
    let mut mem = ctx.memory()?;
    let bars = ctx.progress();
    let summary = termbase::import_files(&mut mem, files, &pair_of(pair), &bars)?;
    if format == Format::Json {
        return out::json(&summary);
    }
    let entries = |n: u64| format!("{n} entr{}", if n == 1 { "y" } else { "ies" });
    let skipped = match summary.skipped {
        0 => "0 skipped".to_string(),
        n => format!(
            "{n} skipped (entries without terms in both {} and {})",
            pair.from, pair.to
        ),
    };
    out::text_out(&format!(
        "imported {} file{}: {} added, {} updated, {} unchanged, {skipped}\n",
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        entries(summary.terms.added as u64),
        summary.terms.updated,
        summary.terms.unchanged,
    ))
}

fn export(ctx: &Ctx, output: Option<&Path>, pair: &TermPair) -> Result<()> {
    let output = output.filter(|p| *p != Path::new("-"));
    out::check_output(output)?;
    let mem = ctx.memory_read()?;
    let path = output.unwrap_or(Path::new("-"));
    let format = formats::term_format_for(path)?;
    let pair = pair_of(pair);
    let n = match output {
        None => {
            let stdout = std::io::stdout().lock();
            termbase::export(&mem, &pair, format, Box::new(stdout), path)?
        }
        Some(p) => babeldesk::files::write_with(p, |w| {
            Ok(termbase::export(&mem, &pair, format, Box::new(w), p)?)
        })
        .with_context(|| format!("cannot write {}", p.display()))?,
    };
    if let Some(p) = output {
        if !ctx.quiet {
            out::err_line(&format!("exported {n} entries to {}", p.display()));
        }
    }
    Ok(())
}

fn check(
    ctx: &Ctx,
    source: &Path,
    translation: &Path,
    from: Option<String>,
    to: &str,
    format: Format,
) -> Result<()> {
    let (bytes, name) = read_input(source)?;
    let input = bytes.clone();
    let doc = Document::from_bytes(bytes, &name, true)?;
    let Some(from) = from.or_else(|| doc.language.map(str::to_string)) else {
        bail!("{name}: cannot tell the document's language; say it with --from");
    };
    let (tbytes, tname) = read_input(translation)?;
    let target = Document::from_bytes(tbytes, &tname, true)?;
    let mem = ctx.memory_read()?;
    let (alignment, pieces) = checks::check_translation(&doc, &target.text, &from, to, Some(&mem))?;
    if format == Format::Json {
        return out::json(&serde_json::json!({
            "source": name, "translation": tname, "alignment": alignment, "segments": pieces,
        }));
    }
    let flagged: Vec<&checks::Checked> = pieces.iter().filter(|c| !c.qa.is_empty()).collect();
    let mut t = String::new();
    for c in &flagged {
        t += &format!(
            "{name}:{}  {}\n",
            place(&input, c.start),
            out::visible(&c.source)
        );
        t += &format!("     → {}\n", out::visible(&c.target));
        t += &flag_lines(&c.qa);
    }
    let flags: Vec<&[QaFlag]> = pieces.iter().map(|c| c.qa.as_slice()).collect();
    let paired = match alignment {
        checks::Alignment::Sentences => "sentence by sentence",
        checks::Alignment::Paragraphs => "paragraph by paragraph",
        checks::Alignment::Document => "as whole documents",
    };
    t += &match babeldesk::qa::summary(&flags) {
        Some(s) => format!("{s} (of {} checked, paired {paired})\n", pieces.len()),
        None => format!(
            "no flags in {} checked segments (paired {paired})\n",
            pieces.len()
        ),
    };
    out::text_out(&t)
}

/// QA flags, one indented line each.
pub fn flag_lines(flags: &[QaFlag]) -> String {
    flags
        .iter()
        .map(|f| {
            format!(
                "     {} {}\n",
                out::paint(&format!("! {}:", f.kind.as_str()), out::Style::Yellow),
                out::visible(&f.detail)
            )
        })
        .collect()
}

/// Where byte `at` of an input is, as editors and compilers say it: `LINE:COLUMN` (1-based,
/// the column in characters); `byte N` in an input that is not UTF-8 (UTF-16).
fn place(input: &[u8], at: usize) -> String {
    match std::str::from_utf8(input) {
        Ok(_) => {
            let (line, column) = babeldesk::exchange::line_column(input, at as u64);
            format!("{line}:{column}")
        }
        Err(_) => format!("byte {at}"),
    }
}

fn names(ctx: &Ctx, file: &Path, pair: &TermPair, accept: bool, format: Format) -> Result<()> {
    let (bytes, name) = read_input(file)?;
    let input = bytes.clone();
    let doc = Document::from_bytes(bytes, &name, true)?;
    let found = checks::names_in(&doc);
    let mut stored = Vec::new();
    if accept && !found.is_empty() {
        let mut mem = ctx.memory()?;
        mem.import_terms(|imp| {
            for n in &found {
                let mut t = NewTerm::new(&pair.from, &pair.to, &n.base, &n.pinyin);
                t.origin = TermOrigin::Auto;
                t.pos = Some("properNoun".into());
                stored.push(imp.add(&t)?.0);
            }
            Ok::<_, babeldesk::memory::MemoryError>(())
        })?;
    }
    if format == Format::Json {
        return out::json(&serde_json::json!({ "file": name, "names": found, "stored": stored }));
    }
    let mut t = String::new();
    for n in &found {
        t += &format!(
            "{name}:{}  {} → {}{}\n",
            place(&input, n.start),
            out::visible(&n.found),
            n.pinyin,
            if n.conventional {
                "  (conventional)"
            } else {
                ""
            }
        );
    }
    if found.is_empty() {
        out::err_line(&format!("{name}: no Chinese names found"));
    } else if accept {
        t += &format!("stored {} entries (origin auto)\n", stored.len());
    }
    out::text_out(&t)
}
