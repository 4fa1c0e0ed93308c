//! Asking an instruct model, whatever runs it: the attempts made for one translation or
//! summary, and which answer is kept. The local llama.cpp engine (`babeldesk-llm`) and the
//! remote engine (an OpenAI-compatible server) both answer through [`Chat`], so the prompts,
//! the cleaning and the checks in [`super::prompt`] are one code path for both.
//!
//! Each answer is cleaned and checked. A bad one (empty, untranslated, runaway, refused) is
//! asked again once, plainly and greedily with a tight length cap; if that fails too the text
//! comes back with a problem instead of a translation, and the caller stores nothing for it.

use super::prompt::{self, Message};
use super::protocol::{Hint, TokenCounts};
use std::time::Instant;

/// How to pick tokens. Both are deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoding {
    /// Greedy, with a mild penalty on tokens repeated in the last [`PENALTY_LAST_N`]
    /// generated: keeps small models out of loops.
    Guarded,
    /// Plain greedy: the retry.
    Greedy,
}

/// The guarded decoding's repeat penalty and how many recent tokens it looks at.
pub const REPEAT_PENALTY: f32 = 1.1;
pub const PENALTY_LAST_N: i32 = 64;

/// One raw answer from a model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub text: String,
    /// Prompt tokens the model had to read (not in its cache already).
    pub read_tokens: usize,
    pub generated: usize,
    /// Generation stopped at the token cap instead of ending by itself.
    pub hit_limit: bool,
    /// Why there is no usable text although the model answered (a server's refusal, an
    /// answer without a message): a problem for the checks, not an error.
    pub refused: Option<String>,
}

/// Whatever runs the model: one chat in, one completion out.
pub trait Chat {
    type Error;
    fn complete(
        &mut self,
        messages: &[Message],
        max_tokens: usize,
        decoding: Decoding,
    ) -> Result<Completion, Self::Error>;
    /// Tokens `text` takes (an estimate where the runtime cannot say).
    fn count(&self, text: &str) -> usize;
}

/// One answer: the text, or what was wrong with it, and the tokens it took.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    pub text: String,
    pub problem: Option<String>,
    pub tokens: TokenCounts,
}

/// `text` translated from `from` into `to`, with what the memory and the termbase know.
pub fn translate<C: Chat>(
    chat: &mut C,
    from: &str,
    to: &str,
    text: &str,
    hint: &Hint,
) -> Result<Answer, C::Error> {
    let n = chat.count(text);
    let judge = |out: &Completion| {
        let cleaned = prompt::clean_translation(text, &out.text);
        match prompt::check_translation(text, &cleaned, from, to, out.hit_limit) {
            None => Ok(cleaned),
            Some(problem) => Err(problem),
        }
    };
    // The retry: no examples to copy from, plain greedy, a cap near the source's length; the
    // required renderings stay.
    let plain = Hint {
        terms: hint.terms.clone(),
        ..Hint::default()
    };
    let attempts = vec![
        (
            prompt::translation_messages(from, to, text, hint),
            3 * n + 32,
            Decoding::Guarded,
        ),
        (
            prompt::translation_messages(from, to, text, &plain),
            2 * n + 16,
            Decoding::Greedy,
        ),
    ];
    let mut first = answer(chat, attempts, judge)?;
    let missed = prompt::missed_renderings(&first.text, &hint.terms);
    if first.problem.is_some() || missed.is_empty() {
        return Ok(first);
    }
    // A usable answer that left out a required term (or used a forbidden one): asked once
    // more with the renderings stressed; the answer that misses fewer is kept.
    let stressed = prompt::stressed_messages(from, to, text, hint, &missed);
    let again = answer(chat, vec![(stressed, 3 * n + 32, Decoding::Greedy)], judge)?;
    first.tokens += again.tokens;
    if again.problem.is_none()
        && prompt::missed_renderings(&again.text, &hint.terms).len() < missed.len()
    {
        first.text = again.text;
    }
    Ok(first)
}

/// A summary of `text` in `lang`, within `max_words`.
pub fn summarize<C: Chat>(
    chat: &mut C,
    lang: &str,
    text: &str,
    max_words: usize,
) -> Result<Answer, C::Error> {
    let messages = prompt::summary_messages(lang, text, max_words);
    // Words are about 1.5 tokens; the cap leaves room for a sentence the budget then cuts.
    let attempts = vec![
        (messages.clone(), 2 * max_words + 48, Decoding::Guarded),
        (messages, 2 * max_words, Decoding::Greedy),
    ];
    answer(chat, attempts, |out| {
        let raw = prompt::clean_summary(&out.text, usize::MAX);
        let cleaned = prompt::clean_summary(&out.text, max_words);
        match prompt::check_summary(&raw, &cleaned, lang) {
            None => Ok(cleaned),
            Some(problem) => Err(problem),
        }
    })
}

/// Ask each attempt in turn until `judge` accepts an answer (Ok: the text to keep, Err: what
/// is wrong with it); the last problem when none is accepted. A refused answer is a problem.
fn answer<C: Chat>(
    chat: &mut C,
    attempts: Vec<(Vec<Message>, usize, Decoding)>,
    judge: impl Fn(&Completion) -> Result<String, String>,
) -> Result<Answer, C::Error> {
    let mut tokens = TokenCounts::default();
    let mut problem = None;
    for (messages, cap, decoding) in attempts {
        let started = Instant::now();
        let out = chat.complete(&messages, cap, decoding)?;
        tokens += TokenCounts {
            prompt: out.read_tokens as u64,
            generated: out.generated as u64,
            millis: started.elapsed().as_millis() as u64,
        };
        let verdict = match &out.refused {
            Some(why) => Err(why.clone()),
            None => judge(&out),
        };
        match verdict {
            Ok(text) => {
                return Ok(Answer {
                    text,
                    problem: None,
                    tokens,
                })
            }
            Err(p) => problem = Some(p),
        }
    }
    Ok(Answer {
        text: String::new(),
        problem,
        tokens,
    })
}

#[cfg(test)]
mod tests {
    //! The attempt logic against scripted answers; real models answer through it in the
    //! engines' own tests and the CLI suite.

    use super::*;

    /// Answers in turn from a list, recording the caps and decodings asked for.
    struct Scripted {
        answers: Vec<Completion>,
        asked: Vec<(usize, Decoding, String)>,
    }

    impl Chat for Scripted {
        type Error = String;
        fn complete(
            &mut self,
            messages: &[Message],
            max_tokens: usize,
            decoding: Decoding,
        ) -> Result<Completion, String> {
            self.asked
                .push((max_tokens, decoding, messages[1].1.clone()));
            if self.answers.is_empty() {
                return Err("no more answers".into());
            }
            Ok(self.answers.remove(0))
        }
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
    }

    fn said(text: &str) -> Completion {
        Completion {
            text: text.into(),
            read_tokens: 10,
            generated: 3,
            ..Completion::default()
        }
    }

    #[test]
    fn a_bad_answer_is_asked_again_plainly_and_the_second_kept() {
        let mut chat = Scripted {
            answers: vec![said("Доброе утро."), said("Good morning.")],
            asked: Vec::new(),
        };
        let a = translate(&mut chat, "ru", "en", "Доброе утро.", &Hint::default()).unwrap();
        assert_eq!((a.text.as_str(), a.problem), ("Good morning.", None));
        assert_eq!(a.tokens.prompt, 20);
        let caps: Vec<_> = chat.asked.iter().map(|(c, d, _)| (*c, *d)).collect();
        assert_eq!(caps, [(38, Decoding::Guarded), (20, Decoding::Greedy)]);
    }

    #[test]
    fn a_refusal_is_a_problem_and_errors_pass_through() {
        let refused = Completion {
            refused: Some("the server refused: content filter".into()),
            ..said("Good morning.")
        };
        let mut chat = Scripted {
            answers: vec![refused.clone(), refused],
            asked: Vec::new(),
        };
        let a = translate(&mut chat, "ru", "en", "Доброе утро.", &Hint::default()).unwrap();
        assert_eq!(a.text, "");
        assert_eq!(
            a.problem.as_deref(),
            Some("the server refused: content filter")
        );
        let mut gone = Scripted {
            answers: Vec::new(),
            asked: Vec::new(),
        };
        assert_eq!(
            summarize(&mut gone, "en", "text", 40).unwrap_err(),
            "no more answers"
        );
    }
}
