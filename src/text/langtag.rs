//! BCP-47 language tags, normalized the way they are stored: `ru`, `en-US`, `zh-Hant-TW`.
//! TMX files write `EN`, `en-us`, `en_US`; all of those mean `en-US` or `en` here.

/// Normalize a tag, or say what is wrong with it.
pub fn normalize(tag: &str) -> Result<String, String> {
    let bad = || format!("'{tag}' is not a BCP-47 language tag (like ru, en, en-US)");
    let mut parts = tag.trim().split(['-', '_']);
    let primary = parts
        .next()
        .filter(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let mut out = primary.ok_or_else(bad)?.to_ascii_lowercase();
    // ISO 639-2/3 codes of languages that have a two-letter one: the memory keys on the
    // shortest tag, as BCP-47 asks (rus is ru).
    if let Some((_, two)) = THREE_LETTER.iter().find(|(three, _)| *three == out) {
        out = two.to_string();
    }
    for p in parts {
        if p.is_empty() || p.len() > 8 || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        out.push('-');
        match p.len() {
            2 if p.chars().all(|c| c.is_ascii_alphabetic()) => {
                out.push_str(&p.to_ascii_uppercase())
            }
            4 if p.chars().all(|c| c.is_ascii_alphabetic()) => {
                out.push_str(&p[..1].to_ascii_uppercase());
                out.push_str(&p[1..].to_ascii_lowercase());
            }
            _ => out.push_str(&p.to_ascii_lowercase()),
        }
    }
    Ok(out)
}

/// Three-letter codes (ISO 639-2/T and /B) of the languages babeldesk's models cover, with the
/// two-letter code BCP-47 uses for them.
const THREE_LETTER: &[(&str, &str)] = &[
    ("rus", "ru"),
    ("eng", "en"),
    ("ukr", "uk"),
    ("deu", "de"),
    ("ger", "de"),
    ("fra", "fr"),
    ("fre", "fr"),
    ("spa", "es"),
    ("ita", "it"),
    ("zho", "zh"),
    ("chi", "zh"),
    ("bel", "be"),
    ("pol", "pl"),
    ("por", "pt"),
    ("nld", "nl"),
    ("dut", "nl"),
    ("jpn", "ja"),
    ("kor", "ko"),
    ("ara", "ar"),
    ("tur", "tr"),
    ("kaz", "kk"),
];

/// A language pair as `--lang` takes it: SRC-TGT with plain codes (ru-en), or SRC:TGT with
/// regions (en-US:fr-CA); each side normalized.
pub fn pair(s: &str) -> Result<(String, String), String> {
    let (a, b) = match s.split_once(':') {
        Some(ab) => ab,
        None => match s.split('-').collect::<Vec<_>>()[..] {
            [a, b] => (a, b),
            _ => {
                return Err(format!(
                    "'{s}' is not a pair: write SRC-TGT (ru-en) or SRC:TGT (en-US:fr-CA)"
                ))
            }
        },
    };
    Ok((normalize(a)?, normalize(b)?))
}

/// The primary language subtag: `en` for `en-GB`.
pub fn primary(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

/// A writing system a language tag says its text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Cyrillic,
    Latin,
}

/// Languages written in Cyrillic when the tag names no script.
const CYRILLIC: &[&str] = &[
    "ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn", "ba", "tt", "cv", "ce", "os",
    "sah", "udm", "kv",
];

/// Languages written in Latin letters when the tag names no script.
const LATIN: &[&str] = &[
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "sl", "hr", "bs", "sv", "no", "nb",
    "nn", "da", "fi", "hu", "ro", "tr", "et", "lv", "lt", "id", "ms", "vi", "ca", "eu", "gl", "ga",
    "is", "sq", "af", "sw", "tl", "uz", "az", "mt", "cy", "lb", "eo", "la",
];

/// The script of a tag: its script subtag (`sr-Latn`), else its language's usual one; None
/// for other scripts and languages not listed.
pub fn script(tag: &str) -> Option<Script> {
    let subtag = tag
        .split(['-', '_'])
        .skip(1)
        .find(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_alphabetic()));
    if let Some(sub) = subtag {
        return match sub.to_ascii_lowercase().as_str() {
            "cyrl" => Some(Script::Cyrillic),
            "latn" => Some(Script::Latin),
            _ => None,
        };
    }
    let lang = tag
        .split(['-', '_'])
        .next()
        .unwrap_or(tag)
        .to_ascii_lowercase();
    if CYRILLIC.contains(&lang.as_str()) {
        Some(Script::Cyrillic)
    } else if LATIN.contains(&lang.as_str()) {
        Some(Script::Latin)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_letter_codes_and_pairs() {
        assert_eq!(normalize("rus").unwrap(), "ru");
        assert_eq!(normalize("ENG-gb").unwrap(), "en-GB");
        assert_eq!(normalize("yue").unwrap(), "yue", "no two-letter code: kept");
        assert_eq!(pair("rus-eng").unwrap(), ("ru".into(), "en".into()));
        assert_eq!(
            pair("en-US:fr-CA").unwrap(),
            ("en-US".into(), "fr-CA".into())
        );
        assert!(pair("ru").unwrap_err().contains("is not a pair"));
    }

    #[test]
    fn normalizes_case_and_separators() {
        assert_eq!(normalize("EN").unwrap(), "en");
        assert_eq!(normalize("en-us").unwrap(), "en-US");
        assert_eq!(normalize("en_GB").unwrap(), "en-GB");
        assert_eq!(normalize("zh-hant-tw").unwrap(), "zh-Hant-TW");
        assert_eq!(normalize("es-419").unwrap(), "es-419");
        assert_eq!(primary("fr-CA"), "fr");
    }

    #[test]
    fn rejects_what_is_not_a_tag() {
        for t in ["", "r", "russian", "ru-", "1a", "ru en", "*all*"] {
            assert!(normalize(t).is_err(), "{t}");
        }
    }

    #[test]
    fn scripts_from_the_language_or_the_subtag() {
        assert_eq!(script("ru"), Some(Script::Cyrillic));
        assert_eq!(script("uk-UA"), Some(Script::Cyrillic));
        assert_eq!(script("en_GB"), Some(Script::Latin));
        assert_eq!(script("sr-Latn"), Some(Script::Latin));
        assert_eq!(script("uz-Cyrl"), Some(Script::Cyrillic));
        assert_eq!(script("zh"), None);
        assert_eq!(script("ja-Jpan"), None);
    }
}
