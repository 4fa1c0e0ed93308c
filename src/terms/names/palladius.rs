//! The Palladius syllable table (Russian Cyrillic ↔ pinyin) and the splitting of a word into
//! its syllables. The table is `palladius.tsv`: one syllable a line, `cyrillic<TAB>pinyin`,
//! a third column `alt` marks a spelling the Russian press uses besides the standard one
//! (е for э: Чен, Шень, Вей; мынь in Аомынь, Сямынь).

use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("palladius.tsv");

/// The longest Cyrillic syllable, in chars (чжуань, цзюань).
const MAX_CHARS: usize = 6;

/// Characters that split a word into parts: the hyphen of old forms (Цзэ-дун) and the hard
/// sign Palladius writes between н (ng) and a vowel (Чанъань). A syllable never crosses them.
pub fn is_boundary(c: char) -> bool {
    c == '-' || c == 'ъ'
}

fn is_vowel(c: char) -> bool {
    "аеёиоуыэюя".contains(c)
}

/// The table, Cyrillic syllable → pinyin, parsed once.
fn table() -> &'static HashMap<&'static str, &'static str> {
    static CELL: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    CELL.get_or_init(|| {
        TABLE
            .lines()
            .filter_map(|line| {
                let mut cols = line.split('\t');
                Some((cols.next()?, cols.next()?))
            })
            .collect()
    })
}

/// The pinyin of one Cyrillic syllable.
pub fn syllable(cyrillic: &str) -> Option<&'static str> {
    table().get(cyrillic).copied()
}

/// The standard spellings and the secondary ones, in table order, for tests.
#[cfg(test)]
pub fn entries() -> Vec<(&'static str, &'static str, bool)> {
    TABLE
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[0], c[1], c.get(2) == Some(&"alt"))
        })
        .collect()
}

/// Splits a lower-cased word into pinyin syllables, or None when it does not split fully.
/// Among complete splits the fewest syllables win (хуан is huang, not hu+an); ties go to the
/// longest first syllable (цзяоу is jiao+wu, not jia+ou). A syllable ending in н (ng) is
/// never followed by one starting with a vowel: Palladius writes ъ there (Чанъань), so
/// "Куньшаня" is not kun+shang+ya.
pub fn split(word: &str) -> Option<Vec<&'static str>> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let n = chars.len();
    let byte = |i: usize| chars.get(i).map_or(word.len(), |c| c.0);
    // best[i]: (syllables, next position, pinyin) of the best split of chars[i..].
    let mut best: Vec<Option<(usize, usize, &'static str)>> = vec![None; n + 1];
    best[n] = Some((0, n, ""));
    for i in (0..n).rev() {
        if is_boundary(chars[i].1) {
            // Not at either end, never two in a row: "-дун" and "цзэ--дун" do not split.
            let inner = i > 0 && i + 1 < n && !is_boundary(chars[i + 1].1);
            best[i] = best[i + 1]
                .filter(|_| inner)
                .map(|(k, _, _)| (k, i + 1, ""));
            continue;
        }
        for j in (i + 1..=(i + MAX_CHARS).min(n)).rev() {
            let Some((k, _, _)) = best[j] else { continue };
            if chars[i..j].iter().any(|c| is_boundary(c.1)) {
                continue;
            }
            if chars[j - 1].1 == 'н' && j < n && is_vowel(chars[j].1) {
                continue;
            }
            let Some(p) = syllable(&word[byte(i)..byte(j)]) else {
                continue;
            };
            // Strictly fewer: among equals the longer first syllable, tried first, stays.
            let better = match best[i] {
                Some((b, _, _)) => k + 1 < b,
                None => true,
            };
            if better {
                best[i] = Some((k + 1, j, p));
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let (_, next, p) = best[i]?;
        if !p.is_empty() {
            out.push(p);
        }
        i = next;
    }
    (!out.is_empty()).then_some(out)
}

/// Pinyin syllables written as one word: an apostrophe before a syllable that starts with
/// a, o or e inside the word (Xi'an, Chang'an), the first letter capitalized.
pub fn join(syllables: &[&str]) -> String {
    let mut out = String::new();
    for (k, s) in syllables.iter().enumerate() {
        if k > 0 && s.starts_with(['a', 'o', 'e']) {
            out.push('\'');
        }
        out.push_str(s);
    }
    capitalize(&out)
}

/// The first letter upper-cased, the rest as they are.
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn pinyin(word: &str) -> Option<String> {
        split(word).map(|s| join(&s))
    }

    #[test]
    fn the_table_is_complete_and_unambiguous() {
        let rows = entries();
        let standard: Vec<_> = rows.iter().filter(|r| !r.2).collect();
        // Every standard pinyin syllable once (lo, yo and the interjections left out).
        assert_eq!(standard.len(), 408);
        let cyrillic: HashSet<&str> = rows.iter().map(|r| r.0).collect();
        assert_eq!(cyrillic.len(), rows.len(), "a Cyrillic syllable twice");
        let py: HashSet<&str> = standard.iter().map(|r| r.1).collect();
        assert_eq!(py.len(), standard.len(), "a pinyin syllable twice");
        // Secondary spellings only spell syllables the standard table has.
        assert!(rows.iter().filter(|r| r.2).all(|r| py.contains(r.1)));
        assert!(rows.iter().all(|r| r.0.chars().count() <= MAX_CHARS));
    }

    #[test]
    fn each_initial_series_reads_right() {
        let cases = [
            ("ба", "ba"),
            ("пянь", "pian"),
            ("мяо", "miao"),
            ("фоу", "fou"),
            ("дуань", "duan"),
            ("тэн", "teng"),
            ("нюй", "nü"),
            ("люэ", "lüe"),
            ("гуан", "guang"),
            ("куй", "kui"),
            ("хуэй", "hui"),
            ("цзюань", "juan"),
            ("цзюнь", "jun"),
            ("цзюй", "ju"),
            ("цзы", "zi"),
            ("цзун", "zong"),
            ("цзо", "zuo"),
            ("цзэ", "ze"),
            ("цзе", "jie"),
            ("ци", "qi"),
            ("цы", "ci"),
            ("цюй", "qu"),
            ("цуй", "cui"),
            ("си", "xi"),
            ("сы", "si"),
            ("сюэ", "xue"),
            ("сун", "song"),
            ("сюн", "xiong"),
            ("чжуан", "zhuang"),
            ("чжо", "zhuo"),
            ("чунь", "chun"),
            ("чо", "chuo"),
            ("шэй", "shei"),
            ("жэнь", "ren"),
            ("жо", "ruo"),
            ("эр", "er"),
            ("оу", "ou"),
            ("и", "yi"),
            ("е", "ye"),
            ("юэ", "yue"),
            ("юн", "yong"),
            ("ю", "you"),
            ("юй", "yu"),
            ("у", "wu"),
            ("вэнь", "wen"),
            ("во", "wo"),
            ("мынь", "men"),
            ("чен", "cheng"),
            ("вей", "wei"),
            ("хе", "he"),
        ];
        for (cyr, py) in cases {
            assert_eq!(syllable(cyr), Some(py), "{cyr}");
        }
    }

    #[test]
    fn fewest_syllables_then_longest_first() {
        assert_eq!(pinyin("хуан").as_deref(), Some("Huang"));
        assert_eq!(pinyin("ляонин").as_deref(), Some("Liaoning"));
        // A tie of two syllables: jiao+wu before jia+ou.
        assert_eq!(split("цзяоу"), Some(vec!["jiao", "wu"]));
        assert_eq!(split("сяоэр"), Some(vec!["xiao", "er"]));
    }

    #[test]
    fn no_syllable_boundary_between_n_and_a_vowel() {
        // kun+shang+ya would need Куньшанъя.
        assert_eq!(split("куньшаня"), None);
        assert_eq!(pinyin("санья").as_deref(), Some("Sanya"));
        assert_eq!(pinyin("чанъань").as_deref(), Some("Chang'an"));
        assert_eq!(pinyin("синин").as_deref(), Some("Xining"));
    }

    #[test]
    fn apostrophes_and_boundaries() {
        assert_eq!(pinyin("сиань").as_deref(), Some("Xi'an"));
        assert_eq!(pinyin("тяньаньмэнь").as_deref(), Some("Tian'anmen"));
        assert_eq!(pinyin("цзэ-дун").as_deref(), Some("Zedong"));
        for bad in ["-дун", "цзэ-", "цзэ--дун", "ъань", "москва", ""] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
