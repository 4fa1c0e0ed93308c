//! Cutting text at word boundaries: the one rule for slicing a text that is too long for a
//! model, and for cutting a summary to a word budget.

/// `text` cut into runs of an equal number of words, each about `budget` of the text's
/// `tokens` tokens (a model's limit, when one sentence is over it).
pub fn equal_slices(text: &str, tokens: usize, budget: usize) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let per = (words.len() * budget / tokens.max(1)).max(1);
    words.chunks(per).map(|w| w.join(" ")).collect()
}

/// The start of `text` up to the end of its `max_words`-th word (all of it when shorter): a
/// slice of the original, so byte ranges stay true.
pub fn first_words(text: &str, max_words: usize) -> &str {
    let mut seen = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word && seen == max_words {
                return &text[..i];
            }
            in_word = false;
        } else if !in_word {
            in_word = true;
            seen += 1;
        }
    }
    text
}

/// Cut a text to at most `max_words` words, at the last sentence end that fits (or at a word
/// boundary when no sentence fits).
pub fn trim_to_words(text: &str, max_words: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= max_words {
        return words.join(" ");
    }
    let kept = &words[..max_words];
    match kept
        .iter()
        .rposition(|w| w.ends_with(['.', '!', '?', '…']) || w.ends_with(".\"") || w.ends_with(".»"))
    {
        Some(last) => kept[..=last].join(" "),
        None => kept.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_at_sentence_ends_then_words() {
        assert_eq!(
            trim_to_words("One two. Three four five. Six", 5),
            "One two. Three four five."
        );
        assert_eq!(trim_to_words("one two three", 2), "one two");
        assert_eq!(trim_to_words("  short  text ", 9), "short text");
    }

    #[test]
    fn first_words_is_a_slice_of_the_text() {
        assert_eq!(first_words("one  two three", 2), "one  two");
        assert_eq!(first_words("  one two", 1), "  one");
        assert_eq!(first_words("one two", 5), "one two");
        assert_eq!(first_words("один два три", 2), "один два");
    }

    #[test]
    fn slices_are_equal_and_lose_no_word() {
        let text = "a b c d e f g h i j";
        let s = equal_slices(text, 20, 8);
        assert_eq!(s, vec!["a b c d", "e f g h", "i j"]);
        assert_eq!(s.join(" "), text);
        assert_eq!(equal_slices("one", 100, 1), vec!["one"]);
    }
}
