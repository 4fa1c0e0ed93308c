//! Web pages to plain text: tags stripped, scripts, styles and page furniture (navigation,
//! header, footer, aside, forms) dropped, block elements turned into paragraphs, entities
//! decoded, whitespace collapsed. Every output byte remembers the input bytes it came from,
//! so segment offsets still point into the original page.

/// Elements whose whole content is not article text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "head", "nav", "header", "footer", "aside",
    "form", "button", "select", "iframe", "object", "canvas",
];

/// Elements that start a new paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "section",
    "article",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "dd",
    "dt",
    "main",
    "title",
    "hr",
    "td",
    "th",
];

/// Does this look like a web page? (Checked on the first kilobytes.)
pub fn looks_like_html(text: &str) -> bool {
    let mut end = text.len().min(4096);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = text[..end].to_ascii_lowercase();
    let start = head.trim_start();
    start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || (start.starts_with('<')
            && (head.contains("<body") || head.contains("<p>") || head.contains("<div")))
}

/// Plain text of a page, and for each of its bytes the input range it came from.
pub struct Extracted {
    pub text: String,
    pub starts: Vec<usize>,
    pub ends: Vec<usize>,
}

impl Extracted {
    fn push(&mut self, s: &str, from: usize, to: usize) {
        self.text.push_str(s);
        self.starts.extend(std::iter::repeat(from).take(s.len()));
        self.ends.extend(std::iter::repeat(to).take(s.len()));
    }

    fn ends_with_break(&self) -> bool {
        self.text.is_empty() || self.text.ends_with('\n')
    }

    fn paragraph_break(&mut self, at: usize) {
        // Trailing space before a break says nothing.
        while self.text.ends_with(' ') {
            self.text.pop();
            self.starts.pop();
            self.ends.pop();
        }
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            let missing = if self.text.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            self.push(missing, at, at);
        }
    }
}

pub fn extract(html: &str) -> Extracted {
    let mut out = Extracted {
        text: String::with_capacity(html.len() / 2),
        starts: Vec::new(),
        ends: Vec::new(),
    };
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut skip: Option<String> = None;
    let mut skip_depth = 0;
    while i < bytes.len() {
        if html[i..].starts_with("<!--") {
            i = html[i + 4..]
                .find("-->")
                .map_or(bytes.len(), |p| i + 4 + p + 3);
            continue;
        }
        if bytes[i] == b'<' {
            let close = tag_end(html, i);
            // An unclosed tag runs to the end of the page, where no `>` is to be cut off.
            let inner_end = match html[..close].ends_with('>') {
                true => close - 1,
                false => close,
            };
            let tag = &html[i + 1..inner_end.max(i + 1)];
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches(['/', '!', '?'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            let self_closing = tag.ends_with('/');
            if let Some(s) = &skip {
                if name == *s {
                    if closing {
                        skip_depth -= 1;
                        if skip_depth == 0 {
                            skip = None;
                        }
                    } else if !self_closing {
                        skip_depth += 1;
                    }
                }
            } else if SKIPPED.contains(&name.as_str()) && !closing && !self_closing {
                skip = Some(name);
                skip_depth = 1;
            } else if BLOCKS.contains(&name.as_str()) {
                out.paragraph_break(i);
            }
            i = close;
            continue;
        }
        let next = html[i..].find('<').map_or(bytes.len(), |p| i + p);
        if skip.is_none() {
            text_run(&mut out, html, i, next);
        }
        i = next;
    }
    out.paragraph_break(bytes.len());
    while out.text.ends_with('\n') {
        out.text.pop();
        out.starts.pop();
        out.ends.pop();
    }
    out
}

/// The byte after the `>` that ends the tag starting at `at` (quotes respected).
fn tag_end(html: &str, at: usize) -> usize {
    let mut quote = None;
    for (k, c) in html[at + 1..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return at + 1 + k + 1,
            _ => {}
        }
    }
    html.len()
}

/// Text between tags: entities decoded, whitespace runs collapsed to one space.
fn text_run(out: &mut Extracted, html: &str, from: usize, to: usize) {
    let mut i = from;
    while i < to {
        let c = html[i..].chars().next().expect("in bounds");
        if c.is_whitespace() {
            let mut j = i;
            while j < to {
                let d = html[j..].chars().next().expect("in bounds");
                if !d.is_whitespace() {
                    break;
                }
                j += d.len_utf8();
            }
            if !out.ends_with_break() && !out.text.ends_with(' ') {
                out.push(" ", i, j);
            }
            i = j;
            continue;
        }
        if c == '&' {
            if let Some((decoded, len)) = entity(&html[i..to]) {
                let s = decoded.to_string();
                let s = if s == "\u{a0}" { " ".to_string() } else { s };
                if !(s == " " && (out.ends_with_break() || out.text.ends_with(' '))) {
                    out.push(&s, i, i + len);
                }
                i += len;
                continue;
            }
        }
        let mut buf = [0; 4];
        out.push(c.encode_utf8(&mut buf), i, i + c.len_utf8());
        i += c.len_utf8();
    }
}

/// A character reference at the start of `s`, and its length.
fn entity(s: &str) -> Option<(char, usize)> {
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let body = &s[1..end];
    let c = if let Some(num) = body.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(n)?
    } else {
        match body {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => '\u{a0}',
            "mdash" => '—',
            "ndash" => '–',
            "laquo" => '«',
            "raquo" => '»',
            "hellip" => '…',
            "lsquo" => '‘',
            "rsquo" => '’',
            "ldquo" => '“',
            "rdquo" => '”',
            "bdquo" => '„',
            "copy" => '©',
            "reg" => '®',
            "deg" => '°',
            "euro" => '€',
            "times" => '×',
            _ => return None,
        }
    };
    Some((c, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<!DOCTYPE html><html><head><title>T</title><script>var x = '<p>no</p>';</script></head>\n<body><nav><a href=\"/\">Home</a> <a>News</a></nav>\n<article><h1>Завод&nbsp;открыт</h1>\n<p>Первый   абзац &laquo;статьи&raquo;,\n с <b>жирным</b> словом.</p><!-- comment <p>x</p> -->\n<p>Второй абзац &#8212; конец.</p></article>\n<footer>© 2024 Все права защищены</footer></body></html>";

    #[test]
    fn pages_become_paragraphs_of_article_text() {
        assert!(looks_like_html(PAGE));
        assert!(!looks_like_html("Обычный текст <b> с тегом."));
        let e = extract(PAGE);
        assert_eq!(
            e.text,
            "Завод открыт\n\nПервый абзац «статьи», с жирным словом.\n\nВторой абзац — конец."
        );
        assert_eq!((e.starts.len(), e.ends.len()), (e.text.len(), e.text.len()));
    }

    #[test]
    fn every_byte_maps_back_into_the_page() {
        let e = extract(PAGE);
        let at = e.text.find("Второй").unwrap();
        let end = at + "Второй абзац".len();
        assert_eq!(&PAGE[e.starts[at]..e.ends[end - 1]], "Второй абзац");
        let dash = e.text.find('—').unwrap();
        assert_eq!(&PAGE[e.starts[dash]..e.ends[dash]], "&#8212;");
    }
}
