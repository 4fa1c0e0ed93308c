//! Sentence-embedding benchmark: babeldesk's engine (int8: its own BERT encoder; fp32:
//! rust-bert's BertModel; `tokenizers`, mean pooling, L2) against sentence-transformers on the
//! same all-MiniLM-L6-v2 weights, the same 1,000 English news sentences and batch size 32,
//! alternating rounds in one run; peak memory of each. The first vectors of the sides are
//! compared, so the speed is for the same result (int8: within the cosine it costs).
//!
//!   cargo bench --bench embed -- [--sentences 1000] [--rounds 3]

mod common;

use babeldesk::config::Device;
use babeldesk::models::engine::{Engine, ENGINE_EXE};
use babeldesk::models::protocol::{Generation, LoadRequest, Precision};
use babeldesk::models::{Architecture, Task};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BATCH: usize = 32; // the engine's batch (src/models/runtime/embed.rs)

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One side: its engine, round times and first vectors.
struct Side {
    name: &'static str,
    engine: Engine,
    rounds: Vec<f64>,
    first: Vec<Vec<f32>>,
}

impl Side {
    fn start(name: &'static str, model: &Path, cache: &Path, precision: Precision) -> Side {
        let mut engine = Engine::start_exe(ENGINE_EXE, &babeldesk::config::ProcessEnv).unwrap();
        engine
            .load(LoadRequest {
                task: Task::Embedding,
                architecture: Architecture::Bert,
                dir: model.to_path_buf(),
                weights: "model.safetensors".into(),
                languages: vec!["en".into()],
                device: Device::Cpu,
                generation: Generation::default(),
                cache_dir: cache.to_path_buf(),
                parallel: None,
                threads: None,
                precision,
            })
            .unwrap();
        Side {
            name,
            engine,
            rounds: Vec::new(),
            first: Vec::new(),
        }
    }

    fn round(&mut self, sentences: &[String]) {
        let t = Instant::now();
        let v = self.engine.embed(sentences.to_vec()).unwrap();
        self.rounds.push(t.elapsed().as_secs_f64());
        self.first = v[..8].to_vec();
    }
}

fn lowest_cosine(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>())
        .fold(1f32, f32::min)
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = repo.join("../shared/data/parallel/ru-en/newstest2013.en");
    let model = repo.join("models/all-minilm-l6-v2");
    if !data.is_file() || !model.join("model.safetensors").is_file() {
        println!("skipped: needs ../shared data and models/all-minilm-l6-v2 (make models)");
        return;
    }
    let (n, rounds) = (common::arg("--sentences", 1000), common::arg("--rounds", 3));
    let text = std::fs::read_to_string(&data).unwrap();
    let sentences: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(n)
        .map(String::from)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("sentences.txt");
    std::fs::write(&lines, sentences.join("\n") + "\n").unwrap();

    std::env::set_var("BABELDESK_ENGINE", env!("CARGO_BIN_EXE_babeldesk-engine"));
    let mut sides = [
        Side::start("int8", &model, dir.path(), Precision::Int8),
        Side::start("fp32", &model, dir.path(), Precision::Fp32),
    ];
    for s in &mut sides {
        s.engine.embed(sentences[..BATCH].to_vec()).unwrap(); // warm-up
        for _ in 0..rounds {
            s.round(&sentences);
        }
    }
    let out = Command::new(repo.join(".venv/bin/python"))
        .arg(repo.join("benches/embed_peer.py"))
        .arg(&model)
        .arg(&lines)
        .args([BATCH.to_string(), rounds.to_string()])
        .output()
        .unwrap();
    let peer: Option<serde_json::Value> = match out.status.success() {
        true => serde_json::from_slice(&out.stdout).ok(),
        false => {
            let err = String::from_utf8_lossy(&out.stderr);
            println!("peer skipped: {}", err.lines().last().unwrap_or(""));
            None
        }
    };
    // babeldesk's rounds again after the peer, so machine drift hits all sides.
    for s in &mut sides {
        for _ in 0..rounds {
            s.round(&sentences);
        }
    }
    let (peer_rate, peer_mib, peer_first) = match &peer {
        Some(v) => {
            let times: Vec<f64> = serde_json::from_value(v["round_s"].clone()).unwrap();
            let first: Vec<Vec<f32>> = serde_json::from_value(v["first"].clone()).unwrap();
            println!(
                "peer: load {:.1} s, rounds {times:?}, {} threads",
                v["load_s"], v["threads"]
            );
            let mib = v["peak_kib"].as_f64().map(|k| k / 1024.0);
            (Some(n as f64 / median(times)), mib, first)
        }
        None => (None, None, Vec::new()),
    };
    let mut rows = Vec::new();
    let ratio = |ours: f64, peer: Option<f64>| match peer {
        Some(p) => (format!("{p:.1}"), format!("{:.2}×", ours / p)),
        None => ("-".into(), "-".into()),
    };
    for s in &sides {
        let rate = n as f64 / median(s.rounds.clone());
        println!("babeldesk {}: rounds {:?}", s.name, s.rounds);
        if !peer_first.is_empty() {
            println!(
                "{}: lowest cosine to sentence-transformers over 8 sentences = {:.6}",
                s.name,
                lowest_cosine(&s.first, &peer_first)
            );
        }
        let (p, r) = ratio(rate, peer_rate);
        rows.push((
            format!(
                "MiniLM {} vs sentence-transformers fp32, {n} sentences: sent/s",
                s.name
            ),
            format!("{rate:.1}"),
            p,
            r,
        ));
        if let Some(kib) = s.engine.peak_kib() {
            let mib = kib as f64 / 1024.0;
            let (p, r) = ratio(mib, peer_mib);
            rows.push((
                format!("MiniLM {}, peak RSS MiB", s.name),
                format!("{mib:.0}"),
                p,
                r,
            ));
        }
    }
    common::table("embed", &rows);
}
