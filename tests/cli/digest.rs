//! `digest` (what `make run` runs): English articles are summarized, Russian ones translated
//! through the memory with the installed translation model first, or, with none installed,
//! summarized as they are with a note naming `models pull`.

use super::*;

const MARIAN: &str = "tiny-marian-ru-en";

/// A folder with one English and one Russian article from examples/.
fn articles(sb: &Sandbox) -> PathBuf {
    let dir = sb.path("in");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["library-reopens.txt", "zavod-ru.txt"] {
        std::fs::copy(repo().join("examples").join(name), dir.join(name)).unwrap();
    }
    dir
}

/// digest has no --model-dir: the fixture Marian model is registered in a user registry
/// (`BABELDESK_REGISTRY`) and imported like a real model, into the sandbox's XDG data dir.
fn install_marian(sb: &mut Sandbox) {
    let reg = sb.path("registry.toml");
    std::fs::write(
        &reg,
        format!(
            "[[model]]\nid = \"{MARIAN}\"\ntask = \"translation\"\narchitecture = \"marian\"\n\
             languages = [\"ru\", \"en\"]\nhf_repo = \"x/y\"\nlicense = \"MIT\"\n\
             files = [{{ name = \"config.json\" }}, {{ name = \"vocab.json\" }}, {{ name = \"source.spm\" }}, {{ name = \"target.spm\" }}]\n\
             weights = [{{ name = \"model.safetensors\" }}]\n"
        ),
    )
    .unwrap();
    sb.env
        .push(("BABELDESK_REGISTRY".into(), reg.display().to_string()));
    let out = sb.run(&[
        "models",
        "import",
        MARIAN,
        fixture(MARIAN).to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sb
        .path(&format!("data/babeldesk/models/{MARIAN}/model.safetensors"))
        .is_file());
}

/// Put a wrapper in front of the rust-bert engine that copies every request the CLI sends
/// it (JSON lines: `{"op":"load",...}`, `{"op":"translate",...}`) to the returned log.
fn log_engine_requests(sb: &mut Sandbox) -> PathBuf {
    let log = sb.path("engine-requests.log");
    let wrapper = sb.path("engine.sh");
    std::fs::write(
        &wrapper,
        format!(
            // exec: the CLI waits for the engine itself, which reads what tee copied.
            "#!/bin/bash\nexec '{}' \"$@\" < <(tee -a '{}')\n",
            env!("CARGO_BIN_EXE_babeldesk-engine"),
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    sb.env.retain(|(k, _)| k != "BABELDESK_ENGINE");
    sb.env
        .push(("BABELDESK_ENGINE".into(), wrapper.display().to_string()));
    log
}

/// The operations in the request log, one per request ("load translation", "translate", ...).
fn requests(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            match v["op"].as_str().unwrap() {
                "load" => format!("load {}", v["task"].as_str().unwrap()),
                op => op.to_string(),
            }
        })
        .collect()
}

/// The digest's items, by file name.
fn items(v: &Value) -> (&Value, &Value) {
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 2, "{v}");
    let find = |name: &str| {
        items
            .iter()
            .find(|i| i["summary"]["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no item for {name}: {v}"))
    };
    (find("library-reopens.txt"), find("zavod-ru.txt"))
}

/// The English article is summarized as it is: sentences of its own text, at their offsets.
fn check_english(item: &Value, embedder: &str) {
    let text = std::fs::read_to_string(repo().join("examples/library-reopens.txt")).unwrap();
    let s = &item["summary"];
    assert_eq!(s["language"], "en");
    assert_eq!(s["model"], embedder);
    assert!(s.get("translated_from").is_none(), "{item}");
    assert!(item.get("translation").is_none(), "{item}");
    assert!(item.get("note").is_none(), "{item}");
    let sentences = s["sentences"].as_array().unwrap();
    assert_eq!(sentences.len(), 3, "--sentences defaults to 3: {item}");
    for x in sentences {
        let (a, b) = (
            x["start"].as_u64().unwrap() as usize,
            x["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[a..b], x["text"].as_str().unwrap());
    }
}

fn embedder(minilm: bool) -> &'static str {
    if minilm {
        "all-minilm-l6-v2"
    } else {
        "lexical"
    }
}

#[test]
fn digest_translates_the_russian_article_with_the_installed_model_then_from_memory() {
    let mut sb = Sandbox::new();
    let minilm = sb.with_minilm();
    install_marian(&mut sb);
    let log = log_engine_requests(&mut sb);
    let dir = articles(&sb);
    let d = dir.to_str().unwrap();

    // What the model itself makes of the article, without the memory: the reference for
    // "the segments come from the model".
    let ru = dir.join("zavod-ru.txt");
    let direct = json(&sb.run(&[
        "translate",
        ru.to_str().unwrap(),
        "--model-dir",
        fixture(MARIAN).to_str().unwrap(),
        "--no-memory",
        "--format",
        "json",
    ]));
    let direct_targets: Vec<&Value> = direct["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["target"])
        .collect();
    assert!(direct_targets.len() >= 5, "{direct}");

    let first = json(&sb.run(&["digest", d, "--format", "json"]));
    let (en, ru_item) = items(&first);
    check_english(en, embedder(minilm));
    assert!(ru_item.get("note").is_none(), "{ru_item}");
    let tr = &ru_item["translation"];
    assert_eq!(tr["from"], "ru");
    assert_eq!(tr["to"], "en");
    assert_eq!(tr["model"], MARIAN);
    assert!(tr["model_calls"].as_u64().unwrap() >= 1, "{tr}");
    assert_eq!(tr["failed"], 0);
    let segs = tr["segments"].as_array().unwrap();
    let targets: Vec<&Value> = segs.iter().map(|s| &s["target"]).collect();
    assert_eq!(targets, direct_targets, "the model's own translations");
    for s in segs {
        assert_eq!(s["origin"], "mt", "{s}");
        assert_eq!(s["model"], MARIAN);
        assert!(s["unit_id"].as_i64().is_some(), "stored: {s}");
    }
    assert_eq!(tr["stored"].as_u64().unwrap() as usize, segs.len());
    // The summary is of the translation, in English.
    let summary = &ru_item["summary"];
    assert_eq!(summary["translated_from"], "ru");
    assert_eq!(summary["language"], "en");
    assert_eq!(summary["model"], embedder(minilm));
    let sentences = summary["sentences"].as_array().unwrap();
    assert!(!sentences.is_empty(), "{summary}");
    let translated = tr["text"].as_str().unwrap();
    for x in sentences {
        let t = x["text"].as_str().unwrap();
        assert!(translated.contains(t), "'{t}' is not from the translation");
        assert!(
            x.get("start").is_none(),
            "no offsets into the Russian file: {x}"
        );
    }

    // Again: every sentence from the memory, and the engine is never asked to load or run a
    // translation model (it still embeds sentences for the summaries when MiniLM is there).
    let asked = requests(&log);
    assert!(
        asked.contains(&"load translation".to_string()) && asked.contains(&"translate".to_string()),
        "the first run used the model: {asked:?}"
    );
    std::fs::remove_file(&log).unwrap();
    let second = json(&sb.run(&["digest", d, "--format", "json"]));
    let asked = requests(&log);
    assert!(
        !asked
            .iter()
            .any(|r| r == "translate" || r == "load translation"),
        "{asked:?}"
    );
    let (_, ru_again) = items(&second);
    let tr2 = &ru_again["translation"];
    assert_eq!(tr2["model_calls"], 0, "{tr2}");
    assert_eq!(tr2["model"], Value::Null);
    assert_eq!(tr2["from_memory"].as_u64().unwrap() as usize, segs.len());
    assert_eq!(tr2["stored"], 0);
    assert_eq!(tr2["text"], tr["text"]);
    for s in tr2["segments"].as_array().unwrap() {
        assert_eq!(s["origin"], "memory", "{s}");
        assert_eq!(s["score"], 101, "{s}");
    }
    assert_eq!(ru_again["summary"]["translated_from"], "ru");

    // Text output: the summary, then the translation block.
    let out = sb.run(&["digest", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let asked = requests(&log);
    assert!(!asked.iter().any(|r| r == "translate"), "{asked:?}");
    assert!(
        text.contains("-- translation (ru → en, translation memory)\n"),
        "{text}"
    );
    let first_target = segs[0]["target"].as_str().unwrap();
    let block = text.split("-- translation").nth(1).unwrap();
    assert!(block.contains(first_target), "{text}");
    assert!(text.contains("== "), "{text}");
}

#[test]
fn digest_without_a_translation_model_summarizes_the_russian_article_as_it_is() {
    let mut sb = Sandbox::new();
    let minilm = sb.with_minilm();
    let dir = articles(&sb);
    let d = dir.to_str().unwrap();
    let v = json(&sb.run(&["digest", d, "--format", "json"]));
    let (en, ru) = items(&v);
    check_english(en, embedder(minilm));
    assert!(ru.get("translation").is_none(), "{ru}");
    let note = ru["note"].as_str().unwrap();
    assert!(
        note.contains("not translated") && note.contains("babeldesk models pull opus-mt-ru-en"),
        "{note}"
    );
    let s = &ru["summary"];
    assert_eq!(s["language"], "ru");
    assert!(s.get("translated_from").is_none(), "{s}");
    // Russian sentences of the file, at their offsets.
    let text = std::fs::read_to_string(dir.join("zavod-ru.txt")).unwrap();
    let sentences = s["sentences"].as_array().unwrap();
    assert!(!sentences.is_empty(), "{s}");
    for x in sentences {
        let (a, b) = (
            x["start"].as_u64().unwrap() as usize,
            x["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[a..b], x["text"].as_str().unwrap());
    }
    assert_eq!(
        json(&sb.run(&["memory", "stats", "--format", "json"]))["units"],
        0,
        "nothing translated, nothing stored"
    );
    let out = sb.run(&["digest", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("-- translation"), "{text}");
    assert!(
        text.contains("note: not translated: ") && text.contains("models pull opus-mt-ru-en"),
        "{text}"
    );
}
