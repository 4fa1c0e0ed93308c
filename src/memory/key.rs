//! The normalized source key, word tokens and stable hashes. Pure functions: no SQL here.
//!
//! The key folds what should not stop a segment from being found again:
//! - whitespace runs (incl. no-break and thin spaces) become one space, ends trimmed;
//! - quotes (« » „ “ ” " ‘ ’ ‚ ` ′ ″) become `"` or `'`, dashes and hyphens (‐ ‑ ‒ – — ― −) `-`;
//! - case is lowered, `ё` becomes `е`, combining accents (Russian stress marks) are dropped;
//! - every run of digits becomes `0`, so "3 млн" and "5 млн" share a key. Such a match still
//!   scores 99, not 100 ([`super::score`]), so a number is never reused wrongly.
//!
//! Word tokens are the runs of letters and digits of the key; punctuation is not a token.

/// The normalized key of a segment (see the module documentation).
pub fn key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut in_number = false;
    for c in text.chars() {
        // Most characters are plain letters: skip the Unicode tables for them.
        if c.is_ascii_alphabetic() || ('\u{0400}'..='\u{045F}').contains(&c) {
            in_number = false;
            if std::mem::take(&mut space) {
                out.push(' ');
            }
            match c {
                'ё' | 'Ё' => out.push('е'),
                _ => push_lower(&mut out, c),
            }
            continue;
        }
        if c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}') {
            space = !out.is_empty();
            in_number = false;
            continue;
        }
        if ('\u{0300}'..='\u{036F}').contains(&c) {
            continue;
        }
        if c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric()) {
            if !in_number {
                if std::mem::take(&mut space) {
                    out.push(' ');
                }
                out.push('0');
            }
            in_number = true;
            continue;
        }
        in_number = false;
        if std::mem::take(&mut space) {
            out.push(' ');
        }
        match c {
            '«' | '»' | '„' | '“' | '”' | '‟' | '″' | '"' => out.push('"'),
            '‘' | '’' | '‚' | '‛' | '′' | '`' | '\'' => out.push('\''),
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' => out.push('-'),
            'ё' | 'Ё' => out.push('е'),
            _ => push_lower(&mut out, c),
        }
    }
    out
}

/// Lower case with fast paths for ASCII and Cyrillic (most of what a TM holds here).
fn push_lower(out: &mut String, c: char) {
    match c {
        'A'..='Z' => out.push(c.to_ascii_lowercase()),
        '\u{0410}'..='\u{042F}' => out.push(char::from_u32(c as u32 + 0x20).unwrap_or(c)),
        '\u{0400}'..='\u{040F}' => out.push(char::from_u32(c as u32 + 0x50).unwrap_or(c)),
        _ if c.is_ascii() || ('\u{0430}'..='\u{045F}').contains(&c) => out.push(c),
        _ => out.extend(c.to_lowercase()),
    }
}

/// A letter or digit; fast for ASCII and basic Cyrillic.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if ('\u{0400}'..='\u{045F}').contains(&c) {
        true
    } else {
        c.is_alphanumeric()
    }
}

/// Word tokens of a key: runs of letters and digits.
pub fn tokens(key: &str) -> impl Iterator<Item = &str> {
    key.split(|c: char| !is_word_char(c))
        .filter(|t| !t.is_empty())
}

/// The digit runs of the original text, to tell "3 млн" from "5 млн" after the key folded them.
pub fn numbers(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_numeric())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The punctuation of a key (everything that is neither a token nor a space), in order.
pub fn punctuation(key: &str) -> String {
    key.chars()
        .filter(|c| !is_word_char(*c) && *c != ' ')
        .collect()
}

/// 64-bit FNV-1a: stable across versions and platforms, which `std`'s hasher is not.
pub fn hash(parts: &[&str]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0xff; // a separator no UTF-8 text contains
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h as i64
}

/// The context hash stored for a neighbouring segment: the hash of its key, in hex.
pub fn context_hash(neighbour: &str) -> String {
    format!("{:016x}", hash(&[&key(neighbour)]) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_space_quotes_dashes_case_digits() {
        assert_eq!(
            key("  «Газпром»\u{a0}— это   3,5 млн  "),
            "\"газпром\" - это 0,0 млн"
        );
        assert_eq!(key("It’s “OK” – 2024"), key("it's \"ok\" - 1999"));
        assert_eq!(key("Ёлка заво\u{301}д"), "елка завод");
        assert_eq!(key(""), "");
        assert_eq!(key(" \t\n"), "");
    }

    #[test]
    fn tokens_are_words_and_numbers() {
        let k = key("Mr. Smith paid $3.50, didn't he?");
        assert_eq!(
            tokens(&k).collect::<Vec<_>>(),
            ["mr", "smith", "paid", "0", "0", "didn", "t", "he"]
        );
        assert_eq!(numbers("3.50 и 12"), ["3", "50", "12"]);
        assert_eq!(punctuation(&k), ".$.,'?");
    }

    /// Keys, hashes and context hashes are stored in users' databases (`source_key`, the
    /// identity hash, `prev_hash`/`next_hash`): a change to any of them must break this test.
    /// The single-part values are the published FNV-1a 64 test vectors ("" is the offset
    /// basis); the others were computed once with an independent Python FNV-1a.
    #[test]
    fn hash_is_stable_and_separates_parts() {
        assert_eq!(hash(&[""]) as u64, 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(&["a"]) as u64, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(&["foobar"]) as u64, 0x8594_4171_f739_67e8);
        assert_eq!(hash(&["a"]), -5_808_556_873_153_909_620);
        // Parts are joined by a 0xff byte, so moving the boundary changes the hash.
        assert_eq!(hash(&["ab", "c"]), -147_597_874_251_972_572);
        assert_eq!(hash(&["a", "bc"]), -3_263_995_368_054_400_554);
        assert_eq!(hash(&["завод"]), 7_967_022_883_254_268_448);
        // The context hash is the hash of the neighbour's key, in 16 hex digits.
        assert_eq!(context_hash("Hello"), "a430d84680aabd0b");
        assert_eq!(context_hash("  hello "), "a430d84680aabd0b");
        assert_eq!(context_hash("«Газпром» — это 3,5 млн"), "633d9b736b2d62fb");
        assert_eq!(context_hash(""), "cbf29ce484222325");
    }

    #[test]
    fn stored_keys_do_not_change() {
        for (text, stored) in [
            ("Завод открыли в 2024 году.", "завод открыли в 0 году."),
            ("ЁЖИК   в тумане", "ежик в тумане"),
            ("Цена — 3 500 руб.", "цена - 0 0 руб."),
            (
                "  \u{201e}Да\u{201c}, сказал он\u{2009}\u{2014} «нет»",
                "\"да\", сказал он - \"нет\"",
            ),
            ("It\u{2019}s 10\u{2013}12\u{00a0}km", "it's 0-0 km"),
        ] {
            assert_eq!(key(text), stored, "{text}");
        }
    }
}
