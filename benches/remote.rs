//! `make bench-remote`: the remote engine against llama.cpp's own server, beside the local
//! engine, in one run. The first N lines of newstest2013 (ru→en) as one document (a line a
//! paragraph, so the previous-sentence context applies), translated with the same Qwen GGUF:
//! by the local engine (`babeldesk-llm`), then through `--engine-url` against a `llama-server`
//! on loopback started with 1, 4 and 8 parallel slots, with as many requests in flight. Each
//! run starts from an empty memory. Reports segments/s, chrF and BLEU of each, and the ratios.
//!
//!     cargo bench --bench remote -- --sentences 100 [--slots 1,4,8] [--threads 2]

mod common;

use common::llm::{translate, LlamaServer, Run, TestSet};

use std::path::{Path, PathBuf};

const MODEL: &str = "qwen2.5-coder-1.5b-instruct-q4km";
const GGUF: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = repo.join("../shared/data/parallel/ru-en");
    if !data.join("newstest2013.ru").is_file() {
        println!("skipped: {} is missing", data.display());
        return;
    }
    let n = common::arg("--sentences", 100);
    let threads = common::arg("--threads", 2);
    let argv: Vec<String> = std::env::args().collect();
    let slots: Vec<usize> = argv
        .iter()
        .position(|a| a == "--slots")
        .and_then(|i| argv.get(i + 1))
        .map_or("1,4,8", String::as_str)
        .split(',')
        .map(|s| s.parse().expect("--slots 1,4,8"))
        .collect();
    let bin = std::env::var_os("BABELDESK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/release/babeldesk"));
    let server = repo.join("target/llama-server/bin/llama-server");
    let gguf = repo.join("models").join(MODEL).join(GGUF);
    assert!(
        server.is_file(),
        "{} is missing: run .ci/llama-server",
        server.display()
    );
    assert!(
        gguf.is_file(),
        "{} is missing: make {}",
        gguf.display(),
        gguf.display()
    );
    let work = tempfile::tempdir().unwrap();
    let TestSet {
        doc,
        src: src_file,
        refs: ref_file,
    } = TestSet::newstest2013(&data, n, work.path());

    println!("{n} newstest2013 lines, {MODEL}, {threads} threads: the local engine, then llama-server with {slots:?} slots …");
    let mut runs: Vec<(String, Run)> = Vec::new();
    let local = translate(
        &bin,
        work.path(),
        "local",
        &doc,
        &["--keep-all".into(), "--model".into(), MODEL.into()],
        threads,
    );
    runs.push(("local engine (babeldesk-llm)".into(), local));
    for &p in &slots {
        let srv = LlamaServer::start(&server, &gguf, p, threads);
        let url = format!("http://127.0.0.1:{}", srv.port);
        let flags = [
            "--keep-all".to_string(),
            "--engine-url".to_string(),
            url,
            "--parallel".into(),
            p.to_string(),
        ];
        let run = translate(
            &bin,
            work.path(),
            &format!("remote{p}"),
            &doc,
            &flags,
            threads,
        );
        runs.push((format!("remote, llama-server, {p} in flight"), run));
    }
    let mut rows = Vec::new();
    for (label, run) in &runs {
        let hyp = work.path().join("hyp");
        std::fs::write(&hyp, run.lines.join("\n") + "\n").unwrap();
        let db = work.path().join("scores.sqlite");
        let (chrf, bleu) = common::chrf_bleu(&bin, &db, &src_file, &ref_file, &hyp);
        println!(
            "{label}: {:.1} s, {} segments ({} failed), {:.3} segments/s, chrF {chrf:.2}, BLEU {bleu:.2}, tokens read/written {}/{}",
            run.seconds, run.segments, run.failed, run.segments as f64 / run.seconds, run.prompt, run.generated
        );
        rows.push((label.clone(), run.segments as f64 / run.seconds, chrf, bleu));
    }
    let base = rows[0].1;
    let mut table = Vec::new();
    for (label, rate, chrf, bleu) in &rows {
        table.push((
            format!("segments/s: {label}"),
            format!("{rate:.3}"),
            format!("{base:.3}"),
            format!("{:.2}x", rate / base),
        ));
        table.push((
            format!("chrF / BLEU: {label}"),
            format!("{chrf:.2} / {bleu:.2}"),
            format!("{:.2} / {:.2}", rows[0].2, rows[0].3),
            format!("{:+.2}", chrf - rows[0].2),
        ));
    }
    common::table("remote", &table);
}
