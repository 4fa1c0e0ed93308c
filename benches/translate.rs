//! Translation benchmark: the whole `babeldesk translate` command (engine start, model load,
//! segmentation, memory, batches), in int8 and in fp32, against Python transformers'
//! MarianMTModel (fp32) and CTranslate2 (int8, what Argos Translate runs), on a random model of
//! exactly opus-mt-ru-en's shape, the same sentences, batch size and output length, back to
//! back in one run; peak memory of each; then a warm-memory rerun.
//!
//!   cargo bench --bench translate -- [--sentences 1000] [--beam-sentences 250] [--tokens 40]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BATCH: usize = 16; // babeldesk's batch size (src/pipeline/translate.rs)

/// One side's run: seconds (load included) and peak resident memory (KiB).
struct Timed {
    seconds: f64,
    peak_kib: Option<u64>,
}

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
    let memory = dir.path().join("tm.sqlite");
    let ours = Ours {
        model: &model,
        memory: &memory,
        tokens,
    };
    let peers = Peers {
        repo,
        model: &model,
        tokens,
    };
    let mut rows = Vec::new();
    for (label, doc, beams, lines) in [("greedy", &doc, 1, n), ("beam 4", &bdoc, 4, n_beam)] {
        // Greedy int8 runs with the memory on (a cold memory: every sentence is new), so the
        // rerun below measures the warm memory; the others run without it.
        let (int8, k, calls) = ours.run(doc, beams, "int8", beams == 1);
        println!(
            "babeldesk {label} int8: {lines} lines, {k} segments in {:.1} s ({calls} model batches)",
            int8.seconds
        );
        let (fp32, _, _) = ours.run(doc, beams, "fp32", false);
        println!("babeldesk {label} fp32: {:.1} s", fp32.seconds);
        let segments = doc.with_extension("segments");
        let transformers = peers.run("translate_peer.py", &segments, beams, None);
        let ct2 = peers.run("translate_ct2.py", &segments, beams, Some("int8"));
        let toks = (k * tokens) as f64;
        let rate = |t: &Timed| toks / t.seconds;
        let versus = |what: &str, ours: &Timed, peer: &Option<Timed>| {
            (what.to_string(), rate(ours), peer.as_ref().map(rate))
        };
        rows.push(versus(
            &format!("translate {label} int8 vs transformers fp32, tok/s"),
            &int8,
            &transformers,
        ));
        rows.push(versus(
            &format!("translate {label} int8 vs CTranslate2 int8, tok/s"),
            &int8,
            &ct2,
        ));
        rows.push(versus(
            &format!("translate {label} fp32 vs transformers fp32, tok/s"),
            &fp32,
            &transformers,
        ));
        let mib = |t: &Timed| t.peak_kib.map(|k| k as f64 / 1024.0);
        for (what, ours, peer) in [
            ("int8 vs CTranslate2 int8", &int8, &ct2),
            ("fp32 vs transformers fp32", &fp32, &transformers),
        ] {
            if let Some(m) = mib(ours) {
                rows.push((
                    format!("translate {label} {what}, peak RSS MiB"),
                    m,
                    peer.as_ref().and_then(mib),
                ));
            }
        }
        if beams == 1 {
            let (warm, _, warm_calls) = ours.run(doc, 1, "int8", true);
            assert_eq!(warm_calls, 0, "the warm rerun called the model");
            println!(
                "babeldesk warm rerun: {:.2} s, 0 model calls; {:.0}× faster than cold",
                warm.seconds,
                int8.seconds / warm.seconds
            );
            rows.push((
                "warm-memory rerun: speed-up over the cold int8 run".to_string(),
                int8.seconds / warm.seconds,
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

/// `babeldesk translate` on the benchmark model.
struct Ours<'a> {
    model: &'a Path,
    memory: &'a Path,
    tokens: usize,
}

impl Ours<'_> {
    /// Timing, segments, model batches. Writes the segments beside `doc` (`.segments`): the
    /// peers translate exactly those (a few lines of the test set hold two sentences).
    fn run(
        &self,
        doc: &Path,
        beams: usize,
        precision: &str,
        use_memory: bool,
    ) -> (Timed, usize, usize) {
        let len = (self.tokens + 1).to_string();
        let beams = beams.to_string();
        let peak_file = doc.with_extension("peak");
        let mut args: Vec<String> = ["-f", "%M", "-o"].map(String::from).to_vec();
        args.push(peak_file.display().to_string());
        args.push(env!("CARGO_BIN_EXE_babeldesk").to_string());
        for a in [
            "--memory",
            &self.memory.display().to_string(),
            "-q",
            "translate",
        ] {
            args.push(a.to_string());
        }
        args.push(doc.display().to_string());
        for a in [
            "--from",
            "ru",
            "--keep-all",
            "--model-dir",
            &self.model.display().to_string(),
        ] {
            args.push(a.to_string());
        }
        for a in [
            "--beams",
            &beams,
            "--max-length",
            &len,
            "--min-length",
            &len,
        ] {
            args.push(a.to_string());
        }
        for a in ["--precision", precision, "--format", "json"] {
            args.push(a.to_string());
        }
        if !use_memory {
            args.push("--no-memory".into());
        }
        let t = Instant::now();
        let out = Command::new("/usr/bin/time").args(&args).output().unwrap();
        let seconds = t.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let segs = json["segments"].as_array().unwrap();
        let sources: Vec<&str> = segs.iter().map(|s| s["source"].as_str().unwrap()).collect();
        std::fs::write(doc.with_extension("segments"), sources.join("\n") + "\n").unwrap();
        let peak_kib = std::fs::read_to_string(&peak_file)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        let calls = json["model_calls"].as_u64().unwrap_or(0) as usize;
        (Timed { seconds, peak_kib }, segs.len(), calls)
    }
}

/// The Python peers, each a script printing one JSON object.
struct Peers<'a> {
    repo: &'a Path,
    model: &'a Path,
    tokens: usize,
}

impl Peers<'_> {
    fn run(
        &self,
        script: &str,
        lines: &Path,
        beams: usize,
        compute: Option<&str>,
    ) -> Option<Timed> {
        let out = Command::new(self.repo.join(".venv/bin/python"))
            .arg(self.repo.join("benches").join(script))
            .arg(self.model)
            .arg(lines)
            .args([
                beams.to_string(),
                BATCH.to_string(),
                self.tokens.to_string(),
            ])
            .args(compute)
            .output()
            .ok()?;
        if !out.status.success() {
            println!(
                "{script} failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        println!("{script}: {v}");
        Some(Timed {
            seconds: v["total_s"].as_f64()?,
            peak_kib: v["peak_kib"].as_u64(),
        })
    }
}
