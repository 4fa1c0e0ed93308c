//! What babeldesk says to an instruct model, and what it keeps of the answer. Plain text
//! functions, so the rules are tested without a model; the `babeldesk-llm` engine uses them.
//!
//! A translation prompt carries what babeldesk knows besides the sentence: the translation
//! memory's best fuzzy matches as examples, and the previous sentence with its translation.
//! Answers are cleaned of the chatter small models add ("Here is the translation:", quotes the
//! source lacked, trailing notes), then checked: an empty, untranslated or runaway answer is a
//! problem, never a translation.

use crate::models::protocol::{Hint, Rendering};
use regex::Regex;
use std::sync::OnceLock;

/// A chat message: role (`system`, `user`) and content.
pub type Message = (&'static str, String);

/// English name of a language code, for prompts.
pub fn language_name(code: &str) -> String {
    let base = code.split(['-', '_']).next().unwrap_or(code);
    match base.to_ascii_lowercase().as_str() {
        "ru" => "Russian",
        "en" => "English",
        "uk" => "Ukrainian",
        "de" => "German",
        "fr" => "French",
        "es" => "Spanish",
        "it" => "Italian",
        "zh" => "Chinese",
        "pl" => "Polish",
        "be" => "Belarusian",
        other => return other.to_string(),
    }
    .to_string()
}

pub fn translation_messages(from: &str, to: &str, text: &str, hint: &Hint) -> Vec<Message> {
    let (from, to) = (language_name(from), language_name(to));
    let system = format!(
        "You are a professional news translator. Translate the {from} text the user gives into \
         {to}. Reply with the {to} translation only: no explanations, no notes, no quotation \
         marks around it. Keep names, numbers and dates exact."
    );
    let mut user = String::new();
    if !hint.examples.is_empty() {
        user.push_str("Translations of similar sentences from our translation memory:\n");
        for e in &hint.examples {
            user.push_str(&format!("{from}: {}\n{to}: {}\n", e.source, e.target));
        }
        user.push('\n');
    }
    // The previous sentence's translation may not be known yet (requests in flight at
    // once): then its source alone.
    match &hint.previous {
        Some(p) if p.target.is_empty() => user.push_str(&format!(
            "The previous sentence, for context only:\n{from}: {}\n\n",
            p.source
        )),
        Some(p) => user.push_str(&format!(
            "The previous sentence, for context only:\n{from}: {}\n{to}: {}\n\n",
            p.source, p.target
        )),
        None => {}
    }
    user.push_str(&renderings(&hint.terms));
    if !hint.rejected.is_empty() {
        user.push_str(
            "A reviewer rejected this translation of the text; give a different, correct one:\n",
        );
        for r in &hint.rejected {
            user.push_str(&format!("{to}: {r}\n"));
        }
        user.push('\n');
    }
    user.push_str(&format!("Translate into {to}:\n{text}"));
    vec![("system", system), ("user", user)]
}

/// The retry for an answer that left out required renderings: the same request, the
/// renderings stressed and the ones missed named.
pub fn stressed_messages(
    from: &str,
    to: &str,
    text: &str,
    hint: &Hint,
    missed: &[&Rendering],
) -> Vec<Message> {
    let mut messages = translation_messages(
        from,
        to,
        text,
        &Hint {
            examples: Vec::new(),
            ..hint.clone()
        },
    );
    let missed: Vec<String> = missed.iter().map(|r| format!("\"{}\"", r.target)).collect();
    let user = &mut messages[1].1;
    let at = user.rfind("Translate into").unwrap_or(user.len());
    user.insert_str(
        at,
        &format!(
            "These renderings are required, word for word; an earlier answer missed {}.\n\n",
            missed.join(", ")
        ),
    );
    messages
}

/// The renderings block of a prompt ("Use these renderings: Пояс и путь → Belt and Road").
fn renderings(terms: &[Rendering]) -> String {
    let (avoid, use_): (Vec<&Rendering>, Vec<&Rendering>) = terms.iter().partition(|r| r.forbidden);
    let mut out = String::new();
    if !use_.is_empty() {
        out.push_str("Use these renderings (terminology and names):\n");
        for r in use_ {
            out.push_str(&format!("{} → {}\n", r.source, r.target));
        }
    }
    if !avoid.is_empty() {
        out.push_str("Never write these renderings:\n");
        for r in avoid {
            out.push_str(&format!("{} → not \"{}\"\n", r.source, r.target));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// The required renderings an answer does not contain (case and spacing ignored), and the
/// forbidden ones it does.
pub fn missed_renderings<'h>(answer: &str, terms: &'h [Rendering]) -> Vec<&'h Rendering> {
    let norm = |t: &str| -> String {
        t.chars()
            .filter(|c| !matches!(c, '\'' | '’' | '-'))
            .flat_map(char::to_lowercase)
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let answer = norm(answer);
    terms
        .iter()
        .filter(|r| answer.contains(&norm(&r.target)) == r.forbidden)
        .collect()
}

pub fn summary_messages(lang: &str, text: &str, max_words: usize) -> Vec<Message> {
    let lang = language_name(lang);
    let system = format!(
        "You summarize news articles. Write the summary in {lang}, in at most {max_words} \
         words, as plain sentences: no title, no list, no introduction."
    );
    let user = format!("Summarize this article in at most {max_words} words:\n\n{text}");
    vec![("system", system), ("user", user)]
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid pattern"))
}

/// "Sure! Here is the translation:", "Translation:", "English:" and the like, at the start.
fn strip_preamble(text: &str) -> &str {
    static PRE: OnceLock<Regex> = OnceLock::new();
    let pre = re(
        &PRE,
        r"(?is)^\s*(?:(?:sure|certainly|of course|okay|ok)\b[^\n:]{0,40}?[.!,]\s*)?(?:(?:here\s+is|here's|below\s+is)\b[^\n:]{0,60}:|(?:the\s+)?(?:english\s+|russian\s+)?(?:translation|translated\s+text|summary|english|перевод)\s*(?:\([^)\n]{0,30}\)\s*)?:|[^\n:]{0,60}\b(?:translat\w*|in\s+english|summar\w*)\b[^\n:]{0,40}:)\s*",
    );
    match pre.find(text) {
        Some(m) => &text[m.end()..],
        None => text,
    }
}

/// A first line that only announces the answer: 'The Russian text "…" translates to English
/// as:', 'Here is a summary of the article:'.
fn strip_announcement(text: &str) -> &str {
    static ANN: OnceLock<Regex> = OnceLock::new();
    let ann = re(
        &ANN,
        r"(?i)^[^\n]{0,400}?(?:translat|english|summar|here is|here's|перевод)[^\n]{0,80}:[ \t]*\n\s*",
    );
    match ann.find(text) {
        Some(m) if m.end() < text.len() => &text[m.end()..],
        _ => text,
    }
}

/// Lines that start a note after the answer.
fn is_note(line: &str) -> bool {
    static NOTE: OnceLock<Regex> = OnceLock::new();
    re(
        &NOTE,
        r"(?i)^\s*(?:\(?\s*(?:note|notes|translator'?s? note|explanation|literally|original|context)\b|\*\s*note|this (?:translation|sentence)|i (?:have|translated|kept))",
    )
    .is_match(line)
}

const QUOTES: [(char, char); 5] = [('"', '"'), ('«', '»'), ('“', '”'), ('„', '“'), ('\'', '\'')];

/// Quotes around the whole answer that the source does not have.
fn strip_quotes<'a>(source: &str, text: &'a str) -> &'a str {
    let s = source.trim();
    for (open, close) in QUOTES {
        if text.starts_with(open) && text.ends_with(close) && text.len() > 2 {
            let inner = &text[open.len_utf8()..text.len() - close.len_utf8()];
            // A quote of the source's own ("«Мы готовы!» — сказал он") is kept.
            let source_quoted = QUOTES
                .iter()
                .any(|(o, c)| s.starts_with(*o) && s.ends_with(*c));
            if !source_quoted && !inner.contains([open, close]) {
                return inner.trim();
            }
        }
    }
    text
}

/// A parenthesised note at the end: "(Note: …)", "(literally …)".
fn strip_trailing_note(text: &str) -> &str {
    static TAIL: OnceLock<Regex> = OnceLock::new();
    let tail = re(
        &TAIL,
        r"(?i)\s*\((?:note|literally|lit\.|translator'?s? note|or)\b[^()]*\)\s*$",
    );
    match tail.find(text) {
        Some(m) => &text[..m.start()],
        None => text,
    }
}

/// The translation in a model's answer, without the chatter.
pub fn clean_translation(source: &str, output: &str) -> String {
    let mut text = strip_preamble(strip_announcement(output.trim())).trim();
    // A one-line source gets a one-line answer: what follows a blank line or a note is dropped.
    if !source.trim().contains('\n') {
        let mut kept = Vec::new();
        for line in text.lines() {
            if line.trim().is_empty() {
                if kept.is_empty() {
                    continue;
                }
                break;
            }
            if is_note(line) && !kept.is_empty() {
                break;
            }
            kept.push(line.trim());
        }
        let joined = kept.join(" ");
        return finish(source, &joined);
    }
    text = strip_trailing_note(text);
    finish(source, text)
}

fn finish(source: &str, text: &str) -> String {
    let text = strip_trailing_note(text.trim()).trim();
    let text = strip_quotes(source, text);
    strip_preamble(text).trim().to_string()
}

/// Letters of `text` in Cyrillic, as a share of all its letters (0 when it has none).
fn cyrillic_share(text: &str) -> f64 {
    let (mut cyr, mut all) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        all += 1;
        if ('\u{0400}'..='\u{04FF}').contains(&c) {
            cyr += 1;
        }
    }
    if all == 0 {
        0.0
    } else {
        cyr as f64 / all as f64
    }
}

fn uses_cyrillic(lang: &str) -> bool {
    crate::text::langtag::script(lang) == Some(crate::text::langtag::Script::Cyrillic)
}

/// What is wrong with a cleaned translation, if anything. `hit_limit`: generation stopped at
/// the token cap instead of ending by itself.
pub fn check_translation(
    source: &str,
    cleaned: &str,
    from: &str,
    to: &str,
    hit_limit: bool,
) -> Option<String> {
    if cleaned.trim().is_empty() {
        return Some("the model gave an empty answer".into());
    }
    if hit_limit {
        return Some("the model did not stop (runaway output)".into());
    }
    if is_repetitive(cleaned) {
        return Some("the answer repeats itself".into());
    }
    let words = |t: &str| t.split_whitespace().count();
    if words(cleaned) > 3 * words(source) + 12 {
        return Some(format!(
            "the answer is far longer than the source ({} words for {})",
            words(cleaned),
            words(source)
        ));
    }
    let has_letters = source.chars().any(char::is_alphabetic);
    if has_letters && cleaned.trim() == source.trim() && from != to {
        return Some("the model returned the source unchanged".into());
    }
    if uses_cyrillic(from) && !uses_cyrillic(to) && cyrillic_share(cleaned) > 0.3 {
        return Some(format!(
            "the answer is still in {}",
            language_name(from).to_lowercase()
        ));
    }
    None
}

/// A text going round in circles: few distinct word pairs, or one short piece over and over.
pub fn is_repetitive(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() >= 12 {
        let pairs: std::collections::HashSet<(&str, &str)> =
            words.windows(2).map(|w| (w[0], w[1])).collect();
        if pairs.len() * 2 < words.len() - 1 {
            return true;
        }
    }
    // Loops without spaces ("againHello againHello…"): a piece of 4–16 characters that
    // fills most of the text, one copy after another.
    let chars: Vec<char> = text.chars().collect();
    (4..=16).any(|len| {
        chars.len() >= len * 5
            && chars
                .windows(len)
                .step_by(len)
                .zip(chars.windows(len).step_by(len).skip(1))
                .filter(|(a, b)| a == b)
                .count()
                * len
                * 2
                > chars.len()
    })
}

/// The summary in a model's answer: chatter removed, cut to the word budget at the last
/// sentence that fits.
pub fn clean_summary(output: &str, max_words: usize) -> String {
    let text = strip_preamble(strip_announcement(output.trim())).trim();
    let text: Vec<&str> = text
        .lines()
        .map(|l| l.trim().trim_start_matches(['-', '*', '•']).trim())
        .filter(|l| !l.is_empty() && !is_note(l))
        .collect();
    let text = text.join(" ");
    crate::text::words::trim_to_words(strip_quotes("", &text), max_words)
}

/// What is wrong with a summary in `lang` (`raw`: the whole cleaned answer, before the cut).
pub fn check_summary(raw: &str, cleaned: &str, lang: &str) -> Option<String> {
    if cleaned.trim().is_empty() {
        return Some("the model gave an empty summary".into());
    }
    if is_repetitive(raw) {
        return Some("the summary repeats itself".into());
    }
    if !uses_cyrillic(lang) && cyrillic_share(cleaned) > 0.3 {
        return Some(format!("the summary is not in {}", language_name(lang)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::protocol::Example;

    #[test]
    fn chatter_is_removed() {
        let src = "Парламент собрался во вторник.";
        for (out, want) in [
            ("Parliament met on Tuesday.", "Parliament met on Tuesday."),
            (
                "Here is the translation: «Good morning.»",
                "Good morning.",
            ),
            (
                "Sure! Here's the English translation:\n\n\"Parliament met on Tuesday.\"",
                "Parliament met on Tuesday.",
            ),
            ("Translation: Parliament met.", "Parliament met."),
            (
                "The Russian text translates to English as: \"Parliament met.\"",
                "Parliament met.",
            ),
            (
                "The Russian text \"Парламент собрался во вторник.\" translates to English as:\n\n\"Parliament met on Tuesday.\"",
                "Parliament met on Tuesday.",
            ),
            ("English (US): Parliament met.", "Parliament met."),
            (
                "Parliament met on Tuesday.\n\nNote: \"собрался\" can also mean gathered.",
                "Parliament met on Tuesday.",
            ),
            (
                "Parliament met on Tuesday. (Note: literally 'gathered')",
                "Parliament met on Tuesday.",
            ),
            (
                "Parliament met on Tuesday.\nThis translation keeps the tense.",
                "Parliament met on Tuesday.",
            ),
        ] {
            assert_eq!(clean_translation(src, out), want, "{out:?}");
        }
        // Quotes the source has are kept.
        let quoted = "«Мы готовы!» — сказал он.";
        assert_eq!(
            clean_translation(quoted, "\"We are ready!\" he said."),
            "\"We are ready!\" he said."
        );
        assert_eq!(
            clean_translation("«Мы готовы!»", "«We are ready!»"),
            "«We are ready!»"
        );
        // A colon in the sentence itself stays.
        assert_eq!(
            clean_translation(src, "The minister said: parliament met."),
            "The minister said: parliament met."
        );
        // A sentence that merely starts with "Here is" and has no colon stays.
        assert_eq!(
            clean_translation(src, "Here is where parliament met."),
            "Here is where parliament met."
        );
    }

    #[test]
    fn bad_answers_are_problems() {
        let src = "Парламент собрался во вторник.";
        let check = |out: &str, cap| check_translation(src, out, "ru", "en", cap);
        assert_eq!(check("Parliament met on Tuesday.", false), None);
        assert!(check("", false).unwrap().contains("empty"));
        assert!(check("Parliament met", true).unwrap().contains("runaway"));
        assert!(check(src, false).unwrap().contains("unchanged"));
        assert!(check("Парламент met во вторник.", false)
            .unwrap()
            .contains("russian"));
        let long: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        assert!(check(&long.join(" "), false).unwrap().contains("longer"));
        assert!(check(&"the vote ".repeat(10), false)
            .unwrap()
            .contains("repeats"));
        // Names left in Cyrillic inside an English sentence are fine.
        assert_eq!(
            check("The newspaper «Известия» reported it on Tuesday.", false),
            None
        );
    }

    #[test]
    fn prompts_carry_memory_examples_and_the_previous_sentence() {
        let hint = Hint {
            examples: vec![Example {
                source: "Парламент собрался в среду.".into(),
                target: "Parliament met on Wednesday.".into(),
            }],
            previous: Some(Example {
                source: "Было холодно.".into(),
                target: "It was cold.".into(),
            }),
            terms: Vec::new(),
            rejected: Vec::new(),
        };
        let m = translation_messages("ru", "en", "Парламент собрался во вторник.", &hint);
        assert_eq!(m[0].0, "system");
        assert!(m[0].1.contains("Russian") && m[0].1.contains("English translation only"));
        let user = &m[1].1;
        let (ex, prev, seg) = (
            user.find("Parliament met on Wednesday.").unwrap(),
            user.find("It was cold.").unwrap(),
            user.find("во вторник").unwrap(),
        );
        assert!(ex < prev && prev < seg, "{user}");
        let bare = translation_messages("ru", "en", "Да.", &Hint::default());
        assert_eq!(bare[1].1, "Translate into English:\nДа.");
        // A rejected translation is named, to be avoided (issue 40).
        let told = Hint {
            rejected: vec!["Yes, sir.".into()],
            ..Hint::default()
        };
        let m = translation_messages("ru", "en", "Да.", &told);
        assert!(m[1].1.contains("A reviewer rejected this translation of the text; give a different, correct one:\nEnglish: Yes, sir.\n"), "{}", m[1].1);
    }

    #[test]
    fn loops_are_repetitive_and_prose_is_not() {
        assert!(is_repetitive(
            "Hello againHello againHello againHello againHello again"
        ));
        assert!(is_repetitive(&"the vote was held ".repeat(5)));
        assert!(!is_repetitive(
            "The parliament met on Tuesday and rejected the amendment after a long debate \
             about the criminal code, which the opposition had demanded for months."
        ));
        assert!(!is_repetitive("1,000,000 people; 2,000,000 people."));
    }

    #[test]
    fn summaries_keep_the_budget() {
        let out = "Summary:\n- The parliament met on Tuesday. It rejected the bill after a long debate.\n- Leaders will appeal.";
        let s = clean_summary(out, 12);
        assert_eq!(s, "The parliament met on Tuesday.");
        assert!(clean_summary(out, 100).ends_with("Leaders will appeal."));
        assert_eq!(
            clean_summary("Here is the summary: «Parliament met.»", 10),
            "Parliament met."
        );
        assert_eq!(
            check_summary("Parliament met.", "Parliament met.", "en"),
            None
        );
        assert!(check_summary("Привет.", "Привет.", "en")
            .unwrap()
            .contains("English"));
        assert!(check_summary("", "", "en").unwrap().contains("empty"));
    }

    #[test]
    fn renderings_are_told_checked_and_stressed() {
        let terms = vec![
            Rendering {
                source: "Пояс и путь".into(),
                target: "Belt and Road".into(),
                forbidden: false,
            },
            Rendering {
                source: "Пояс и путь".into(),
                target: "Path and Way".into(),
                forbidden: true,
            },
            Rendering {
                source: "Сиань".into(),
                target: "Xi'an".into(),
                forbidden: false,
            },
        ];
        let hint = Hint {
            terms: terms.clone(),
            ..Hint::default()
        };
        let user = &translation_messages("ru", "en", "Текст.", &hint)[1].1;
        assert!(user.contains("Пояс и путь → Belt and Road\n"), "{user}");
        assert!(
            user.contains("Пояс и путь → not \"Path and Way\""),
            "{user}"
        );
        assert!(user.find("Belt and Road").unwrap() < user.find("Translate into").unwrap());
        let missed = missed_renderings("countries along the belt and  road, in Xian", &terms);
        assert!(missed.is_empty(), "{missed:?}");
        let missed = missed_renderings("the Path and Way of Xi'an", &terms);
        assert_eq!(
            missed.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(),
            ["Belt and Road", "Path and Way"]
        );
        let stressed = &stressed_messages("ru", "en", "Текст.", &hint, &missed)[1].1;
        assert!(
            stressed.contains("required, word for word; an earlier answer missed \"Belt and Road\", \"Path and Way\""),
            "{stressed}"
        );
    }
}
