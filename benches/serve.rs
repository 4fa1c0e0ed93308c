//! Review-page benchmark (`make bench-serve`): `babeldesk serve` over a memory of 1M units (the
//! TM benchmark's units, in 40-segment documents), loaded with wrk (Debian's) on loopback:
//! latency p50/p99 and requests per second for the document screen, filtered listings (first
//! page and a deep keyset page), concordance (a common and a rare word) and fuzzy search; the
//! server's peak RSS. The goal is p99 < 100 ms for each.
//!
//!   cargo bench --bench serve -- [--units 1000000] [--seconds 10] [--connections 4]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Segments per synthetic document.
const PER_DOC: usize = 40;

fn main() {
    let units = common::arg("--units", 1_000_000);
    let seconds = common::arg("--seconds", 10);
    let connections = common::arg("--connections", 4);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = repo.join("../shared/data/parallel/ru-en");
    if !data.is_dir() {
        println!(
            "skipped: {} is missing (the client's sample data)",
            data.display()
        );
        return;
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("skipped: wrk is missing (apt-get install wrk; make bench-serve installs it)");
        return;
    }
    let bin = repo.join("target/release/babeldesk");
    let work = tempfile::tempdir().unwrap();
    let db = work.path().join("memory.sqlite");
    let pairs = common::news_pairs(&data);
    let tmx = work.path().join("units.tmx");
    let in_docs = (0..units).map(|k| {
        let (ru, en) = common::tm_unit(&pairs, k);
        let doc = format!("doc-{:06}.txt", k / PER_DOC);
        (ru, en, Some((doc, (k % PER_DOC) as i64)))
    });
    common::write_tmx_units(&tmx, in_docs);
    println!(
        "importing {units} units in {} documents …",
        units.div_ceil(PER_DOC)
    );
    let t = Instant::now();
    common::babeldesk(&bin, &db, &["memory", "import", tmx.to_str().unwrap()]);
    let import_s = t.elapsed().as_secs_f64();
    let mut rows = vec![(
        format!("import {units} units (s)"),
        format!("{import_s:.1}"),
        "-".into(),
        "-".into(),
    )];
    let mut server = Server::start(&bin, &db);
    for (label, path) in routes(&pairs, units) {
        let r = wrk(&server, &path, seconds, connections);
        println!("{label}: {r:?}");
        rows.push((
            format!("{label}: ms p50 / p99 (goal p99 < 100), req/s"),
            format!("{:.1} / {:.1}", r.p50, r.p99),
            format!("{:.0}/s", r.rps),
            format!("{}", if r.p99 < 100.0 { "met" } else { "MISSED" }),
        ));
    }
    rows.push((
        "server peak RSS (MB)".into(),
        format!("{}", server.peak_rss_mb()),
        "-".into(),
        "-".into(),
    ));
    server.stop();
    common::table("serve", &rows);
}

/// What is asked: (label, path and query).
fn routes(pairs: &[(String, String)], units: usize) -> Vec<(String, String)> {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let mid_doc = format!("doc-{:06}.txt", units / PER_DOC / 2);
    let (common_word, rare_word) = words(pairs);
    let fuzzy = one_word_changed(&pairs[pairs.len() / 3].0);
    let deep = units.saturating_sub(1_000);
    vec![
        (
            "document screen (40 segments, QA)".into(),
            format!("/doc?name={}", enc(&mid_doc)),
        ),
        (
            "list, filter pair+origin+status".into(),
            "/units?from=ru&to=en&origin=import&status=draft".into(),
        ),
        (
            "list, keyset page near the end".into(),
            format!("/units?origin=import&after={deep}"),
        ),
        (
            "list, filter by document".into(),
            format!("/units?document={}", enc(&mid_doc)),
        ),
        (
            format!("concordance, common word ({common_word})"),
            format!("/units?q={}", enc(&common_word)),
        ),
        (
            format!("concordance, rare word ({rare_word})"),
            format!("/units?q={}", enc(&rare_word)),
        ),
        (
            "fuzzy search, one word changed".into(),
            format!("/units?from=ru&to=en&fuzzy={}", enc(&fuzzy)),
        ),
    ]
}

/// A frequent word and one that occurs in a single pair (8+ letters), of the Russian side.
fn words(pairs: &[(String, String)]) -> (String, String) {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (ru, _) in pairs {
        for w in ru
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 5)
        {
            *counts.entry(w).or_default() += 1;
        }
    }
    let mut by_count: Vec<(&str, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let common_word = by_count[0].0.to_string();
    let rare = by_count
        .iter()
        .rev()
        .find(|(w, n)| *n == 1 && w.chars().count() >= 8)
        .map_or("Кунгурская", |(w, _)| w);
    (common_word, rare.to_string())
}

fn one_word_changed(s: &str) -> String {
    let mut words: Vec<&str> = s.split(' ').collect();
    let mid = words.len() / 2;
    words[mid] = "совершенно";
    words.join(" ")
}

struct Server {
    child: Child,
    port: u16,
    token: String,
}

impl Server {
    fn start(bin: &Path, db: &Path) -> Server {
        let mut child = Command::new(bin)
            .arg("--memory")
            .arg(db)
            .args(["--quiet", "serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start babeldesk serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let rest = line
            .trim()
            .strip_prefix("http://127.0.0.1:")
            .expect("a loopback URL");
        let (port, token) = rest.split_once("/?token=").expect("a tokened URL");
        Server {
            child,
            port: port.parse().unwrap(),
            token: token.to_string(),
        }
    }

    fn peak_rss_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Load {
    p50: f64,
    p99: f64,
    rps: f64,
}

/// wrk against one path for `seconds`; every answer must be a 200.
fn wrk(server: &Server, path: &str, seconds: usize, connections: usize) -> Load {
    let url = format!("http://127.0.0.1:{}{path}", server.port);
    let out = Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
        ])
        .args(["--latency", "--timeout", "10s", "-H"])
        .arg(format!("Cookie: babeldesk_token={}", server.token))
        .arg(&url)
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        !text.contains("Non-2xx"),
        "{url}: answers other than 200:\n{text}"
    );
    let ms = |key: &str| -> f64 {
        let v = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in wrk's output:\n{text}"))
            .trim();
        let (num, unit) = v.split_at(v.find(|c: char| c.is_alphabetic()).unwrap_or(v.len()));
        let n: f64 = num.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "s" => n * 1000.0,
            _ => n,
        }
    };
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN);
    Load {
        p50: ms("50%"),
        p99: ms("99%"),
        rps,
    }
}
