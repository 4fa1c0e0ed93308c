//! The streaming XML input that TMX and TBX share: decoding, bounds, and errors placed at
//! FILE:LINE:COL.
//!
//! Safety: no DTD is ever read, so no external entity is fetched and no entity is expanded (XXE
//! and "billion laughs" are inert); an unknown `&entity;` is an error. Encodings: UTF-8, UTF-16
//! with a byte order mark or told by its `<` byte pairs, or a declared encoding (transcoded);
//! bytes that are not UTF-8 otherwise are an error with their place. Runs of text or of one tag
//! are bounded by [`MAX_RUN`], so memory stays bounded whatever the file.

use super::{line_column, Counting, ExchangeError};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;
use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The longest run of text, or of one tag, the reader accepts (16 MiB): past it the file is
/// refused, so a hostile file cannot make babeldesk hold gigabytes in memory.
pub const MAX_RUN: usize = 16 << 20;
/// The most attributes one element may have.
pub const MAX_ATTRIBUTES: usize = 64;

type Raw = Counting<std::io::Chain<std::io::Cursor<Vec<u8>>, File>>;
type Source = BufReader<Bounded<DecodeReaderBytes<Raw, Vec<u8>>>>;

/// An XML file read as a stream of events, with the byte count for progress and the offset of
/// the event being handled for errors.
pub(crate) struct XmlInput {
    path: PathBuf,
    /// The format's name, as refusals say it ("not a TBX file: …").
    format: &'static str,
    xml: quick_xml::Reader<Source>,
    buf: Vec<u8>,
    bytes: Rc<Cell<u64>>,
    at: u64,
}

impl XmlInput {
    pub fn open(path: &Path, format: &'static str) -> Result<XmlInput, ExchangeError> {
        let (source, bytes) = decoded(path, format)?;
        let mut xml = quick_xml::Reader::from_reader(source);
        let cfg = xml.config_mut();
        cfg.check_end_names = true;
        cfg.trim_text(false);
        Ok(XmlInput {
            path: path.to_path_buf(),
            format,
            xml,
            buf: Vec::with_capacity(4096),
            bytes,
            at: 0,
        })
    }

    /// Offset of the next event, before it is read.
    pub fn position(&self) -> u64 {
        self.xml.buffer_position()
    }

    /// Offset of the event being handled.
    pub fn at(&self) -> u64 {
        self.at
    }

    /// Bytes of the file read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.get()
    }

    /// The next event; malformed XML is an error where quick-xml stopped.
    pub fn next_event(&mut self) -> Result<Event<'static>, ExchangeError> {
        self.at = self.xml.buffer_position();
        self.buf.clear();
        match self.xml.read_event_into(&mut self.buf) {
            Ok(e) => Ok(e.into_owned()),
            Err(e) => Err(self.error_at(self.xml.error_position(), xml_message(&e))),
        }
    }

    /// An error at a byte offset of the (decoded) text, with its line and column. The file is
    /// read again from the start: counting lines as it streams would cost every good file.
    pub fn error_at(&self, offset: u64, message: impl Into<String>) -> ExchangeError {
        let (line, column) = match decoded(&self.path, self.format) {
            Ok((text, _)) => line_column(text, offset),
            Err(_) => (0, 0),
        };
        ExchangeError::syntax(&self.path, line, column, message.into())
    }

    /// Text (or CDATA) of the event being handled, as UTF-8.
    pub fn utf8<'t>(&self, raw: &'t [u8]) -> Result<&'t str, ExchangeError> {
        std::str::from_utf8(raw).map_err(|_| self.error_at(self.at, "text is not valid UTF-8"))
    }

    /// Text with its character and predefined entity references resolved; any other entity
    /// is an error at its place, never expanded.
    pub fn unescape<'t>(&self, raw: &'t str) -> Result<Cow<'t, str>, ExchangeError> {
        quick_xml::escape::unescape(raw).map_err(|e| match e {
            quick_xml::escape::EscapeError::UnrecognizedEntity(range, name) => self.error_at(
                self.at + range.start as u64 - 1,
                format!("unknown entity &{name}; (entities are not expanded)"),
            ),
            e => self.error_at(self.at, e.to_string()),
        })
    }
}

/// The decoded, bounded text of a file, and a count of the file's bytes read so far.
fn decoded(path: &Path, format: &'static str) -> Result<(Source, Rc<Cell<u64>>), ExchangeError> {
    let io = |e| ExchangeError::io(path, e);
    let mut file = File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(1024);
    Read::by_ref(&mut file)
        .take(1024)
        .read_to_end(&mut head)
        .map_err(io)?;
    let encoding = sniff_encoding(&head).map_err(|m| ExchangeError::syntax(path, 1, 1, m))?;
    let count = Rc::new(Cell::new(0));
    let counting = Counting {
        inner: std::io::Cursor::new(head).chain(file),
        count: count.clone(),
    };
    // UTF-16 and declared legacy encodings are transcoded; UTF-8 passes through untouched so
    // that invalid bytes are reported, not silently replaced.
    let decoder = DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .utf8_passthru(true)
        .strip_bom(true)
        .build(counting);
    let bounded = Bounded {
        inner: decoder,
        format,
        run: 0,
        started: false,
    };
    Ok((BufReader::with_capacity(1 << 16, bounded), count))
}

/// The encoding of a file that has no byte order mark: UTF-16 told by its `<` byte pairs, or
/// the encoding its XML declaration names. `None`: UTF-8, or a byte order mark says.
fn sniff_encoding(head: &[u8]) -> Result<Option<&'static encoding_rs::Encoding>, String> {
    if head.starts_with(b"\xEF\xBB\xBF")
        || head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\xFE\xFF")
    {
        return Ok(None);
    }
    if head.starts_with(b"<\0") {
        return Ok(Some(encoding_rs::UTF_16LE));
    }
    if head.starts_with(b"\0<") {
        return Ok(Some(encoding_rs::UTF_16BE));
    }
    let Some(label) = declared_encoding(head) else {
        return Ok(None);
    };
    match encoding_rs::Encoding::for_label(label.as_bytes()) {
        Some(e) if e == encoding_rs::UTF_8 => Ok(None),
        Some(e) if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE => Err(format!(
            "the XML declaration says encoding=\"{label}\" but the file is not UTF-16; fix the declaration or convert the file to UTF-8"
        )),
        Some(e) => Ok(Some(e)),
        None => Err(format!(
            "the XML declaration names encoding=\"{label}\", which babeldesk cannot read; convert the file to UTF-8 (e.g. with iconv)"
        )),
    }
}

/// The `encoding` of an `<?xml …?>` declaration at the start of `head`.
fn declared_encoding(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    let decl = text.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// A reader that refuses input which is not markup: the first non-blank byte must be `<`, and
/// no run between `<`/`>` bytes may pass [`MAX_RUN`].
struct Bounded<R> {
    inner: R,
    format: &'static str,
    run: usize,
    started: bool,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = &buf[..n];
        let refuse = |m: String| Err(std::io::Error::new(std::io::ErrorKind::InvalidData, m));
        let format = self.format;
        if !self.started {
            if let Some(&b) = chunk.iter().find(|b| !b.is_ascii_whitespace()) {
                if b != b'<' {
                    return refuse(format!(
                        "not a {format} file: it does not start with markup ('<')"
                    ));
                }
                self.started = true;
            }
        }
        match chunk.iter().rposition(|&b| b == b'<' || b == b'>') {
            Some(i) => self.run = n - i - 1,
            None => self.run += n,
        }
        if self.run > MAX_RUN {
            return refuse(format!(
                "more than {} MiB of text or of one tag: not a {format} file babeldesk accepts",
                MAX_RUN >> 20
            ));
        }
        Ok(n)
    }
}

/// Refuse an element with more than [`MAX_ATTRIBUTES`] before any is looked up: a lookup
/// checks them for duplicates, which takes time quadratic in their number.
pub(crate) fn check_attributes(e: &BytesStart, name: &str) -> Result<(), String> {
    let n = e.attributes().with_checks(false).count();
    if n > MAX_ATTRIBUTES {
        return Err(format!(
            "<{name}> has {n} attributes; at most {MAX_ATTRIBUTES} are accepted"
        ));
    }
    Ok(())
}

pub(crate) fn local(e: &BytesStart) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

pub(crate) fn attr(e: &BytesStart, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes().with_checks(true) {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        if a.key.as_ref() == name.as_bytes() {
            let v = a
                .unescape_value()
                .map_err(|err| format!("attribute {name}: {}", xml_message(&err)))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn xml_message(e: &quick_xml::Error) -> String {
    match e {
        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) => {
            format!("unknown entity &{name}; (entities are not expanded)")
        }
        // The reader's own refusals (see `Bounded`) say what is wrong themselves.
        quick_xml::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => e.to_string(),
        other => other.to_string(),
    }
}

/// Drop the control characters XML 1.0 cannot carry.
pub(crate) fn xml_chars(s: &str) -> Cow<'_, str> {
    if s.chars()
        .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
    {
        s.chars()
            .filter(|&c| c >= ' ' || matches!(c, '\t' | '\n' | '\r'))
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}
