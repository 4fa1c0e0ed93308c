//! `make bench-terms` (issue 13): terms and Chinese names, in three parts.
//!
//! - `accuracy`: the share of required English forms in Qwen 1.5B's translations of
//!   tests/fixtures/terms/ (names.tsv: Chinese names in Palladius Russian, `--no-terms` vs the
//!   default; terms.tsv: glossary terms in inflected forms, a fresh memory without vs with
//!   glossary-ru-en.tsv imported), one `translate FILE --format json` per mode, one sentence a
//!   line; with the QA flags of each mode, each judged by the form it names (right when that
//!   form is absent), and the name reader's misses. Goals: >= 95% names, >= 97% terms.
//! - `chrf`: newstest2013 (first N lines), `eval translate` without vs with `--terms-from DB
//!   --names` (DB: examples/glossary-ru-en.tsv imported); must not drop by more than 0.3.
//!   `--select rendered` takes the first N lines that get a term or name rendering instead.
//! - `lookup`: a synthetic termbase of N entries (1-4 Russian words from newstest2012.ru)
//!   imported with `terms import`, then, in this process through the library: loading the
//!   matcher, and per segment (newstest2013.ru) `Matcher::find`, `names::find`, `qa::check`.
//!   Goal: p99 of find < 2 ms.
//!
//!     cargo bench --bench terms -- [--parts accuracy,chrf,lookup] [--limit N] [--reuse]
//!         [--sentences 200] [--select first|rendered] [--entries 100000] [--segments 1000]
//!         [--model ID]
//!
//! `--limit N` translates only the first N fixture sentences (a quick check of the path);
//! `--reuse` scores the JSON an earlier accuracy run saved instead of translating again.
//! BABELDESK_BIN runs another copy of the CLI. Rows go to target/bench-results/terms.tsv, the
//! translations to target/bench-results/terms-*.json / terms-chrf-*.en.

mod common;

use babeldesk::memory::{Access, Memory};
use babeldesk::qa;
use babeldesk::terms::{names, Matcher};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Row = common::Row;

struct Args {
    parts: Vec<String>,
    limit: usize,
    sentences: usize,
    select: String,
    entries: usize,
    segments: usize,
    model: String,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().collect();
    let text = |name: &str| {
        argv.iter()
            .position(|a| a == name)
            .and_then(|i| argv.get(i + 1).cloned())
    };
    Args {
        parts: text("--parts")
            .unwrap_or_else(|| "accuracy,chrf,lookup".into())
            .split(',')
            .map(String::from)
            .collect(),
        limit: common::arg("--limit", usize::MAX),
        sentences: common::arg("--sentences", 200),
        select: text("--select").unwrap_or_else(|| "first".into()),
        entries: common::arg("--entries", 100_000),
        segments: common::arg("--segments", 1000),
        model: text("--model").unwrap_or_else(|| "qwen2.5-coder-1.5b-instruct-q4km".into()),
    }
}

struct Env {
    repo: PathBuf,
    bin: PathBuf,
    data: PathBuf,
    fixtures: PathBuf,
    results: PathBuf,
    work: tempfile::TempDir,
    /// Score the translations an earlier run saved instead of translating again.
    reuse: bool,
}

fn main() {
    let args = args();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // BABELDESK_BIN: a copy of the binaries, so rebuilding during a long run changes nothing.
    let bin = std::env::var_os("BABELDESK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/release/babeldesk"));
    let env = Env {
        data: repo.join("../shared/data/parallel/ru-en"),
        fixtures: repo.join("tests/fixtures/terms"),
        results: repo.join("target/bench-results"),
        work: tempfile::tempdir().unwrap(),
        reuse: std::env::args().any(|a| a == "--reuse"),
        bin,
        repo,
    };
    std::fs::create_dir_all(&env.results).unwrap();
    let mut rows: Vec<Row> = Vec::new();
    let mut took: Vec<(String, Duration)> = Vec::new();
    for part in &args.parts {
        let t = Instant::now();
        match part.as_str() {
            "accuracy" => accuracy(&env, &args, &mut rows),
            "chrf" => chrf(&env, &args, &mut rows),
            "lookup" => lookup(&env, &args, &mut rows),
            other => panic!("--parts: no part {other:?} (accuracy, chrf, lookup)"),
        }
        took.push((part.clone(), t.elapsed()));
    }
    for (part, d) in &took {
        println!("part {part}: {:.0} s", d.as_secs_f64());
    }
    common::table("terms", &rows);
}

/// Run the CLI (from the repository root, so it finds models/ there) and return its stdout.
fn cli(env: &Env, memory: &Path, args: &[&str]) -> Vec<u8> {
    common::babeldesk(&env.bin, memory, args)
}

/// `terms import FILE --from ru --to en` into `memory`.
fn import_terms(env: &Env, memory: &Path, file: &Path) {
    cli(
        env,
        memory,
        &[
            "terms",
            "import",
            file.to_str().unwrap(),
            "--from",
            "ru",
            "--to",
            "en",
        ],
    );
}

fn pct(n: usize, d: usize) -> f64 {
    100.0 * n as f64 / d.max(1) as f64
}

// ---------------------------------------------------------------------------------------------
// Part 1: term and name accuracy

/// Lower case without apostrophes and hyphens (Xi'an = Xian, e-commerce = ecommerce).
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\'' | '’' | '‘' | 'ʼ' | '`' | '-' | '‐' | '‑'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `form` occurs in `target` as whole words, case-insensitively; a plural or
/// possessive `s` may follow (zones, Xi'an's).
fn present(target: &str, form: &str) -> bool {
    let (hay, needle) = (norm(target), norm(form));
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    hay.match_indices(&needle).any(|(i, m)| {
        let mut after = hay[i + m.len()..].chars();
        let next = after.next();
        let ends = !word(next) || (next == Some('s') && !word(after.next()));
        !word(hay[..i].chars().next_back()) && ends
    })
}

/// A fixture: sentence<TAB>form|form.
fn fixture(path: &Path, limit: usize) -> Vec<(String, Vec<String>)> {
    common::lines(path)
        .into_iter()
        .filter(|l| !l.starts_with('#'))
        .take(limit)
        .map(|l| {
            let (s, forms) = l.split_once('\t').expect("sentence<TAB>forms");
            (s.to_string(), forms.split('|').map(String::from).collect())
        })
        .collect()
}

/// What one mode made of each fixture line: the target (its segments joined), the names the
/// reader found, the terms recognized and the QA flag kinds.
#[derive(Default, Clone)]
struct Line {
    target: String,
    /// (found, pinyin, conventional)
    names: Vec<(String, String, bool)>,
    terms: Vec<(String, String)>,
    flags: Vec<(String, String)>,
}

/// `translate FILE --format json` on the sentences, one a line, with `extra` flags; the
/// segments grouped back into lines by their byte offsets.
fn translate(
    env: &Env,
    memory: &Path,
    sentences: &[&str],
    extra: &[&str],
    save: &str,
) -> Vec<Line> {
    let input = env.work.path().join(format!("{save}.ru.txt"));
    let text = sentences.join("\n") + "\n";
    std::fs::write(&input, &text).unwrap();
    let mut starts = Vec::new();
    let mut at = 0;
    for s in sentences {
        starts.push(at);
        at += s.len() + 1;
    }
    let mut args = vec![
        "translate",
        input.to_str().unwrap(),
        "--from",
        "ru",
        "--keep-all",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let saved = env.results.join(format!("terms-{save}.json"));
    let t = Instant::now();
    let out = if env.reuse {
        std::fs::read(&saved).unwrap_or_else(|e| panic!("--reuse: {}: {e}", saved.display()))
    } else {
        let out = cli(env, memory, &args);
        std::fs::write(&saved, &out).unwrap();
        out
    };
    let secs = t.elapsed().as_secs_f64();
    let v: Value = serde_json::from_slice(&out).expect("translate prints JSON");
    assert_eq!(
        v["file"]
            .as_str()
            .map(|f| f.ends_with(&format!("{save}.ru.txt"))),
        Some(true),
        "{}: not this mode's output",
        saved.display()
    );
    let mut lines = vec![Line::default(); sentences.len()];
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    for seg in v["segments"].as_array().expect("segments") {
        let start = seg["start"].as_u64().unwrap() as usize;
        let i = starts.partition_point(|&s| s <= start) - 1;
        assert!(
            sentences[i].contains(seg["source"].as_str().unwrap_or("\u{0}")),
            "segment {seg} is not in line {}",
            i + 1
        );
        let line = &mut lines[i];
        if !line.target.is_empty() {
            line.target.push(' ');
        }
        line.target
            .push_str(seg["target"].as_str().unwrap_or_default());
        for n in seg["names"].as_array().into_iter().flatten() {
            line.names.push((
                s(&n["found"]),
                s(&n["pinyin"]),
                n["conventional"].as_bool().unwrap_or(false),
            ));
        }
        for t in seg["terms"].as_array().into_iter().flatten() {
            line.terms.push((s(&t["found"]), s(&t["target"])));
        }
        for f in seg["qa"].as_array().into_iter().flatten() {
            line.flags.push((s(&f["kind"]), s(&f["detail"])));
        }
    }
    println!(
        "  {save}: {} sentences in {secs:.0} s ({:.1} s each), {} model calls, {} failed",
        sentences.len(),
        secs / sentences.len().max(1) as f64,
        v["model_calls"],
        v["failed"]
    );
    lines
}

/// Forms present, of all required; the QA flags of one kind, each judged by the form it names:
/// right (a required form, absent from the translation), wrong (a required form that is
/// there), other (a name the fixture does not list, or a wrong reading); required forms absent
/// that no flag named.
struct Score {
    present: usize,
    total: usize,
    flags: usize,
    right: usize,
    wrong: usize,
    other: Vec<String>,
    missed: usize,
}

/// The English forms a QA flag says are missing: `Куньшаня → Kunshan: not in the translation`,
/// `"НИОКР" → "R&D" or "research" missing`.
fn flag_forms(detail: &str) -> Vec<String> {
    let Some((_, rest)) = detail.split_once(" → ") else {
        return Vec::new();
    };
    let rest = rest
        .trim_end_matches(": not in the translation")
        .trim_end_matches(" missing");
    rest.split(" or ")
        .map(|f| f.trim().trim_matches('"').to_string())
        .collect()
}

fn score(fx: &[(String, Vec<String>)], lines: &[Line], kind: &str) -> Score {
    let mut s = Score {
        present: 0,
        total: 0,
        flags: 0,
        right: 0,
        wrong: 0,
        other: Vec::new(),
        missed: 0,
    };
    for (i, ((_, forms), line)) in fx.iter().zip(lines).enumerate() {
        let mut named = Vec::new();
        for (_, detail) in line.flags.iter().filter(|(k, _)| k == kind) {
            s.flags += 1;
            let said = flag_forms(detail);
            match forms
                .iter()
                .find(|r| said.iter().any(|f| norm(f) == norm(r)))
            {
                Some(r) if present(&line.target, r) => s.wrong += 1,
                Some(r) => {
                    s.right += 1;
                    named.push(r);
                }
                None => s.other.push(format!("#{} {detail}", i + 1)),
            }
        }
        for r in forms {
            s.total += 1;
            if present(&line.target, r) {
                s.present += 1;
            } else if !named.contains(&r) {
                s.missed += 1;
            }
        }
    }
    s
}

fn flag_row(kind: &str, label: &str, s: &Score, rows: &mut Vec<Row>) {
    rows.push((
        format!("  {kind} flags, {label}: n (right/wrong/other); absent unflagged"),
        format!("{}", s.flags),
        format!("{}/{}/{}", s.right, s.wrong, s.other.len()),
        format!("{}/{}", s.missed, s.total - s.present),
    ));
    for o in &s.other {
        println!("  {kind} flag, {label}, about no required form: {o}");
    }
}

fn score_rows(
    what: &str,
    goal: &str,
    kind: &str,
    on: (&str, &Score),
    off: (&str, &Score),
    rows: &mut Vec<Row>,
) {
    let (a, b) = (on.1, off.1);
    rows.push((
        format!("{what} present, {} vs {} (goal {goal})", on.0, off.0),
        format!(
            "{:.1}% ({}/{})",
            pct(a.present, a.total),
            a.present,
            a.total
        ),
        format!(
            "{:.1}% ({}/{})",
            pct(b.present, b.total),
            b.present,
            b.total
        ),
        format!("{:+.1}", pct(a.present, a.total) - pct(b.present, b.total)),
    ));
    for (label, s) in [on, off] {
        flag_row(kind, label, s, rows);
    }
}

/// The misses of one mode: each line lacking a form, with its translation.
fn misses(fx: &[(String, Vec<String>)], lines: &[Line], label: &str) {
    for (i, ((src, forms), line)) in fx.iter().zip(lines).enumerate() {
        let gone: Vec<&str> = forms
            .iter()
            .filter(|f| !present(&line.target, f))
            .map(String::as_str)
            .collect();
        if !gone.is_empty() {
            println!(
                "  {label} #{}: lacks {gone:?}\n      {src}\n      → {}",
                i + 1,
                line.target
            );
        }
    }
}

fn accuracy(env: &Env, args: &Args, rows: &mut Vec<Row>) {
    let names_fx = fixture(&env.fixtures.join("names.tsv"), args.limit);
    let terms_fx = fixture(&env.fixtures.join("terms.tsv"), args.limit);
    let glossary = env.fixtures.join("glossary-ru-en.tsv");
    let mem = |name: &str| env.work.path().join(format!("{name}.sqlite"));
    let model = ["--model", args.model.as_str()];

    // (a) Names: --no-terms (the reader's pinyin is not told the model) vs the default.
    println!(
        "names: {} sentences, --no-terms then the default …",
        names_fx.len()
    );
    let src: Vec<&str> = names_fx.iter().map(|(s, _)| s.as_str()).collect();
    let off = translate(
        env,
        &mem("names-off"),
        &src,
        &[&model[..], &["--no-terms"]].concat(),
        "names-off",
    );
    let on = translate(env, &mem("names-on"), &src, &model, "names-on");
    let (s_on, s_off) = (
        score(&names_fx, &on, "name"),
        score(&names_fx, &off, "name"),
    );
    score_rows(
        "names",
        ">= 95%",
        "name",
        ("default", &s_on),
        ("--no-terms", &s_off),
        rows,
    );
    misses(&names_fx, &on, "names, default");
    misses(&names_fx, &off, "names, --no-terms");
    // The reader: each required form against the pinyin it found in the line.
    let mut read_ok = 0;
    let mut wanted = 0;
    println!("name reader (required form not among the line's pinyin; the reader's names):");
    for (i, ((src, forms), line)) in names_fx.iter().zip(&on).enumerate() {
        for f in forms {
            wanted += 1;
            if line.names.iter().any(|(_, p, _)| norm(p) == norm(f)) {
                read_ok += 1;
            } else {
                println!("  #{} {f}: reader {:?}   ({src})", i + 1, line.names);
            }
        }
        // Names read that the fixture does not list (conventional ones like Китая aside).
        let extra: Vec<&(String, String, bool)> = line
            .names
            .iter()
            .filter(|(_, p, conv)| !conv && !forms.iter().any(|f| norm(p) == norm(f)))
            .collect();
        if !extra.is_empty() {
            println!("  #{} read but not listed: {extra:?}", i + 1);
        }
    }
    rows.push((
        "names read right by the reader (pinyin = required form)".into(),
        format!("{:.1}% ({read_ok}/{wanted})", pct(read_ok, wanted)),
        "-".into(),
        "-".into(),
    ));

    // (b) Terms: a fresh memory without vs with the glossary (names enforced in both).
    println!(
        "terms: {} sentences, no glossary then glossary-ru-en.tsv imported …",
        terms_fx.len()
    );
    let src: Vec<&str> = terms_fx.iter().map(|(s, _)| s.as_str()).collect();
    let off = translate(env, &mem("terms-off"), &src, &model, "terms-off");
    let db = mem("terms-on");
    import_terms(env, &db, &glossary);
    let on = translate(env, &db, &src, &model, "terms-on");
    let (s_on, s_off) = (
        score(&terms_fx, &on, "missing_term"),
        score(&terms_fx, &off, "missing_term"),
    );
    score_rows(
        "glossary terms",
        ">= 97%",
        "missing_term",
        ("glossary", &s_on),
        ("none", &s_off),
        rows,
    );
    // What QA would have said of the glossary-less translations (the library, same checks).
    let memory = Memory::open_for(&db, Duration::from_secs(10), Access::Read).unwrap();
    let matcher = Matcher::new("ru", memory.terms_for("ru", "en").unwrap());
    let checked: Vec<Line> = terms_fx
        .iter()
        .zip(&off)
        .map(|((src, _), line)| {
            let terms = matcher.find(src);
            let checks = qa::Checks {
                from: "ru",
                to: "en",
                terms: &terms,
                names: &[],
            };
            let flags = qa::check(src, &line.target, &checks)
                .into_iter()
                .map(|f| (f.kind.as_str().to_string(), f.detail))
                .collect();
            Line {
                flags,
                ..line.clone()
            }
        })
        .collect();
    let s_chk = score(&terms_fx, &checked, "missing_term");
    flag_row(
        "missing_term",
        "none, checked with the glossary (library)",
        &s_chk,
        rows,
    );
    // Recognition: a required form whose entry was not found in the source cannot be told.
    let mut unrecognized = Vec::new();
    for (i, ((src, forms), line)) in terms_fx.iter().zip(&on).enumerate() {
        for f in forms {
            if !line.terms.iter().any(|(_, t)| norm(t) == norm(f)) {
                unrecognized.push(format!("#{} {f} ({src})", i + 1));
            }
        }
    }
    let total: usize = terms_fx.iter().map(|(_, f)| f.len()).sum();
    rows.push((
        "glossary terms recognized in the source".into(),
        format!(
            "{:.1}% ({}/{total})",
            pct(total - unrecognized.len(), total),
            total - unrecognized.len()
        ),
        "-".into(),
        "-".into(),
    ));
    for u in &unrecognized {
        println!("  not recognized: {u}");
    }
    misses(&terms_fx, &on, "terms, glossary");
    misses(&terms_fx, &off, "terms, none");
    for (i, line) in on.iter().enumerate() {
        for (k, d) in line.flags.iter().filter(|(k, _)| k == "missing_term") {
            println!("  flag #{}: {k}: {d}", i + 1);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Part 2: chrF on newstest2013, terms and names on vs off

fn chrf(env: &Env, args: &Args, rows: &mut Vec<Row>) {
    if !env.data.join("newstest2013.ru").is_file() {
        println!("chrf skipped: {} is missing", env.data.display());
        return;
    }
    let n = args.sentences;
    let work = env.work.path();
    let db = work.join("chrf-glossary.sqlite");
    let glossary = env.repo.join("examples/glossary-ru-en.tsv");
    import_terms(env, &db, &glossary);
    let memory = Memory::open_for(&db, Duration::from_secs(10), Access::Read).unwrap();
    let all_src = common::lines_all(&env.data.join("newstest2013.ru"));
    let all_ref = common::lines_all(&env.data.join("newstest2013.en"));
    let mut pick: Vec<usize> = (0..all_src.len().min(all_ref.len()))
        .filter(|&i| !all_src[i].trim().is_empty() && !all_ref[i].trim().is_empty())
        .collect();
    // --select rendered: the first n lines of the whole test set that get a rendering.
    let rendered = match args.select.as_str() {
        "first" => false,
        "rendered" => true,
        other => panic!("--select {other:?}: first or rendered"),
    };
    if rendered {
        let texts: Vec<&str> = pick.iter().map(|&i| all_src[i].trim()).collect();
        let found =
            babeldesk::pipeline::terms::find_in_lines(&texts, "ru", "en", Some(&memory), true)
                .unwrap();
        let had: Vec<usize> = pick
            .iter()
            .zip(&found)
            .filter(|(_, f)| !f.terms.is_empty() || !f.names.is_empty())
            .map(|(i, _)| *i)
            .collect();
        println!(
            "chrf: {} of {} newstest2013 lines get a rendering",
            had.len(),
            pick.len()
        );
        pick = had;
    }
    pick.truncate(n);
    let n = pick.len();
    let cut = |name: &str, all: &[String]| -> (PathBuf, Vec<String>) {
        let p = work.join(name);
        let lines: Vec<String> = pick.iter().map(|&i| all[i].trim().to_string()).collect();
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        (p, lines)
    };
    let ((src, src_lines), (reference, _)) = (
        cut("newstest2013.ru", &all_src),
        cut("newstest2013.en", &all_ref),
    );
    let set = if rendered {
        format!("{n} newstest2013 sent. with a rendering")
    } else {
        format!("first {n} newstest2013 sent.")
    };
    // Which lines get a rendering (what `eval translate --terms-from --names` finds).
    let lines: Vec<&str> = src_lines.iter().map(String::as_str).collect();
    let found =
        babeldesk::pipeline::terms::find_in_lines(&lines, "ru", "en", Some(&memory), true).unwrap();
    let with: Vec<usize> = (0..found.len())
        .filter(|&i| !found[i].terms.is_empty() || !found[i].names.is_empty())
        .collect();
    let n_terms = found.iter().filter(|f| !f.terms.is_empty()).count();
    let n_names = found.iter().filter(|f| !f.names.is_empty()).count();
    println!(
        "chrf: {set}; {} with a rendering ({n_terms} with a term, {n_names} with a name): off, then on …",
        with.len()
    );
    for i in &with {
        let f = &found[*i];
        let names: Vec<String> = f
            .names
            .iter()
            .map(|n| format!("{}→{}", n.found, n.pinyin))
            .collect();
        let terms: Vec<String> = f
            .terms
            .iter()
            .map(|t| format!("{}→{}", t.found, t.target))
            .collect();
        let line = pick[*i] + 1;
        println!("  line {line}: {}", [terms, names].concat().join(", "));
    }
    let hyp = |label: &str| env.results.join(format!("terms-chrf-{label}.en"));
    let eval = |label: &str, extra: &[&str]| -> Value {
        let out = hyp(label);
        let mut a = vec![
            "eval",
            "translate",
            "--model",
            &args.model,
            "--src",
            src.to_str().unwrap(),
            "--ref",
            reference.to_str().unwrap(),
            "--from",
            "ru",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        let empty = work.join(format!("chrf-{label}.sqlite"));
        serde_json::from_slice(&cli(env, &empty, &a)).expect("eval prints JSON")
    };
    rows.push((
        format!("  {set}: lines with a rendering (term / name)"),
        format!("{}", with.len()),
        format!("{n_terms} / {n_names}"),
        "-".into(),
    ));
    let off = eval("off", &[]);
    let on = eval("on", &["--terms-from", db.to_str().unwrap(), "--names"]);
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    for (what, key) in [("chrF", "chrf"), ("BLEU", "bleu")] {
        rows.push((
            format!("{what}, {set}: terms+names on vs off"),
            format!("{:.2}", f(&on, key)),
            format!("{:.2}", f(&off, key)),
            format!("{:+.2}", f(&on, key) - f(&off, key)),
        ));
    }
    rows.push((
        "  seconds per sentence, on vs off".into(),
        format!("{:.2}", f(&on, "seconds") / n as f64),
        format!("{:.2}", f(&off, "seconds") / n as f64),
        format!("{:.2}x", f(&on, "seconds") / f(&off, "seconds")),
    ));
    // The lines with a rendering alone, and the lines without one that changed (should be 0).
    let (h_on, h_off) = (
        common::lines_all(&hyp("on")),
        common::lines_all(&hyp("off")),
    );
    let refs = common::lines_all(&reference);
    let changed_without = (0..h_on.len())
        .filter(|i| !with.contains(i) && h_on.get(*i) != h_off.get(*i))
        .count();
    let changed_with = with
        .iter()
        .filter(|&&i| h_on.get(i) != h_off.get(i))
        .count();
    if !with.is_empty() {
        let pick = |v: &[String], name: &str| {
            let p = work.join(name);
            let l: Vec<&str> = with.iter().map(|&i| v[i].as_str()).collect();
            std::fs::write(&p, l.join("\n") + "\n").unwrap();
            p
        };
        let (sp, rp) = (pick(&src_lines, "sub.ru"), pick(&refs, "sub.en"));
        let sub = |h: &[String], label: &str| -> f64 {
            let hp = pick(h, &format!("sub-{label}.hyp"));
            common::chrf_bleu(&env.bin, &work.join("sub.sqlite"), &sp, &rp, &hp).0
        };
        let (c_on, c_off) = (sub(&h_on, "on"), sub(&h_off, "off"));
        rows.push((
            format!("  chrF on the {} lines with a rendering", with.len()),
            format!("{c_on:.2}"),
            format!("{c_off:.2}"),
            format!("{:+.2}", c_on - c_off),
        ));
    }
    println!(
        "chrf: lines with a rendering {} of {n} ({n_terms} term, {n_names} name), of them changed {changed_with}; lines without one that changed: {changed_without} (0: same prompt, same answer); failed {} off / {} on",
        with.len(),
        off["failed"],
        on["failed"]
    );
}

// ---------------------------------------------------------------------------------------------
// Part 3: lookup cost with a large termbase

/// xorshift64*: the same synthetic termbase every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Russian words: newstest2012.ru's (4+ letters), else the fixtures'.
fn vocabulary(env: &Env) -> Vec<String> {
    let file = env.data.join("newstest2012.ru");
    let text = if file.is_file() {
        std::fs::read_to_string(&file).unwrap()
    } else {
        ["names.tsv", "terms.tsv", "glossary-ru-en.tsv"]
            .iter()
            .map(|f| std::fs::read_to_string(env.fixtures.join(f)).unwrap())
            .collect()
    };
    let mut words: Vec<String> = text
        .split(|c: char| !(c.is_alphabetic() || c == '-'))
        .filter(|w| w.chars().count() >= 4 && w.chars().all(|c| matches!(c, 'а'..='я' | 'ё')))
        .map(String::from)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// p50, p99 and max of durations, in milliseconds.
fn quantiles(mut d: Vec<Duration>) -> (f64, f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1e3;
    let at = |q: f64| ms(d[((d.len() as f64 * q).ceil() as usize).clamp(1, d.len()) - 1]);
    (at(0.50), at(0.99), ms(*d.last().unwrap()))
}

fn lookup(env: &Env, args: &Args, rows: &mut Vec<Row>) {
    let n = args.entries;
    let vocab = vocabulary(env);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut seen = std::collections::HashSet::new();
    let mut tsv = String::new();
    while seen.len() < n {
        let k = 1 + rng.below(4);
        let term: Vec<&str> = (0..k)
            .map(|_| vocab[rng.below(vocab.len())].as_str())
            .collect();
        let term = term.join(" ");
        if seen.insert(term.clone()) {
            tsv += &format!("{term}\tterm {}\n", seen.len());
        }
    }
    let file = env.work.path().join("synthetic.tsv");
    std::fs::write(&file, tsv).unwrap();
    let db = env.work.path().join("synthetic.sqlite");
    println!(
        "lookup: importing {n} synthetic entries (1-4 of {} words) …",
        vocab.len()
    );
    let t = Instant::now();
    import_terms(env, &db, &file);
    let import = t.elapsed();
    let db_mb = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;

    // Loading, as translate does it: the pair's entries, then the index.
    let t = Instant::now();
    let memory = Memory::open_for(&db, Duration::from_secs(10), Access::Read).unwrap();
    let terms = memory.terms_for("ru", "en").unwrap();
    let read = t.elapsed();
    let t = Instant::now();
    let matcher = Matcher::new("ru", terms);
    let index = t.elapsed();
    assert_eq!(matcher.len(), n, "every entry loaded");

    // Segments: newstest2013.ru (else the fixtures' sentences), with references as targets.
    let (src, tgt) = if env.data.join("newstest2013.ru").is_file() {
        (
            common::lines_all(&env.data.join("newstest2013.ru")),
            common::lines_all(&env.data.join("newstest2013.en")),
        )
    } else {
        let fx = fixture(&env.fixtures.join("names.tsv"), usize::MAX);
        let s: Vec<String> = fx.iter().map(|(s, _)| s.clone()).collect();
        let t: Vec<String> = fx.iter().map(|(_, f)| f.join(" ")).collect();
        (s, t)
    };
    let segs: Vec<(&str, &str)> = src
        .iter()
        .zip(&tgt)
        .filter(|(s, _)| !s.trim().is_empty())
        .cycle()
        .take(args.segments.min(src.len() * 100))
        .map(|(s, t)| (s.as_str(), t.as_str()))
        .collect();
    // Warm up (page in, allocator, QA's patterns), then three timed passes.
    for (s, target) in &segs {
        let (found, names) = (matcher.find(s), names::find(s));
        let checks = qa::Checks {
            from: "ru",
            to: "en",
            terms: &found,
            names: &names,
        };
        std::hint::black_box(qa::check(s, target, &checks));
    }
    // Per segment the best of three passes: what the code costs, less the scheduler's noise on
    // a shared machine (the worst single sample is printed too).
    let k = segs.len();
    let mut best = vec![[Duration::MAX; 4]; k];
    let mut worst = [Duration::ZERO; 4];
    let mut matches = 0;
    let mut named = 0;
    for pass in 0..3 {
        for (j, (s, target)) in segs.iter().enumerate() {
            let t0 = Instant::now();
            let found = matcher.find(s);
            let t1 = Instant::now();
            let names = names::find(s);
            let t2 = Instant::now();
            let checks = qa::Checks {
                from: "ru",
                to: "en",
                terms: &found,
                names: &names,
            };
            std::hint::black_box(qa::check(s, target, &checks));
            let t3 = Instant::now();
            for (m, d) in [t1 - t0, t2 - t1, t3 - t2, t3 - t0].into_iter().enumerate() {
                best[j][m] = best[j][m].min(d);
                worst[m] = worst[m].max(d);
            }
            if pass == 0 {
                matches += found.len();
                named += names.len();
            }
        }
    }
    let column = |m: usize| best.iter().map(|b| b[m]).collect::<Vec<_>>();
    let (t_find, t_names, t_qa, t_all) = (column(0), column(1), column(2), column(3));
    println!(
        "lookup: worst single sample of find / names / qa / all: {:.2} / {:.2} / {:.2} / {:.2} ms",
        worst[0].as_secs_f64() * 1e3,
        worst[1].as_secs_f64() * 1e3,
        worst[2].as_secs_f64() * 1e3,
        worst[3].as_secs_f64() * 1e3
    );
    println!(
        "lookup: {k} segments x 3 passes; {:.2} term matches and {:.2} names per segment",
        matches as f64 / k as f64,
        named as f64 / k as f64
    );
    let thousands = n / 1000;
    rows.push((
        format!("terms import, {thousands}k entries: s (entries/s)"),
        format!("{:.2}", import.as_secs_f64()),
        format!("{:.0}/s", n as f64 / import.as_secs_f64()),
        format!("{db_mb:.1} MB"),
    ));
    rows.push((
        format!("load matcher, {thousands}k: ms read (terms_for) / index"),
        format!("{:.0}", (read + index).as_secs_f64() * 1e3),
        format!(
            "{:.0} / {:.0}",
            read.as_secs_f64() * 1e3,
            index.as_secs_f64() * 1e3
        ),
        "-".into(),
    ));
    for (what, d) in [
        ("Matcher::find (goal p99 < 2 ms)", t_find),
        ("names::find", t_names),
        ("qa::check", t_qa),
        ("all three", t_all),
    ] {
        let (p50, p99, max) = quantiles(d);
        rows.push((
            format!("per segment (best of 3), {thousands}k: {what}: ms p50/p99/max"),
            format!("{p50:.3}"),
            format!("{p99:.3}"),
            format!("{max:.2}"),
        ));
    }
}
