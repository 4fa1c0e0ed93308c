//! Translation-memory benchmark: TMX import, exact and fuzzy lookup, fuzzy recall against a
//! brute-force scan, database size; translate-toolkit's matcher on the same 100k units and
//! queries, in the same run.
//!
//!   cargo bench --bench tm -- [--sizes 100000,1000000] [--queries 200] [--no-peer]
//!
//! The TMs are built from ../shared/data/parallel/ru-en (6,000 news sentence pairs): the
//! pairs themselves, then new units that join the first half of one sentence to the second
//! half of another, so that a large TM is full of partial look-alikes, as real ones are.
//! Fuzzy queries are TM sentences with one word changed (the peer notes' protocol).

mod common;

use babeldesk::exchange;
use babeldesk::memory::{match_score, Filter, Memory, MemoryError, Prepared, Query};
use babeldesk::progress::Silent;
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Args {
    sizes: Vec<usize>,
    queries: usize,
    peer: bool,
}

fn args() -> Args {
    let mut a = Args {
        sizes: vec![100_000, 1_000_000],
        queries: 200,
        peer: true,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        match argv[i].as_str() {
            "--sizes" => {
                i += 1;
                a.sizes = argv[i]
                    .split(',')
                    .map(|s| s.parse().expect("--sizes N,N"))
                    .collect();
            }
            "--queries" => {
                i += 1;
                a.queries = argv[i].parse().expect("--queries N");
            }
            "--no-peer" => a.peer = false,
            _ => {} // cargo bench passes --bench
        }
        i += 1;
    }
    a
}

fn main() {
    let args = args();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/parallel/ru-en");
    if !data.is_dir() {
        println!(
            "skipped: {} is missing (the client's sample data)",
            data.display()
        );
        return;
    }
    let pairs = common::news_pairs(&data);
    println!("{} sentence pairs from {}", pairs.len(), data.display());
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    for &size in &args.sizes {
        bench_size(&args, &pairs, size, &mut rows);
    }
    common::table("tm", &rows);
}

fn write_tmx(path: &Path, pairs: &[(String, String)], size: usize) {
    common::write_tmx(path, (0..size).map(|k| common::tm_unit(pairs, k)));
}

/// A TM sentence with one word in the middle replaced.
fn one_word_changed(s: &str) -> String {
    let mut words: Vec<&str> = s.split(' ').collect();
    let mid = words.len() / 2;
    words[mid] = "изменённое";
    words.join(" ")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn bench_size(
    args: &Args,
    pairs: &[(String, String)],
    size: usize,
    rows: &mut Vec<(String, String, String, String)>,
) {
    let dir = tempfile::tempdir().unwrap();
    let tmx = dir.path().join("tm.tmx");
    write_tmx(&tmx, pairs, size);
    let tmx_mb = std::fs::metadata(&tmx).unwrap().len() as f64 / 1e6;
    let db = dir.path().join("tm.sqlite");
    let mut mem = Memory::open(&db).unwrap();
    let t = Instant::now();
    let summary = exchange::import_files(&mut mem, &[tmx.clone()], &Silent).unwrap();
    let import_s = t.elapsed().as_secs_f64();
    let units = mem.stats().unwrap().units as usize;
    let per_s = summary.units.read as f64 / import_s;
    let label = |what: &str| format!("{what} @ {}k", size / 1000);
    println!(
        "\n== {size} units: TMX {tmx_mb:.0} MB, imported {} read / {} added in {import_s:.1} s ({per_s:.0} units/s), peak RSS {} MB",
        summary.units.read,
        summary.units.added,
        peak_rss_mb()
    );
    rows.push((
        label("TMX import, units/s"),
        format!("{per_s:.0}"),
        "-".into(),
        "-".into(),
    ));
    drop(mem);
    if let Ok(keep) = std::env::var("BENCH_KEEP_DB") {
        std::fs::copy(&db, format!("{keep}.{size}")).unwrap();
        std::fs::copy(&tmx, format!("{keep}.{size}.tmx")).unwrap();
    }
    let mem = Memory::open(&db).unwrap();
    let bytes = mem.stats().unwrap().bytes;
    rows.push((
        label("DB bytes per unit"),
        format!("{:.0}", bytes as f64 / units as f64),
        "-".into(),
        "-".into(),
    ));

    // Exact lookups: TM sentences as they are.
    let n = pairs.len();
    let step = (n / 1000).max(1);
    let mut exact = Vec::new();
    for k in (0..n).step_by(step).take(1000) {
        let mut q = Query::new(&pairs[k].0, "ru", "en");
        q.min_score = 100;
        q.limit = 1;
        let t = Instant::now();
        let m = mem.lookup(&q).unwrap();
        exact.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(
            m.first().is_some_and(|m| m.score == 100),
            "exact miss: {}",
            pairs[k].0
        );
    }
    exact.sort_by(f64::total_cmp);
    println!(
        "exact lookup: p50 {:.3} ms, p99 {:.3} ms ({} queries)",
        percentile(&exact, 0.5),
        percentile(&exact, 0.99),
        exact.len()
    );
    rows.push((
        label("exact lookup p50, ms"),
        format!("{:.3}", percentile(&exact, 0.5)),
        "-".into(),
        "-".into(),
    ));
    rows.push((
        label("exact lookup p99, ms"),
        format!("{:.3}", percentile(&exact, 0.99)),
        "-".into(),
        "-".into(),
    ));

    // Fuzzy lookups: one word changed, sentences of 6+ words spread over the data.
    let picks: Vec<usize> = (0..n)
        .filter(|&k| pairs[k].0.split(' ').count() >= 6)
        .step_by(n / args.queries.max(1) / 2)
        .take(args.queries)
        .collect();
    let queries: Vec<String> = picks
        .iter()
        .map(|&k| one_word_changed(&pairs[k].0))
        .collect();
    let mut fuzzy = Vec::new();
    let mut found_ids = Vec::new();
    let mut right_first = 0;
    for (q_text, &k) in queries.iter().zip(&picks) {
        let mut q = Query::new(q_text, "ru", "en");
        q.min_score = 75;
        q.limit = usize::MAX;
        let t = Instant::now();
        let m = mem.lookup(&q).unwrap();
        fuzzy.push(t.elapsed().as_secs_f64() * 1000.0);
        if m.first().is_some_and(|m| m.unit.source == pairs[k].0) {
            right_first += 1;
        }
        found_ids.push(
            m.iter()
                .map(|m| m.unit.id)
                .collect::<std::collections::HashSet<_>>(),
        );
    }
    fuzzy.sort_by(f64::total_cmp);

    // Brute force: every unit scored against every query, on both cores.
    let mut all: Vec<(i64, Prepared)> = Vec::with_capacity(units);
    mem.list(&Filter::default(), |u| {
        all.push((u.id, Prepared::with_key(&u.source, u.source_key)));
        Ok::<_, MemoryError>(())
    })
    .unwrap();
    let t = Instant::now();
    let prepared: Vec<Prepared> = queries.iter().map(|q| Prepared::new(q)).collect();
    let scan = |qs: &[Prepared]| -> Vec<Vec<i64>> {
        qs.iter()
            .map(|q| {
                all.iter()
                    .filter(|(_, c)| match_score(q, c, 75).is_some())
                    .map(|(id, _)| *id)
                    .collect()
            })
            .collect()
    };
    let (first, second) = prepared.split_at(prepared.len() / 2);
    let brute: Vec<Vec<i64>> = std::thread::scope(|s| {
        let other = s.spawn(|| scan(first));
        let mut tail = scan(second);
        let mut head = other.join().unwrap();
        head.append(&mut tail);
        head
    });
    let brute_s = t.elapsed().as_secs_f64();
    let total: usize = brute.iter().map(Vec::len).sum();
    let hit: usize = brute
        .iter()
        .zip(&found_ids)
        .map(|(b, f)| b.iter().filter(|id| f.contains(id)).count())
        .sum();
    let recall = 100.0 * hit as f64 / total.max(1) as f64;
    let right_pct = 100.0 * right_first as f64 / queries.len() as f64;
    println!(
        "fuzzy lookup: p50 {:.2} ms, p99 {:.2} ms; recall {recall:.2}% ({hit}/{total} matches ≥ 75 of a brute-force scan, which took {:.0} ms per query on 2 cores); right unit first {right_pct:.0}%",
        percentile(&fuzzy, 0.5),
        percentile(&fuzzy, 0.99),
        brute_s * 1000.0 / queries.len() as f64
    );

    let mut peer = None;
    if args.peer && size == 100_000 {
        peer = run_peer(dir.path(), &tmx, &queries, &picks, pairs);
    }
    let (pp50, pp99, pright) = match &peer {
        Some(v) => (
            v["p50_ms"].as_f64().unwrap_or(f64::NAN),
            v["p99_ms"].as_f64().unwrap_or(f64::NAN),
            v["right_first_pct"].as_f64().unwrap_or(f64::NAN),
        ),
        None => (f64::NAN, f64::NAN, f64::NAN),
    };
    let cell = |v: f64, digits: usize| {
        if v.is_nan() {
            "-".to_string()
        } else {
            format!("{v:.digits$}")
        }
    };
    let (p50, p99) = (percentile(&fuzzy, 0.5), percentile(&fuzzy, 0.99));
    if let Some(v) = &peer {
        // The peer only parses the TMX into memory; babeldesk parses, indexes and commits.
        let peer_rate =
            v["units"].as_f64().unwrap_or(f64::NAN) / v["build_s"].as_f64().unwrap_or(f64::NAN);
        rows.push((
            label("TMX load, units/s (peer: parse only)"),
            format!("{per_s:.0}"),
            cell(peer_rate, 0),
            ratio(per_s, peer_rate),
        ));
    }
    rows.push((
        label("fuzzy lookup p50, ms"),
        cell(p50, 2),
        cell(pp50, 1),
        ratio(pp50, p50),
    ));
    rows.push((
        label("fuzzy lookup p99, ms"),
        cell(p99, 2),
        cell(pp99, 1),
        ratio(pp99, p99),
    ));
    rows.push((
        label("fuzzy recall vs brute force @75, %"),
        cell(recall, 2),
        "-".into(),
        "-".into(),
    ));
    rows.push((
        label("right unit first, %"),
        cell(right_pct, 0),
        cell(pright, 0),
        "-".into(),
    ));
}

fn ratio(peer: f64, ours: f64) -> String {
    if peer.is_nan() || ours <= 0.0 {
        "-".into()
    } else {
        let r = peer / ours;
        if r < 10.0 {
            format!("{r:.1}×")
        } else {
            format!("{r:.0}×")
        }
    }
}

fn run_peer(
    dir: &Path,
    tmx: &Path,
    queries: &[String],
    picks: &[usize],
    pairs: &[(String, String)],
) -> Option<serde_json::Value> {
    let qf = dir.join("queries.txt");
    let ef = dir.join("expected.txt");
    std::fs::write(&qf, queries.join("\n") + "\n").unwrap();
    let expected: Vec<&str> = picks.iter().map(|&k| pairs[k].0.as_str()).collect();
    std::fs::write(&ef, expected.join("\n") + "\n").unwrap();
    let python = std::env::var("PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/tm_peer.py");
    println!("peer: translate-toolkit matcher (max_length=1000) on the same TMX and queries…");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(tmx)
        .arg(&qf)
        .arg(&ef)
        .output();
    // A peer that says it runs degraded is a broken comparison, not a slower peer.
    if let Ok(o) = &out {
        let err = String::from_utf8_lossy(&o.stderr);
        if let Some(line) = err
            .lines()
            .find(|l| l.contains("degraded") || l.contains("slower"))
        {
            panic!("the peer is not at its best: {line}; run `make bench-deps`");
        }
    }
    match out {
        Ok(o) if o.status.success() => {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
            println!("peer: {v}");
            Some(v)
        }
        Ok(o) => {
            println!(
                "peer skipped: {} (install it with `make bench-deps`)",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("failed")
            );
            None
        }
        Err(e) => {
            println!("peer skipped: cannot run {}: {e}", python.display());
            None
        }
    }
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}
