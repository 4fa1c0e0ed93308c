//! Finding the article among page junk (headline lists, "Related Posts", credits, copyright
//! lines). Nothing found is dropped silently: what is left out is reported by the caller.
//!
//! A *plain-text* file is the user's own text: every paragraph is kept except page furniture,
//! which is
//! - link-list and markup lines (bullets, `<…>`, `a | b |` menus),
//! - a *stop line* ("Editor:", "Disclaimer:", "Related Posts", "Top News", copyright,
//!   "Читайте также", …) after the article has begun, and everything after it,
//! - a paragraph printed twice (pages often print the lead twice): kept once.
//!
//! A *web page* holds navigation and teasers too, so its article is the best run of prose:
//! 1. A paragraph is *prose* when it has at least 12 words and ends like a sentence (or holds
//!    two sentences); bullets, markup and link-list lines are never prose.
//! 2. A stop line ends the article: what follows it is page furniture.
//! 3. The article is the run of prose paragraphs with the most words, where short non-prose
//!    lines between them (a byline, a photo caption) do not break the run; those of them that
//!    read as sentences (3+ words, a sentence stop at the end) belong to the article.
//! 4. A title line (a short line without a sentence stop) just before an article paragraph is
//!    content too, in both kinds.

use super::Span;

const MIN_WORDS: usize = 12;
/// Non-prose lines tolerated inside the article before the run is broken.
const MAX_GAP: usize = 2;

/// How a document came: as the user's text, or as a web page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Plain,
    Page,
}

const STOP_PREFIXES: &[&str] = &[
    "editor:",
    "edit:",
    "responsible editor",
    "special statement",
    "return to list",
    "editors:",
    "disclaimer:",
    "related posts",
    "related articles",
    "related:",
    "top news",
    "guess you like",
    "read more",
    "read also",
    "more from",
    "recommended",
    "copyright",
    "©",
    "all rights reserved",
    "tag:",
    "tags:",
    "редактор:",
    "читайте также",
    "смотрите также",
    "по теме",
    "все права защищены",
    "теги:",
    "источник:",
];

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn is_stop(p: &str) -> bool {
    let lower = p.trim_start_matches(['•', '-', '*', ' ']).to_lowercase();
    STOP_PREFIXES.iter().any(|s| lower.starts_with(s))
        || (lower.contains("copyright") && words(p) < 30)
}

/// A short line that still reads as a sentence of the article.
fn is_short_sentence(p: &str) -> bool {
    let first = p.chars().next().unwrap_or(' ');
    !matches!(first, '•' | '<' | '|' | '-' | '*' | '►' | '>')
        && words(p) >= 3
        && p.trim_end().ends_with(['.', '!', '?', '…', '»', '"'])
}

/// Bullets, markup and link-list lines: never article text.
fn is_link_line(p: &str) -> bool {
    let first = p.chars().next().unwrap_or(' ');
    matches!(first, '•' | '<' | '|' | '-' | '*' | '►' | '>')
        || p.contains("</")
        || p.trim_end().ends_with('|')
        || p.matches(" | ").count() >= 2
}

fn is_prose(p: &str) -> bool {
    if is_link_line(p) {
        return false;
    }
    let ends = p
        .trim_end()
        .ends_with(['.', '!', '?', '…', '"', '»', '”', ')']);
    let sentences = super::segment::sentences(
        p,
        Span {
            start: 0,
            end: p.len(),
        },
    )
    .len();
    words(p) >= MIN_WORDS && (ends || sentences >= 2)
}

/// A headline: a few words, starting like a sentence, without a sentence stop or a colon at
/// the end.
fn is_title(p: &str) -> bool {
    let p = p.trim();
    let first = p.chars().next().unwrap_or(' ');
    (first.is_uppercase() || first.is_ascii_digit() || matches!(first, '"' | '«' | '“'))
        && !is_link_line(p)
        && !is_stop(p)
        && (2..=25).contains(&words(p))
        && !p.ends_with(['.', ':', ';', ','])
}

/// The paragraphs (indices into `paragraphs`) that make up the article: see the module notes.
pub fn article(text: &str, paragraphs: &[Span], layout: Layout) -> Vec<usize> {
    let picked = match layout {
        Layout::Plain => plain(text, paragraphs),
        Layout::Page => page(text, paragraphs),
    };
    with_titles(text, paragraphs, picked)
}

/// A plain-text file: every paragraph but furniture. Before the first prose paragraph only
/// sentences are kept (a title joins them in `with_titles`): short lines there are menus.
fn plain(text: &str, paragraphs: &[Span]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut begun = false;
    for (i, span) in paragraphs.iter().enumerate() {
        let p = span.of(text);
        if is_stop(p) {
            if begun {
                break;
            }
            continue;
        }
        if is_link_line(p) || !seen.insert(p) {
            continue;
        }
        begun |= is_prose(p);
        if begun || is_short_sentence(p) {
            out.push(i);
        }
    }
    // No prose at all: nothing here reads as an article, and the caller keeps everything.
    if begun {
        out
    } else {
        Vec::new()
    }
}

/// A title line before a picked paragraph joins the article: right before it, or with at most
/// two link lines (a dateline with `|`, an ad slot) between. A title-like line after another
/// short line is an item of a menu or headline list, not a title.
fn with_titles(text: &str, paragraphs: &[Span], mut picked: Vec<usize>) -> Vec<usize> {
    let p = |i: usize| paragraphs[i].of(text);
    let is_picked = |picked: &[usize], i: usize| picked.binary_search(&i).is_ok();
    let listy = |i: usize| is_title(p(i)) || words(p(i)) == 1;
    let mut titles = Vec::new();
    for &i in &picked {
        let mut j = i;
        for _ in 0..3 {
            let Some(k) = j.checked_sub(1) else { break };
            j = k;
            if !is_link_line(p(j)) || is_picked(&picked, j) {
                break;
            }
        }
        if j == i || is_picked(&picked, j) || !is_title(p(j)) {
            continue;
        }
        let after_list = j > 0 && !is_picked(&picked, j - 1) && listy(j - 1);
        if !after_list {
            titles.push(j);
        }
    }
    picked.extend(titles);
    picked.sort_unstable();
    picked.dedup();
    picked
}

/// A web page: the best run of prose.
fn page(text: &str, paragraphs: &[Span]) -> Vec<usize> {
    let mut best: (usize, Vec<usize>) = (0, Vec::new());
    let mut run: (usize, Vec<usize>) = (0, Vec::new());
    let mut gap = 0;
    let mut pending: Vec<usize> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, span) in paragraphs.iter().enumerate() {
        let p = span.of(text);
        if is_stop(p) {
            if !run.1.is_empty() {
                run.1.append(&mut pending);
            }
            pending.clear();
            if run.0 > best.0 {
                best = std::mem::take(&mut run);
            }
            run = (0, Vec::new());
            gap = 0;
            continue;
        }
        if is_prose(p) {
            if seen.insert(p) {
                run.0 += words(p);
                run.1.append(&mut pending);
                run.1.push(i);
            }
            gap = 0;
        } else if is_short_sentence(p) {
            // Short sentences join the run, but only a prose paragraph makes it an article.
            if seen.insert(p) {
                pending.push(i);
            }
        } else if !run.1.is_empty() || !pending.is_empty() {
            gap += 1;
            if gap > MAX_GAP {
                run.1.append(&mut pending);
                if run.0 > best.0 {
                    best = std::mem::take(&mut run);
                }
                run = (0, Vec::new());
                pending.clear();
                gap = 0;
            }
        }
    }
    if !run.1.is_empty() {
        run.1.append(&mut pending);
    }
    if run.0 > best.0 {
        best = run;
    }
    best.1.sort_unstable();
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::reader::paragraphs;

    const PAGE: &str = "Home | World | Sports |\n\
        Breaking: markets rally\n\
        The city council approved the new budget on Monday after a debate that lasted most of the night.\n\
        By Jane Roe\n\
        The budget raises spending on schools and roads, and it cuts the fees paid by small shops in the centre.\n\
        The city council approved the new budget on Monday after a debate that lasted most of the night.\n\
        Opponents said the plan relies on optimistic forecasts of tax income for the next three years.\n\
        The vote was close.\n\
        Editor: John Smith\n\
        Top stories\n\
        • A very long headline about something else entirely that has more than twelve words in it for sure.\n\
        Copyright 2024 Example News. All rights reserved.\n";

    fn picked(layout: Layout) -> Vec<&'static str> {
        let ps = paragraphs(PAGE);
        article(PAGE, &ps, layout)
            .iter()
            .map(|&i| ps[i].of(PAGE))
            .collect()
    }

    #[test]
    fn a_page_keeps_its_article_and_drops_junk() {
        let got = picked(Layout::Page);
        let starts: Vec<String> = got.iter().map(|p| p.chars().take(12).collect()).collect();
        assert_eq!(
            starts,
            [
                "Breaking: ma",
                "The city cou",
                "By Jane Roe",
                "The budget r",
                "Opponents sa",
                "The vote was"
            ],
            "the title and the byline before a paragraph are kept, as are short sentences"
        );
    }

    #[test]
    fn a_plain_text_keeps_every_paragraph_but_furniture() {
        let ps = paragraphs(PAGE);
        let page = article(PAGE, &ps, Layout::Page);
        let plain = article(PAGE, &ps, Layout::Plain);
        // Here both agree: the menu, the repeated lead and everything from the Editor line on
        // are left out. They differ on runs: a page keeps its best one only.
        assert_eq!(plain, page);
        // Two articles apart: a page keeps the longer, a plain text both.
        let two_runs = "The council approved the budget on Monday after a debate that lasted most of the night.\n\
            Photo\nVideo\nAudio\n\
            The mayor said the new bridge will open in spring, two years later than the city had planned.\n\
            Engineers found cracks in two of its piers during an inspection in the autumn of last year.\n";
        let ps = paragraphs(two_runs);
        let two_runs = two_runs.to_string();
        assert!(
            article(&two_runs, &ps, Layout::Plain).len()
                > article(&two_runs, &ps, Layout::Page).len()
        );
    }

    /// A newstest-style file: titles (no full stop) between one-sentence lines. Every line
    /// is content.
    #[test]
    fn titles_between_sentences_are_content() {
        let text = "Республиканская стратегия сопротивления переизбранию\n\
            Лидеры республиканцев оправдывали свою политику необходимостью борьбы с фальсификациями на выборах.\n\
            Но это еще не все.\n\
            Индиана стала первым штатом\n\
            Верховный суд США подтвердил в 2008 году конституционность закона, принятого в Индиане.\n";
        let ps = paragraphs(text);
        assert_eq!(article(text, &ps, Layout::Plain).len(), ps.len());
    }
}
