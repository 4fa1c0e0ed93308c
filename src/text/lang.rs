//! Language identification by script and stop words: enough to tell Russian from English (the
//! languages babeldesk has models for), and to say "unknown" rather than guess.

/// BCP-47 code of the dominant language, or `None` when the text gives too little evidence.
pub fn detect(text: &str) -> Option<&'static str> {
    let (mut cyrillic, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            'а'..='я' | 'А'..='Я' | 'ё' | 'Ё' | 'і' | 'ї' | 'є' | 'ґ' => cyrillic += 1,
            'a'..='z' | 'A'..='Z' => latin += 1,
            _ => {}
        }
    }
    let letters = cyrillic + latin;
    if letters < 3 {
        return None;
    }
    if cyrillic * 10 >= letters * 6 {
        // Ukrainian letters that Russian lacks.
        let uk = text
            .chars()
            .filter(|c| matches!(c, 'і' | 'ї' | 'є' | 'ґ' | 'І' | 'Ї' | 'Є'))
            .count();
        return Some(if uk * 50 > cyrillic { "uk" } else { "ru" });
    }
    if latin * 10 >= letters * 6 {
        let lower = text.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .collect();
        let english = words
            .iter()
            .filter(|w| {
                matches!(
                    **w,
                    "the"
                        | "and"
                        | "of"
                        | "to"
                        | "in"
                        | "is"
                        | "was"
                        | "for"
                        | "that"
                        | "with"
                        | "on"
                        | "said"
                        | "a"
                )
            })
            .count();
        if words.len() < 8 || english * 20 >= words.len() {
            return Some("en");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn tells_russian_from_english() {
        assert_eq!(
            detect("Парламент отклонил поправку, сообщили в Киеве."),
            Some("ru")
        );
        assert_eq!(
            detect("The parliament rejected the amendment on Tuesday."),
            Some("en")
        );
        assert_eq!(
            detect("Der Bundestag hat gestern über die neue Regelung abgestimmt, sagte er."),
            None
        );
        assert_eq!(detect("12 34 —"), None);
    }
}
