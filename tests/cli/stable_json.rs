//! JSON output is an interface scripts depend on: `translate` and `summarize` on the fixture
//! models must print what they printed when these files were written (by the version before
//! the pipeline was split into stages), timings aside. A field may be added on purpose (the
//! fixtures were then rewritten with `BABELDESK_BLESS=1` and the diff checked to add only it:
//! `skipped`, the lines taken for page junk; `qa`, `terms`, `names` and `flagged`, the QA of
//! issue 13; `precision`, int8 or fp32 beside the model, of issue 20); none may change or go.

use super::*;

/// The committed output, or a fresh one written there when `BABELDESK_BLESS=1`. Blessing is a
/// developer's act, checked in the diff: where every test must pass (`make test`, CI) it is
/// refused, or the test would compare the output with itself.
fn check(name: &str, got: &Value) {
    let path = repo().join("tests/fixtures/json").join(name);
    let got = without_timings(got.clone());
    if std::env::var_os("BABELDESK_BLESS").is_some() {
        assert!(
            !babeldesk::testing::all_required(),
            "BABELDESK_BLESS is set under make test or CI: the JSON fixtures would check nothing"
        );
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(got, want, "{name} changed");
}

/// Times differ from run to run; everything else must not.
fn without_timings(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("timings");
            map.remove("millis");
            for (_, x) in map.iter_mut() {
                *x = without_timings(x.take());
            }
        }
        Value::Array(items) => {
            for x in items.iter_mut() {
                *x = without_timings(x.take());
            }
        }
        _ => {}
    }
    v
}

fn json(sb: &Sandbox, args: &[&str], input: &[u8]) -> Value {
    let out = sb.run_stdin(args, input);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn translate_json_is_unchanged() {
    let sb = Sandbox::new();
    let doc = std::fs::read_to_string(repo().join("examples/zavod-ru.txt")).unwrap();
    // The translate tests' own call (tiny Marian, greedy, 12 tokens, JSON): first from the
    // model, then every segment from the memory.
    check(
        "translate-model.json",
        &super::translate::translate(&sb, &[], &doc).0,
    );
    check(
        "translate-memory.json",
        &super::translate::translate(&sb, &[], &doc).0,
    );
}

#[test]
fn summarize_json_is_unchanged() {
    let sb = Sandbox::new();
    let english = std::fs::read(repo().join("examples/harbour-wind-farm.txt")).unwrap();
    let extractive = ["summarize", "--method", "extractive", "--format", "json"];
    check("summarize-lexical.json", &json(&sb, &extractive, &english));
    let bart = fixture("tiny-bart");
    let abstractive = [
        "summarize",
        "--model-dir",
        bart.to_str().unwrap(),
        "--beams",
        "1",
        "--max-length",
        "16",
        "--format",
        "json",
    ];
    check("summarize-bart.json", &json(&sb, &abstractive, &english));
    // Russian summarized in English: translated first through the memory.
    let marian = fixture("tiny-marian-ru-en");
    let russian = std::fs::read(repo().join("examples/zavod-ru.txt")).unwrap();
    let to_en = [
        "summarize",
        "--method",
        "extractive",
        "--to",
        "en",
        "--translate-model-dir",
        marian.to_str().unwrap(),
        "--format",
        "json",
    ];
    check("summarize-to-en.json", &json(&sb, &to_en, &russian));
}
