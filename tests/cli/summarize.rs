//! `summarize`: word limits and cross-language summaries through the memory and Marian.

use super::*;

const ENGLISH: &str =
    "The city council approved the new harbour plan on Tuesday after a long debate. \
The plan adds two piers and a ferry terminal that will open in 2027. \
Fishermen said the works would disturb the fish during the spring season. \
The mayor promised a fund to compensate the fishing fleet for lost catches. \
Construction is expected to start in the autumn and employ about 400 workers. \
Opposition members called the budget unrealistic and asked for an audit.\n";

fn summarize(sb: &Sandbox, extra: &[&str], input: &str) -> Value {
    let mut args = vec!["summarize", "--no-cache", "--keep-all", "--format", "json"];
    args.extend_from_slice(extra);
    let out = sb.run_stdin(&args, input.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn words(summary: &Value) -> usize {
    summary[0]["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().split_whitespace().count())
        .sum()
}

#[test]
fn word_limits_hold_for_both_methods() {
    let mut sb = Sandbox::new();
    sb.with_minilm();
    let s = summarize(
        &sb,
        &["--method", "extractive", "--max-words", "30"],
        ENGLISH,
    );
    let n = words(&s);
    assert!(n > 0 && n <= 30, "{n} words: {s}");
    let s = summarize(
        &sb,
        &[
            "--method",
            "extractive",
            "--sentences",
            "1",
            "--min-words",
            "35",
        ],
        ENGLISH,
    );
    assert!(
        words(&s) >= 35 && s[0]["sentences"].as_array().unwrap().len() >= 2,
        "{s}"
    );

    let bart = fixture("tiny-bart");
    let s = summarize(
        &sb,
        &[
            "--model-dir",
            bart.to_str().unwrap(),
            "--beams",
            "1",
            "--max-words",
            "6",
        ],
        ENGLISH,
    );
    assert_eq!(s[0]["method"], "abstractive");
    assert!(words(&s) <= 6, "{s}");

    let out = sb.run_stdin(
        &["summarize", "--min-words", "50", "--max-words", "10"],
        ENGLISH.as_bytes(),
    );
    assert_fails(&out, "--min-words 50 is more than --max-words 10");
}

#[test]
fn to_english_translates_through_the_memory_first() {
    let sb = Sandbox::new();
    let marian = fixture("tiny-marian-ru-en");
    let russian = "Завод открыли в прошлом году на севере страны. Работы начнутся весной и закончатся осенью. \
                   Губернатор сказал, что это важно для региона.\n";
    let args = [
        "--method",
        "extractive",
        "--to",
        "en",
        "--translate-model-dir",
        marian.to_str().unwrap(),
        "--sentences",
        "2",
    ];
    let s = summarize(&sb, &args, russian);
    assert_eq!(s[0]["language"], "en");
    assert_eq!(s[0]["translated_from"], "ru");
    let sentences = s[0]["sentences"].as_array().unwrap();
    assert!(!sentences.is_empty());
    assert!(
        sentences
            .iter()
            .all(|x| x.get("start").is_none() && !x["text"].as_str().unwrap().contains("Завод")),
        "{s}"
    );
    let stats = sb.run(&["memory", "stats", "--format", "json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&stats)).unwrap()["by_origin"]["mt"],
        3
    );
    // An English article with --to en is summarized as it is.
    let s = summarize(&sb, &["--method", "extractive", "--to", "en"], ENGLISH);
    assert!(s[0].get("translated_from").is_none());
    assert!(s[0]["sentences"][0]["start"].is_u64());
}
