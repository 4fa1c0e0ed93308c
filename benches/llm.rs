//! `make bench-llm`: does showing the instruct model translation-memory matches as examples
//! help? Translates the first N sentences of newstest2013 (ru→en) with the installed GGUF
//! model three times, in one run: plain, with examples from a memory built from newstest2012 (a
//! different year: no sentence of the test set is in it) scoring at least 50 (what `translate`
//! uses), and with weaker ones (at least 20). Reports chrF and BLEU for both, the
//! model's tokens/s, and how many sentences had an example.
//!
//!     cargo bench --bench llm -- --sentences 200 [--model ID]

mod common;

use std::path::{Path, PathBuf};

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = repo.join("../shared/data/parallel/ru-en");
    if !data.join("newstest2013.ru").is_file() {
        println!("skipped: {} is missing", data.display());
        return;
    }
    let n = common::arg("--sentences", 200);
    let argv: Vec<String> = std::env::args().collect();
    let model = argv
        .iter()
        .position(|a| a == "--model")
        .and_then(|i| argv.get(i + 1).cloned())
        .unwrap_or_else(|| "qwen2.5-coder-1.5b-instruct-q4km".into());
    // BABELDESK_BIN: a copy of the binaries, so rebuilding during a long run changes nothing.
    let bin = std::env::var_os("BABELDESK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/release/babeldesk"));
    let work = tempfile::tempdir().unwrap();
    let db = work.path().join("newstest2012.sqlite");

    // The memory: every newstest2012 pair.
    let ru = common::lines(&data.join("newstest2012.ru"));
    let en = common::lines(&data.join("newstest2012.en"));
    let tmx = work.path().join("newstest2012.tmx");
    common::write_tmx(&tmx, ru.into_iter().zip(en));
    common::babeldesk(&bin, &db, &["memory", "import", tmx.to_str().unwrap()]);

    // The test set: the first n lines.
    let cut = |name: &str| -> PathBuf {
        let p = work.path().join(name);
        let lines = common::lines(&data.join(name));
        std::fs::write(&p, lines[..n.min(lines.len())].join("\n") + "\n").unwrap();
        p
    };
    let (src, reference) = (cut("newstest2013.ru"), cut("newstest2013.en"));
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results");
    std::fs::create_dir_all(&results).unwrap();
    let hyp_file = |example_min: Option<u8>| {
        results.join(match example_min {
            None => "llm-hyp-plain.en".to_string(),
            Some(m) => format!("llm-hyp-examples{m}.en"),
        })
    };
    let eval = |example_min: Option<u8>| -> serde_json::Value {
        let mut args = vec![
            "eval".to_string(),
            "translate".into(),
            "--model".into(),
            model.clone(),
            "--src".into(),
            src.display().to_string(),
            "--ref".into(),
            reference.display().to_string(),
            "--from".into(),
            "ru".into(),
            "--format".into(),
            "json".into(),
            "-o".into(),
            hyp_file(example_min).display().to_string(),
        ];
        if let Some(min) = example_min {
            args.push("--examples-from".into());
            args.push(db.display().to_string());
            args.push("--example-min".into());
            args.push(min.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        serde_json::from_slice(&common::babeldesk(&bin, &db, &args)).expect("eval prints JSON")
    };
    println!("translating {n} newstest2013 sentences with {model}: without examples, then with memory matches scoring >= 50 (the translate default), then >= 20 …");
    let plain = eval(None);
    let with = eval(Some(50));
    let weak = eval(Some(20));
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut rows = Vec::new();
    for (label, run) in [(">= 50", &with), (">= 20", &weak)] {
        for (what, key) in [("chrF", "chrf"), ("BLEU", "bleu")] {
            rows.push((
                format!("{what}, {n} sent.: examples {label} vs none"),
                format!("{:.2}", f(run, key)),
                format!("{:.2}", f(&plain, key)),
                format!("{:+.2}", f(run, key) - f(&plain, key)),
            ));
        }
    }
    rows.push((
        "generated tokens/s: examples >= 50 vs none".into(),
        format!("{:.1}", f(&with, "generated_tokens_per_second")),
        format!("{:.1}", f(&plain, "generated_tokens_per_second")),
        format!(
            "{:.2}x",
            f(&with, "generated_tokens_per_second") / f(&plain, "generated_tokens_per_second")
        ),
    ));
    rows.push((
        "seconds per sentence: examples >= 50 vs none".into(),
        format!("{:.2}", f(&with, "seconds") / n as f64),
        format!("{:.2}", f(&plain, "seconds") / n as f64),
        format!("{:.2}x", f(&with, "seconds") / f(&plain, "seconds")),
    ));
    // Where the runs differ, and the scores on the sentences that had examples only.
    let plain_hyp = common::lines_all(&hyp_file(None));
    let refs = common::lines_all(&reference);
    let srcs = common::lines_all(&src);
    for (min, run) in [(50u8, &with), (20, &weak)] {
        let hyp = common::lines_all(&hyp_file(Some(min)));
        let had: Vec<usize> = run["examples_per_line"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_u64().unwrap_or(0) as usize).collect())
            .unwrap_or_default();
        let idx: Vec<usize> = (0..hyp.len())
            .filter(|&i| had.get(i).is_some_and(|&e| e > 0))
            .collect();
        let changed_without = (0..hyp.len())
            .filter(|&i| had.get(i) == Some(&0) && hyp.get(i) != plain_hyp.get(i))
            .count();
        let score = |h: &[String]| -> (f64, f64) {
            let pick = |v: &[String], name: &str| {
                let p = work.path().join(name);
                let lines: Vec<&str> = idx.iter().map(|&i| v[i].as_str()).collect();
                std::fs::write(&p, lines.join("\n") + "\n").unwrap();
                p
            };
            if idx.is_empty() {
                return (f64::NAN, f64::NAN);
            }
            let (hp, rp, sp) = (
                pick(h, "sub.hyp"),
                pick(&refs, "sub.ref"),
                pick(&srcs, "sub.src"),
            );
            common::chrf_bleu(&bin, &db, &sp, &rp, &hp)
        };
        let (c1, b1) = score(&hyp);
        let (c0, b0) = score(&plain_hyp);
        println!(
            "examples >= {min}: {} sentences had one; on them chrF {c1:.2} vs {c0:.2} without, BLEU {b1:.2} vs {b0:.2}; sentences without examples whose translation changed: {changed_without} (should be 0: the same prompt gives the same answer)",
            idx.len()
        );
    }
    println!(
        "sentences with an example: {} of {n} (>= 50), {} (>= 20); failed: {} none / {} / {}",
        with["with_examples"],
        weak["with_examples"],
        plain["failed"],
        with["failed"],
        weak["failed"]
    );
    println!(
        "tokens read/written: with {} / {}, without {} / {}",
        with["tokens"]["prompt"],
        with["tokens"]["generated"],
        plain["tokens"]["prompt"],
        plain["tokens"]["generated"]
    );
    common::table("llm", &rows);
}
