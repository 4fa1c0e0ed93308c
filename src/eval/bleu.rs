//! Corpus BLEU as sacrebleu computes it by default: 13a tokenization, n-grams up to 4, one
//! reference per segment, brevity penalty, "exp" smoothing (mteval-v13a's).

use regex::Regex;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;

const ORDER: usize = 4;

#[derive(Debug, Clone, Serialize)]
pub struct Bleu {
    pub score: f64,
    pub precisions: [f64; ORDER],
    pub brevity_penalty: f64,
    pub sys_len: usize,
    pub ref_len: usize,
}

/// mteval-v13a tokenization (sacrebleu's `Tokenizer13a`).
pub fn tokenize_13a(line: &str) -> Vec<String> {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (r"([\{-~\[-`\x20-&\(-\+:-@/])", " $1 "),
            (r"([^0-9])([\.,])", "$1 $2 "),
            (r"([\.,])([^0-9])", " $1 $2"),
            (r"([0-9])(-)", "$1 $2 "),
        ]
        .into_iter()
        .map(|(re, to)| (Regex::new(re).expect("a valid pattern"), to))
        .collect()
    });
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let mut line = format!(" {line} ");
    for (re, to) in rules {
        line = re.replace_all(&line, *to).into_owned();
    }
    line.split_whitespace().map(str::to_owned).collect()
}

fn ngrams(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut m = HashMap::new();
    if tokens.len() >= n {
        for w in tokens.windows(n) {
            *m.entry(w).or_default() += 1;
        }
    }
    m
}

/// Corpus BLEU of `hyps` against `refs` (one reference per hypothesis).
pub fn corpus_bleu(hyps: &[&str], refs: &[&str]) -> Bleu {
    let mut correct = [0usize; ORDER];
    let mut total = [0usize; ORDER];
    let (mut sys_len, mut ref_len) = (0, 0);
    for (h, r) in hyps.iter().zip(refs) {
        // sacrebleu strips trailing whitespace before tokenizing.
        let h = tokenize_13a(h.trim_end());
        let r = tokenize_13a(r.trim_end());
        sys_len += h.len();
        ref_len += r.len();
        for n in 1..=ORDER {
            let hn = ngrams(&h, n);
            let rn = ngrams(&r, n);
            correct[n - 1] += hn
                .iter()
                .map(|(g, c)| (*c).min(rn.get(g).copied().unwrap_or(0)))
                .sum::<usize>();
            total[n - 1] += h.len().saturating_sub(n - 1);
        }
    }
    let bp = if sys_len < ref_len {
        if sys_len > 0 {
            (1.0 - ref_len as f64 / sys_len as f64).exp()
        } else {
            0.0
        }
    } else {
        1.0
    };
    let mut precisions = [0.0; ORDER];
    if correct.iter().all(|&c| c == 0) {
        return Bleu {
            score: 0.0,
            precisions,
            brevity_penalty: bp,
            sys_len,
            ref_len,
        };
    }
    let mut smooth = 1.0;
    for n in 0..ORDER {
        if total[n] == 0 {
            break;
        }
        precisions[n] = if correct[n] == 0 {
            smooth *= 2.0;
            100.0 / (smooth * total[n] as f64)
        } else {
            100.0 * correct[n] as f64 / total[n] as f64
        };
    }
    let log = |p: f64| if p == 0.0 { -9_999_999_999.0 } else { p.ln() };
    let score = bp * (precisions.iter().map(|&p| log(p)).sum::<f64>() / ORDER as f64).exp();
    Bleu {
        score,
        precisions,
        brevity_penalty: bp,
        sys_len,
        ref_len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_like_mteval_13a() {
        // The expected tokens are sacrebleu 2.4.3's Tokenizer13a output for the same line.
        assert_eq!(
            tokenize_13a("He said: \"3.5% of 1,000 cars\" - (that's it)... 2-3 &amp; U.S."),
            [
                "He", "said", ":", "\"", "3.5", "%", "of", "1,000", "cars", "\"", "-", "(",
                "that's", "it", ")", ".", ".", ".", "2", "-", "3", "&", "U", ".", "S", "."
            ]
        );
    }

    #[test]
    fn identical_text_scores_100_and_nothing_scores_0() {
        let s = ["The cat sat on the mat today."];
        assert!((corpus_bleu(&s, &s).score - 100.0).abs() < 1e-9);
        assert_eq!(corpus_bleu(&["xyz"], &["abc def"]).score, 0.0);
    }
}
