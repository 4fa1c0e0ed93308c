//! Sentence segmentation with byte ranges, by rules for Russian and English: a sentence ends at
//! `.`, `!`, `?` or `…` (with any closing quotes or brackets after it) when whitespace and a
//! sentence start follow, unless the word before the stop is a known abbreviation or an initial.

use super::Span;

/// Abbreviations that do not end a sentence (lowercased, without the final dot).
const ABBREVIATIONS: &[&str] = &[
    // English
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "gov", "sen",
    "rep", "rev", "vs", "etc", "e.g", "i.e", "u.s", "u.k", "u.n", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct", "nov", "dec", "approx",
    // Russian
    "г", "гг", "т.е", "т.к", "т.д", "т.п", "др", "пр", "им", "ул", "пл", "д", "с", "стр", "млн",
    "млрд", "тыс", "руб", "долл", "коп", "см", "рис", "проф", "акад", "чл", "корр", "ген", "св",
    "обл", "р", "ж.д", "н.э", "в", "вв", "гл", "т", "напр", "янв", "февр", "апр", "авг", "сент",
    "окт", "нояб", "дек", "и.о", "зам",
];

/// Abbreviations that only stay abbreviations before a number ("No. 5", "ст. 12").
const BEFORE_NUMBER: &[&str] = &[
    "no", "nos", "p", "pp", "vol", "fig", "art", "ст", "п", "ч", "№",
];

const CLOSERS: &[char] = &['"', '\'', '»', '”', '’', ')', ']'];

/// Sentences of `text[span]`, as spans into `text`, trimmed.
pub fn sentences(text: &str, span: Span) -> Vec<Span> {
    let para = span.of(text);
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = para.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if matches!(c, '.' | '!' | '?' | '…') {
            // Swallow runs like "?!", "..." and closing quotes.
            let mut j = i + 1;
            while j < chars.len()
                && (matches!(chars[j].1, '.' | '!' | '?' | '…') || CLOSERS.contains(&chars[j].1))
            {
                j += 1;
            }
            let end = chars.get(j).map_or(para.len(), |&(p, _)| p);
            let next_start = (j..chars.len()).find(|&k| !chars[k].1.is_whitespace());
            let has_space = j < chars.len() && chars[j].1.is_whitespace();
            let boundary = match next_start {
                None => true,
                Some(k) => {
                    has_space
                        && starts_sentence(chars[k].1)
                        && !(c == '.' && is_abbreviation(&para[start..pos], chars[k].1))
                        && !speech_attribution(&chars[k..])
                }
            };
            if boundary {
                push(&mut out, para, span.start, start, end);
                start = next_start.map_or(para.len(), |k| chars[k].0);
                i = next_start.unwrap_or(chars.len());
                continue;
            }
            i = j;
            continue;
        }
        let _ = pos;
        i += 1;
    }
    push(&mut out, para, span.start, start, para.len());
    out
}

fn push(out: &mut Vec<Span>, para: &str, base: usize, start: usize, end: usize) {
    let piece = &para[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trimmed = piece.trim();
    if !trimmed.is_empty() {
        out.push(Span {
            start: base + start + lead,
            end: base + start + lead + trimmed.len(),
        });
    }
}

/// «Мы готовы!» — сказал он: a dash and a lower-case word after quoted speech continue the
/// sentence.
fn speech_attribution(rest: &[(usize, char)]) -> bool {
    matches!(rest.first(), Some((_, '—' | '–')))
        && rest[1..]
            .iter()
            .find(|(_, c)| !c.is_whitespace())
            .is_some_and(|(_, c)| c.is_lowercase())
}

fn starts_sentence(c: char) -> bool {
    c.is_uppercase()
        || c.is_ascii_digit()
        || matches!(
            c,
            '"' | '«' | '“' | '„' | '\'' | '(' | '—' | '–' | '-' | '['
        )
}

/// Is the word right before a dot an abbreviation or an initial ("А. Тозик", "J. Smith")?
fn is_abbreviation(before: &str, next: char) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '(' | '"' | '«' | '“'))
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    let single_capital = matches!((letters.next(), letters.next()), (Some(c), None) if c.is_uppercase())
        && word.chars().count() == 1;
    single_capital
        || ABBREVIATIONS.contains(&lower.as_str())
        || (next.is_ascii_digit() && BEFORE_NUMBER.contains(&lower.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentences(
            text,
            Span {
                start: 0,
                end: text.len(),
            },
        )
        .iter()
        .map(|s| s.of(text))
        .collect()
    }

    #[test]
    fn english_rules() {
        assert_eq!(
            split("Mr. Smith went to the U.S. Senate. He said \"no.\" Then he left! Did he? Yes."),
            [
                "Mr. Smith went to the U.S. Senate.",
                "He said \"no.\"",
                "Then he left!",
                "Did he?",
                "Yes."
            ]
        );
        assert_eq!(
            split("Prices rose 3.5 percent. J. Doe agreed"),
            ["Prices rose 3.5 percent.", "J. Doe agreed"]
        );
    }

    #[test]
    fn russian_rules() {
        assert_eq!(
            split("В 2022 г. выручка составила 3 млн долл. США. Об этом сообщил А. Тозик. «Это рекорд», — сказал он."),
            ["В 2022 г. выручка составила 3 млн долл. США.", "Об этом сообщил А. Тозик.", "«Это рекорд», — сказал он."]
        );
        assert_eq!(
            split("Он сказал: «Мы готовы». Переговоры продолжатся…"),
            ["Он сказал: «Мы готовы».", "Переговоры продолжатся…"]
        );
    }

    #[test]
    fn spans_point_into_the_original() {
        let text = "xx  One.  Two. ";
        let got = sentences(
            text,
            Span {
                start: 4,
                end: text.len(),
            },
        );
        assert_eq!(
            got,
            [Span { start: 4, end: 8 }, Span { start: 10, end: 14 }]
        );
    }
}

#[cfg(test)]
mod gold {
    use super::*;

    /// Paragraphs of gold sentences: lines, blank lines between paragraphs, `#` comments.
    fn check(gold: &str) {
        let paragraphs: Vec<Vec<&str>> = gold
            .split("\n\n")
            .map(|p| {
                p.lines()
                    .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|p| !p.is_empty())
            .collect();
        for sentences in paragraphs {
            let text = sentences.join(" ");
            let got: Vec<&str> = super::sentences(
                &text,
                Span {
                    start: 0,
                    end: text.len(),
                },
            )
            .iter()
            .map(|s| s.of(&text))
            .collect();
            assert_eq!(got, sentences);
        }
    }

    #[test]
    fn russian_gold() {
        check(include_str!("../../tests/fixtures/segment/ru.txt"));
    }

    #[test]
    fn english_gold() {
        check(include_str!("../../tests/fixtures/segment/en.txt"));
    }
}
