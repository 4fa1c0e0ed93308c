//! `babeldesk memory …`.

use super::{out, Ctx};
use crate::cli::{Format, MemoryCommand};
use anyhow::Result;
use babeldesk::memory::Memory;
use std::process::ExitCode;

pub fn run(ctx: &Ctx, cmd: MemoryCommand) -> Result<ExitCode> {
    match cmd {
        MemoryCommand::Path => out::text_out(&format!("{}\n", ctx.settings.memory.display()))?,
        MemoryCommand::Stats { format } => {
            let stats = Memory::open(&ctx.settings.memory)?.stats()?;
            if format == Format::Json {
                out::json(&stats)?;
            } else {
                let mut t = format!(
                    "memory   {}\nsize     {}\nschema   v{}\nunits    {}\nsummaries {}\n",
                    stats.path.display(),
                    out::human_bytes(stats.bytes),
                    stats.schema_version,
                    stats.units,
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
                out::text_out(&t)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
