//! `babeldesk models list|pull|import|verify`.

use super::{out, Ctx};
use crate::cli::{Format, ModelsCommand};
use anyhow::Result;
use babeldesk::config::Env as _;
use babeldesk::models::pull::{self, PullOptions};
use babeldesk::models::resolve::{self, Source};
use babeldesk::models::store::{self, Inventory};
use babeldesk::models::ModelEntry;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    task: String,
    languages: String,
    status: &'static str,
    source: Option<Source>,
    path: Option<PathBuf>,
    bytes: u64,
    missing: Vec<String>,
    license: &'a str,
    description: &'a str,
}

fn row<'a>(ctx: &Ctx, entry: &'a ModelEntry) -> Row<'a> {
    let resolved = resolve::resolve(entry, None, &ctx.settings.models_dir, &ctx.env).ok();
    let local = Inventory::of(entry, &ctx.settings.models_dir.join(&entry.id));
    let (status, inv, source) = match resolved {
        Some(r) => ("present", r.inventory, Some(r.source)),
        None => ("missing", local, None),
    };
    Row {
        id: &entry.id,
        task: format!("{:?}", entry.task).to_lowercase(),
        // A pair for translation models; the languages it knows for the others.
        languages: if entry.task == babeldesk::models::Task::Translation {
            entry.languages.join("→")
        } else {
            entry.languages.join(",")
        },
        status,
        source,
        path: source.map(|_| inv.dir.clone()),
        bytes: if source.is_some() { inv.bytes } else { 0 },
        missing: if source.is_some() {
            Vec::new()
        } else {
            inv.missing
        },
        license: &entry.license,
        description: &entry.description,
    }
}

pub fn run(ctx: &Ctx, cmd: ModelsCommand) -> Result<ExitCode> {
    match cmd {
        ModelsCommand::List { format } => list(ctx, format),
        ModelsCommand::Pull { id } => {
            let entry = ctx.registry.get(&id)?.clone();
            let dest = ctx.settings.models_dir.join(&entry.id);
            let bars = ctx.progress();
            let endpoint = ctx
                .env
                .var("HF_ENDPOINT")
                .unwrap_or_else(|| pull::DEFAULT_ENDPOINT.to_string());
            let opts = PullOptions {
                endpoint,
                python: python(ctx),
                progress: &bars,
            };
            let inv = pull::pull(&entry, &dest, &opts)?;
            installed(ctx, &entry, "installed in", &inv)
        }
        ModelsCommand::Import { id, dir } => {
            let entry = ctx.registry.get(&id)?.clone();
            let dest = ctx.settings.models_dir.join(&entry.id);
            let inv = store::import(&entry, &dir, &dest)?;
            installed(ctx, &entry, "imported into", &inv)
        }
        ModelsCommand::Verify { id, format } => verify(ctx, id, format),
    }
}

/// One line saying where a model now is (not with -q). Installed in a workspace, it is also
/// linked from the user's models folder, so babeldesk finds it from any folder.
fn installed(ctx: &Ctx, entry: &ModelEntry, how: &str, inv: &Inventory) -> Result<ExitCode> {
    let s = &ctx.settings;
    let linked = match s.models_dir != s.user_models_dir {
        true => store::link_for_user(&entry.id, &inv.dir, &s.user_models_dir)?,
        false => None,
    };
    if !ctx.quiet {
        let size = out::human_bytes(inv.bytes);
        let mut t = format!("{} {how} {} ({size})\n", entry.id, inv.dir.display());
        if let Some(link) = linked {
            t += &format!(
                "linked from {}: babeldesk finds it outside this workspace too\n",
                link.display()
            );
        }
        out::text_out(&t)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The interpreter whose pip fetches wheel mirrors: $BABELDESK_PYTHON, the active venv, the
/// workspace's .venv, else python3.
fn python(ctx: &Ctx) -> PathBuf {
    if let Some(p) = ctx.env.var("BABELDESK_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = ctx
        .env
        .var("VIRTUAL_ENV")
        .map(PathBuf::from)
        .or_else(|| ctx.settings.workspace.as_ref().map(|w| w.join(".venv")));
    venv.map(|v| v.join("bin/python"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn list(ctx: &Ctx, format: Format) -> Result<ExitCode> {
    let rows: Vec<Row> = ctx.registry.entries().iter().map(|e| row(ctx, e)).collect();
    if format == Format::Json {
        out::json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let w = rows.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    let lw = rows
        .iter()
        .map(|r| r.languages.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut text = format!(
        "{:<w$} {:<14} {:<lw$} {:<8} {:>9}  {}\n",
        "ID", "TASK", "LANGS", "STATUS", "SIZE", "WHERE / MISSING"
    );
    text = out::bold(&text);
    for r in &rows {
        let place = match &r.path {
            Some(p) => p.display().to_string(),
            None => format!("missing {}", r.missing.join(", ")),
        };
        let size = if r.bytes > 0 {
            out::human_bytes(r.bytes)
        } else {
            "-".into()
        };
        text.push_str(&format!(
            "{:<w$} {:<14} {:<lw$} {:<8} {:>9}  {}\n",
            r.id, r.task, r.languages, r.status, size, place
        ));
    }
    text.push_str(&format!("\nmodels folder: {}\nget a missing model: babeldesk models pull ID (or models import ID DIR)\n", ctx.settings.models_dir.display()));
    out::text_out(&text)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct Verified {
    id: String,
    path: PathBuf,
    files: Vec<store::FileCheck>,
    ok: bool,
}

fn verify(ctx: &Ctx, id: Option<String>, format: Format) -> Result<ExitCode> {
    let entries: Vec<&ModelEntry> = match &id {
        Some(id) => vec![ctx.registry.get(id)?],
        None => ctx.registry.entries().iter().collect(),
    };
    let mut results = Vec::new();
    for entry in entries {
        let resolved = match resolve::resolve(entry, None, &ctx.settings.models_dir, &ctx.env) {
            Ok(r) => r,
            Err(e) if id.is_some() => return Err(e.into()),
            Err(_) => continue,
        };
        let files = store::verify(entry, &resolved.inventory)?;
        let ok = files.iter().all(|f| f.ok != Some(false));
        // Checked again: a later load need not warn about these files.
        if ok && resolved.inventory.is_stamped() {
            resolved.inventory.stamp(entry)?;
        }
        results.push(Verified {
            id: entry.id.clone(),
            path: resolved.inventory.dir,
            files,
            ok,
        });
    }
    let all_ok = results.iter().all(|r| r.ok);
    if format == Format::Json {
        out::json(&results)?;
    } else {
        let mut text = String::new();
        for r in &results {
            text.push_str(&format!(
                "{} ({}): {}\n",
                r.id,
                r.path.display(),
                if r.ok { "verified" } else { "CORRUPT" }
            ));
            for f in &r.files {
                let state = match f.ok {
                    Some(true) => "ok",
                    Some(false) => "MISMATCH",
                    None => "no checksum known",
                };
                text.push_str(&format!(
                    "  {:<28} {}  {}\n",
                    f.name,
                    &f.sha256[..16],
                    state
                ));
            }
        }
        if results.is_empty() {
            text.push_str("no installed models to verify\n");
        }
        out::text_out(&text)?;
    }
    if all_ok {
        return Ok(ExitCode::SUCCESS);
    }
    // Exit 1 always comes with one line on stderr saying why.
    let bad: Vec<String> = results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| {
            let files: Vec<&str> = r
                .files
                .iter()
                .filter(|f| f.ok == Some(false))
                .map(|f| f.name.as_str())
                .collect();
            format!("{} ({})", r.id, files.join(", "))
        })
        .collect();
    out::err_line(&format!(
        "babeldesk: error: checksum mismatch in {}; get a good copy with `babeldesk models pull ID`",
        bad.join("; ")
    ));
    Ok(ExitCode::from(1))
}
