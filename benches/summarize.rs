//! Abstractive summary benchmark: the whole `babeldesk summarize --method abstractive` command
//! against the Python transformers summarization pipeline, on a random BART of exactly
//! distilbart-cnn-12-6's shape, the same articles (12 news sentences each, one chunk), beam 4,
//! a fixed output length, model loading included on both sides; seconds per article.
//!
//!   cargo bench --bench summarize -- [--articles 4] [--tokens 60]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = repo.join("../shared/data/parallel/ru-en/newstest2012.en");
    if !data.is_file() {
        println!(
            "skipped: {} is missing (the client's sample data)",
            data.display()
        );
        return;
    }
    let (n, tokens) = (common::arg("--articles", 4), common::arg("--tokens", 60));
    let python = repo.join(".venv/bin/python");
    let model = repo.join("target/bench-models/distilbart-cnn-12-6-shape");
    common::ensure_model("make_bart_shape.py", &model);
    let lines = common::lines(&data);
    let dir = tempfile::tempdir().unwrap();
    let articles: Vec<String> = (0..n)
        .map(|k| {
            let p = dir.path().join(format!("article{k}.txt"));
            // One paragraph: babeldesk's single chunk is then exactly the peer's input.
            std::fs::write(&p, lines[k * 12..k * 12 + 12].join(" ") + "\n").unwrap();
            p.display().to_string()
        })
        .collect();
    let len = (tokens + 1).to_string();

    let ours = |precision: &str| -> (f64, Option<f64>) {
        let peak_file = dir.path().join("peak");
        let mut args = vec!["-f", "%M", "-o", peak_file.to_str().unwrap()];
        args.extend([
            env!("CARGO_BIN_EXE_babeldesk"),
            "-v",
            "summarize",
            "--method",
            "abstractive",
            "--keep-all",
            "--no-cache",
            "--model-dir",
            model.to_str().unwrap(),
            "--beams",
            "4",
            "--max-length",
            &len,
            "--min-length",
            &len,
            "--precision",
            precision,
            "--format",
            "json",
        ]);
        args.extend(articles.iter().map(String::as_str));
        let t = Instant::now();
        let out = Command::new("/usr/bin/time")
            .args(&args)
            .env("BABELDESK_MEMORY", dir.path().join("tm.sqlite"))
            .output()
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        let chunks: Vec<&str> = err.lines().filter(|l| l.starts_with("chunks: ")).collect();
        assert!(
            chunks.iter().all(|l| l.starts_with("chunks: 1 ")),
            "an article needed several chunks: {chunks:?}"
        );
        println!("babeldesk {precision}: {n} articles in {secs:.1} s");
        let peak = std::fs::read_to_string(&peak_file).ok();
        (
            secs,
            peak.and_then(|p| p.trim().parse::<f64>().ok())
                .map(|k| k / 1024.0),
        )
    };
    let int8 = ours("int8");
    let fp32 = ours("fp32");

    let out = Command::new(&python)
        .arg(repo.join("benches/summarize_peer.py"))
        .arg(&model)
        .arg(&len)
        .args(&articles)
        .output()
        .unwrap();
    let peer = if out.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        println!("peer: {v}");
        v["total_s"]
            .as_f64()
            .map(|t| (t, v["peak_kib"].as_f64().map(|k| k / 1024.0)))
    } else {
        println!(
            "peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        None
    };
    let mut rows = Vec::new();
    for (name, (secs, mib)) in [("int8", int8), ("fp32", fp32)] {
        let (p, r) = match peer {
            Some((p, _)) => (format!("{:.1}", p / n as f64), format!("{:.2}×", p / secs)),
            None => ("-".into(), "-".into()),
        };
        rows.push((
            format!("abstractive {name} vs transformers fp32, beam 4, {tokens} tokens: s/article"),
            format!("{:.1}", secs / n as f64),
            p,
            r,
        ));
        if let Some(m) = mib {
            let (p, r) = match peer.and_then(|p| p.1) {
                Some(pm) => (format!("{pm:.0}"), format!("{:.2}×", m / pm)),
                None => ("-".into(), "-".into()),
            };
            rows.push((
                format!("abstractive {name}, peak RSS MiB"),
                format!("{m:.0}"),
                p,
                r,
            ));
        }
    }
    common::table("summarize", &rows);
}
