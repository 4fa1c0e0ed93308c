//! Quality scores, computed exactly as the reference implementations do: BLEU and chrF as
//! sacrebleu 2.4 (13a tokenization, exp smoothing; chrF with char order 6, β 2), ROUGE-1/2/L
//! F1 as Google's rouge-score 0.1.2 (no stemming). Checked against their output in tests.

pub mod bleu;
pub mod chrf;
pub mod rouge;

#[cfg(test)]
mod reference {
    //! Against sacrebleu 2.4.3 and rouge-score 0.1.2 on texts written for these tests
    //! (`tests/fixtures/eval/make_expected.py` made `expected.json`).

    use serde_json::Value;

    fn fixture(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/eval")
            .join(name);
        std::fs::read_to_string(p).unwrap()
    }

    fn close(ours: f64, theirs: &Value, what: &str) {
        let theirs = theirs.as_f64().unwrap();
        assert!(
            (ours - theirs).abs() < 0.01,
            "{what}: babeldesk {ours}, reference {theirs}"
        );
    }

    #[test]
    fn bleu_and_chrf_agree_with_sacrebleu() {
        let expected: Value = serde_json::from_str(&fixture("expected.json")).unwrap();
        let refs_text = fixture("ref.txt");
        let refs: Vec<&str> = refs_text.lines().collect();
        for hyp in ["hyp-a.txt", "hyp-b.txt"] {
            let text = fixture(hyp);
            let hyps: Vec<&str> = text.lines().collect();
            let want = &expected["translation"][hyp];
            close(
                super::bleu::corpus_bleu(&hyps, &refs).score,
                &want["bleu"],
                hyp,
            );
            close(super::chrf::corpus_chrf(&hyps, &refs), &want["chrf"], hyp);
        }
        for case in expected["single"].as_array().unwrap() {
            let (h, r) = (case["hyp"].as_str().unwrap(), case["ref"].as_str().unwrap());
            close(super::bleu::corpus_bleu(&[h], &[r]).score, &case["bleu"], h);
            close(super::chrf::corpus_chrf(&[h], &[r]), &case["chrf"], h);
        }
    }

    #[test]
    fn rouge_agrees_with_rouge_score() {
        let expected: Value = serde_json::from_str(&fixture("expected.json")).unwrap();
        let (t, p) = (fixture("summaries-ref.txt"), fixture("summaries-pred.txt"));
        for ((t, p), want) in t
            .lines()
            .zip(p.lines())
            .zip(expected["rouge"].as_array().unwrap())
        {
            let r = super::rouge::score(t, p);
            close(r.rouge1, &want["rouge1"], "rouge1");
            close(r.rouge2, &want["rouge2"], "rouge2");
            close(r.rouge_l, &want["rougeL"], "rougeL");
        }
    }
}
