//! `make bench-llm-speed` (issue 17): the local GGUF engine's speed, before and now, beside
//! llama.cpp's own server, in one run. The first N lines of newstest2013 (ru→en) as one
//! document (a line a paragraph, so the previous-sentence context applies) and the client's
//! Russian seed (003, with the example glossary imported first, as `make run` does), each
//! from an empty memory, with the same Qwen GGUF and thread count:
//! - before: the engine of an earlier build (`--before DIR` holding its binaries), one prompt
//!   at a time; left out when not given;
//! - now: this build with 1 and 8 (the default) prompts decoded together (`--parallel`);
//! - the peer: llama.cpp's `llama-server` (built by `.ci/llama-server`) with as many slots,
//!   asked the same prompts through the remote engine: what llama.cpp itself reaches.
//!
//! Reports segments/s, generated and prompt tokens per second of wall time, peak RSS,
//! chrF/BLEU, and the seed's wall time, with ratios to the first row.
//!
//!     cargo bench --bench llm_speed -- --sentences 100 [--parallel 1,8] [--peer 8]
//!         [--threads 2] [--before DIR] [--extra "--context none"]

mod common;

use common::llm::{translate, LlamaServer, Run, TestSet};
use std::path::{Path, PathBuf};

const MODEL: &str = "qwen2.5-coder-1.5b-instruct-q4km";
const GGUF: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = repo.join("../shared/data/parallel/ru-en");
    let seed = std::fs::read_dir(repo.join("../shared/seeds"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("003_"))
        });
    let (true, Some(seed)) = (data.join("newstest2013.ru").is_file(), seed) else {
        println!("skipped: ../shared (newstest2013 and seed 003) is missing");
        return;
    };
    let n = common::arg("--sentences", 100);
    let threads = common::arg("--threads", 2);
    let list = |name: &str, default: &str| -> Vec<usize> {
        text_arg(name)
            .unwrap_or_else(|| default.into())
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("a list of numbers: 1,4,8"))
            .collect()
    };
    let (parallel, peer) = (list("--parallel", "1,8"), list("--peer", "8"));
    let extra: Vec<String> = text_arg("--extra")
        .map(|e| e.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let bin = std::env::var_os("BABELDESK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/release/babeldesk"));
    let server = repo.join("target/llama-server/bin/llama-server");
    let gguf = repo.join("models").join(MODEL).join(GGUF);
    assert!(gguf.is_file(), "{} is missing: make run", gguf.display());
    assert!(
        peer.is_empty() || server.is_file(),
        "{} is missing: run .ci/llama-server",
        server.display()
    );
    let work = tempfile::tempdir().unwrap();
    let TestSet {
        doc,
        src: src_file,
        refs: ref_file,
    } = TestSet::newstest2013(&data, n, work.path());

    println!(
        "{n} newstest2013 lines and {}, {MODEL}, {threads} threads",
        seed.display()
    );
    let local = |p: usize| -> Vec<String> {
        let mut f = vec![
            "--model".into(),
            MODEL.into(),
            "--parallel".into(),
            p.to_string(),
        ];
        f.extend(extra.iter().cloned());
        f
    };
    let mut rows: Vec<(String, Run, f64)> = Vec::new();
    // The test set keeps every line (it has a repeated one the article cleaner would drop);
    // the seed is cleaned as `make run` does.
    let measure = |label: String, bin: &Path, flags: &[String], tag: &str| {
        let all = [&["--keep-all".to_string()], flags].concat();
        let run = translate(bin, work.path(), tag, &doc, &all, threads);
        let seed_memory = work.path().join(format!("{tag}-seed.sqlite"));
        let glossary = repo.join("examples/glossary-ru-en.tsv");
        let g = glossary.to_str().unwrap();
        common::babeldesk(
            bin,
            &seed_memory,
            &["terms", "import", g, "--from", "ru", "--to", "en"],
        );
        let seed_run = translate(
            bin,
            work.path(),
            &format!("{tag}-seed"),
            &seed,
            flags,
            threads,
        );
        println!(
            "{label}: {:.1} s ({} segments, {} failed), seed {:.1} s",
            run.seconds, run.segments, run.failed, seed_run.seconds
        );
        (label, run, seed_run.seconds)
    };
    if let Some(before) = text_arg("--before") {
        let before = Path::new(&before).join("babeldesk");
        let flags = ["--model".to_string(), MODEL.into()];
        rows.push(measure(
            "before: one prompt at a time".into(),
            &before,
            &flags,
            "before",
        ));
    }
    for &p in &parallel {
        rows.push(measure(
            format!("now, {p} decoded together"),
            &bin,
            &local(p),
            &format!("p{p}"),
        ));
    }
    for &p in &peer {
        let srv = LlamaServer::start(&server, &gguf, p, threads);
        let url = format!("http://127.0.0.1:{}", srv.port);
        let mut flags = vec![
            "--engine-url".to_string(),
            url,
            "--parallel".into(),
            p.to_string(),
        ];
        flags.extend(extra.iter().cloned());
        let label = format!("peer: llama-server, {p} slots");
        let mut row = measure(label, &bin, &flags, &format!("server{p}"));
        row.1.peak_kib = srv.peak_kib();
        rows.push(row);
    }
    report(&bin, work.path(), &src_file, &ref_file, &rows);
}

/// Every row's numbers, then the table of ratios to the first row.
fn report(bin: &Path, work: &Path, src: &Path, refs: &Path, rows: &[(String, Run, f64)]) {
    let mut scored = Vec::new();
    println!();
    // Same prompts, decoded alone or together: how many lines came out differently.
    let alone = rows.iter().find(|(l, ..)| l.starts_with("now, 1 "));
    for (label, run, seed) in rows {
        if let Some((_, a, _)) = alone {
            let differ = a
                .lines
                .iter()
                .zip(&run.lines)
                .filter(|(x, y)| x != y)
                .count();
            println!(
                "{label}: {differ} of {} lines differ from one prompt at a time",
                a.lines.len()
            );
        }
        let hyp = work.join("hyp");
        std::fs::write(&hyp, run.lines.join("\n") + "\n").unwrap();
        let (chrf, bleu) = common::chrf_bleu(bin, &work.join("scores.sqlite"), src, refs, &hyp);
        let rate = run.segments as f64 / run.seconds;
        let peak = run
            .peak_kib
            .map_or("n/a".into(), |k| format!("{} MiB", k / 1024));
        println!(
            "{label}: {rate:.3} segments/s, {:.1} generated tokens/s, {:.1} prompt tokens/s, \
             peak RSS {peak}, chrF {chrf:.2}, BLEU {bleu:.2}, seed {seed:.1} s",
            run.generated as f64 / run.seconds,
            run.prompt as f64 / run.seconds,
        );
        scored.push((label, rate, chrf, bleu, *seed));
    }
    let (_, base_rate, base_chrf, base_bleu, base_seed) = scored[0];
    let mut table = Vec::new();
    for (label, rate, chrf, bleu, seed) in &scored {
        table.push((
            format!("segments/s: {label}"),
            format!("{rate:.3}"),
            format!("{base_rate:.3}"),
            format!("{:.2}x", rate / base_rate),
        ));
        table.push((
            format!("chrF / BLEU: {label}"),
            format!("{chrf:.2} / {bleu:.2}"),
            format!("{base_chrf:.2} / {base_bleu:.2}"),
            format!("{:+.2}", chrf - base_chrf),
        ));
        table.push((
            format!("seed 003 seconds: {label}"),
            format!("{seed:.1}"),
            format!("{base_seed:.1}"),
            format!("{:.2}x", base_seed / seed),
        ));
    }
    common::table("llm_speed", &table);
}

/// `--name VALUE` from the command line.
fn text_arg(name: &str) -> Option<String> {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .cloned()
}
