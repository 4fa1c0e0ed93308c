//! `translate` through the translation memory, on the tiny fixture Marian model.

use super::*;

const DOC: &str = "Завод открыли в прошлом году на севере страны. Работы начнутся весной.\n\nГубернатор сказал, что  это важно.   Работы начнутся весной.\n\nСегодня в Москве идёт снег.\n";

pub(super) fn translate(sb: &Sandbox, extra: &[&str], input: &str) -> (Value, Output) {
    let model = fixture("tiny-marian-ru-en");
    let mut args = vec![
        "translate",
        "--model-dir",
        model.to_str().unwrap(),
        "--beams",
        "1",
        "--max-length",
        "12",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = sb.run_stdin(&args, input.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    (serde_json::from_str(&stdout(&out)).unwrap(), out)
}

fn units(sb: &Sandbox) -> i64 {
    let out = sb.run(&["memory", "stats", "--format", "json"]);
    serde_json::from_str::<Value>(&stdout(&out)).unwrap()["units"]
        .as_i64()
        .unwrap()
}

#[test]
fn a_document_goes_through_the_memory_and_the_second_run_needs_no_model() {
    let sb = Sandbox::new();
    let (first, _) = translate(&sb, &[], DOC);
    let segs = first["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 5);
    for s in segs {
        let (a, b) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&DOC[a..b], s["source"].as_str().unwrap());
        for field in [
            "source", "target", "start", "end", "origin", "score", "unit_id", "model",
        ] {
            assert!(s.get(field).is_some(), "{field} missing in {s}");
        }
        assert_eq!(s["origin"], "mt");
        assert_eq!(s["model"], "tiny-marian-ru-en");
        assert!(s["unit_id"].as_i64().is_some());
    }
    // The repeated sentence is translated once and stored once.
    assert_eq!(segs[1]["target"], segs[3]["target"]);
    assert_eq!(segs[1]["unit_id"], segs[3]["unit_id"]);
    assert_eq!(units(&sb), 4);
    assert!(first["model_calls"].as_u64().unwrap() >= 1);
    // Paragraphs are kept.
    assert_eq!(first["text"].as_str().unwrap().matches("\n\n").count(), 2);
    let stored = sb.run(&["memory", "list", "--origin", "mt", "--format", "json"]);
    let stored: Value = serde_json::from_str(&stdout(&stored)).unwrap();
    assert_eq!(stored[0]["document"], "<stdin>");
    assert_eq!(stored[0]["model"], "tiny-marian-ru-en");
    assert!(stored[0]["next_hash"].is_string());

    let (second, _) = translate(&sb, &[], DOC);
    assert_eq!(
        second["model_calls"], 0,
        "the second run must not call the model"
    );
    assert_eq!(second["model"], Value::Null);
    assert_eq!(second["text"], first["text"]);
    for s in second["segments"].as_array().unwrap() {
        assert_eq!(s["origin"], "memory");
        assert_eq!(s["score"], 101, "same text, same context: {s}");
        assert_eq!(
            s["model"], "tiny-marian-ru-en",
            "the unit remembers its model"
        );
    }
    assert_eq!(units(&sb), 4);
    let used = sb.run(&["memory", "show", "1", "--format", "json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&used)).unwrap()["unit"]["use_count"],
        1
    );

    // The same sentence in another context is a 100, still no model.
    let (moved, _) = translate(&sb, &[], "Сегодня в Москве идёт снег.\n");
    assert_eq!(moved["segments"][0]["score"], 100);
    assert_eq!(moved["model_calls"], 0);

    // The match-band report sees it all.
    let dry = sb.run_stdin(
        &["translate", "--dry-run", "--format", "json"],
        DOC.as_bytes(),
    );
    assert!(dry.status.success(), "{}", stderr(&dry));
    let bands: Value = serde_json::from_str(&stdout(&dry)).unwrap();
    assert_eq!(bands["bands"][0]["band"], "101");
    assert_eq!(bands["bands"][0]["segments"], 4);
    assert_eq!(bands["bands"][7]["segments"], 1, "one repetition");
}

#[test]
fn fuzzy_matches_are_shown_and_used_only_when_asked() {
    let sb = Sandbox::new();
    translate(&sb, &[], "Завод открыли в прошлом году на севере страны.\n");
    let changed = "Завод открыли в позапрошлом году на севере страны.\n";
    let (shown, _) = translate(&sb, &[], changed);
    let seg = &shown["segments"][0];
    assert_eq!(seg["origin"], "mt");
    assert_eq!(seg["fuzzy"]["score"], 87);
    let (used, _) = translate(
        &sb,
        &["--use-fuzzy"],
        "Завод открыли в позазапрошлом году на севере страны.\n",
    );
    assert_eq!(used["segments"][0]["origin"], "memory");
    assert_eq!(used["segments"][0]["score"], 87);
    assert_eq!(used["model_calls"], 0);
}

#[test]
fn no_memory_reads_and_writes_nothing() {
    let sb = Sandbox::new();
    // A memory that knows every sentence of DOC, with translations the model never makes.
    let tus: String = [
        "Завод открыли в прошлом году на севере страны.",
        "Работы начнутся весной.",
        "Губернатор сказал, что это важно.",
        "Сегодня в Москве идёт снег.",
    ]
    .iter()
    .enumerate()
    .map(|(i, ru)| {
        format!("<tu><tuv xml:lang=\"ru\"><seg>{ru}</seg></tuv><tuv xml:lang=\"en\"><seg>From memory {i}.</seg></tuv></tu>")
    })
    .collect();
    let tmx = sb.path("tm.tmx");
    std::fs::write(
        &tmx,
        format!("<?xml version=\"1.0\"?><tmx version=\"1.4\"><header creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" adminlang=\"en\" srclang=\"ru\" datatype=\"plaintext\"/><body>{tus}</body></tmx>"),
    )
    .unwrap();
    assert!(sb
        .run(&["memory", "import", tmx.to_str().unwrap()])
        .status
        .success());
    let list = || json(&sb.run(&["memory", "list", "--format", "json"]));
    let before = list();
    assert_eq!(units(&sb), 4);

    let (out, _) = translate(&sb, &["--no-memory"], DOC);
    let segs = out["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 5);
    assert!(
        segs.iter().all(|s| s["origin"] == "mt"
            && s["unit_id"].is_null()
            && !s["target"].as_str().unwrap().starts_with("From memory")),
        "{out}"
    );
    assert_eq!(out["from_memory"], 0);
    // Not written (no new unit) and not read (no use counted, nothing changed).
    assert_eq!(units(&sb), 4);
    assert_eq!(list(), before);

    // The same document through the memory takes every sentence from it.
    let (used, _) = translate(&sb, &[], DOC);
    assert_eq!(used["model_calls"], 0, "{used}");
    assert!(used["segments"].as_array().unwrap().iter().all(
        |s| s["origin"] == "memory" && s["target"].as_str().unwrap().starts_with("From memory")
    ));
}

#[test]
fn a_segment_over_the_model_limit_is_split_not_cut() {
    let sb = Sandbox::new();
    // The fixture model takes 64 tokens; this sentence has far more.
    let long = format!(
        "{}и это всё.\n",
        (0..14)
            .map(|i| format!("в районе номер {i} построят новую школу, "))
            .collect::<String>()
    );
    let (out, _) = translate(&sb, &[], &long);
    let seg = &out["segments"][0];
    assert!(seg["split_into"].as_u64().unwrap() >= 2, "{seg}");
    assert!(!seg["target"].as_str().unwrap().is_empty());
    assert_eq!(seg["end"].as_u64().unwrap() as usize, long.trim_end().len());
}

#[test]
fn tmx_and_bilingual_outputs() {
    let sb = Sandbox::new();
    let model = fixture("tiny-marian-ru-en");
    let m = model.to_str().unwrap();
    let tmx = sb.path("doc.tmx");
    let out = sb.run_stdin(
        &[
            "translate",
            "--model-dir",
            m,
            "--beams",
            "1",
            "--max-length",
            "12",
            "--no-memory",
            "--format",
            "tmx",
            "-o",
            tmx.to_str().unwrap(),
        ],
        DOC.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let imported = sb.run(&[
        "memory",
        "import",
        tmx.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&imported)).unwrap()["added"],
        4
    );
    let out = sb.run_stdin(
        &["translate", "--model-dir", m, "--format", "bilingual"],
        DOC.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("ru  Сегодня в Москве идёт снег.") && text.contains("[memory 100]"),
        "{text}"
    );
    // Reused units keep their origin in TMX: the model's translations stay `mt` (issue 40).
    let again = sb.path("again.tmx");
    let out = sb.run_stdin(
        &[
            "translate",
            "--model-dir",
            m,
            "--format",
            "tmx",
            "-o",
            again.to_str().unwrap(),
        ],
        DOC.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&again).unwrap();
    assert!(text.contains("origin\">mt<"), "{text}");
    assert!(!text.contains("origin\">import<"), "{text}");
}

#[test]
fn web_pages_are_read_without_their_furniture_and_offsets_point_into_the_page() {
    let sb = Sandbox::new();
    let page = "<!DOCTYPE html><html><head><title>Новости</title><script>var a = 'Реклама.';</script></head><body>\n<nav><a href=\"/\">Главная</a> | <a href=\"/news\">Новости</a></nav>\n<article>\n<p>Завод открыли в прошлом году на севере страны. Работы начнутся весной.</p>\n<p>Губернатор сказал, что это&nbsp;важно для всего региона и его жителей.</p>\n<p>The plant is said to employ many people from the surrounding towns today.</p>\n</article>\n<footer>© 2024 Все права защищены</footer></body></html>\n";
    std::fs::write(sb.path("page.html"), page).unwrap();
    let model = fixture("tiny-marian-ru-en");
    let out = sb.run(&[
        "translate",
        "page.html",
        "--model-dir",
        model.to_str().unwrap(),
        "--beams",
        "1",
        "--max-length",
        "8",
        "--format",
        "json",
        "--keep-all",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let segs = json["segments"].as_array().unwrap();
    let sources: Vec<&str> = segs.iter().map(|s| s["source"].as_str().unwrap()).collect();
    assert_eq!(sources[0], "Завод открыли в прошлом году на севере страны.");
    assert!(
        sources
            .iter()
            .all(|s| !s.contains("Главная") && !s.contains("Реклама") && !s.contains('<')),
        "{sources:?}"
    );
    let first = &segs[0];
    let (a, b) = (
        first["start"].as_u64().unwrap() as usize,
        first["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&page[a..b], sources[0], "offsets point into the page");
    let nbsp = segs
        .iter()
        .find(|s| s["source"].as_str().unwrap().contains("важно"))
        .unwrap();
    let (a, b) = (
        nbsp["start"].as_u64().unwrap() as usize,
        nbsp["end"].as_u64().unwrap() as usize,
    );
    assert!(page[a..b].contains("это&nbsp;важно"));
    assert_eq!(
        json["other_language"][0]["language"], "en",
        "the English paragraph is flagged"
    );
}

#[test]
fn every_language_flag_reads_the_same_pair() {
    let sb = Sandbox::new();
    let doc = sb.path("doc.txt");
    std::fs::write(&doc, DOC).unwrap();
    let doc = doc.to_str().unwrap();
    // Stored as ru → en-GB (the model is chosen for en).
    let (t, _) = translate(&sb, &["--to", "EN_gb"], DOC);
    assert_eq!(t["to"], "en-GB");
    let dry = json(&sb.run(&[
        "translate",
        doc,
        "--dry-run",
        "--to",
        "en-GB",
        "--format",
        "json",
    ]));
    let analyzed = json(&sb.run(&[
        "memory", "analyze", doc, "--to", "en-gb", "--format", "json",
    ]));
    assert_eq!(dry, analyzed);
    assert_eq!(dry["to"], "en-GB");
    let no_match = |v: &Value| {
        v["bands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["band"] == "no match")
            .unwrap()["segments"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(no_match(&dry), 0, "{dry}");
    // Another region is another pair: nothing matches.
    let us = json(&sb.run(&[
        "memory", "analyze", doc, "--to", "en-US", "--format", "json",
    ]));
    assert!(no_match(&us) > 0, "{us}");
}

/// Lines taken for page junk are never dropped silently: JSON lists them (line and input byte
/// range), stderr says how many and which, and `--keep-all` translates them.
#[test]
fn lines_left_out_as_page_junk_are_reported() {
    let sb = Sandbox::new();
    let page = "Главное\nВсе новости\nПолитика Экономика Спорт\n\n\
        Завод открыли в прошлом году на севере страны, и теперь там работают сотни человек из окрестных городов и сёл.\n\n\
        Губернатор сказал, что это важно для региона, потому что новые рабочие места появились впервые за много лет.\n\n\
        © 2024 Агентство. Все права защищены.\n";
    let (t, out) = translate(&sb, &["--no-memory"], page);
    let lines: Vec<u64> = t["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 2, 3, 9]);
    let last = &t["skipped"][3];
    let (start, end) = (
        last["start"].as_u64().unwrap() as usize,
        last["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&page[start..end], "© 2024 Агентство. Все права защищены.");
    assert!(
        stderr(&out).contains("4 lines taken for page junk around the article were not translated (lines 1, 2, 3, 9); --keep-all keeps them"),
        "{}",
        stderr(&out)
    );
    let (t, out) = translate(&sb, &["--no-memory", "--keep-all"], page);
    assert!(t.get("skipped").is_none(), "{t}");
    assert!(!stderr(&out).contains("page junk"));
    assert_eq!(t["segments"].as_array().unwrap().len(), 7, "{t}");
    // Every command that reads a document says the same (issue 40).
    std::fs::write(sb.path("page.txt"), page).unwrap();
    for (args, what) in [
        (
            vec![
                "translate",
                "page.txt",
                "--from",
                "ru",
                "--dry-run",
                "--format",
                "json",
            ],
            "analyzed",
        ),
        (
            vec![
                "memory", "analyze", "page.txt", "--from", "ru", "--to", "en", "--format", "json",
            ],
            "analyzed",
        ),
        (
            vec![
                "summarize",
                "page.txt",
                "--method",
                "extractive",
                "--no-cache",
                "--format",
                "json",
            ],
            "summarized",
        ),
    ] {
        let out = sb.run(&args);
        let v = json(&out);
        assert!(
            stderr(&out).contains(&format!("4 lines taken for page junk around the article were not {what} (lines 1, 2, 3, 9); --keep-all keeps them")),
            "{args:?}: {}",
            stderr(&out)
        );
        if what == "analyzed" {
            assert_eq!(v["skipped"].as_array().map(Vec::len), Some(4), "{v}");
        }
    }
}

/// `-o` into a folder that does not exist is refused before any model work, with nothing
/// stored (issue 40); the same for the exports.
#[test]
fn an_output_folder_that_does_not_exist_is_refused_first() {
    let sb = Sandbox::new();
    let m = fixture("tiny-marian-ru-en");
    let out = sb.run_stdin(
        &[
            "translate",
            "--model-dir",
            m.to_str().unwrap(),
            "-o",
            "no/such/out.txt",
        ],
        DOC.as_bytes(),
    );
    assert_fails(&out, "no/such/out.txt: its folder no/such does not exist");
    let stats = json(&sb.run(&["memory", "stats", "--format", "json"]));
    assert_eq!(stats["units"], 0, "{stats}");
    for args in [
        ["memory", "export", "-o", "no/x.tmx"],
        ["terms", "export", "-o", "no/x.tbx"],
    ] {
        assert_fails(&sb.run(&args), "does not exist");
    }
}

/// A pair no model covers names what the registry has, once (issue 40); a folder given as the
/// memory is said to be one.
#[test]
fn unknown_pairs_and_folder_memories_are_explained() {
    let sb = Sandbox::new();
    let out = sb.run_stdin(
        &["translate", "--from", "ja", "--to", "de"],
        "日本語の文。\n".as_bytes(),
    );
    assert_fails(
        &out,
        "no translation model for ja→de in the registry (its translation models cover ru→en",
    );
    assert_eq!(
        stderr(&out).matches("no translation model").count(),
        1,
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--model-dir DIR"));
    std::fs::create_dir_all(sb.path("tm")).unwrap();
    let out = sb.run(&[
        "--memory",
        sb.path("tm").to_str().unwrap(),
        "memory",
        "stats",
    ]);
    assert_fails(&out, "is a folder; give a file in it");
}

/// Languages beyond Russian and English are told (issue 40): a German report needs no --from
/// (and, with no model for de→en here, the error names the pair); a Russian line over an
/// English text is named.
#[test]
fn documents_in_other_languages_are_recognized() {
    let sb = Sandbox::new();
    let german = "Der Bundestag hat am Donnerstag über den neuen Haushalt abgestimmt. Die Opposition kritisierte die Pläne der Regierung scharf.\n";
    let out = sb.run_stdin(
        &["translate", "--dry-run", "--format", "json"],
        german.as_bytes(),
    );
    let v = json(&out);
    assert_eq!(v["from"], "de", "{v}");
    let mixed = "Сводка новостей за неделю.\n\nThe parliament rejected the amendment on Tuesday after a long debate in the chamber.\n\nThe opposition said it would appeal to the constitutional court next week.\n";
    let out = sb.run_stdin(&["translate"], mixed.as_bytes());
    assert_fails(
        &out,
        "most of the document is already in 'en' (paragraph 1 is in ru)",
    );
}

/// A rejected unit does not come back unsaid (issue 40): when the model gives the rejected
/// translation again, the segment is flagged `rejected_again` (naming the unit and the fix)
/// and nothing is stored; an instruct model is told what was rejected.
#[test]
fn a_rejected_translation_that_comes_back_is_flagged_and_not_stored() {
    let sb = Sandbox::new();
    let doc = "Сегодня в Москве идёт снег.\n";
    let (first, _) = translate(&sb, &[], doc);
    let id = first["segments"][0]["unit_id"]
        .as_i64()
        .unwrap()
        .to_string();
    assert!(sb.run(&["memory", "reject", &id]).status.success());
    let (again, out) = translate(&sb, &[], doc);
    let seg = &again["segments"][0];
    assert_eq!(seg["origin"], "mt", "{seg}");
    assert_eq!(
        seg["target"], first["segments"][0]["target"],
        "the fixture model is deterministic"
    );
    let qa = seg["qa"].as_array().unwrap();
    let flag = qa
        .iter()
        .find(|f| f["kind"] == "rejected_again")
        .unwrap_or_else(|| panic!("{seg}"));
    assert!(
        flag["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("babeldesk memory edit {id}")),
        "{flag}"
    );
    assert!(stderr(&out).contains("rejected"), "{}", stderr(&out));
    assert_eq!(
        units(&sb),
        1,
        "the rejected translation is not stored again"
    );
}
