//! Language identification, per paragraph; a document's language is the one most of its
//! letters are in. Cyrillic text is told by its letters (Ukrainian has і, ї, є, ґ and
//! Belarusian ў, which Russian lacks: surer on a short line than trigrams, which leave a
//! tenth of Russian news lines undecided); other scripts by whatlang's trigram and alphabet
//! models, chosen among the languages babeldesk's models know or news often holds (a smaller
//! choice is a surer one). Too little text, or text the model is unsure of, is "unknown"
//! rather than a guess.

use whatlang::{Detector, Lang};

/// The languages told apart, with their BCP-47 codes.
const KNOWN: [(Lang, &str); 16] = [
    (Lang::Rus, "ru"),
    (Lang::Ukr, "uk"),
    (Lang::Bel, "be"),
    (Lang::Eng, "en"),
    (Lang::Deu, "de"),
    (Lang::Fra, "fr"),
    (Lang::Spa, "es"),
    (Lang::Ita, "it"),
    (Lang::Por, "pt"),
    (Lang::Nld, "nl"),
    (Lang::Pol, "pl"),
    (Lang::Tur, "tr"),
    (Lang::Cmn, "zh"),
    (Lang::Jpn, "ja"),
    (Lang::Kor, "ko"),
    (Lang::Ara, "ar"),
];

/// Below this many letters a text says too little.
const MIN_LETTERS: usize = 3;

fn detector() -> &'static Detector {
    static DETECTOR: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| Detector::with_allowlist(KNOWN.iter().map(|(l, _)| *l).collect()))
}

/// The code of a language told apart, as a `'static` string (`"en"` for `"en"`).
pub fn code(lang: &str) -> Option<&'static str> {
    KNOWN.iter().map(|(_, c)| *c).find(|c| *c == lang)
}

fn letters(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphabetic()).count()
}

fn words(text: &str) -> usize {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .count()
}

/// Words only English has among the languages told apart (no "a", "in", "on": French and
/// Dutch have them too).
fn english_words(text: &str) -> usize {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| {
            matches!(
                w.to_lowercase().as_str(),
                "the"
                    | "and"
                    | "of"
                    | "to"
                    | "is"
                    | "was"
                    | "for"
                    | "that"
                    | "with"
                    | "said"
                    | "from"
                    | "by"
                    | "has"
                    | "have"
                    | "were"
                    | "are"
                    | "this"
                    | "his"
                    | "her"
                    | "it"
                    | "its"
                    | "will"
                    | "be"
                    | "been"
                    | "not"
                    | "at"
                    | "as"
                    | "they"
            )
        })
        .count()
}

/// Russian, Ukrainian or Belarusian, when most letters are Cyrillic.
fn cyrillic(text: &str, n: usize) -> Option<&'static str> {
    let count = |f: fn(char) -> bool| text.chars().filter(|c| f(*c)).count();
    let cyr = count(|c| matches!(c, '\u{0400}'..='\u{04FF}'));
    if cyr * 10 < n * 6 {
        return None;
    }
    let belarusian = count(|c| matches!(c, 'ў' | 'Ў'));
    let ukrainian = count(|c| matches!(c, 'і' | 'ї' | 'є' | 'ґ' | 'І' | 'Ї' | 'Є' | 'Ґ'));
    Some(match (belarusian, ukrainian) {
        (b, _) if b * 100 > cyr => "be",
        (_, u) if u * 50 > cyr => "uk",
        _ => "ru",
    })
}

/// BCP-47 code of the text's language, or `None` when it gives too little evidence.
pub fn detect(text: &str) -> Option<&'static str> {
    let n = letters(text);
    if n < MIN_LETTERS {
        return None;
    }
    if let Some(lang) = cyrillic(text, n) {
        return Some(lang);
    }
    let info = detector().detect(text)?;
    // Trigrams take short English lines (headlines, names) for French or Dutch now and then;
    // English function words decide those.
    if !info.is_reliable() && english_words(text) * 8 >= words(text).max(1) {
        return Some("en");
    }
    if !info.is_reliable() && n < 12 {
        return None;
    }
    KNOWN
        .iter()
        .find(|(l, _)| *l == info.lang())
        .map(|(_, code)| *code)
}

/// The language of each paragraph, and of the whole: the one most letters are in (a Russian
/// title over an English article is an English document).
pub fn detect_paragraphs(paragraphs: &[&str]) -> (Option<&'static str>, Vec<Option<&'static str>>) {
    let each: Vec<Option<&'static str>> = paragraphs.iter().map(|p| detect(p)).collect();
    let mut weight: Vec<(&'static str, usize)> = Vec::new();
    for (p, lang) in paragraphs.iter().zip(&each) {
        if let Some(l) = lang {
            match weight.iter_mut().find(|(k, _)| k == l) {
                Some((_, w)) => *w += letters(p),
                None => weight.push((l, letters(p))),
            }
        }
    }
    let whole = match weight.iter().max_by_key(|(_, w)| *w) {
        Some((l, _)) => Some(*l),
        // Paragraphs each too short to tell: the text as a whole may still say.
        None => detect(&paragraphs.join("\n")),
    };
    (whole, each)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_languages_of_news_apart() {
        for (text, lang) in [
            ("Парламент отклонил поправку, сообщили в Киеве.", "ru"),
            (
                "Верховна Рада ухвалила закон про бюджет і податки в четвер.",
                "uk",
            ),
            ("The parliament rejected the amendment on Tuesday.", "en"),
            (
                "Der Bundestag hat gestern über die neue Regelung abgestimmt, sagte er.",
                "de",
            ),
            (
                "Le gouvernement a présenté mardi son projet de budget pour l'année prochaine.",
                "fr",
            ),
            (
                "El gobierno presentó el martes su proyecto de presupuesto para el próximo año.",
                "es",
            ),
            (
                "Il governo ha presentato martedì il progetto di bilancio per il prossimo anno.",
                "it",
            ),
            ("国务院总理李强周二在北京主持召开国务院常务会议。", "zh"),
        ] {
            assert_eq!(detect(text), Some(lang), "{text}");
        }
        assert_eq!(detect("12 34 —"), None);
    }

    #[test]
    fn a_document_is_in_the_language_most_of_it_is_in() {
        let paragraphs = [
            "Сводка новостей",
            "The parliament rejected the amendment on Tuesday after a long debate.",
            "The opposition said it would appeal to the constitutional court next week.",
        ];
        let (whole, each) = detect_paragraphs(&paragraphs);
        assert_eq!(whole, Some("en"));
        assert_eq!(each[1], Some("en"));
    }

    /// Short news lines of the client's data (newstest 2012 and 2013, 6,000 each way): how
    /// often each line of four words or more is given its language. whatlang must stay at
    /// least this sure; the numbers are in README ("Language detection").
    #[test]
    fn news_lines_are_told_apart() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/parallel/ru-en");
        for (lang, min) in [("ru", 0.995), ("en", 0.98)] {
            let mut text = String::new();
            for year in ["2012", "2013"] {
                match std::fs::read_to_string(dir.join(format!("newstest{year}.{lang}"))) {
                    Ok(t) => text += &t,
                    Err(_) => {
                        return crate::testing::skip("../shared/data/parallel/ru-en is missing")
                    }
                }
            }
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.split_whitespace().count() >= 4)
                .collect();
            let right = lines.iter().filter(|l| detect(l) == Some(lang)).count();
            let share = right as f64 / lines.len() as f64;
            eprintln!(
                "{lang}: {right} of {} lines ({:.2} %)",
                lines.len(),
                share * 100.0
            );
            assert!(share >= min, "{lang}: {share}");
        }
    }
}
