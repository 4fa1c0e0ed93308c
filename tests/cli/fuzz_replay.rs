//! The fuzz targets' smoke run in `make test`: every seed (fuzz/seeds), every input a fuzzer
//! ever broke babeldesk with (fuzz/regressions), the TMX files of ../shared/data/tmx, and a
//! fixed set of mutations of each, through the same checks as `make fuzz`
//! (`babeldesk::invariants`). The long, coverage-guided campaign is `make fuzz`.

use babeldesk::invariants;
use babeldesk::testing::skip;
use std::path::{Path, PathBuf};

/// Mutations tried per input: a few seconds for all targets on two cores.
const MUTATIONS: usize = 300;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// xorshift64*: the same mutations on every run, so a failure here repeats (and the crash
/// tests' kill moments, from a seed they print).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the parsers: markup, quotes, separators, multi-byte UTF-8.
const SPICE: &[&[u8]] = &[
    b"<",
    b">",
    b"&",
    b";",
    b"\"",
    b"'",
    b"\n",
    b"\r",
    b"\t",
    b"\0",
    b",",
    b"=",
    b"/",
    b"</tu>",
    b"<seg>",
    b"&#x0;",
    b"&amp;",
    "ё".as_bytes(),
    "—".as_bytes(),
    b"\xd0",
    b"\xff\xfe",
    b"$T",
    b"$C",
    b"%",
    b"\n\n",
    b". ",
    b"<p>",
];

fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if at < v.len() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            2 => {
                let s = SPICE[rng.below(SPICE.len())];
                v.splice(at..at, s.iter().copied());
            }
            3 if at < v.len() => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let piece = v[at..end].to_vec();
                v.splice(end..end, piece);
            }
            _ => v.truncate(at),
        }
    }
    v
}

/// Runs `check` on every input of `target` and on its mutations; a failure names the input.
fn replay(target: &str, check: fn(&[u8]), extra: &[PathBuf]) -> usize {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = Vec::new();
    files_under(&fuzz.join("seeds").join(target), &mut inputs);
    files_under(&fuzz.join("regressions").join(target), &mut inputs);
    assert!(
        !inputs.is_empty(),
        "no seeds for {target} in {}",
        fuzz.display()
    );
    inputs.extend_from_slice(extra);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        for m in 0..=MUTATIONS {
            let input = match m {
                0 => data.clone(),
                _ => mutate(&data, &mut rng),
            };
            let result = std::panic::catch_unwind(|| check(&input));
            if let Err(panic) = result {
                let kept = std::env::temp_dir().join(format!("babeldesk-fuzz-{target}-{m}"));
                std::fs::write(&kept, &input).unwrap();
                eprintln!(
                    "{target}: {} (mutation {m}) fails; the input is in {}",
                    path.display(),
                    kept.display()
                );
                std::panic::resume_unwind(panic);
            }
            runs += 1;
        }
    }
    eprintln!("{target}: {} inputs, {runs} runs", inputs.len());
    runs
}

/// The TMX files of ../shared/data/tmx (the LISA kit among them), or none with a note.
fn shared_tmx() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tmx");
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    files.retain(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("tmx")));
    if files.is_empty() {
        skip(&format!(
            "no TMX files in {} (../shared is absent): the reader replays the seeds alone",
            dir.display()
        ));
    }
    files
}

#[test]
fn tmx_reader_replays() {
    replay("tmx", invariants::tmx, &shared_tmx());
}

#[test]
fn glossary_readers_replay() {
    replay("glossary", invariants::glossary, &[]);
}

#[test]
fn document_reader_replays() {
    replay("document", invariants::document, &[]);
}

#[test]
fn key_and_score_replay() {
    replay("key_score", invariants::key_and_score, &[]);
}

#[test]
fn engine_protocol_replays() {
    replay("protocol", invariants::protocol, &[]);
}

#[test]
fn review_server_requests_replay() {
    replay("serve_request", invariants::serve_request, &[]);
}
