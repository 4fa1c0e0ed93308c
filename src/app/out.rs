//! Writing results to stdout (or a file): text for people, JSON for scripts. A closed pipe
//! (`babeldesk … | head`) ends output quietly instead of failing.

use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot encode JSON")?;
    text_out(&(text + "\n"))
}

pub fn text_out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// Write to `path` (as [`babeldesk::files`] says: atomic for files, through for devices, `-`
/// for stdout), or to stdout when `None`.
pub fn to(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        Some(p) if p != Path::new("-") => babeldesk::files::write_bytes(p, text.as_bytes())
            .with_context(|| format!("cannot write {}", p.display())),
        _ => text_out(text),
    }
}

/// Text from the memory or a file, safe to print: control characters (ESC, BEL, CR, …) shown
/// as `\u{1b}` escapes, so stored text can never drive the terminal. JSON output escapes them
/// as JSON does instead.
pub fn visible(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Bold on a terminal, plain otherwise.
pub fn bold(s: &str) -> String {
    paint(s, "1")
}

/// `s` in an ANSI style (`"32"` green…) when standard output is a terminal and NO_COLOR is unset.
pub fn paint(s: &str, code: &str) -> String {
    use babeldesk::config::{Env, ProcessEnv};
    if std::io::stdout().is_terminal() && ProcessEnv.var("NO_COLOR").is_none() {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
