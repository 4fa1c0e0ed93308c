//! The translation memory on PostgreSQL beside SQLite, in one run, on the TM benchmark's data
//! (benches/tm.rs): TMX import units/s, exact and fuzzy lookup p50/p99, fuzzy recall against a
//! brute-force scan, database bytes per unit, and eight writers importing at once.
//!
//!   make bench-postgres        (starts a throwaway server: .ci/postgres)
//!   cargo bench --bench tm_postgres -- [--sizes 100000,1000000] [--queries 200]
//!
//! The server URL comes from BABELDESK_BENCH_POSTGRES (a superuser's; a new database is made
//! per size). The ratio column is PostgreSQL's number over SQLite's (for times: SQLite's over
//! PostgreSQL's, so above 1 means PostgreSQL is faster).

mod common;

use babeldesk::exchange;
use babeldesk::memory::{match_score, Filter, Memory, MemoryError, NewUnit, Prepared, Query};
use babeldesk::progress::Silent;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/parallel/ru-en");
    if !data.is_dir() {
        println!(
            "skipped: {} is missing (the client's sample data)",
            data.display()
        );
        return;
    }
    let Ok(server) = std::env::var("BABELDESK_BENCH_POSTGRES") else {
        println!(
            "skipped: BABELDESK_BENCH_POSTGRES is unset (make bench-postgres starts a server)"
        );
        return;
    };
    let argv: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = argv
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|i| argv.get(i + 1))
        .map_or(vec![100_000, 1_000_000], |s| {
            s.split(',')
                .map(|n| n.parse().expect("--sizes N,N"))
                .collect()
        });
    let queries = common::arg("--queries", 200);
    let pairs = common::news_pairs(&data);
    let mut rows = Vec::new();
    for size in sizes {
        let dir = tempfile::tempdir().unwrap();
        let tmx = dir.path().join("tm.tmx");
        common::write_tmx(&tmx, (0..size).map(|k| common::tm_unit(&pairs, k)));
        let lite = dir.path().join("tm.sqlite");
        let pg = PathBuf::from(fresh_database(&server, &format!("bench_{size}")));
        let sqlite = measure(&lite, &tmx, &pairs, queries);
        let postgres = measure(&pg, &tmx, &pairs, queries);
        // Recall: both against one brute-force scan of the same units.
        let brute = brute_force(&Memory::open(&lite).unwrap(), &sqlite.queries);
        let label = |what: &str| format!("{what} @ {}k", size / 1000);
        // (what, the number of a run, whether lower is better)
        let metrics: [(&str, &dyn Fn(&Run) -> f64, bool); 7] = [
            ("TMX import, units/s", &|r| r.import, false),
            ("exact lookup p50, ms", &|r| r.exact.0, true),
            ("exact lookup p99, ms", &|r| r.exact.1, true),
            ("fuzzy lookup p50, ms", &|r| r.fuzzy.0, true),
            ("fuzzy lookup p99, ms", &|r| r.fuzzy.1, true),
            (
                "fuzzy recall vs brute force, %",
                &|r| recall(&brute, &r.found),
                false,
            ),
            ("DB bytes per unit", &|r| r.bytes, true),
        ];
        for (what, of, lower_better) in metrics {
            let (s, p) = (of(&sqlite), of(&postgres));
            let ratio = if lower_better { s / p } else { p / s };
            rows.push((label(what), fmt(s), fmt(p), format!("{ratio:.2}")));
        }
    }
    // Eight writers, each importing 10,000 units of its own into one new memory at once.
    let dir = tempfile::tempdir().unwrap();
    let lite = writers(&dir.path().join("w.sqlite"), &pairs);
    let pg = writers(Path::new(&fresh_database(&server, "bench_writers")), &pairs);
    rows.push((
        "8 concurrent writers × 10k units, units/s".into(),
        fmt(lite),
        fmt(pg),
        format!("{:.2}", pg / lite),
    ));
    println!("\n(columns: SQLite, PostgreSQL, PostgreSQL's advantage: above 1 is better)");
    common::table("tm_postgres", &rows);
}

fn fmt(v: f64) -> String {
    match v {
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 1.0 => format!("{v:.2}"),
        v => format!("{v:.3}"),
    }
}

fn fresh_database(server: &str, name: &str) -> String {
    let mut c = postgres::Client::connect(server, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

struct Run {
    import: f64,
    bytes: f64,
    exact: (f64, f64),
    fuzzy: (f64, f64),
    queries: Vec<String>,
    /// Per fuzzy query, the (source, target) of every match (ids differ between backends).
    found: Vec<HashSet<(String, String)>>,
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() as f64 * p) as usize).min(ms.len() - 1)];
    (at(0.5), at(0.99))
}

fn measure(at: &Path, tmx: &Path, pairs: &[(String, String)], queries: usize) -> Run {
    let shown = babeldesk::memory::shown_location(at);
    let mut mem = Memory::open(at).unwrap();
    let t = Instant::now();
    let summary = exchange::import_files(&mut mem, &[tmx.to_path_buf()], &Silent).unwrap();
    let import = summary.units.read as f64 / t.elapsed().as_secs_f64();
    drop(mem);
    let mem = Memory::open(at).unwrap();
    let stats = mem.stats().unwrap();
    let bytes = stats.bytes as f64 / stats.units as f64;
    println!(
        "{shown}: {} units, import {import:.0} units/s, {bytes:.0} bytes/unit",
        stats.units
    );
    // Warm the caches as a running team server would be, then time.
    let n = pairs.len();
    let mut exact = Vec::new();
    for k in (0..n).step_by((n / 1000).max(1)).take(1000) {
        let mut q = Query::new(&pairs[k].0, "ru", "en");
        (q.min_score, q.limit) = (100, 1);
        let t = Instant::now();
        let m = mem.lookup(&q).unwrap();
        exact.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(m.first().is_some_and(|m| m.score == 100), "exact miss");
    }
    let texts: Vec<String> = (0..n)
        .filter(|&k| pairs[k].0.split(' ').count() >= 6)
        .step_by(n / queries.max(1) / 2)
        .take(queries)
        .map(|k| {
            let mut w: Vec<&str> = pairs[k].0.split(' ').collect();
            let mid = w.len() / 2;
            w[mid] = "изменённое";
            w.join(" ")
        })
        .collect();
    let mut fuzzy = Vec::new();
    let mut found = Vec::new();
    for text in &texts {
        let mut q = Query::new(text, "ru", "en");
        (q.min_score, q.limit) = (75, usize::MAX);
        let t = Instant::now();
        let m = mem.lookup(&q).unwrap();
        fuzzy.push(t.elapsed().as_secs_f64() * 1000.0);
        found.push(
            m.into_iter()
                .map(|m| (m.unit.source, m.unit.target))
                .collect(),
        );
    }
    let (exact, fuzzy) = (percentiles(exact), percentiles(fuzzy));
    println!(
        "  exact p50 {:.3} / p99 {:.3} ms; fuzzy p50 {:.2} / p99 {:.2} ms",
        exact.0, exact.1, fuzzy.0, fuzzy.1
    );
    Run {
        import,
        bytes,
        exact,
        fuzzy,
        queries: texts,
        found,
    }
}

/// Every unit scoring ≥ 75 against each query, by scoring them all.
fn brute_force(mem: &Memory, queries: &[String]) -> Vec<HashSet<(String, String)>> {
    let mut all = Vec::new();
    mem.list(&Filter::default(), |u| {
        all.push((
            Prepared::with_key(&u.source, u.source_key.clone()),
            u.source,
            u.target,
        ));
        Ok::<_, MemoryError>(())
    })
    .unwrap();
    queries
        .iter()
        .map(|q| {
            let p = Prepared::new(q);
            all.iter()
                .filter(|(c, _, _)| match_score(&p, c, 75).is_some())
                .map(|(_, s, t)| (s.clone(), t.clone()))
                .collect()
        })
        .collect()
}

fn recall(brute: &[HashSet<(String, String)>], found: &[HashSet<(String, String)>]) -> f64 {
    let total: usize = brute.iter().map(HashSet::len).sum();
    let hit: usize = brute
        .iter()
        .zip(found)
        .map(|(b, f)| b.intersection(f).count())
        .sum();
    100.0 * hit as f64 / total.max(1) as f64
}

/// Units/s of eight threads, each with its own connection, importing 10,000 units at once.
fn writers(at: &Path, pairs: &[(String, String)]) -> f64 {
    drop(Memory::open(at).unwrap()); // the schema, made once
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..8 {
            s.spawn(move || {
                let mut mem = Memory::open_with(at, std::time::Duration::from_secs(600)).unwrap();
                mem.import(|imp| {
                    for k in 0..10_000 {
                        let (src, tgt) = common::tm_unit(pairs, 2_000_000 + w * 10_000 + k);
                        imp.add(&NewUnit::new("ru", "en", &src, &tgt))?;
                    }
                    Ok::<_, MemoryError>(())
                })
                .unwrap();
            });
        }
    });
    let per_s = 80_000.0 / t.elapsed().as_secs_f64();
    println!(
        "{}: 8 writers, {per_s:.0} units/s",
        babeldesk::memory::shown_location(at)
    );
    per_s
}
