//! Words and their stems, with byte ranges: what term recognition compares. A Snowball stemmer
//! (the `rust-stemmers` crate) for languages it knows, lower-cased words for the rest, so
//! "Пояса и пути" and "Пояс и путь" both read `пояс и пут`.

use rust_stemmers::{Algorithm, Stemmer};

/// A word of a text: its stem and its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub stem: String,
    pub start: usize,
    pub end: usize,
}

/// The Snowball algorithm for a language tag's primary subtag.
fn algorithm(lang: &str) -> Option<Algorithm> {
    Some(match crate::text::langtag::primary(lang) {
        "ru" => Algorithm::Russian,
        "en" => Algorithm::English,
        "de" => Algorithm::German,
        "fr" => Algorithm::French,
        "es" => Algorithm::Spanish,
        "it" => Algorithm::Italian,
        "pt" => Algorithm::Portuguese,
        "nl" => Algorithm::Dutch,
        "sv" => Algorithm::Swedish,
        "no" | "nb" | "nn" => Algorithm::Norwegian,
        "da" => Algorithm::Danish,
        "fi" => Algorithm::Finnish,
        "hu" => Algorithm::Hungarian,
        "ro" => Algorithm::Romanian,
        "tr" => Algorithm::Turkish,
        "el" => Algorithm::Greek,
        "ar" => Algorithm::Arabic,
        "ta" => Algorithm::Tamil,
        _ => return None,
    })
}

/// Stems words of one language. Cheap to make; make one per text or keep one.
pub struct Stems {
    stemmer: Option<Stemmer>,
    /// Russian: the stem loses a fleeting vowel (see [`without_fleeting_vowel`]).
    fleeting: bool,
}

impl Stems {
    pub fn new(lang: &str) -> Stems {
        Stems {
            stemmer: algorithm(lang).map(Stemmer::create),
            fleeting: crate::text::langtag::primary(lang) == "ru",
        }
    }

    /// A stem as this language compares it: a Russian one without its fleeting vowel. Keys
    /// stored before that rule (older memories) read the same through this.
    pub fn compared(&self, stem: &str) -> String {
        match self.fleeting {
            true => without_fleeting_vowel(stem),
            false => stem.to_string(),
        }
    }

    /// One word's stem: lower-cased, ё read as е, then stemmed.
    pub fn stem(&self, word: &str) -> String {
        let lower: String = word
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| if c == 'ё' { 'е' } else { c })
            .collect();
        match &self.stemmer {
            Some(s) => self.compared(&s.stem(&lower)),
            None => lower,
        }
    }

    /// The words of `text` (letters and digits; a hyphen or apostrophe inside a word keeps it
    /// one word) with their stems and byte ranges.
    pub fn words(&self, text: &str) -> Vec<Word> {
        let mut out = Vec::new();
        let mut start = None;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let inner = matches!(c, '-' | '\'' | '’')
                && start.is_some()
                && chars.peek().is_some_and(|(_, n)| n.is_alphanumeric());
            if c.is_alphanumeric() || inner {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                out.push(self.word(text, s, i));
            }
        }
        if let Some(s) = start {
            out.push(self.word(text, s, text.len()));
        }
        out
    }

    fn word(&self, text: &str, start: usize, end: usize) -> Word {
        Word {
            stem: self.stem(&text[start..end]),
            start,
            end,
        }
    }

    /// A term's key: its stems joined by single spaces.
    pub fn key(&self, term: &str) -> String {
        self.words(term)
            .into_iter()
            .map(|w| w.stem)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Russian drops an е or о of a word's last syllable when it declines (камень, камня; отец,
/// отца; угол, угла), and the Snowball stems keep it where it stands (камен, камн): the stem
/// drops an е or о between its last two consonants, so all forms share one. Idempotent.
fn without_fleeting_vowel(stem: &str) -> String {
    const VOWELS: &str = "аеёиоуыэюяьъй";
    let consonant = |c: char| is_russian_letter(c) && !VOWELS.contains(c);
    let chars: Vec<char> = stem.chars().collect();
    match chars.as_slice() {
        [.., a, v, b] if consonant(*a) && matches!(v, 'е' | 'о') && consonant(*b) => {
            let n = chars.len();
            chars[..n - 2].iter().chain(&chars[n - 1..]).collect()
        }
        _ => stem.to_string(),
    }
}

fn is_russian_letter(c: char) -> bool {
    matches!(c, 'а'..='я' | 'ё')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflected_russian_terms_share_a_key() {
        let ru = Stems::new("ru");
        for (a, b) in [
            ("Пояса и пути", "Пояс и путь"),
            ("Национальной академии наук", "Национальная академия наук"),
            (
                "высокоскоростной железной дороги",
                "высокоскоростная железная дорога",
            ),
        ] {
            assert_eq!(ru.key(a), ru.key(b), "{a} / {b}");
        }
        assert_eq!(ru.key("Пояс и путь"), "пояс и пут");
    }

    #[test]
    fn a_fleeting_vowel_does_not_split_a_word() {
        let ru = Stems::new("ru");
        for (a, b) in [
            ("Великого камня", "Великий камень"),
            ("отца", "отец"),
            ("угла", "угол"),
        ] {
            assert_eq!(ru.key(a), ru.key(b), "{a} / {b}");
        }
        // A key stored before the rule compares the same.
        assert_eq!(ru.compared("камен"), ru.key("камня"));
        assert_eq!(ru.compared(&ru.key("камня")), ru.key("камня"));
        // Only Russian.
        assert_eq!(Stems::new("en").key("lemon"), "lemon");
    }

    #[test]
    fn words_keep_byte_ranges_and_inner_hyphens() {
        let text = "НИОКР, научно-технический «Пояс»";
        let w = Stems::new("ru").words(text);
        let spans: Vec<&str> = w.iter().map(|w| &text[w.start..w.end]).collect();
        assert_eq!(spans, ["НИОКР", "научно-технический", "Пояс"]);
        assert_eq!(Stems::new("xx").key("Belt-and-Road"), "belt-and-road");
    }
}
