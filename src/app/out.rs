//! Writing results to stdout (or a file): text for people, JSON for scripts. A closed pipe
//! (`babeldesk … | head`) ends output quietly instead of failing.

use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn json<T: serde::Serialize>(value: &T) -> Result<()> {
    text_out(&json_text(value)?)
}

/// `value` as pretty JSON, a line: serde_json escapes C0 controls; the rule ([`shown`]) adds
/// DEL, C1 controls and bidi controls as `\uXXXX` (the same string to every JSON reader, since
/// outside strings only the layout's line breaks and spaces stand).
pub fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    let text = serde_json::to_string_pretty(value).context("cannot encode JSON")?;
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if c != '\n' && moves_terminal(c) {
            out += &format!("\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    Ok(out)
}

/// Standard output: on a terminal through the rule ([`shown`], styles drawn); to a pipe as it
/// is, since what a script or file receives is data.
pub fn text_out(text: &str) -> Result<()> {
    let shown;
    let text = if std::io::stdout().is_terminal() {
        shown = render(text);
        &shown
    } else {
        text
    };
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
/// for stdout), or to stdout when `None`. A file gets the text as it is; a terminal named as
/// a file (`-o /dev/tty`) gets it as standard output would.
pub fn to(path: Option<&Path>, text: &str) -> Result<()> {
    let Some(p) = path.filter(|p| *p != Path::new("-")) else {
        return text_out(text);
    };
    let shown;
    let text = if is_terminal_device(p) {
        shown = render(text);
        &shown
    } else {
        text
    };
    babeldesk::files::write_bytes(p, text.as_bytes())
        .with_context(|| format!("cannot write {}", p.display()))
}

/// Refuses an output path that could not be written, before any work (see
/// [`babeldesk::files::check_writable`]).
pub fn check_output(path: Option<&Path>) -> Result<()> {
    match path {
        Some(p) => Ok(babeldesk::files::check_writable(p)?),
        None => Ok(()),
    }
}

#[cfg(unix)]
fn is_terminal_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_char_device())
        && std::fs::OpenOptions::new()
            .write(true)
            .open(p)
            .is_ok_and(|f| f.is_terminal())
}

#[cfg(not(unix))]
fn is_terminal_device(_: &Path) -> bool {
    false
}

/// A message for people on standard error (errors, warnings, notes): always through the
/// rule, on one line.
pub fn err_line(message: &str) {
    eprintln!("{}", shown(&message.replace('\n', " "), Lines::Escape));
}

/// Whether a line break and a tab are kept or shown as escapes.
#[derive(Clone, Copy, PartialEq)]
pub enum Lines {
    Keep,
    Escape,
}

/// The one rule for text that reaches a person (stored units, model answers, file names,
/// server messages): no character of it may drive the terminal or reorder what is shown.
/// Control characters (ESC, BEL, CR, NUL, DEL, C1…) and the bidi embeddings, overrides and
/// isolates (U+202A–U+202E, U+2066–U+2069) are shown as `\u{1b}` escapes, and so are the
/// marks of [`Style`] in messages. Files and pipes get text as it is.
pub fn shown(s: &str, lines: Lines) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let kept = lines == Lines::Keep && (c == '\n' || c == '\t');
        if !kept && (moves_terminal(c) || style_of(c).is_some()) {
            out += &c.escape_unicode().to_string();
        } else {
            out.push(c);
        }
    }
    out
}

/// A table cell or a one-line field: [`shown`], line breaks escaped too.
pub fn visible(s: &str) -> String {
    shown(s, Lines::Escape)
}

/// Characters that act on a terminal instead of being shown: controls and bidi formatting.
fn moves_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The styles babeldesk draws: marked in text by noncharacters (U+FDD0…, which Unicode keeps
/// for a program's own use and no document carries) and turned into escape sequences only by
/// [`render`], so no escape sequence from anywhere else reaches the terminal; the worst such a
/// character in stored text can do there is draw the rest of its line in one of these styles.
#[derive(Clone, Copy)]
pub enum Style {
    Bold,
    Dim,
    Red,
    Green,
    Yellow,
}

const STYLES: [(Style, &str); 5] = [
    (Style::Bold, "1"),
    (Style::Dim, "2"),
    (Style::Red, "31"),
    (Style::Green, "32"),
    (Style::Yellow, "33"),
];
const STYLE_MARK: u32 = 0xFDD0;
const RESET_MARK: char = '\u{FDDF}';

fn style_of(c: char) -> Option<&'static str> {
    match c {
        RESET_MARK => Some("0"),
        _ => STYLES
            .get((c as u32).checked_sub(STYLE_MARK)? as usize)
            .map(|(_, code)| *code),
    }
}

/// Text for the terminal: the rule applied, line breaks kept, style marks drawn.
fn render(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| style_of(c).is_some()) {
        out += &shown(&rest[..i], Lines::Keep);
        let c = rest[i..].chars().next().unwrap_or(RESET_MARK);
        out += &format!("\x1b[{}m", style_of(c).unwrap_or("0"));
        rest = &rest[i + c.len_utf8()..];
    }
    out + &shown(rest, Lines::Keep)
}

/// Bold on a terminal, plain otherwise.
pub fn bold(s: &str) -> String {
    paint(s, Style::Bold)
}

/// `s` in a style when standard output is a terminal and NO_COLOR is unset.
pub fn paint(s: &str, style: Style) -> String {
    use babeldesk::config::{Env, ProcessEnv};
    if std::io::stdout().is_terminal() && ProcessEnv.var("NO_COLOR").is_none() {
        let mark = char::from_u32(STYLE_MARK + style as u32).unwrap_or(RESET_MARK);
        format!("{mark}{s}{RESET_MARK}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_shows_what_would_drive_a_terminal() {
        let s = "a\u{1b}[2J\u{7}\r\0\u{7f}\u{9b}\u{202e}\u{2067}b\tc\nd";
        assert_eq!(
            shown(s, Lines::Keep),
            "a\\u{1b}[2J\\u{7}\\u{d}\\u{0}\\u{7f}\\u{9b}\\u{202e}\\u{2067}b\tc\nd"
        );
        assert_eq!(visible("b\tc\nd"), "b\\u{9}c\\u{a}d");
        // Right-to-left text and its marks are text, not tricks.
        assert_eq!(visible("שלום \u{200f}עולם"), "שלום \u{200f}עולם");
        assert_eq!(shown("\u{fdd0}", Lines::Keep), "\\u{fdd0}");
    }

    #[test]
    fn only_babeldesk_styles_become_escape_sequences() {
        let mark = char::from_u32(STYLE_MARK + Style::Green as u32).unwrap();
        let text = format!("{mark}ok{RESET_MARK} \u{1b}[8mhidden\n");
        assert_eq!(render(&text), "\u{1b}[32mok\u{1b}[0m \\u{1b}[8mhidden\n");
    }

    #[test]
    fn json_escapes_more_and_reads_back_the_same() {
        let value = serde_json::json!({"t": "a\u{1b}\u{202e}\u{9b}\u{7f}b\nc"});
        let text = json_text(&value).unwrap();
        assert!(
            !text.contains(['\u{1b}', '\u{202e}', '\u{9b}', '\u{7f}']),
            "{text}"
        );
        assert!(text.contains("\\u202e"), "{text}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }
}
