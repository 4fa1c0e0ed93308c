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

/// The primary language subtag: `en` for `en-GB`.
pub fn primary(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
