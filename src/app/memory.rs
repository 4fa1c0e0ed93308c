//! `babeldesk memory …`: review, search, import, export and analyze the translation memory.

use super::out::{self, Style};
use super::{read_input, Ctx};
use crate::cli::{Format, MemoryCommand, OriginArg, SearchArgs, StatusArg, UnitFilter};
use anyhow::{bail, Context as _, Result};
use babeldesk::exchange;
use babeldesk::memory::{Filter, Match, Origin, Query, Status, Unit};
use babeldesk::pipeline::analyze;
use std::path::Path;
use std::process::ExitCode;

pub fn run(ctx: &Ctx, cmd: MemoryCommand) -> Result<ExitCode> {
    match cmd {
        MemoryCommand::Path => out::text_out(&format!(
            "{}\n",
            babeldesk::memory::shown_location(&ctx.settings.memory)
        ))?,
        MemoryCommand::Stats { format } => stats(ctx, format)?,
        MemoryCommand::Copy { from, to, format } => copy(ctx, from, &to, format)?,
        MemoryCommand::Search(args) => search(ctx, args)?,
        MemoryCommand::List {
            filter,
            limit,
            offset,
            format,
        } => list(ctx, &filter, limit, offset, format)?,
        MemoryCommand::Show { id, format } => show(ctx, id, format)?,
        MemoryCommand::Edit { id, target, format } => {
            if target.trim().is_empty() {
                bail!("--target is empty; to drop a unit use `babeldesk memory delete {id}`");
            }
            let unit = ctx.memory()?.edit_target(id, &target)?;
            if format == Format::Json {
                out::json(&unit)?;
            } else {
                out::text_out(&table(&[(None, &unit)]))?;
            }
        }
        MemoryCommand::Approve { ids } => review(ctx, &ids, Some(Status::Approved))?,
        MemoryCommand::Reject { ids } => review(ctx, &ids, Some(Status::Rejected))?,
        MemoryCommand::Delete { ids } => review(ctx, &ids, None)?,
        MemoryCommand::Import { files, format } => import(ctx, &files, format)?,
        MemoryCommand::Export { output, filter } => export(ctx, output.as_deref(), &filter)?,
        MemoryCommand::Analyze {
            file,
            from,
            to,
            keep_all,
            format,
        } => analyze_file(ctx, &file, from, &to, keep_all, format)?,
        MemoryCommand::Qa { filter, format } => qa(ctx, &filter, format)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `memory search`: fuzzy matches, or a concordance (substring) search.
fn search(ctx: &Ctx, a: SearchArgs) -> Result<()> {
    babeldesk::memory::searchable(&a.query)?;
    let mem = ctx.memory_read()?;
    let found: Vec<Match> = if a.concordance {
        let filter = Filter {
            source_lang: a.from,
            target_lang: a.to,
            limit: Some(a.limit as u64),
            ..Filter::default()
        };
        mem.concordance(&a.query, &filter)?
            .into_iter()
            .map(|unit| Match { score: 0, unit })
            .collect()
    } else {
        let from = a.from.as_deref().unwrap_or("");
        let mut q = Query::new(&a.query, from, a.to.as_deref().unwrap_or(""));
        q.min_score = a.min_match;
        q.limit = a.limit;
        q.include_rejected = true;
        mem.lookup(&q)?
    };
    let score = |m: &Match| (!a.concordance).then_some(m.score);
    if a.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Hit<'a> {
            score: Option<u8>,
            #[serde(flatten)]
            unit: &'a Unit,
        }
        let hits: Vec<Hit> = found
            .iter()
            .map(|m| Hit {
                score: score(m),
                unit: &m.unit,
            })
            .collect();
        out::json(&hits)
    } else if found.is_empty() {
        out::err_line("no match");
        Ok(())
    } else {
        let rows: Vec<(Option<u8>, &Unit)> = found.iter().map(|m| (score(m), &m.unit)).collect();
        out::text_out(&table(&rows))
    }
}

/// `memory list`: units a filter selects, a page at a time.
fn list(ctx: &Ctx, filter: &UnitFilter, limit: u64, offset: u64, format: Format) -> Result<()> {
    let mem = ctx.memory_read()?;
    let mut f = filter_from(filter)?;
    f.limit = Some(limit);
    f.offset = offset;
    let mut units = Vec::new();
    mem.list(&f, |u| {
        units.push(u);
        Ok::<_, babeldesk::Error>(())
    })?;
    if format == Format::Json {
        out::json(&units)
    } else if units.is_empty() {
        out::err_line("no units");
        Ok(())
    } else {
        let rows: Vec<(Option<u8>, &Unit)> = units.iter().map(|u| (None, u)).collect();
        out::text_out(&table(&rows))
    }
}

/// `memory import`: every file in one transaction.
fn import(ctx: &Ctx, files: &[std::path::PathBuf], format: Format) -> Result<()> {
    let mut mem = ctx.memory()?;
    let bars = ctx.progress();
    let summary = exchange::import_files(&mut mem, files, &bars)?;
    if format == Format::Json {
        return out::json(&summary);
    }
    out::text_out(&format!(
        "imported {} file{}: {} units read, {} added, {} merged with existing units, {} entries skipped\n",
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        summary.units.read,
        summary.units.added,
        summary.units.merged,
        summary.skipped
    ))
}

/// `memory qa`: stored units with QA flags.
fn qa(ctx: &Ctx, filter: &UnitFilter, format: Format) -> Result<()> {
    let mem = ctx.memory_read()?;
    let flagged = babeldesk::pipeline::terms::check_units(&mem, &filter_from(filter)?)?;
    if format == Format::Json {
        #[derive(serde::Serialize)]
        struct Flagged<'a> {
            #[serde(flatten)]
            unit: &'a Unit,
            qa: &'a [babeldesk::qa::QaFlag],
        }
        let rows: Vec<Flagged> = flagged
            .iter()
            .map(|(unit, qa)| Flagged { unit, qa })
            .collect();
        return out::json(&rows);
    }
    if flagged.is_empty() {
        out::err_line("no unit has flags");
        return Ok(());
    }
    let rows: Vec<(Option<u8>, &Unit)> = flagged.iter().map(|(u, _)| (None, u)).collect();
    let mut t = table_with(&rows, &|i| super::terms::flag_lines(&flagged[i].1));
    let all: Vec<&[babeldesk::qa::QaFlag]> = flagged.iter().map(|(_, f)| f.as_slice()).collect();
    if let Some(s) = babeldesk::qa::summary(&all) {
        t += &format!("{s}\n");
    }
    out::text_out(&t)
}

/// `memory analyze`: how much of a document the memory already covers.
fn analyze_file(
    ctx: &Ctx,
    file: &Path,
    from: Option<String>,
    to: &str,
    keep_all: bool,
    format: Format,
) -> Result<()> {
    let (bytes, name) = read_input(file)?;
    let doc = super::open_document(bytes, &name, Some(keep_all), "analyzed", &ctx.progress())?;
    let Some(from) = from.or_else(|| doc.language.map(str::to_string)) else {
        bail!("{name}: cannot tell the document's language; say it with --from");
    };
    let report = analyze::analyze(&doc, &from, to, &ctx.memory_read()?)?;
    print_analysis(&report, format == Format::Json)
}

/// The match-band report, as a table or JSON.
pub fn print_analysis(report: &analyze::Analysis, json: bool) -> Result<()> {
    out::text_out(&analysis_text(report, json, true)?)
}

/// The match-band report as text (bold file name when `styled` and on a terminal) or JSON.
pub fn analysis_text(report: &analyze::Analysis, json: bool, styled: bool) -> Result<String> {
    if json {
        return out::json_text(report);
    }
    let file = if styled {
        out::bold(&report.file)
    } else {
        report.file.clone()
    };
    let mut t = format!(
        "{}  {} → {}  {} segments, {} words\n{:<12} {:>8} {:>8} {:>6}\n",
        file,
        report.from,
        report.to,
        report.segments,
        report.words,
        "band",
        "segments",
        "words",
        "words%"
    );
    for b in &report.bands {
        let share = 100.0 * b.words as f64 / report.words.max(1) as f64;
        t += &format!(
            "{:<12} {:>8} {:>8} {:>5.1}%\n",
            b.band, b.segments, b.words, share
        );
    }
    Ok(t)
}

/// `memory copy`: a whole memory into an empty one, in one transaction.
fn copy(
    ctx: &Ctx,
    from: Option<std::path::PathBuf>,
    to: &std::path::Path,
    format: Format,
) -> Result<()> {
    use babeldesk::memory::{shown_location, Access, Memory};
    use babeldesk::progress::{Progress, Unit as Items};
    let from = from.unwrap_or_else(|| ctx.settings.memory.clone());
    let timeout = ctx.settings.lock_timeout;
    let src = Memory::open_for(&from, timeout, Access::Read)?;
    let mut dst = Memory::open_for(to, timeout, Access::Write)?;
    let total = src.stats()?.units as u64;
    let bars = ctx.progress();
    bars.start("copying units", Some(total), Items::Items);
    let mut shown = 0;
    let report = src.copy_to(&mut dst, |n| {
        bars.advance(n - shown);
        shown = n;
    });
    bars.finish();
    let report = report?;
    if format == Format::Json {
        return out::json(&report);
    }
    out::text_out(&format!(
        "copied {} units ({} history entries), {} terms ({} history entries), {} summaries, {} document segments from {} to {}\n",
        report.units,
        report.history,
        report.terms,
        report.term_history,
        report.summaries,
        report.document_segments,
        shown_location(&from),
        shown_location(to)
    ))
}

fn stats(ctx: &Ctx, format: Format) -> Result<()> {
    let stats = ctx.memory_read()?.stats()?;
    if format == Format::Json {
        return out::json(&stats);
    }
    let mut t = format!(
        "memory    {}\nsize      {}\nschema    v{}\nunits     {}\nterms     {}\nsummaries {}\n",
        stats.path.display(),
        out::human_bytes(stats.bytes),
        stats.schema_version,
        stats.units,
        stats.terms,
        stats.summaries
    );
    for (title, rows) in [
        ("by pair", &stats.by_pair),
        ("by origin", &stats.by_origin),
        ("by status", &stats.by_status),
    ] {
        if !rows.is_empty() {
            t.push_str(&format!("{title}:\n"));
            for (k, n) in rows {
                t.push_str(&format!("  {k:<12} {n:>8}\n"));
            }
        }
    }
    out::text_out(&t)
}

fn show(ctx: &Ctx, id: i64, format: Format) -> Result<()> {
    let mem = ctx.memory_read()?;
    let Some(unit) = mem.get(id)? else {
        bail!("no unit with id {id}");
    };
    let (previous, next) = mem.neighbours(&unit)?;
    let history = mem.history(id)?;
    if format == Format::Json {
        return out::json(&serde_json::json!({
            "unit": unit,
            "context": { "previous": previous, "next": next },
            "history": history,
        }));
    }
    let mut t = format!(
        "{} {}  {} → {}  {}{}  {}  used {}×\n",
        out::bold("unit"),
        unit.id,
        unit.source_lang,
        unit.target_lang,
        unit.origin,
        unit.model
            .as_deref()
            .map(|m| format!(" ({})", out::visible(m)))
            .unwrap_or_default(),
        paint_status(unit.status),
        unit.use_count
    );
    t += &format!(
        "created   {}\nupdated   {}\n",
        out::visible(&unit.created_at),
        out::visible(&unit.updated_at)
    );
    if let Some(doc) = &unit.document {
        t += &format!(
            "document  {}{}\n",
            out::visible(doc),
            unit.position.map(|p| format!(" #{p}")).unwrap_or_default()
        );
    }
    t += &format!(
        "source    {}\ntarget    {}\n",
        out::visible(&unit.source),
        out::visible(&unit.target)
    );
    let ctx_line = |label: &str, u: &Option<Unit>, hash: &Option<String>| match (u, hash) {
        (Some(u), _) => format!("{label}  {}\n", out::visible(&u.source)),
        (None, Some(h)) => format!("{label}  (segment hash {})\n", out::visible(h)),
        (None, None) => String::new(),
    };
    t += &ctx_line("previous", &previous, &unit.prev_hash);
    t += &ctx_line("next    ", &next, &unit.next_hash);
    if !history.is_empty() {
        t += "history:\n";
        for h in &history {
            t += &format!(
                "  {}  {:<6} {:<8} {}\n",
                h.changed_at,
                h.origin,
                h.status,
                out::visible(&h.target)
            );
        }
    }
    out::text_out(&t)
}

fn review(ctx: &Ctx, ids: &[i64], status: Option<Status>) -> Result<()> {
    let mut mem = ctx.memory()?;
    let (n, verb) = match status {
        Some(s) => (mem.set_status(ids, s)?, s.as_str()),
        None => (mem.delete(ids)?, "deleted"),
    };
    out::text_out(&format!(
        "{verb} {n} unit{}\n",
        if n == 1 { "" } else { "s" }
    ))
}

fn export(ctx: &Ctx, output: Option<&Path>, filter: &UnitFilter) -> Result<()> {
    // `-o -` is standard output.
    let output = output.filter(|p| *p != Path::new("-"));
    out::check_output(output)?;
    let mem = ctx.memory_read()?;
    let filter = filter_from(filter)?;
    let path = output.unwrap_or(Path::new("-"));
    let format = exchange::for_path(path)?;
    let n = match output {
        None => {
            let stdout = std::io::stdout().lock();
            exchange::export(&mem, &filter, format, Box::new(stdout), path)?
        }
        // A failed export leaves the old file whole (see babeldesk::files).
        Some(p) => babeldesk::files::write_with(p, |w| {
            Ok(exchange::export(&mem, &filter, format, Box::new(w), p)?)
        })
        .with_context(|| format!("cannot write {}", p.display()))?,
    };
    if let Some(p) = output {
        if !ctx.quiet {
            out::err_line(&format!("exported {n} units to {}", p.display()));
        }
    }
    Ok(())
}

/// A `--lang` pair flag (checked by clap) as the filter's two languages.
pub fn pair_flag(flag: Option<&(String, String)>) -> (Option<String>, Option<String>) {
    flag.cloned()
        .map_or((None, None), |(a, b)| (Some(a), Some(b)))
}

fn filter_from(f: &UnitFilter) -> Result<Filter> {
    let (source_lang, target_lang) = pair_flag(f.lang.as_ref());
    Ok(Filter {
        source_lang,
        target_lang,
        origin: f.origin.map(|o| match o {
            OriginArg::Mt => Origin::Mt,
            OriginArg::Human => Origin::Human,
            OriginArg::Import => Origin::Import,
        }),
        status: f.status.map(|s| match s {
            StatusArg::Draft => Status::Draft,
            StatusArg::Approved => Status::Approved,
            StatusArg::Rejected => Status::Rejected,
        }),
        since: f.since.clone(),
        ..Filter::default()
    })
}

fn paint_status(s: Status) -> String {
    let code = match s {
        Status::Approved => Style::Green,
        Status::Draft => Style::Yellow,
        Status::Rejected => Style::Red,
    };
    out::paint(s.as_str(), code)
}

/// Units as aligned rows: id, score (search), pair, origin, status, source, and the target
/// on the next line under the source.
fn table(rows: &[(Option<u8>, &Unit)]) -> String {
    table_with(rows, &|_| String::new())
}

/// [`table`], with `after(i)` written under row i (a unit's QA flags).
fn table_with(rows: &[(Option<u8>, &Unit)], after: &dyn Fn(usize) -> String) -> String {
    let scores = rows.iter().any(|(s, _)| s.is_some());
    let id_w = rows
        .iter()
        .map(|(_, u)| u.id.to_string().len())
        .max()
        .unwrap_or(2)
        .max(2);
    let pair = |u: &Unit| format!("{}→{}", u.source_lang, u.target_lang);
    let pair_w = rows
        .iter()
        .map(|(_, u)| pair(u).chars().count())
        .max()
        .unwrap_or(5);
    let mut t = format!("{:>id_w$} ", "id");
    if scores {
        t += "score ";
    }
    t += &format!(
        "{:<pair_w$} {:<6} {:<8} source / target\n",
        "pair", "origin", "status"
    );
    let indent = id_w + 1 + if scores { 6 } else { 0 } + pair_w + 1 + 7 + 9;
    for (i, (score, u)) in rows.iter().enumerate() {
        t += &format!("{:>id_w$} ", u.id);
        if let Some(s) = score {
            let cell = format!("{s:>5}");
            let cell = match s {
                100.. => out::paint(&cell, Style::Green),
                85..=99 => out::paint(&cell, Style::Yellow),
                _ => cell,
            };
            t += &format!("{cell} ");
        } else if scores {
            t += "      ";
        }
        t += &format!(
            "{:<pair_w$} {:<6} {} {}\n{:indent$}{} {}\n",
            pair(u),
            u.origin.as_str(),
            pad(&paint_status(u.status), u.status.as_str().len(), 8),
            one_line(&u.source),
            "",
            out::paint("→", out::Style::Dim),
            one_line(&u.target)
        );
        t += &after(i);
    }
    t
}

/// Pad a possibly coloured string whose visible width is `shown` to `width`.
fn pad(s: &str, shown: usize, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(shown)))
}

fn one_line(s: &str) -> String {
    out::visible(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}
