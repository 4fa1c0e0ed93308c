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
    assert!(
        !text.contains("-- translation") && !text.contains("note:"),
        "{text}"
    );
    // What was missing is said on stderr, once, with the command that fixes it (issue 40),
    // also when the summaries come from the cache.
    let err = stderr(&out);
    assert_eq!(
        err.matches("note: ru articles are summarized untranslated: ")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("models pull opus-mt-ru-en"), "{err}");
    let no_minilm = Sandbox::new();
    let dir = articles(&no_minilm);
    for _cached in [false, true] {
        let out = no_minilm.run(&["digest", dir.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(
            err.matches("note: all-minilm-l6-v2 is not installed, so summaries rank sentences by word overlap (weaker); get it with `babeldesk models pull all-minilm-l6-v2`").count(),
            1,
            "{err}"
        );
    }
}

/// A folder run goes on past a bad file (issue 40): every file it did not digest is named on
/// stderr with why (a PDF and a Word file as not read yet, not as an encoding problem), the
/// others are digested, and the run ends with a count and exit 1 because one failed.
#[test]
fn a_folder_run_goes_past_bad_files_and_names_each() {
    let sb = Sandbox::new();
    let dir = sb.path("mixed");
    std::fs::create_dir_all(&dir).unwrap();
    let article = std::fs::read_to_string(repo().join("examples/library-reopens.txt")).unwrap();
    let put = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    put("a-nul.txt", b"The council met on Tuesday.\0 It voted.\n");
    put("b-report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n");
    put("c-report.docx", b"PK\x03\x04\x14\x00\x06\x00");
    put("d-photo.jpg", b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00");
    put("e-notes.md", article.as_bytes());
    put(
        "f-page.html",
        format!(
            "<html><body><article><p>{}</p></article></body></html>",
            article.replace("\n\n", "</p><p>")
        )
        .as_bytes(),
    );
    put(
        "g-wind.txt",
        std::fs::read(repo().join("examples/harbour-wind-farm.txt"))
            .unwrap()
            .as_slice(),
    );
    put(".DS_Store", b"\0\0\0\x01Bud1");
    let out = sb.run(&["digest", dir.to_str().unwrap(), "--format", "json"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let items: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 3, "{items}");
    for (name, why) in [
        ("a-nul.txt", "not done: "),
        (
            "b-report.pdf",
            "skipped: a .pdf file: Word, OpenDocument and PDF files are not read yet",
        ),
        ("c-report.docx", "skipped: a .docx file"),
        ("d-photo.jpg", "skipped: a .jpg file"),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not named: {err}"));
        assert!(line.contains(why), "{line}");
    }
    assert!(err.contains("binary data"), "{err}");
    assert!(
        !err.contains("iconv") && !err.contains(".DS_Store"),
        "{err}"
    );
    assert!(
        err.contains("3 of 7 files digested; 1 failed, 3 skipped"),
        "{err}"
    );
    // A PDF given by name is named for what it is, not taken for a text in cp1251.
    let out = sb.run(&["digest", dir.join("b-report.pdf").to_str().unwrap()]);
    assert_fails(&out, "a PDF file, not a text document");
}

/// Models installed in a workspace (as `make run` does in the repository) are found from any
/// other folder (issue 40): the install links them from the user's models folder.
#[test]
fn models_installed_in_a_workspace_are_found_from_any_folder() {
    let sb = Sandbox::new();
    let minilm = repo().join("models/all-minilm-l6-v2");
    if !minilm.join("model.safetensors").is_file() {
        babeldesk::testing::skip("MiniLM is not installed in models/ (run `make models`)");
        return;
    }
    let ws = sb.path("workspace");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("babeldesk.toml"), "").unwrap();
    let out = sb
        .cmd(&[
            "models",
            "import",
            "all-minilm-l6-v2",
            minilm.to_str().unwrap(),
        ])
        .current_dir(&ws)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("babeldesk finds it outside this workspace too"),
        "{}",
        stdout(&out)
    );
    assert!(ws
        .join("models/all-minilm-l6-v2/model.safetensors")
        .is_file());
    // From the sandbox, outside the workspace: present, and the summaries use it.
    let listed = json(&sb.run(&["models", "list", "--format", "json"]));
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "all-minilm-l6-v2")
        .cloned()
        .unwrap();
    assert_eq!(entry["status"], "present", "{entry}");
    let dir = articles(&sb);
    let out = sb.run(&["digest", dir.to_str().unwrap(), "--format", "json"]);
    let v = json(&out);
    assert_eq!(items(&v).0["summary"]["model"], "all-minilm-l6-v2", "{v}");
    assert!(
        !stderr(&out).contains("all-minilm-l6-v2 is not installed"),
        "{}",
        stderr(&out)
    );
}
