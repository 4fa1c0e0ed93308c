//! How long a summary may be, and what that means for each method: a number of sentences for
//! extractive summaries, a generation length in tokens for abstractive ones.

/// How long a summary may be.
#[derive(Debug, Clone, Copy, Default)]
pub struct Length {
    pub sentences: Option<usize>,
    pub ratio: Option<f32>,
    pub max_words: Option<usize>,
    pub min_words: Option<usize>,
}

impl Length {
    pub fn sentences(n: usize) -> Length {
        Length {
            sentences: Some(n),
            ..Length::default()
        }
    }

    /// How many sentences an extractive summary of `total` may pick: `sentences`, else `ratio`
    /// of the article (at least 1), else 3; no sentence limit when only `max_words` is set.
    pub fn sentence_budget(&self, total: usize) -> usize {
        match (self.sentences, self.ratio, self.max_words) {
            (None, None, Some(_)) => usize::MAX,
            (Some(n), _, _) => n.min(total),
            (None, Some(r), _) => ((total as f32 * r).round() as usize).clamp(1, total.max(1)),
            (None, None, None) => total.min(3),
        }
    }
}

/// The generation length, in tokens, for a summary of `words` words: BPE spends about 1.3
/// tokens on an English word; allow 2, and a little for special tokens.
pub fn tokens_for_words(words: usize) -> i64 {
    words as i64 * 2 + 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_budgets() {
        let ratio = |r| Length {
            ratio: Some(r),
            ..Length::default()
        };
        assert_eq!(ratio(0.2).sentence_budget(10), 2);
        assert_eq!(ratio(0.01).sentence_budget(10), 1);
        assert_eq!(Length::sentences(5).sentence_budget(2), 2);
        assert_eq!(Length::default().sentence_budget(10), 3);
        let words = Length {
            max_words: Some(20),
            ..Length::default()
        };
        assert_eq!(words.sentence_budget(10), usize::MAX);
        assert_eq!(tokens_for_words(10), 28);
    }
}
