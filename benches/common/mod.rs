//! What every benchmark does at the end: print its rows and keep them for `make bench`'s
//! combined table (target/bench-results/NAME.tsv).

#[allow(dead_code)] // each benchmark uses its part
pub mod llm;

use std::path::Path;
use std::process::Command;

/// A result row: what was measured, babeldesk's number, the peer's, and the ratio.
pub type Row = (String, String, String, String);

pub fn table(bench: &str, rows: &[Row]) {
    println!(
        "\n{:<52} {:>12} {:>12} {:>8}",
        "what", "babeldesk", "peer", "ratio"
    );
    for (what, ours, peer, ratio) in rows {
        println!("{what:<52} {ours:>12} {peer:>12} {ratio:>8}");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    let tsv: String = rows
        .iter()
        .map(|(a, b, c, d)| format!("{a}\t{b}\t{c}\t{d}\n"))
        .collect();
    let _ = std::fs::write(dir.join(format!("{bench}.tsv")), tsv);
}

/// `--name N` from the command line, else `default`.
#[allow(dead_code)] // not every benchmark takes numbers
pub fn arg(name: &str, default: usize) -> usize {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

/// Make a random-weight model with `script` (in benches/) into `dir` unless it is there.
#[allow(dead_code)]
pub fn ensure_model(script: &str, dir: &Path) {
    if dir.join("model.safetensors").is_file() {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("making {} with {script} …", dir.display());
    let ok = std::process::Command::new(repo.join(".venv/bin/python"))
        .arg(repo.join("benches").join(script))
        .arg(dir)
        .status()
        .expect("run the venv's python");
    assert!(
        ok.success(),
        "{script} failed (it needs transformers in .venv: make bench-deps)"
    );
}

/// The non-empty lines of a data file, trimmed.
#[allow(dead_code)]
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Every line of a file, empty ones too (line-aligned test sets and outputs).
#[allow(dead_code)]
pub fn lines_all(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(String::from)
        .collect()
}

/// A ru→en TMX file of `pairs`.
#[allow(dead_code)]
pub fn write_tmx(path: &Path, pairs: impl Iterator<Item = (String, String)>) {
    write_tmx_units(path, pairs.map(|(ru, en)| (ru, en, None)));
}

/// A ru→en TMX file of units, each optionally in a document at a position (babeldesk's
/// document props, as `translate` stores them).
#[allow(dead_code)]
pub fn write_tmx_units(
    path: &Path,
    units: impl Iterator<Item = (String, String, Option<(String, i64)>)>,
) {
    use std::io::Write;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\">\n<header creationtool=\"bench\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"bench\" adminlang=\"en\" srclang=\"ru\" datatype=\"plaintext\"/>\n<body>").unwrap();
    for (ru, en, doc) in units {
        let props = doc.map_or(String::new(), |(d, p)| {
            format!("<prop type=\"x-babeldesk-document\">{}</prop><prop type=\"x-babeldesk-position\">{p}</prop>", esc(&d))
        });
        writeln!(
            f,
            "<tu>{props}<tuv xml:lang=\"ru\"><seg>{}</seg></tuv><tuv xml:lang=\"en\"><seg>{}</seg></tuv></tu>",
            esc(&ru),
            esc(&en)
        )
        .unwrap();
    }
    writeln!(f, "</body>\n</tmx>").unwrap();
}

/// The shared data's ru-en news pairs (newstest2012 and 2013), trimmed, empty lines left out.
#[allow(dead_code)]
pub fn news_pairs(dir: &Path) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for set in ["newstest2012", "newstest2013"] {
        let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{set}.{ext}"))).unwrap();
        let (ru, en) = (read("ru"), read("en"));
        for (r, e) in ru.lines().zip(en.lines()) {
            if !r.trim().is_empty() && !e.trim().is_empty() {
                pairs.push((r.trim().to_string(), e.trim().to_string()));
            }
        }
    }
    pairs
}

fn halves(s: &str) -> (&str, &str) {
    let mut mid = s.len() / 2;
    while !s.is_char_boundary(mid) {
        mid += 1;
    }
    let cut = s[mid..].find(' ').map_or(s.len(), |i| mid + i);
    (&s[..cut], &s[cut..])
}

/// Unit `k` of a large TM: the pairs first, then half of one joined to half of another, so a
/// large TM is full of partial look-alikes, as real ones are.
#[allow(dead_code)]
pub fn tm_unit(pairs: &[(String, String)], k: usize) -> (String, String) {
    let n = pairs.len();
    if k < n {
        return pairs[k].clone();
    }
    let a = k % n;
    let b = (a + 1 + (k / n) * 131) % n;
    let b = if b == a { (b + 1) % n } else { b };
    let (ra, _) = halves(&pairs[a].0);
    let (_, rb) = halves(&pairs[b].0);
    let (ea, _) = halves(&pairs[a].1);
    let (_, eb) = halves(&pairs[b].1);
    (format!("{ra}{rb}"), format!("{ea}{eb}"))
}

/// `babeldesk --memory MEMORY --quiet ARGS`, which must succeed: its standard output.
#[allow(dead_code)]
pub fn babeldesk(bin: &Path, memory: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(bin)
        .arg("--memory")
        .arg(memory)
        .arg("--quiet")
        .args(args)
        .output()
        .expect("run babeldesk");
    assert!(
        out.status.success(),
        "babeldesk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `babeldesk eval translate` of a hypothesis file: its chrF and BLEU.
#[allow(dead_code)]
pub fn chrf_bleu(
    bin: &Path,
    memory: &Path,
    src: &Path,
    reference: &Path,
    hyp: &Path,
) -> (f64, f64) {
    let path = |p: &Path| p.to_str().expect("UTF-8 path").to_string();
    let (s, r, h) = (path(src), path(reference), path(hyp));
    let args = [
        "eval",
        "translate",
        "--src",
        &s,
        "--ref",
        &r,
        "--hyp",
        &h,
        "--format",
        "json",
    ];
    let v: serde_json::Value =
        serde_json::from_slice(&babeldesk(bin, memory, &args)).expect("eval prints JSON");
    (
        v["chrf"].as_f64().unwrap_or(f64::NAN),
        v["bleu"].as_f64().unwrap_or(f64::NAN),
    )
}
