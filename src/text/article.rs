//! Finding the article among web-page junk (headline lists, "Related Posts", credits,
//! copyright lines). The heuristic, in order:
//!
//! 1. A paragraph is *prose* when it has at least 12 words and ends like a sentence (or holds
//!    two sentences); bullets, markup and link-list lines are never prose.
//! 2. A *stop line* ("Editor:", "Disclaimer:", "Related Posts", "Top News", "Guess you like",
//!    copyright, "Читайте также", …) ends the article: what follows it is page furniture.
//! 3. The article is the run of prose paragraphs with the most words, where short non-prose
//!    lines between them (a byline, a photo caption) do not break the run; those of them that
//!    read as sentences (3+ words, a sentence stop at the end) belong to the article.
//! 4. Repeated paragraphs (pages often print the lead twice) are kept once.

use super::Span;

const MIN_WORDS: usize = 12;
/// Non-prose lines tolerated inside the article before the run is broken.
const MAX_GAP: usize = 2;

const STOP_PREFIXES: &[&str] = &[
    "editor:",
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

fn is_prose(p: &str) -> bool {
    let first = p.chars().next().unwrap_or(' ');
    if matches!(first, '•' | '<' | '|' | '-' | '*' | '►' | '>')
        || p.contains("</")
        || p.ends_with('|')
    {
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

/// The paragraphs (indices into `paragraphs`) that make up the article.
pub fn article(text: &str, paragraphs: &[Span]) -> Vec<usize> {
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

    #[test]
    fn keeps_the_article_and_drops_junk() {
        let ps = paragraphs(PAGE);
        let got: Vec<&str> = article(PAGE, &ps).iter().map(|&i| ps[i].of(PAGE)).collect();
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with("The city council"));
        assert!(got[1].starts_with("The budget raises"));
        assert!(got[2].starts_with("Opponents said"));
        assert_eq!(
            got[3], "The vote was close.",
            "short sentences of the article are kept"
        );
    }
}
