//! Translation benchmark: the whole `babeldesk translate` command (engine start, model load,
//! segmentation, memory, batches) against Python transformers' MarianMTModel, on a random
//! model of exactly opus-mt-ru-en's shape, the same sentences, batch size and output length,
//! interleaved in one run; then a warm-memory rerun.
//!
//!   cargo bench --bench translate -- [--sentences 1000] [--beam-sentences 250] [--tokens 40]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BATCH: usize = 16; // babeldesk's batch size (src/pipeline/translate.rs)

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = repo.join("../shared/data/parallel/ru-en/newstest2013.ru");
    if !data.is_file() {
        println!(
            "skipped: {} is missing (the client's sample data)",
            data.display()
        );
        return;
    }
    let (n, n_beam, tokens) = (
        common::arg("--sentences", 1000),
        common::arg("--beam-sentences", 250),
        common::arg("--tokens", 40),
    );
    let python = repo.join(".venv/bin/python");
    let model = repo.join("target/bench-models/opus-mt-ru-en-shape");
    common::ensure_model("make_opus_shape.py", &model);
    let all = common::lines(&data);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, k: usize| -> PathBuf {
        let doc = dir.path().join(format!("{name}.txt"));
        // One line per paragraph, as in the test set.
        std::fs::write(&doc, all[..k.min(all.len())].join("\n\n") + "\n").unwrap();
        doc
    };
    let doc = write("greedy", n);
    let bdoc = write("beam", n_beam);
    let mut rows = Vec::new();

    let memory = dir.path().join("tm.sqlite");
    let ours = |doc: &Path, beams: usize, use_memory: bool| -> (f64, usize, usize) {
        let len = (tokens + 1).to_string();
        let beams = beams.to_string();
        let mut args = vec![
            "--memory".to_string(),
            memory.display().to_string(),
            "-q".into(),
            "translate".into(),
            doc.display().to_string(),
            "--from".into(),
            "ru".into(),
            "--keep-all".into(),
            "--model-dir".into(),
            model.display().to_string(),
            "--beams".into(),
            beams,
            "--max-length".into(),
            len.clone(),
            "--min-length".into(),
            len,
            "--format".into(),
            "json".into(),
        ];
        if !use_memory {
            args.push("--no-memory".into());
        }
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_babeldesk"))
            .args(&args)
            .output()
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let segs = json["segments"].as_array().unwrap();
        // The peer translates exactly the segments babeldesk made (a few lines of the test
        // set hold two sentences), so both sides do the same work.
        let sources: Vec<&str> = segs.iter().map(|s| s["source"].as_str().unwrap()).collect();
        std::fs::write(doc.with_extension("segments"), sources.join("\n") + "\n").unwrap();
        (
            secs,
            segs.len(),
            json["model_calls"].as_u64().unwrap_or(0) as usize,
        )
    };
    let peer = |lines: &Path, beams: usize| -> Option<f64> {
        let out = Command::new(&python)
            .arg(repo.join("benches/translate_peer.py"))
            .arg(&model)
            .arg(lines)
            .args([beams.to_string(), BATCH.to_string(), tokens.to_string()])
            .output()
            .ok()?;
        if !out.status.success() {
            println!(
                "peer failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        println!("peer: {v}");
        v["total_s"].as_f64()
    };

    for (label, doc, beams, lines) in [("greedy", &doc, 1, n), ("beam 4", &bdoc, 4, n_beam)] {
        // Greedy runs with the memory on (a cold memory: every sentence is new), so the rerun
        // below measures the warm memory; beam search runs without it.
        let (ours_s, k, calls) = ours(doc, beams, beams == 1);
        println!(
            "babeldesk {label}: {lines} lines, {k} segments in {ours_s:.1} s ({calls} model batches)"
        );
        let peer_s = peer(&doc.with_extension("segments"), beams);
        let toks = (k * tokens) as f64;
        rows.push((
            format!("translate {label}, {k} segments: target tok/s"),
            toks / ours_s,
            peer_s.map(|p| toks / p),
        ));
        rows.push((
            format!("translate {label}: segments/s"),
            k as f64 / ours_s,
            peer_s.map(|p| k as f64 / p),
        ));
        if beams == 1 {
            let (warm_s, _, warm_calls) = ours(doc, 1, true);
            assert_eq!(warm_calls, 0, "the warm rerun called the model");
            println!(
                "babeldesk warm rerun: {warm_s:.2} s, 0 model calls; {:.0}× faster than cold",
                ours_s / warm_s
            );
            rows.push((
                "warm-memory rerun: speed-up over the cold run".to_string(),
                ours_s / warm_s,
                None,
            ));
        }
    }
    let rows: Vec<common::Row> = rows
        .into_iter()
        .map(|(what, ours, peer)| {
            let (p, r) = match peer {
                Some(p) => (format!("{p:.1}"), format!("{:.2}×", ours / p)),
                None => ("-".into(), "-".into()),
            };
            (what, format!("{ours:.1}"), p, r)
        })
        .collect();
    common::table("translate", &rows);
}
