//! Sentence-embedding benchmark: babeldesk's engine (rust-bert BertModel, `tokenizers`, mean
//! pooling, L2) against sentence-transformers on the same all-MiniLM-L6-v2 weights, the same
//! 1,000 English news sentences and batch size 32, alternating rounds in one run. The first
//! vectors of both sides are compared, so the speed is for the same result.
//!
//!   cargo bench --bench embed -- [--sentences 1000] [--rounds 3]

mod common;

use babeldesk::config::Device;
use babeldesk::models::engine::{Engine, ENGINE_EXE};
use babeldesk::models::protocol::{Generation, LoadRequest};
use babeldesk::models::{Architecture, Task};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BATCH: usize = 32; // the engine's batch (src/models/runtime/embed.rs)

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    let t = Instant::now();
    let mut engine = Engine::start_exe(ENGINE_EXE, &babeldesk::config::ProcessEnv).unwrap();
    engine
        .load(LoadRequest {
            task: Task::Embedding,
            architecture: Architecture::Bert,
            dir: model.clone(),
            weights: "model.safetensors".into(),
            languages: vec!["en".into()],
            device: Device::Cpu,
            generation: Generation::default(),
            cache_dir: dir.path().to_path_buf(),
            parallel: None,
            threads: None,
            precision: Default::default(),
        })
        .unwrap();
    let load_s = t.elapsed().as_secs_f64();
    engine.embed(sentences[..BATCH].to_vec()).unwrap(); // warm-up

    let python = repo.join(".venv/bin/python");
    let mut ours = Vec::new();
    let mut peer = Vec::new();
    let mut peer_first: Vec<Vec<f32>> = Vec::new();
    let mut our_first: Vec<Vec<f32>> = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let v = engine.embed(sentences.clone()).unwrap();
        ours.push(t.elapsed().as_secs_f64());
        our_first = v[..8].to_vec();
    }
    let out = Command::new(&python)
        .arg(repo.join("benches/embed_peer.py"))
        .arg(&model)
        .arg(&lines)
        .args([BATCH.to_string(), rounds.to_string()])
        .output()
        .unwrap();
    if out.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        peer = v["round_s"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        peer_first = serde_json::from_value(v["first"].clone()).unwrap();
        println!(
            "peer: load {:.1} s, rounds {:?}, {} threads",
            v["load_s"], peer, v["threads"]
        );
    } else {
        println!(
            "peer skipped: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    // Rounds of babeldesk again after the peer, so machine drift hits both sides.
    for _ in 0..rounds {
        let t = Instant::now();
        engine.embed(sentences.clone()).unwrap();
        ours.push(t.elapsed().as_secs_f64());
    }
    let ours_rate = n as f64 / median(ours.clone());
    println!("babeldesk: engine start + load {load_s:.1} s, rounds {ours:?}");
    let worst_cos = our_first
        .iter()
        .zip(&peer_first)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>())
        .fold(1f32, f32::min);
    if !peer_first.is_empty() {
        println!(
            "same vectors: lowest cosine between the two sides over 8 sentences = {worst_cos:.6}"
        );
    }
    let (p, r) = if peer.is_empty() {
        ("-".to_string(), "-".to_string())
    } else {
        let pr = n as f64 / median(peer);
        (format!("{pr:.1}"), format!("{:.2}×", ours_rate / pr))
    };
    common::table(
        "embed",
        &[(
            format!("MiniLM embeddings, {n} sentences, batch {BATCH}: sent/s"),
            format!("{ours_rate:.1}"),
            p,
            r,
        )],
    );
}
