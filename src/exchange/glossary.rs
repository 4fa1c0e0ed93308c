//! Plain glossaries: the tab-separated OmegaT glossary ([`Tsv`]) and CSV ([`Csv`], RFC 4180).
//!
//! Neither says which languages it holds: the terms take the [`Pair`]'s. Both are read a line
//! at a time, as UTF-8 (a byte order mark is dropped) or UTF-16 with a byte order mark (as
//! spreadsheets save "Unicode text"). A line that cannot be an entry is an error with its
//! line and column, never passed over: bad input changes nothing.
//!
//! TSV: `source<TAB>target[<TAB>comment]`; blank lines and lines starting with `#` are skipped.
//! CSV: `source,target[,note]`, or an optional header row whose first two cells are
//! `source`,`target` (or the pair's language codes) and which may name `note`, `pos` and
//! `status` (preferred or forbidden) columns; columns it names otherwise are not read.

use super::terms::{term_format, Pair, TermFormat, TermReader, TermWriter};
use super::{Counting, ExchangeError, Output};
use crate::memory::lang_matches;
use crate::terms::{NewTerm, Term, TermStatus};
use crate::text::langtag;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use std::borrow::Cow;
use std::cell::Cell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The longest line (or CSV record) accepted, 1 MiB: past it the file is refused, so a file
/// without line breaks cannot make babeldesk hold it whole.
pub const MAX_LINE: usize = 1 << 20;

#[derive(Default)]
pub struct Tsv;
#[derive(Default)]
pub struct Csv;

term_format!(
    Tsv,
    "TSV",
    ["tsv", "tab", "txt", "utf8"],
    TsvReader,
    TsvWriter
);
term_format!(Csv, "CSV", ["csv"], CsvReader, CsvWriter);

type Text = BufReader<DecodeReaderBytes<Counting<File>, Vec<u8>>>;

/// The lines of a text file, each bounded by [`MAX_LINE`] and checked to be UTF-8.
struct Lines {
    path: PathBuf,
    text: Text,
    bytes: Rc<Cell<u64>>,
    /// The number of the last line read (1-based).
    line: u64,
    buf: Vec<u8>,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines, ExchangeError> {
        let file = File::open(path).map_err(|e| ExchangeError::io(path, e))?;
        let bytes = Rc::new(Cell::new(0));
        let counting = Counting {
            inner: file,
            count: bytes.clone(),
        };
        // UTF-16 (told by its byte order mark) is transcoded; UTF-8 passes through untouched so
        // that invalid bytes are reported, not silently replaced.
        let decoder = DecodeReaderBytesBuilder::new()
            .utf8_passthru(true)
            .strip_bom(true)
            .build(counting);
        Ok(Lines {
            path: path.to_path_buf(),
            text: BufReader::with_capacity(1 << 16, decoder),
            bytes,
            line: 0,
            buf: Vec::new(),
        })
    }

    /// The next line without its line ending, and that ending (`""` at the end of the file).
    fn next(&mut self) -> Result<Option<(String, &'static str)>, ExchangeError> {
        self.buf.clear();
        let limit = MAX_LINE as u64 + 1;
        let n = (&mut self.text)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| ExchangeError::io(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.len() > MAX_LINE {
            let m = format!("a line longer than {} MiB", MAX_LINE >> 20);
            return Err(self.error(self.line, 1, m));
        }
        let ending = match () {
            _ if self.buf.ends_with(b"\r\n") => "\r\n",
            _ if self.buf.ends_with(b"\n") => "\n",
            _ => "",
        };
        self.buf.truncate(self.buf.len() - ending.len());
        if let Some(at) = self.buf.iter().position(|&b| b == 0) {
            let m = "a NUL byte: a binary file, or UTF-16 without a byte order mark";
            return Err(self.error(self.line, column(&self.buf[..at]), m));
        }
        match std::str::from_utf8(&self.buf) {
            Ok(text) => Ok(Some((text.to_owned(), ending))),
            Err(e) => {
                let m = "not UTF-8 (babeldesk reads UTF-8, or UTF-16 with a byte order mark); convert the file first, e.g. with iconv";
                Err(self.error(self.line, column(&self.buf[..e.valid_up_to()]), m))
            }
        }
    }

    fn error(&self, line: u64, column: u64, message: impl Into<String>) -> ExchangeError {
        ExchangeError::syntax(&self.path, line, column, message.into())
    }
}

/// The 1-based column (in characters) just after `prefix`.
fn column(prefix: &[u8]) -> u64 {
    prefix.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64 + 1
}

fn chars(s: &str) -> u64 {
    s.chars().count() as u64
}

pub struct TsvReader {
    lines: Lines,
    pair: Pair,
}

impl TsvReader {
    pub fn open(path: &Path, pair: &Pair) -> Result<TsvReader, ExchangeError> {
        Ok(TsvReader {
            lines: Lines::open(path)?,
            pair: pair.clone(),
        })
    }

    fn parse(&self, line: &str) -> Result<NewTerm, ExchangeError> {
        let n = self.lines.line;
        let Some((source, rest)) = line.split_once('\t') else {
            let m = "no tab between the source and the target term";
            return Err(self.lines.error(n, chars(line) + 1, m));
        };
        // OmegaT reads source, target and comment; columns after those are kept in the note
        // (joined by "; ") rather than dropped.
        let (target, comment) = match rest.split_once('\t') {
            Some((target, comment)) => (target, Some(comment.replace('\t', "; "))),
            None => (rest, None),
        };
        if source.trim().is_empty() {
            return Err(self.lines.error(n, 1, "an empty source term"));
        }
        if target.trim().is_empty() {
            let m = "an empty target term";
            return Err(self.lines.error(n, chars(source) + 2, m));
        }
        let mut t = self.pair.term(source, target);
        t.note = comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        Ok(t)
    }
}

impl TermReader for TsvReader {
    fn next_term(&mut self) -> Result<Option<NewTerm>, ExchangeError> {
        loop {
            let Some((line, _)) = self.lines.next()? else {
                return Ok(None);
            };
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            return self.parse(&line).map(Some);
        }
    }

    fn bytes_read(&self) -> u64 {
        self.lines.bytes.get()
    }

    fn skipped(&self) -> u64 {
        0
    }
}

/// One CSV cell and where it starts.
struct Field {
    text: String,
    line: u64,
    column: u64,
}

struct Record {
    cells: Vec<Field>,
    /// Where the record ends (line, column after its last character).
    end: (u64, u64),
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    /// At the start of a field: only blanks so far.
    Start,
    Unquoted,
    Quoted,
    /// After a quoted field's closing quote.
    Closed,
}

/// RFC 4180 fields, fed a line at a time; a quoted field may run over several lines.
struct Parser {
    state: State,
    cells: Vec<Field>,
    field: Field,
    quote: (u64, u64),
    end: (u64, u64),
}

impl Parser {
    fn new(line: u64) -> Parser {
        Parser {
            state: State::Start,
            cells: Vec::new(),
            field: Field {
                text: String::new(),
                line,
                column: 1,
            },
            quote: (line, 1),
            end: (line, 1),
        }
    }

    /// Parse one line; `Err` holds the column of the problem.
    fn feed(&mut self, text: &str, line: u64) -> Result<(), (u64, &'static str)> {
        let mut chars = text.chars().peekable();
        let mut col = 0;
        while let Some(c) = chars.next() {
            col += 1;
            match (self.state, c) {
                (State::Start, '"') => {
                    // Blanks before an opening quote are not part of the field.
                    self.field.text.clear();
                    self.state = State::Quoted;
                    self.quote = (line, col);
                }
                (State::Start | State::Unquoted | State::Closed, ',') => {
                    let next = Field {
                        text: String::new(),
                        line,
                        column: col + 1,
                    };
                    self.cells.push(std::mem::replace(&mut self.field, next));
                    self.state = State::Start;
                }
                (State::Start, ' ' | '\t') => self.field.text.push(c),
                (State::Unquoted, '"') => return Err((col, "a quote inside an unquoted field; quote the whole field and double the quotes inside it")),
                (State::Start | State::Unquoted, c) => {
                    self.field.text.push(c);
                    self.state = State::Unquoted;
                }
                (State::Quoted, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    col += 1;
                    self.field.text.push('"');
                }
                (State::Quoted, '"') => self.state = State::Closed,
                (State::Quoted, c) => self.field.text.push(c),
                (State::Closed, ' ' | '\t') => {}
                (State::Closed, _) => return Err((col, "text after the closing quote of a field")),
            }
        }
        self.end = (line, col + 1);
        Ok(())
    }

    fn finish(mut self) -> Record {
        self.cells.push(self.field);
        Record {
            cells: self.cells,
            end: self.end,
        }
    }
}

/// Which columns hold what, past the first two (source, target).
#[derive(Clone, Default)]
struct Columns {
    note: Option<usize>,
    pos: Option<usize>,
    status: Option<usize>,
}

pub struct CsvReader {
    lines: Lines,
    pair: Pair,
    /// Known once the first record was read (a header, or the plain layout).
    columns: Option<Columns>,
}

impl CsvReader {
    pub fn open(path: &Path, pair: &Pair) -> Result<CsvReader, ExchangeError> {
        Ok(CsvReader {
            lines: Lines::open(path)?,
            pair: pair.clone(),
            columns: None,
        })
    }

    /// The next record; blank lines between records are passed over.
    fn record(&mut self) -> Result<Option<Record>, ExchangeError> {
        let (mut text, mut ending) = loop {
            match self.lines.next()? {
                None => return Ok(None),
                Some((text, _)) if text.trim().is_empty() => continue,
                Some(line) => break line,
            }
        };
        let mut parser = Parser::new(self.lines.line);
        let mut size = 0;
        loop {
            let line = self.lines.line;
            parser
                .feed(&text, line)
                .map_err(|(col, m)| self.lines.error(line, col, m))?;
            if parser.state != State::Quoted {
                return Ok(Some(parser.finish()));
            }
            // A line break inside quotes is part of the field, as written.
            parser.field.text.push_str(ending);
            size += text.len() + ending.len();
            let (l, c) = parser.quote;
            if size > MAX_LINE {
                let m = format!("a quoted field longer than {} MiB", MAX_LINE >> 20);
                return Err(self.lines.error(l, c, m));
            }
            match self.lines.next()? {
                Some(next) => (text, ending) = next,
                None => {
                    let m = "an unterminated quote: the file ends inside this quoted field";
                    return Err(self.lines.error(l, c, m));
                }
            }
        }
    }

    /// The columns a header row names; `None` when the row is not a header.
    fn header(&self, r: &Record) -> Option<Columns> {
        let cell = |i: usize| {
            r.cells
                .get(i)
                .map(|c| c.text.trim().to_ascii_lowercase())
                .unwrap_or_default()
        };
        let lang =
            |i: usize, tag: &str| langtag::normalize(&cell(i)).is_ok_and(|l| lang_matches(&l, tag));
        let named = cell(0) == "source" && cell(1) == "target";
        let coded = lang(0, &self.pair.from) && lang(1, &self.pair.to);
        if !named && !coded {
            return None;
        }
        let mut columns = Columns::default();
        for i in 2..r.cells.len() {
            match cell(i).as_str() {
                "note" | "notes" | "comment" => columns.note = Some(i),
                "pos" => columns.pos = Some(i),
                "status" => columns.status = Some(i),
                // Other columns (an id, a domain) are not babeldesk's to read.
                _ => {}
            }
        }
        Some(columns)
    }

    fn term(&self, r: &Record, columns: &Columns) -> Result<NewTerm, ExchangeError> {
        let error = |line, column, m: String| self.lines.error(line, column, m);
        let [source, target, ..] = r.cells.as_slice() else {
            let hint = if r.cells[0].text.contains(';') {
                "; the file looks semicolon-separated, babeldesk reads comma-separated CSV"
            } else {
                ""
            };
            let m = format!("one column, expected source,target[,note]{hint}");
            return Err(error(r.end.0, r.end.1, m));
        };
        for (cell, what) in [(source, "source"), (target, "target")] {
            if cell.text.trim().is_empty() {
                return Err(error(
                    cell.line,
                    cell.column,
                    format!("an empty {what} term"),
                ));
            }
        }
        let get = |i: Option<usize>| {
            let cell = csv_text(&r.cells.get(i?)?.text).trim();
            (!cell.is_empty()).then(|| cell.to_owned())
        };
        let mut t = self
            .pair
            .term(csv_text(&source.text), csv_text(&target.text));
        t.note = get(columns.note);
        t.pos = get(columns.pos);
        if let Some(cell) = columns.status.and_then(|i| r.cells.get(i)) {
            t.status = match cell.text.trim().to_ascii_lowercase().as_str() {
                "" | "preferred" => TermStatus::Preferred,
                "forbidden" => TermStatus::Forbidden,
                _ => {
                    let m = format!(
                        "status '{}' is neither preferred nor forbidden",
                        cell.text.trim()
                    );
                    return Err(error(cell.line, cell.column, m));
                }
            };
        }
        Ok(t)
    }
}

impl TermReader for CsvReader {
    fn next_term(&mut self) -> Result<Option<NewTerm>, ExchangeError> {
        loop {
            let Some(record) = self.record()? else {
                return Ok(None);
            };
            let columns = match self.columns.clone() {
                Some(columns) => columns,
                None => {
                    let header = self.header(&record);
                    // Without a header the third column is the note.
                    let plain = Columns {
                        note: Some(2),
                        ..Columns::default()
                    };
                    self.columns = Some(header.clone().unwrap_or(plain.clone()));
                    if header.is_some() {
                        continue;
                    }
                    plain
                }
            };
            return self.term(&record, &columns).map(Some);
        }
    }

    fn bytes_read(&self) -> u64 {
        self.lines.bytes.get()
    }

    fn skipped(&self) -> u64 {
        0
    }
}

/// A refusal to write a term the format cannot carry faithfully.
fn refuse(path: &Path, message: String) -> ExchangeError {
    let why = std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    ExchangeError::io(path, why)
}

/// A glossary file holds one pair and no languages: a term of another pair would come back
/// as the wrong languages, and an empty side would not come back at all.
fn check_term(path: &Path, t: &Term, pair: &Pair, format: &str) -> Result<(), ExchangeError> {
    let e = &t.entry;
    if !lang_matches(&e.source_lang, &pair.from) || !lang_matches(&e.target_lang, &pair.to) {
        return Err(refuse(
            path,
            format!(
                "term {}: {} → {} is not the pair being exported ({} → {}); a {format} glossary holds one language pair",
                t.id, e.source_lang, e.target_lang, pair.from, pair.to
            ),
        ));
    }
    if e.source.trim().is_empty() || e.target.trim().is_empty() {
        let m = format!("term {}: an empty source or target term", t.id);
        return Err(refuse(path, m));
    }
    Ok(())
}

/// What sets the TSV and CSV layouts apart in writing; [`GlossaryWriter`] does the rest.
pub trait Layout: TermFormat + Default {
    /// The file's first line, with its line ending.
    fn header(&self, pair: &Pair) -> String;
    /// A term as one line, with its line ending, or why the layout cannot hold it as it is.
    fn line(&self, t: &Term) -> Result<String, String>;
}

impl Layout for Tsv {
    fn header(&self, pair: &Pair) -> String {
        format!(
            "# babeldesk {} glossary, {} to {}: source<TAB>target<TAB>note\n",
            env!("CARGO_PKG_VERSION"),
            pair.from,
            pair.to
        )
    }

    fn line(&self, t: &Term) -> Result<String, String> {
        if let Some(why) = tsv_unfit(t) {
            return Err(why);
        }
        let e = &t.entry;
        let mut line = format!("{}\t{}", e.source, e.target);
        if let Some(note) = e.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            line += &format!("\t{note}");
        }
        line.push('\n');
        Ok(line)
    }
}

/// Why a term cannot be a TSV line as it is: nothing is changed to make it fit.
fn tsv_unfit(t: &Term) -> Option<String> {
    let e = &t.entry;
    if e.status == TermStatus::Forbidden {
        return Some("is forbidden, which a TSV glossary cannot say (it would read as a rendering to use); export to TBX or CSV, which mark it forbidden".into());
    }
    if e.source.starts_with('#') {
        return Some(
            "starts with '#', which a TSV glossary reads as a comment; export to TBX or CSV".into(),
        );
    }
    let note = e.note.as_deref().unwrap_or("");
    for (what, text) in [
        ("source", &*e.source),
        ("target", &e.target),
        ("note", note),
    ] {
        if text.contains(['\t', '\n', '\r']) {
            return Some(format!("has a tab or a line break in its {what}, which a TSV glossary cannot hold; edit the term, or export to TBX or CSV"));
        }
    }
    None
}

impl Layout for Csv {
    fn header(&self, _: &Pair) -> String {
        "source,target,note,pos,status\r\n".into()
    }

    fn line(&self, t: &Term) -> Result<String, String> {
        let e = &t.entry;
        let cells = [
            e.source.as_str(),
            &e.target,
            e.note.as_deref().unwrap_or(""),
            e.pos.as_deref().unwrap_or(""),
            e.status.as_str(),
        ];
        let row: Vec<Cow<str>> = cells.into_iter().map(csv_cell).collect();
        Ok(row.join(",") + "\r\n")
    }
}

/// Writes a glossary in one [`Layout`]: its header, then a line per term of the pair.
pub struct GlossaryWriter<'a, L> {
    out: Output<'a>,
    pair: Pair,
    layout: L,
}

pub type TsvWriter<'a> = GlossaryWriter<'a, Tsv>;
pub type CsvWriter<'a> = GlossaryWriter<'a, Csv>;

impl<'a, L: Layout> GlossaryWriter<'a, L> {
    pub fn new(
        out: Box<dyn Write + 'a>,
        path: &Path,
        pair: &Pair,
    ) -> Result<GlossaryWriter<'a, L>, ExchangeError> {
        let layout = L::default();
        let mut out = Output::new(out, path);
        out.put(&layout.header(pair))?;
        Ok(GlossaryWriter {
            out,
            pair: pair.clone(),
            layout,
        })
    }
}

impl<L: Layout> TermWriter for GlossaryWriter<'_, L> {
    fn term(&mut self, t: &Term) -> Result<(), ExchangeError> {
        let path = self.out.path();
        check_term(path, t, &self.pair, self.layout.name())?;
        let line = self
            .layout
            .line(t)
            .map_err(|why| refuse(path, format!("term {} {why}", t.id)))?;
        self.out.put(&line)
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExchangeError> {
        self.out.finish()
    }
}

/// A cell as RFC 4180 writes it: quoted, with quotes doubled, when it holds a comma, a quote
/// or a line break.
fn csv_cell(s: &str) -> Cow<'_, str> {
    let s: Cow<str> = match evaluated(s) {
        // A spreadsheet would run it (`=HYPERLINK(…)`, `=cmd|…`): an apostrophe makes it text.
        true => format!("'{s}").into(),
        false => s.into(),
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s
    }
}

/// Whether a spreadsheet would evaluate a cell beginning like `s`, also after the apostrophes
/// [`csv_cell`] adds: then one more apostrophe is written, and [`csv_text`] takes one off, so
/// every text comes back as it was written.
fn evaluated(s: &str) -> bool {
    s.trim_start_matches('\'')
        .starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A CSV cell's text: less the apostrophe that [`csv_cell`] put before a formula.
fn csv_text(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if evaluated(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::super::terms::testing::{imported, pair, read, samples, stored, write};
    use super::*;

    #[test]
    fn formulas_are_written_as_text_and_read_back_as_they_were() {
        for text in [
            "=cmd|' /C calc'!A0",
            "+1",
            "-x",
            "@SUM(A1)",
            "'=x",
            "''-y",
            "'quoted'",
            "плюс",
        ] {
            let cell = csv_cell(text);
            assert!(
                !cell
                    .trim_start_matches('"')
                    .starts_with(['=', '+', '-', '@']),
                "{cell}"
            );
            let unquoted = cell.trim_matches('"').replace("\"\"", "\"");
            assert_eq!(csv_text(&unquoted), text, "{cell}");
        }
        assert_eq!(csv_cell("plain"), "plain");
    }

    fn pairs(
        format: &dyn TermFormat,
        name: &str,
        text: &str,
    ) -> Vec<(String, String, Option<String>)> {
        let (terms, skipped) = read(format, name, text.as_bytes(), &pair()).unwrap();
        assert_eq!(skipped, 0);
        terms
            .into_iter()
            .map(|t| (t.source, t.target, t.note))
            .collect()
    }

    fn error(format: &dyn TermFormat, name: &str, bytes: &[u8]) -> String {
        read(format, name, bytes, &pair()).unwrap_err().to_string()
    }

    fn owned(source: &str, target: &str, note: Option<&str>) -> (String, String, Option<String>) {
        (source.into(), target.into(), note.map(Into::into))
    }

    #[test]
    fn tsv_skips_comments_and_blank_lines() {
        let text = "\u{feff}# OmegaT glossary\n\nкот\tcat\r\n  \t \nГосдума\t State Duma \tlower house\textra\n#пёс\tdog\nмир\tpeace\t \n";
        assert_eq!(
            pairs(&Tsv, "g.txt", text),
            [
                owned("кот", "cat", None),
                owned("Госдума", "State Duma", Some("lower house; extra")),
                owned("мир", "peace", None),
            ]
        );
        let t = &read(&Tsv, "g.txt", text.as_bytes(), &pair()).unwrap().0[0];
        assert_eq!(
            (t.source_lang.as_str(), t.target_lang.as_str(), t.status),
            ("ru", "en", TermStatus::Preferred)
        );
    }

    #[test]
    fn tsv_lines_that_are_not_entries_say_where() {
        let e = error(&Tsv, "g.tsv", "# c\nкот\tcat\nсобака dog\n".as_bytes());
        assert!(
            e.ends_with("g.tsv:3:11: no tab between the source and the target term"),
            "{e}"
        );
        let e = error(&Tsv, "g.tsv", "кот\tcat\nпёс\t \t note\n".as_bytes());
        assert!(e.ends_with("g.tsv:2:5: an empty target term"), "{e}");
        let e = error(&Tsv, "g.tsv", "\tcat\n".as_bytes());
        assert!(e.ends_with("g.tsv:1:1: an empty source term"), "{e}");
        let e = error(&Tsv, "g.tsv", b"ok\tok\n\xcf\xf0\xe8\tcp1251\n");
        assert!(e.ends_with("g.tsv:2:1: not UTF-8 (babeldesk reads UTF-8, or UTF-16 with a byte order mark); convert the file first, e.g. with iconv"), "{e}");
        let utf16_without_bom: Vec<u8> =
            "a\tb\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let e = error(&Tsv, "g.tsv", &utf16_without_bom);
        assert!(e.contains(":1:2: a NUL byte"), "{e}");
        let long = format!("a\t{}\n", "b".repeat(MAX_LINE));
        assert!(error(&Tsv, "g.tsv", long.as_bytes()).contains(":1:1: a line longer than 1 MiB"));
    }

    #[test]
    fn tsv_in_utf16_with_a_byte_order_mark_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("кот\tcat\r\n".encode_utf16().flat_map(u16::to_le_bytes));
        let (terms, _) = read(&Tsv, "g.txt", &bytes, &pair()).unwrap();
        assert_eq!(
            (terms[0].source.as_str(), terms[0].target.as_str()),
            ("кот", "cat")
        );
    }

    #[test]
    fn csv_quoting_follows_rfc_4180() {
        let text = "кот,cat\r\n\"Газпром, ПАО\",\"Gazprom \"\"PJSC\"\"\",\"two\r\nlines\"\n  \"пёс\" , dog ,\n\nмир,peace,\"\"";
        assert_eq!(
            pairs(&Csv, "g.csv", text),
            [
                owned("кот", "cat", None),
                owned("Газпром, ПАО", "Gazprom \"PJSC\"", Some("two\r\nlines")),
                owned("пёс", "dog", None),
                owned("мир", "peace", None),
            ]
        );
    }

    #[test]
    fn csv_headers_are_recognized() {
        let named = "Source,TARGET,Status,Domain,Note,POS\nпёс,dog,forbidden,animals,informal,noun\nкот,cat,,,,\n";
        let (terms, _) = read(&Csv, "g.csv", named.as_bytes(), &pair()).unwrap();
        assert_eq!(terms.len(), 2);
        let t = &terms[0];
        assert_eq!(
            (t.status, t.note.as_deref(), t.pos.as_deref()),
            (TermStatus::Forbidden, Some("informal"), Some("noun"))
        );
        assert_eq!(
            (terms[1].status, terms[1].note.as_deref()),
            (TermStatus::Preferred, None)
        );
        let langs = "ru-RU,en_us,note\nкот,cat,a pet\n";
        assert_eq!(
            pairs(&Csv, "g.csv", langs),
            [owned("кот", "cat", Some("a pet"))]
        );
        // Not a header: the languages are the other way round, so this is an entry.
        assert_eq!(
            pairs(&Csv, "g.csv", "en,ru,x\n"),
            [owned("en", "ru", Some("x"))]
        );
        let e = error(
            &Csv,
            "g.csv",
            "source,target,status\nкот,cat,maybe\n".as_bytes(),
        );
        assert!(
            e.ends_with("g.csv:2:9: status 'maybe' is neither preferred nor forbidden"),
            "{e}"
        );
    }

    #[test]
    fn csv_problems_say_where() {
        let e = error(&Csv, "g.csv", "кот,cat\n\"пёс,dog\nмир,peace\n".as_bytes());
        assert!(
            e.ends_with("g.csv:2:1: an unterminated quote: the file ends inside this quoted field"),
            "{e}"
        );
        let e = error(&Csv, "g.csv", "кот,cat\nпёс,do\"g\"\n".as_bytes());
        assert!(e.ends_with("g.csv:2:7: a quote inside an unquoted field; quote the whole field and double the quotes inside it"), "{e}");
        let e = error(&Csv, "g.csv", "a,\"b\"c\n".as_bytes());
        assert!(
            e.ends_with("g.csv:1:6: text after the closing quote of a field"),
            "{e}"
        );
        let e = error(&Csv, "g.csv", "кот;cat\n".as_bytes());
        assert!(e.ends_with("g.csv:1:8: one column, expected source,target[,note]; the file looks semicolon-separated, babeldesk reads comma-separated CSV"), "{e}");
        let e = error(&Csv, "g.csv", "кот,\"\n\"\n".as_bytes());
        assert!(e.ends_with("g.csv:1:5: an empty target term"), "{e}");
    }

    #[test]
    fn csv_write_then_read_gives_the_same_entries() {
        let mut terms = samples();
        terms[2].entry.note = Some("multi\nline, \"quoted\"".into());
        let bytes = write(&Csv, &terms, &pair()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("source,target,note,pos,status\r\nГосударственная дума,State Duma,\"lower house; <&>\"\"' kept\",properNoun,preferred\r\n"), "{text}");
        let (back, _) = read(&Csv, "g.csv", &bytes, &pair()).unwrap();
        assert_eq!(back, terms.iter().map(imported).collect::<Vec<_>>());
    }

    #[test]
    fn tsv_write_then_read_gives_the_same_entries() {
        let mut terms = samples();
        terms.retain(|t| t.entry.status == TermStatus::Preferred);
        let bytes = write(&Tsv, &terms, &pair()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\nГосударственная дума\tState Duma\tlower house; <&>\"' kept\n\"Газпром\", ПАО\tGazprom, PJSC\n"), "{text}");
        let (back, _) = read(&Tsv, "g.tsv", &bytes, &pair()).unwrap();
        let want: Vec<_> = terms
            .iter()
            .map(|t| NewTerm {
                pos: None,
                ..imported(t)
            })
            .collect();
        assert_eq!(
            back, want,
            "all but the part of speech, which TSV has no place for"
        );
    }

    #[test]
    fn writers_refuse_what_would_not_come_back() {
        // The reason is the error's source, printed after the file name.
        let chain = |e: ExchangeError| {
            let why = std::error::Error::source(&e).map(ToString::to_string);
            format!("{e}: {}", why.unwrap_or_default())
        };
        let tsv = |t: Term| chain(write(&Tsv, &[t], &pair()).unwrap_err());
        let mut tab = stored(7, "кот", "c\tat");
        assert!(tsv(tab.clone()).contains("term 7 has a tab or a line break in its target"));
        tab.entry.target = "cat".into();
        tab.entry.note = Some("a\nb".into());
        assert!(tsv(tab).contains("term 7 has a tab or a line break in its note"));
        let mut forbidden = stored(8, "кот", "cat");
        forbidden.entry.status = TermStatus::Forbidden;
        assert!(tsv(forbidden).contains("term 8 is forbidden"));
        assert!(tsv(stored(9, "#тег", "hashtag")).contains("term 9 starts with '#'"));
        let mut german = stored(10, "кот", "Katze");
        german.entry.target_lang = "de".into();
        let e = chain(write(&Csv, &[german], &pair()).unwrap_err());
        assert!(
            e.contains("term 10: ru → de is not the pair being exported (ru → en)"),
            "{e}"
        );
    }
}
