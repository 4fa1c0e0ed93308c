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
    let n = words(&s);
    assert!(n > 0 && n <= 6, "{n} words: {s}");

    let out = sb.run_stdin(
        &["summarize", "--min-words", "50", "--max-words", "10"],
        ENGLISH.as_bytes(),
    );
    assert_usage(&out, "--min-words 50 is more than --max-words 10");
    // Values refused before any work, exit 2 (issue 40).
    for (flags, why) in [
        (vec!["--ratio", "1.5"], "must be more than 0 and at most 1"),
        (vec!["--ratio", "0"], "must be more than 0"),
        (vec!["--sentences", "0"], "must be at least 1"),
        (vec!["--max-words", "0"], "must be at least 1"),
    ] {
        let args = [&["summarize"][..], &flags].concat();
        assert_usage(&sb.run_stdin(&args, ENGLISH.as_bytes()), why);
    }
    assert_usage(
        &sb.run(&["digest", ".", "--sentences", "0"]),
        "must be at least 1",
    );
}

#[test]
fn to_english_translates_through_the_memory_first() {
    let sb = Sandbox::new();
    let marian = fixture("tiny-marian-ru-en");
    let russian = "Завод открыли в прошлом году на севере страны. Работы начнутся весной и закончатся осенью. \
                   Губернатор сказал, что это важно для региона.\n";
    // The memory already knows the second sentence.
    let from_memory = "Works start in spring and end in autumn.";
    let tmx = sb.path("tm.tmx");
    std::fs::write(
        &tmx,
        format!(
            "<?xml version=\"1.0\"?><tmx version=\"1.4\"><header creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" adminlang=\"en\" srclang=\"ru\" datatype=\"plaintext\"/><body>\
             <tu><tuv xml:lang=\"ru\"><seg>Работы начнутся весной и закончатся осенью.</seg></tuv><tuv xml:lang=\"en\"><seg>{from_memory}</seg></tuv></tu>\
             </body></tmx>"
        ),
    )
    .unwrap();
    assert!(sb
        .run(&["memory", "import", tmx.to_str().unwrap()])
        .status
        .success());
    // What the model makes of each sentence (without the memory, storing nothing).
    let direct = sb.run_stdin(
        &[
            "translate",
            "--model-dir",
            marian.to_str().unwrap(),
            "--no-memory",
            "--format",
            "json",
        ],
        russian.as_bytes(),
    );
    let direct = json(&direct);
    let model_says: Vec<&str> = direct["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["target"].as_str().unwrap())
        .collect();
    assert_eq!(model_says.len(), 3);
    assert_ne!(model_says[1], from_memory);

    let args = [
        "--method",
        "extractive",
        "--to",
        "en",
        "--translate-model-dir",
        marian.to_str().unwrap(),
        "--sentences",
        "3",
        "-v",
    ];
    let mut all = vec!["summarize", "--no-cache", "--keep-all", "--format", "json"];
    all.extend_from_slice(&args);
    let out = sb.run_stdin(&all, russian.as_bytes());
    let s = json(&out);
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
    // The summary (all of the short article) is the translation: the memory's sentence in
    // the middle, the model's for the others.
    let summary: Vec<&str> = sentences
        .iter()
        .map(|x| x["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        summary.join(" "),
        format!("{} {from_memory} {}", model_says[0], model_says[2]),
        "{s}"
    );
    assert!(
        stderr(&out).contains("translated ru → en first (1 of 3 segments from memory)"),
        "{}",
        stderr(&out)
    );
    let stats = json(&sb.run(&["memory", "stats", "--format", "json"]));
    assert_eq!(
        stats["by_origin"]["mt"], 2,
        "the two new sentences stored: {stats}"
    );
    assert_eq!(stats["by_origin"]["import"], 1);
    // An English article with --to en is summarized as it is.
    let s = summarize(&sb, &["--method", "extractive", "--to", "en"], ENGLISH);
    assert!(s[0].get("translated_from").is_none());
    assert!(s[0]["sentences"][0]["start"].is_u64());
}

/// A 2 MB report is summarized (issue 40: it did not finish in 150 s): vectors are sparse and
/// the ranking picks only as many sentences as the summary needs.
#[test]
fn a_two_megabyte_report_is_summarized() {
    let sb = Sandbox::new();
    let text: String = (0..16_000)
        .map(|i| {
            format!(
                "The committee discussed item {i} on topic{} with delegates from region{}.\n",
                i % 97,
                i % 13
            )
        })
        .collect();
    assert!(text.len() > 1_000_000);
    std::fs::write(sb.path("long.txt"), &text).unwrap();
    let out = sb.run(&[
        "summarize",
        "long.txt",
        "--method",
        "extractive",
        "--no-cache",
        "--sentences",
        "4",
        "--format",
        "json",
    ]);
    let v = json(&out);
    assert_eq!(v[0]["sentences"].as_array().map(Vec::len), Some(4), "{v}");
}
