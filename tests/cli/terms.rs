//! The termbase, Chinese names and QA through the binary: `terms …` commands, glossary files,
//! inflected recognition in `translate`, renderings in the real llama.cpp prompt (tiny fixture
//! models), Marian placeholders, QA flags on every output channel, `memory qa`, `terms check`,
//! and titles kept as content.

use super::*;

const CHAT: &str = "tiny-llm-chat";
const MARIAN: &str = "tiny-marian-ru-en";

/// A file in the sandbox; its name (relative: the commands run in the sandbox).
fn put(sb: &Sandbox, name: &str, bytes: &[u8]) -> String {
    std::fs::write(sb.path(name), bytes).unwrap();
    name.to_string()
}

/// `[--memory DB] terms ARGS --format json`, which must succeed.
fn terms_json(sb: &Sandbox, db: Option<&str>, args: &[&str]) -> Value {
    let mut all: Vec<&str> = Vec::new();
    if let Some(db) = db {
        all.extend_from_slice(&["--memory", db]);
    }
    all.push("terms");
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    json(&sb.run(&all))
}

/// Every entry of the default memory, as `terms list --format json` prints them.
fn listed(sb: &Sandbox) -> Vec<Value> {
    terms_json(sb, None, &["list"]).as_array().unwrap().clone()
}

fn add(sb: &Sandbox, source: &str, target: &str, extra: &[&str]) -> Value {
    let mut args = vec!["add", source, target];
    args.extend_from_slice(extra);
    terms_json(sb, None, &args)
}

/// `translate --model-dir <fixture> --format json [extra]` on `input` (must succeed).
fn translate_on(sb: &Sandbox, model: &str, extra: &[&str], input: &str) -> (Value, Output) {
    let dir = fixture(model);
    let mut args = vec!["translate", "--model-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    if !extra.contains(&"--format") {
        args.extend_from_slice(&["--format", "json"]);
    }
    let out = sb.run_stdin(&args, input.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    let v = if args.contains(&"json") {
        serde_json::from_str(&stdout(&out)).unwrap()
    } else {
        Value::Null
    };
    (v, out)
}

/// The prompts the LLM engine printed (`BABELDESK_DEBUG_LLM=1`) on the CLI's stderr, in order.
fn prompts(err: &str) -> Vec<String> {
    err.split("--- prompt\n")
        .skip(1)
        .map(|p| p.split("\n--- answer").next().unwrap().to_string())
        .collect()
}

/// The bytes `v["start"]..v["end"]` of `input`, as text.
fn slice<'a>(input: &'a [u8], v: &Value) -> &'a str {
    let (s, e) = (
        v["start"].as_u64().unwrap() as usize,
        v["end"].as_u64().unwrap() as usize,
    );
    std::str::from_utf8(&input[s..e]).unwrap()
}

/// The kinds of a segment's QA flags, in order.
fn kinds(seg: &Value) -> Vec<String> {
    seg["qa"]
        .as_array()
        .unwrap_or_else(|| panic!("no qa in {seg}"))
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

fn segments(v: &Value) -> &Vec<Value> {
    v["segments"].as_array().unwrap()
}

/// A sandbox whose termbase holds `entries` (source, target, forbidden), and whose LLM engine
/// prints its prompts.
fn with_terms(entries: &[(&str, &str, bool)], debug: bool) -> Sandbox {
    let mut sb = Sandbox::new();
    if debug {
        sb.env.push(("BABELDESK_DEBUG_LLM".into(), "1".into()));
    }
    for (s, t, forbidden) in entries {
        let extra: &[&str] = if *forbidden { &["--forbidden"] } else { &[] };
        add(&sb, s, t, extra);
    }
    sb
}

/// add/list/show/edit/delete keep their JSON shapes and history, and refuse unknown ids whole.
#[test]
fn add_list_show_edit_delete_round_trip() {
    let sb = Sandbox::new();
    let added = add(
        &sb,
        "Пояс и путь",
        "Belt and Road",
        &["--note", "China's initiative", "--pos", "properNoun"],
    );
    assert_eq!(added["stored"], "added", "{added}");
    let t = &added["term"];
    for (field, want) in [
        ("source_lang", "ru"),
        ("target_lang", "en"),
        ("source", "Пояс и путь"),
        ("target", "Belt and Road"),
        ("note", "China's initiative"),
        ("pos", "properNoun"),
        ("status", "preferred"),
        ("origin", "human"),
        ("source_key", "пояс и пут"),
    ] {
        assert_eq!(t[field], want, "{field} in {t}");
    }
    assert!(
        t["created_at"].is_string() && t["updated_at"].is_string(),
        "{t}"
    );
    let id = t["id"].as_i64().unwrap();
    // The same entry again changes nothing; a forbidden rendering is another entry.
    let again = add(&sb, "Пояс и путь", "Belt and Road", &[]);
    assert_eq!(again["stored"], "unchanged");
    assert_eq!(again["term"]["id"], id);
    let forbidden = add(&sb, "Пояс и путь", "Path and Way", &["--forbidden"]);
    assert_eq!(forbidden["stored"], "added");
    assert_eq!(forbidden["term"]["status"], "forbidden");
    let fid = forbidden["term"]["id"].as_i64().unwrap();
    add(&sb, "НИОКР", "R&D", &["--from", "ru", "--to", "en-GB"]);

    let all = listed(&sb);
    let targets: Vec<&str> = all.iter().map(|t| t["target"].as_str().unwrap()).collect();
    assert_eq!(
        targets,
        ["Belt and Road", "Path and Way", "R&D"],
        "oldest first"
    );
    assert_eq!(all[2]["target_lang"], "en-GB");
    let count = |args: &[&str]| {
        let mut a = vec!["list"];
        a.extend_from_slice(args);
        terms_json(&sb, None, &a).as_array().unwrap().len()
    };
    assert_eq!(count(&["--status", "forbidden"]), 1);
    assert_eq!(count(&["--search", "PATH"]), 1);
    assert_eq!(count(&["--search", "путь"]), 2);
    assert_eq!(count(&["--lang", "ru-en"]), 3, "en-GB serves ru-en");
    assert_eq!(
        count(&["--lang", "ru:en-US"]),
        2,
        "en serves en-US, en-GB does not"
    );
    assert_eq!(count(&["--lang", "ru-de"]), 0);
    assert_eq!(count(&["--origin", "human", "--limit", "2"]), 2);
    let text = stdout(&sb.run(&["terms", "list"]));
    assert!(
        text.contains("Пояс и путь → Belt and Road  (China's initiative)")
            && text.contains("forbidden Пояс и путь → Path and Way"),
        "{text}"
    );

    // Edit: the earlier state goes to the history; an empty note clears the note.
    let id_s = id.to_string();
    let edited = terms_json(
        &sb,
        None,
        &[
            "edit",
            &id_s,
            "--target",
            "Belt and Road Initiative",
            "--note",
            "",
        ],
    );
    let edited = &edited.as_array().unwrap()[0];
    assert_eq!(edited["target"], "Belt and Road Initiative");
    assert!(edited.get("note").is_none(), "note cleared: {edited}");
    assert_eq!(edited["pos"], "properNoun", "untouched fields stay");
    let shown = terms_json(&sb, None, &["show", &id_s]);
    assert_eq!(shown["term"]["target"], "Belt and Road Initiative");
    let history = shown["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{shown}");
    assert_eq!(history[0]["target"], "Belt and Road");
    assert_eq!(history[0]["note"], "China's initiative");
    assert!(history[0]["changed_at"].is_string());
    let text = stdout(&sb.run(&["terms", "show", &id_s]));
    assert!(
        text.contains("target: Belt and Road Initiative")
            && text.contains(": Пояс и путь → Belt and Road (preferred, human)"),
        "{text}"
    );
    // An edit that would copy another entry is refused, and changes nothing.
    let out = sb.run(&["terms", "edit", &id_s, "--target", "Path and Way"]);
    assert_fails(&out, &format!("would become a copy of term {fid}"));

    // Delete: an unknown id among known ones deletes none of them.
    let before = listed(&sb);
    let out = sb.run(&["terms", "delete", &id_s, "999"]);
    assert_fails(&out, "no term with id 999");
    assert_eq!(listed(&sb), before);
    let out = sb.run(&["terms", "delete", &id_s, &fid.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("deleted 2 entries"),
        "{}",
        stderr(&out)
    );
    assert_eq!(listed(&sb).len(), 1);
    assert_fails(&sb.run(&["terms", "show", &id_s]), "no term with id");
}

const TSV: &str =
    "# OmegaT glossary\nНИОКР\tR&D\tresearch and development\nПояс и путь\tBelt and Road\n";
const CSV: &str = "source,target,note,pos,status\n\
    Национальная академия наук,National Academy of Sciences,,properNoun,\n\
    \"Шанхайская организация сотрудничества\",\"Shanghai Cooperation Organisation\",\"SCO, since 2001\",,preferred\n";
const TBX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE martif SYSTEM "TBXBasiccoreStructV02.dtd">
<martif type="TBX-Basic" xml:lang="ru">
  <martifHeader><fileDesc><sourceDesc><p>test</p></sourceDesc></fileDesc></martifHeader>
  <text><body>
    <termEntry id="c1">
      <langSet xml:lang="ru"><tig><term>высокоскоростная железная дорога</term></tig></langSet>
      <langSet xml:lang="en">
        <tig><term>high-speed railway</term><termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></tig>
        <tig><term>fast railroad</term><termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></tig>
      </langSet>
    </termEntry>
    <termEntry id="c2"><langSet xml:lang="ru"><tig><term>Кремль</term></tig></langSet></termEntry>
  </body></text>
</martif>
"#;

/// The fields an entry keeps through export and import.
fn essence(t: &Value) -> (String, String, String, Value, Value) {
    (
        t["source"].as_str().unwrap().to_string(),
        t["target"].as_str().unwrap().to_string(),
        t["status"].as_str().unwrap().to_string(),
        t.get("note").cloned().unwrap_or(Value::Null),
        t.get("pos").cloned().unwrap_or(Value::Null),
    )
}

/// TSV+CSV+TBX import in one command, re-import is unchanged, and a TBX export round-trips.
#[test]
fn tsv_csv_and_tbx_import_together_and_export_round_trips() {
    let sb = Sandbox::new();
    let files = [
        put(&sb, "g.tsv", TSV.as_bytes()),
        put(&sb, "g.csv", CSV.as_bytes()),
        put(&sb, "g.tbx", TBX.as_bytes()),
    ];
    let mut args = vec!["terms", "import"];
    args.extend(files.iter().map(String::as_str));
    let report = terms_json(&sb, None, &args[1..]);
    assert_eq!(report["files"], 3, "{report}");
    assert_eq!(report["terms"]["added"], 6, "{report}");
    assert_eq!(report["terms"]["unchanged"], 0);
    assert_eq!(report["skipped"], 1, "the TBX entry without English");
    let all = listed(&sb);
    let got: Vec<(String, String, String, Value, Value)> = all.iter().map(essence).collect();
    let s = |x: &str| x.to_string();
    let null = Value::Null;
    assert_eq!(
        got,
        [
            (
                s("НИОКР"),
                s("R&D"),
                s("preferred"),
                Value::from("research and development"),
                null.clone()
            ),
            (
                s("Пояс и путь"),
                s("Belt and Road"),
                s("preferred"),
                null.clone(),
                null.clone()
            ),
            (
                s("Национальная академия наук"),
                s("National Academy of Sciences"),
                s("preferred"),
                null.clone(),
                Value::from("properNoun")
            ),
            (
                s("Шанхайская организация сотрудничества"),
                s("Shanghai Cooperation Organisation"),
                s("preferred"),
                Value::from("SCO, since 2001"),
                null.clone()
            ),
            (
                s("высокоскоростная железная дорога"),
                s("high-speed railway"),
                s("preferred"),
                null.clone(),
                null.clone()
            ),
            (
                s("высокоскоростная железная дорога"),
                s("fast railroad"),
                s("forbidden"),
                null.clone(),
                null.clone()
            ),
        ]
    );
    assert!(all
        .iter()
        .all(|t| t["origin"] == "import" && t["source_lang"] == "ru"));

    // The same files again: nothing new.
    let again = terms_json(&sb, None, &args[1..]);
    assert_eq!(again["terms"]["added"], 0, "{again}");
    assert_eq!(again["terms"]["updated"], 0);
    assert_eq!(again["terms"]["unchanged"], 6);
    let text = stdout(&sb.run(&args));
    assert!(
        text.contains("imported 3 files: 0 entries added, 0 updated, 6 unchanged, 1 skipped (entries without terms in both ru and en)"),
        "{text}"
    );
    assert_eq!(listed(&sb).len(), 6);

    // TBX out, into a fresh memory, and the same entries come back.
    let out = sb.run(&["terms", "export", "-o", "x.tbx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exported 6 entries to x.tbx"),
        "{}",
        stderr(&out)
    );
    let tbx = std::fs::read_to_string(sb.path("x.tbx")).unwrap();
    assert!(tbx.starts_with("<?xml") && tbx.contains("<martif"), "{tbx}");
    assert_eq!(tbx.matches("deprecatedTerm-admn-sts").count(), 1, "{tbx}");
    let fresh = sb.path("fresh.sqlite").display().to_string();
    let report = terms_json(&sb, Some(&fresh), &["import", "x.tbx"]);
    assert_eq!(report["terms"]["added"], 6, "{report}");
    let back = terms_json(&sb, Some(&fresh), &["list"]);
    let back: Vec<_> = back.as_array().unwrap().iter().map(essence).collect();
    assert_eq!(back, got);
}

/// A malformed glossary is one `FILE:LINE:COL` error (exit 1) and stores nothing, good files too.
#[test]
fn a_bad_glossary_file_changes_nothing_and_says_where() {
    let sb = Sandbox::new();
    add(&sb, "НИОКР", "R&D", &[]);
    let before = listed(&sb);
    put(&sb, "bad.tsv", "а\tb\nc\td\nno tab here\n".as_bytes());
    put(&sb, "good.tsv", "Кремль\tKremlin\n".as_bytes());
    let out = sb.run(&["terms", "import", "bad.tsv"]);
    assert_fails(
        &out,
        "bad.tsv:3:12: no tab between the source and the target term",
    );
    assert_eq!(listed(&sb), before);
    let out = sb.run(&["terms", "import", "good.tsv", "bad.tsv"]);
    assert_fails(&out, "bad.tsv:3:");
    assert_eq!(
        listed(&sb),
        before,
        "the good file's entry is not kept either"
    );

    put(
        &sb,
        "entities.tbx",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE martif [\n<!ENTITY k \"Kremlin\">\n]>\n<martif><text><body>\
         <termEntry><langSet xml:lang=\"ru\"><tig><term>Кремль</term></tig></langSet>\
         <langSet xml:lang=\"en\"><tig><term>&k;</term></tig></langSet></termEntry>\
         </body></text></martif>\n"
            .as_bytes(),
    );
    let out = sb.run(&["terms", "import", "good.tsv", "entities.tbx"]);
    assert_fails(&out, "entities.tbx:2:1: the DOCTYPE declares entities");
    assert_eq!(listed(&sb), before);

    put(
        &sb,
        "quote.csv",
        "source,target\nКремль,Kremlin\n\"Дума,Duma\nx,y\n".as_bytes(),
    );
    let out = sb.run(&["terms", "import", "quote.csv"]);
    assert_fails(&out, "quote.csv:3:1: an unterminated quote");
    assert_eq!(listed(&sb), before);
    put(&sb, "g.xlsx", b"PK");
    assert_fails(&sb.run(&["terms", "import", "g.xlsx"]), "unknown format");
    assert_eq!(listed(&sb), before);
}

/// Inflected terms are found, their input byte ranges slicing exactly the words as written.
#[test]
fn inflected_terms_are_found_with_exact_input_ranges() {
    let sb = with_terms(
        &[
            ("Пояс и путь", "Belt and Road", false),
            (
                "Национальная академия наук",
                "National Academy of Sciences",
                false,
            ),
            (
                "высокоскоростная железная дорога",
                "high-speed railway",
                false,
            ),
        ],
        false,
    );
    let input = "Город подписал контракты со странами вдоль \"Пояса и пути\".\n\n\
                 Он работает в Национальной академии наук.\n\n\
                 Началось строительство высокоскоростной железной дороги.\n";
    let (v, _) = translate_on(&sb, CHAT, &[], input);
    let segs = segments(&v);
    assert_eq!(segs.len(), 3, "{v}");
    for (seg, (found, source, target)) in segs.iter().zip([
        ("Пояса и пути", "Пояс и путь", "Belt and Road"),
        (
            "Национальной академии наук",
            "Национальная академия наук",
            "National Academy of Sciences",
        ),
        (
            "высокоскоростной железной дороги",
            "высокоскоростная железная дорога",
            "high-speed railway",
        ),
    ]) {
        let terms = seg["terms"].as_array().unwrap();
        assert_eq!(terms.len(), 1, "{seg}");
        let t = &terms[0];
        assert_eq!(t["found"], found);
        assert_eq!(slice(input.as_bytes(), t), found, "{t}");
        assert_eq!(
            (t["source"].as_str(), t["target"].as_str()),
            (Some(source), Some(target))
        );
        assert_eq!(t["status"], "preferred");
        // "Good morning." lacks the rendering: the flag points at the same words.
        assert_eq!(kinds(seg), ["missing_term"]);
        assert_eq!(slice(input.as_bytes(), &seg["qa"][0]), found);
    }
    assert_eq!(v["flagged"], 3);
}

/// Renderings reach the llama.cpp prompt and a missed one is retried stressed; `--no-terms` not.
#[test]
fn renderings_reach_the_prompt_and_a_missed_one_is_asked_again() {
    let entries = [
        ("Пояс и путь", "Belt and Road", false),
        ("Пояс и путь", "Path and Way", true),
        ("Доброе утро", "Good morning", false),
    ];
    let input =
        "Город в провинции Цзянсу подписал контракты со странами вдоль \"Пояса и пути\".\n\n\
                 Доброе утро, сказал мэр.\n";
    let sb = with_terms(&entries, true);
    let (v, out) = translate_on(&sb, CHAT, &["--parallel", "1"], input);
    let err = stderr(&out);
    let asked = prompts(&err);
    assert_eq!(
        asked.len(),
        3,
        "one retry, for the first segment only: {err}"
    );
    let (first, stressed, second) = (&asked[0], &asked[1], &asked[2]);
    assert!(
        first.contains(
            "Use these renderings (terminology and names):\nПояс и путь → Belt and Road\nЦзянсу → Jiangsu\n"
        ),
        "{first}"
    );
    assert!(
        first.contains("Never write these renderings:\nПояс и путь → not \"Path and Way\"\n"),
        "{first}"
    );
    assert!(!first.contains("required"), "{first}");
    assert!(
        stressed.contains(
            "These renderings are required, word for word; an earlier answer missed \"Belt and Road\", \"Jiangsu\".\n"
        ),
        "{stressed}"
    );
    assert!(stressed.contains("Translate into English:\nГород в провинции Цзянсу"));
    // The second segment's rendering is in "Good morning.": asked once, never stressed.
    assert!(second.contains("Доброе утро → Good morning\n"), "{second}");
    assert!(second.contains("Translate into English:\nДоброе утро, сказал мэр."));
    assert!(!second.contains("required"), "{second}");

    let segs = segments(&v);
    assert_eq!(kinds(&segs[0]), ["name", "missing_term"], "{}", segs[0]);
    assert_eq!(slice(input.as_bytes(), &segs[0]["qa"][0]), "Цзянсу");
    assert_eq!(slice(input.as_bytes(), &segs[0]["names"][0]), "Цзянсу");
    assert_eq!(segs[0]["names"][0]["pinyin"], "Jiangsu");
    assert_eq!(
        segs[0]["terms"].as_array().unwrap().len(),
        2,
        "preferred and forbidden"
    );
    assert_eq!(segs[1]["target"], "Good morning.");
    assert_eq!(kinds(&segs[1]), Vec::<String>::new(), "{}", segs[1]);
    assert!(segs[1].get("names").is_none(), "no names: no field");
    assert_eq!(v["flagged"], 1);
    // Names are hints, not entries.
    assert_eq!(listed(&sb).len(), 3);

    // --no-terms: the model is told nothing and not asked again; QA still checks.
    let sb = with_terms(&entries, true);
    let (v, out) = translate_on(&sb, CHAT, &["--no-terms"], input);
    let err = stderr(&out);
    let asked = prompts(&err);
    assert_eq!(asked.len(), 2, "one prompt per segment: {err}");
    for p in &asked {
        assert!(!p.contains("renderings") && !p.contains(" → "), "{p}");
    }
    let segs = segments(&v);
    assert_eq!(kinds(&segs[0]), ["name", "missing_term"]);
    assert_eq!(kinds(&segs[1]), Vec::<String>::new());
    assert!(
        err.contains("qa: <stdin>: 1 segment flagged: 1 missing term, 1 name"),
        "{err}"
    );
}

/// QA flags (missing term, number) reach stderr, `--format bilingual` and JSON.
#[test]
fn qa_flags_show_on_stderr_in_bilingual_and_in_json() {
    let sb = with_terms(&[("НИОКР", "R&D", false)], false);
    let input = "Университет заключил контракты в области НИОКР на 20 млн юаней.\n\nДоброе утро.\n";
    let (_, out) = translate_on(&sb, CHAT, &["--format", "bilingual"], input);
    let err = stderr(&out);
    let qa_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("qa: ")).collect();
    assert_eq!(
        qa_lines,
        ["qa: <stdin>: 1 segment flagged: 1 missing term, 1 number (see them with --format bilingual or json)"],
        "{err}"
    );
    let text = stdout(&out);
    let (one, two) = text.split_once("\n\n").unwrap_or_else(|| panic!("{text}"));
    assert!(
        one.contains("     ! missing_term: \"НИОКР\" → \"R&D\" missing\n")
            && one.contains("     ! number: 20 млн (20000000) not in the translation"),
        "{text}"
    );
    assert!(two.contains("Доброе утро.") && !two.contains('!'), "{text}");

    let (v, out) = translate_on(&sb, CHAT, &[], input);
    let segs = segments(&v);
    assert_eq!(v["model_calls"], 0);
    assert_eq!(segs[0]["origin"], "memory");
    assert_eq!(
        kinds(&segs[0]),
        ["memory_conflict", "number"],
        "{}",
        segs[0]
    );
    assert_eq!(slice(input.as_bytes(), &segs[0]["qa"][1]), "20 млн");
    assert_eq!(kinds(&segs[1]), Vec::<String>::new());
    assert!(
        stderr(&out).contains("1 segment flagged: 1 number, 1 memory conflict"),
        "{}",
        stderr(&out)
    );
}

/// A memory unit against the termbase is a `memory_conflict`, and only it is in `memory qa`.
#[test]
fn memory_units_against_the_termbase_are_conflicts() {
    let sb = with_terms(&[("Доброе утро", "Good morning", false)], false);
    let tmx = put(
        &sb,
        "tm.tmx",
        "<?xml version=\"1.0\"?><tmx version=\"1.4\"><header creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" adminlang=\"en\" srclang=\"ru\" datatype=\"plaintext\"/><body>\
         <tu><tuv xml:lang=\"ru\"><seg>Доброе утро, сказал мэр.</seg></tuv><tuv xml:lang=\"en\"><seg>Hello, said the mayor.</seg></tuv></tu>\
         <tu><tuv xml:lang=\"ru\"><seg>Министр выступил с речью.</seg></tuv><tuv xml:lang=\"en\"><seg>The minister gave a speech.</seg></tuv></tu>\
         </body></tmx>"
            .as_bytes(),
    );
    assert!(sb.run(&["memory", "import", &tmx]).status.success());
    let input = "Доброе утро, сказал мэр.\n\nМинистр выступил с речью.\n";
    let (v, _) = translate_on(&sb, CHAT, &[], input);
    assert_eq!(v["model_calls"], 0, "all from memory: {v}");
    let segs = segments(&v);
    assert_eq!(segs[0]["origin"], "memory");
    assert_eq!(segs[0]["target"], "Hello, said the mayor.");
    assert_eq!(kinds(&segs[0]), ["memory_conflict"]);
    assert_eq!(
        segs[0]["qa"][0]["detail"],
        "memory match: \"Доброе утро\" → \"Good morning\" missing"
    );
    assert_eq!(slice(input.as_bytes(), &segs[0]["qa"][0]), "Доброе утро");
    assert_eq!(segs[1]["origin"], "memory");
    assert_eq!(kinds(&segs[1]), Vec::<String>::new());

    let rows = json(&sb.run(&["memory", "qa", "--format", "json"]));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "only the unit with a problem: {rows:?}");
    assert_eq!(rows[0]["source"], "Доброе утро, сказал мэр.");
    assert_eq!(kinds(&rows[0]), ["missing_term"]);
    let text = stdout(&sb.run(&["memory", "qa", "--lang", "ru-en"]));
    assert!(
        text.contains("! missing_term: \"Доброе утро\" → \"Good morning\" missing")
            && text.contains("1 segment flagged: 1 missing term")
            && !text.contains("Министр"),
        "{text}"
    );
}

/// `terms check` flags exactly the sentence of an existing translation that lost "R&D".
#[test]
fn terms_check_flags_the_right_segment_of_an_existing_translation() {
    let sb = with_terms(
        &[
            ("НИОКР", "R&D", false),
            ("Пояс и путь", "Belt and Road", false),
            ("Пояс и путь", "Path and Way", true),
        ],
        false,
    );
    let src = "Страны вдоль «Пояса и пути» расширяют торговлю. Объём вырос на 20%.\n\n\
               Университет заключил контракты в области НИОКР.\n";
    put(&sb, "src.txt", src.as_bytes());
    put(
        &sb,
        "tr.txt",
        b"Countries along the Belt and Road expand trade. Volume grew by 20%.\n\nThe university signed research contracts.\n",
    );
    let v = terms_json(&sb, None, &["check", "src.txt", "tr.txt"]);
    assert_eq!(v["alignment"], "sentences", "{v}");
    let segs = segments(&v);
    assert_eq!(segs.len(), 3);
    assert_eq!(kinds(&segs[0]), Vec::<String>::new());
    assert_eq!(kinds(&segs[1]), Vec::<String>::new());
    assert_eq!(kinds(&segs[2]), ["missing_term"], "{}", segs[2]);
    assert_eq!(
        segs[2]["target"],
        "The university signed research contracts."
    );
    assert_eq!(
        slice(src.as_bytes(), &segs[2]),
        segs[2]["source"].as_str().unwrap()
    );
    assert_eq!(slice(src.as_bytes(), &segs[2]["qa"][0]), "НИОКР");
    let out = sb.run(&["terms", "check", "src.txt", "tr.txt"]);
    assert!(out.status.success(), "flags are output, not failure");
    let text = stdout(&out);
    // Where, as LINE:COLUMN (not a byte offset that reads like a line number: issue 40).
    assert!(text.starts_with("src.txt:3:1  Университет"), "{text}");
    assert!(
        text.contains("! missing_term: \"НИОКР\" → \"R&D\" missing")
            && text.ends_with(
                "1 segment flagged: 1 missing term (of 3 checked, paired sentence by sentence)\n"
            ),
        "{text}"
    );
    // The forbidden rendering is found too.
    put(
        &sb,
        "tr2.txt",
        b"Countries along the Path and Way expand trade. Volume grew by 20%.\n\nThe university signed R&D contracts.\n",
    );
    let v = terms_json(&sb, None, &["check", "src.txt", "tr2.txt"]);
    let segs = segments(&v);
    assert_eq!(kinds(&segs[0]), ["missing_term", "forbidden_term"]);
    assert_eq!(kinds(&segs[2]), Vec::<String>::new());
}

/// `terms names` stores nothing, and with `--accept` stores the pinyin names as origin `auto`.
#[test]
fn names_are_stored_only_when_accepted() {
    let sb = Sandbox::new();
    let text = "Мэр Куньшаня Чэнь Лиянь встретилась с учеными.\n";
    put(&sb, "n.txt", text.as_bytes());
    let v = terms_json(&sb, None, &["names", "n.txt"]);
    let names = v["names"].as_array().unwrap();
    let got: Vec<(&str, &str, &str)> = names
        .iter()
        .map(|n| {
            (
                n["found"].as_str().unwrap(),
                n["base"].as_str().unwrap(),
                n["pinyin"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("Куньшаня", "Куньшань", "Kunshan"),
            ("Чэнь Лиянь", "Чэнь Лиянь", "Chen Liyan")
        ]
    );
    for n in names {
        assert_eq!(slice(text.as_bytes(), n), n["found"].as_str().unwrap());
    }
    assert_eq!(v["stored"], serde_json::json!([]));
    assert!(listed(&sb).is_empty(), "nothing stored without --accept");

    let v = terms_json(&sb, None, &["names", "n.txt", "--accept"]);
    assert_eq!(v["stored"].as_array().unwrap().len(), 2, "{v}");
    let auto = terms_json(&sb, None, &["list", "--origin", "auto"]);
    let auto: Vec<(&str, &str)> = auto
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["pos"], "properNoun");
            assert_eq!(t["status"], "preferred");
            (t["source"].as_str().unwrap(), t["target"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        auto,
        [("Куньшань", "Kunshan"), ("Чэнь Лиянь", "Chen Liyan")]
    );
    assert!(terms_json(&sb, None, &["list", "--origin", "human"])
        .as_array()
        .unwrap()
        .is_empty());
}

/// Twenty sentences, each with one glossary term in some inflected form.
const TERM_SENTENCES: &str = "Страны вдоль «Пояса и пути» расширяют торговлю.
Университет заключил контракты в области НИОКР.
Делегация посетила Национальную академию наук.
Стороны обсудили научно-техническое сотрудничество.
Строительство высокоскоростной железной дороги идёт по плану.
Саммит Шанхайской организации сотрудничества прошёл в Астане.
Лидеры ШОС подписали декларацию.
Госсовет КНР одобрил новый план.
Сессия Всекитайского собрания народных представителей открылась в марте.
Депутаты ВСНП приняли закон.
Учения провела Народно-освободительная армия Китая.
В свободной экономической зоне открылись новые заводы.
Индустриальный парк привлёк иностранных инвесторов.
Технопарк открылся в пригороде.
Губернатор совершил инспекционную поездку по району.
Трансграничная электронная торговля растёт быстро.
Расходы на НИОКР выросли вдвое.
Учёные Национальной академии наук представили доклад.
Инициатива «Пояс и путь» отмечает юбилей.
Министры обсудили научно-технологическое сотрудничество.
";

/// Marian `--protect` leaves no placeholder, flags exactly the absent renderings (rates printed).
#[test]
fn marian_term_protection_strategies() {
    let sb = Sandbox::new();
    let glossary = repo().join("examples/glossary-ru-en.tsv");
    let model = fixture(MARIAN);
    let placeholder = regex::Regex::new(r"ZX\d").unwrap();
    let mut targets: Vec<Vec<String>> = Vec::new();
    let mut report = Vec::new();
    for how in ["placeholder", "inline", "off"] {
        // Each strategy with its own memory, so none reuses another's translations.
        let db = sb.path(&format!("{how}.sqlite")).display().to_string();
        let out = sb.run(&[
            "--memory",
            &db,
            "terms",
            "import",
            glossary.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = sb.run_stdin(
            &[
                "--memory",
                &db,
                "translate",
                "--model-dir",
                model.to_str().unwrap(),
                "--protect",
                how,
                "--format",
                "json",
            ],
            TERM_SENTENCES.as_bytes(),
        );
        let v = json(&out);
        let segs = segments(&v);
        assert_eq!(segs.len(), 20, "{how}");
        let (mut terms, mut present) = (0, 0);
        for seg in segs {
            let target = seg["target"].as_str().unwrap();
            assert!(
                !placeholder.is_match(target),
                "{how}: a placeholder left in {target}"
            );
            let found = seg["terms"]
                .as_array()
                .unwrap_or_else(|| panic!("{how}: no term in {seg}"));
            for t in found.iter().filter(|t| t["status"] == "preferred") {
                terms += 1;
                let rendering = t["target"].as_str().unwrap();
                let here = target.to_lowercase().contains(&rendering.to_lowercase());
                present += here as usize;
                let flagged = seg["qa"].as_array().unwrap().iter().any(|f| {
                    f["kind"] == "missing_term" && f["start"] == t["start"] && f["end"] == t["end"]
                });
                assert_eq!(flagged, !here, "{how}: {rendering} in {target}: {seg}");
            }
        }
        assert_eq!(terms, 20, "{how}: one term per sentence, whatever its form");
        targets.push(
            segs.iter()
                .map(|s| s["target"].as_str().unwrap().to_string())
                .collect(),
        );
        report.push(format!("{how}: {present}/{terms}"));
    }
    eprintln!(
        "renderings in the Marian fixture's targets (20 sentences): {}",
        report.join(", ")
    );
    // Protection changes what the model reads, hence (greedy, fixed weights) what it writes.
    for (k, how) in [(0, "placeholder"), (1, "inline")] {
        assert!(
            targets[k].iter().zip(&targets[2]).any(|(a, b)| a != b),
            "{how} gave exactly the unprotected translations"
        );
    }
}

/// Title lines are translated and no line is dropped, except a menu line reported as skipped.
#[test]
fn titles_are_translated_and_nothing_is_dropped() {
    let Some(shared) = shared() else { return };
    let sb = Sandbox::new();
    let all = std::fs::read_to_string(shared.join("data/parallel/ru-en/newstest2013.ru")).unwrap();
    let input: String = all.split_inclusive('\n').take(40).collect();
    let (v, out) = translate_on(
        &sb,
        MARIAN,
        &["--no-memory", "--beams", "1", "--max-length", "12"],
        &input,
    );
    assert!(v.get("skipped").is_none(), "{:?}", v.get("skipped"));
    assert!(!stderr(&out).contains("page junk"), "{}", stderr(&out));
    let ranges: Vec<(usize, usize)> = segments(&v)
        .iter()
        .map(|s| {
            (
                s["start"].as_u64().unwrap() as usize,
                s["end"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let mut at = 0;
    for (n, line) in input.split_inclusive('\n').enumerate() {
        for (i, c) in line.char_indices() {
            let b = at + i;
            assert!(
                c.is_whitespace() || ranges.iter().any(|&(s, e)| s <= b && b < e),
                "line {}: byte {b} ({c:?}) is in no segment: {line}",
                n + 1
            );
        }
        at += line.len();
    }

    let zavod = repo().join("examples/zavod-ru.txt");
    let text = std::fs::read_to_string(&zavod).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let dir = fixture(MARIAN);
    let out = sb.run(&[
        "translate",
        zavod.to_str().unwrap(),
        "--no-memory",
        "--model-dir",
        dir.to_str().unwrap(),
        "--beams",
        "1",
        "--max-length",
        "12",
        "--format",
        "json",
    ]);
    let v = json(&out);
    let segs = segments(&v);
    assert!(
        segs.iter().any(|s| s["source"] == lines[2]),
        "the title line is a segment: {lines:?}"
    );
    let skipped = v["skipped"].as_array().unwrap();
    let menu = skipped
        .iter()
        .find(|l| l["line"] == 1)
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(slice(text.as_bytes(), menu), lines[0]);
    assert!(lines[0].contains("Новости | Экономика"));
    assert!(skipped.iter().all(|l| l["line"] != 3));
    assert!(segs.iter().all(|s| s["source"] != lines[0]));
    let err = stderr(&out);
    let note = err
        .lines()
        .find(|l| l.contains("taken for page junk"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        note.contains("(lines 1,") || note.contains("(line 1)"),
        "{note}"
    );
}

/// `--no-memory` leaves the units alone (nothing looked up, nothing stored) but still uses the
/// termbase; `--no-terms` with it reads no database at all; a repeated rendering is told once.
#[test]
fn no_memory_still_uses_the_termbase() {
    let sb = with_terms(&[("НИОКР", "R&D", false)], true);
    let input = "Расходы на НИОКР растут, и НИОКР в Цзянсу и Цзянсу важны.\n";
    let (v, out) = translate_on(&sb, CHAT, &["--no-memory"], input);
    let seg = &segments(&v)[0];
    assert_eq!(seg["terms"][0]["target"], "R&D", "{seg}");
    assert_eq!(seg["unit_id"], Value::Null, "nothing stored: {seg}");
    let first = &prompts(&stderr(&out))[0];
    assert_eq!(first.matches("НИОКР → R&D").count(), 1, "{first}");
    assert_eq!(first.matches("Цзянсу → Jiangsu").count(), 1, "{first}");
    assert!(kinds(seg).contains(&"missing_term".to_string()), "{seg}");
    let listed = sb.run(&["memory", "stats", "--format", "json"]);
    assert_eq!(json(&listed)["units"], 0);
    let (v, out) = translate_on(&sb, CHAT, &["--no-memory", "--no-terms"], input);
    assert!(segments(&v)[0].get("terms").is_none(), "{v}");
    assert!(!stderr(&out).contains("НИОКР → R&D"));
}

/// When terms were there to check and every rendering is in the translation, stderr says so
/// in one line (what `make run` shows).
#[test]
fn a_clean_translation_says_its_terms_were_checked() {
    let sb = with_terms(&[("Доброе утро", "Good morning", false)], false);
    let (v, out) = translate_on(&sb, CHAT, &[], "Доброе утро.\n");
    assert_eq!(v["flagged"], 0, "{v}");
    assert!(
        stderr(&out).contains(
            "qa: <stdin>: 1 segment checked, none flagged (1 term and 0 name renderings found)"
        ),
        "{}",
        stderr(&out)
    );
}

/// One name the reader gave: its pinyin, whether it came from the conventional table, and
/// where it starts.
struct Read {
    pinyin: String,
    conventional: bool,
    start: usize,
}

/// `terms names FILE --format json`: every name read.
fn names_read(sb: &Sandbox, file: &str) -> Vec<Read> {
    terms_json(sb, None, &["names", file])["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| Read {
            pinyin: n["pinyin"].as_str().unwrap().to_string(),
            conventional: n["conventional"].as_bool().unwrap(),
            start: n["start"].as_u64().unwrap() as usize,
        })
        .collect()
}

/// Of a names fixture's forms (tests/fixtures/terms), how many the reader gives, each
/// sentence read alone; and the ones it misses.
fn fixture_rate(sb: &Sandbox, fixture: &str) -> (usize, usize, Vec<String>) {
    let path = repo().join("tests/fixtures/terms").join(fixture);
    let text = std::fs::read_to_string(path).unwrap();
    let (mut found, mut all, mut missed) = (0, 0, Vec::new());
    for line in text.lines() {
        let (source, want) = line.split_once('\t').unwrap();
        put(sb, "one.txt", format!("{source}\n").as_bytes());
        let got: Vec<String> = names_read(sb, "one.txt")
            .into_iter()
            .map(|n| n.pinyin)
            .collect();
        for w in want.split('|') {
            all += 1;
            match got.iter().any(|g| g == w) {
                true => found += 1,
                false => missed.push(format!("{w} in {source} (read {got:?})")),
            }
        }
    }
    (found, all, missed)
}

/// Whether the English line names `pinyin` (ignoring case, spaces, hyphens, apostrophes).
fn named_in(english: &str, pinyin: &str) -> bool {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    squash(english).contains(&squash(pinyin))
}

/// The name reader on the names fixtures and on general news.
/// - `names.tsv`, the sentences its tables were tuned on: every form is read.
/// - `names-heldout.tsv`, sentences written later whose names are in no table: the rate is
///   printed (the README reports it) and may not fall below 80%.
/// - newstest2013 (3,000 sentences of world news, not about China): a name read syllable by
///   syllable is judged by the English reference line, independently of the reader: one the
///   reference does not name is a false name. Two are known (reported, not passed as right);
///   any other fails, and so does a known one no longer read.
#[test]
fn names_on_general_news_are_few_and_the_chinese_ones_are_found() {
    let sb = Sandbox::new();
    let (found, all, missed) = fixture_rate(&sb, "names.tsv");
    assert_eq!(found, all, "tuned fixture: missed {missed:#?}");
    let (found, all, missed) = fixture_rate(&sb, "names-heldout.tsv");
    eprintln!(
        "names: tuned fixture all read; held-out fixture {found} of {all}, missed {missed:#?}"
    );
    assert!(
        found * 100 >= all * 80,
        "held-out: {found} of {all}: {missed:#?}"
    );

    let Some(shared) = shared() else { return };
    let news = shared.join("data/parallel/ru-en/newstest2013.ru");
    let ru = std::fs::read_to_string(&news).unwrap();
    let en = std::fs::read_to_string(shared.join("data/parallel/ru-en/newstest2013.en")).unwrap();
    let en: Vec<&str> = en.lines().collect();
    let mut false_names = Vec::new();
    for n in names_read(&sb, news.to_str().unwrap()) {
        let line = ru[..n.start].matches('\n').count();
        if !n.conventional && !named_in(en[line], &n.pinyin) {
            false_names.push((n.pinyin, line + 1));
        }
    }
    // Known misses: (line, pinyin, why). Reported on every run, never passed as right.
    const KNOWN: &[(usize, &str, &str)] = &[
        (
            2616,
            "Tang Wei",
            "Тан Вей Мин is a Singaporean Chinese name, written Tan Wei Ming, not in pinyin",
        ),
        (
            2855,
            "Kangkong",
            "Канкун (Cancún) in a paragraph about a Chinese trade centre there",
        ),
    ];
    let unknown: Vec<_> = false_names
        .iter()
        .filter(|(pinyin, line)| !KNOWN.iter().any(|k| k.0 == *line && k.1 == pinyin))
        .collect();
    assert!(
        unknown.is_empty(),
        "names the English reference does not have (pinyin, line): {unknown:?}"
    );
    for (line, pinyin, why) in KNOWN {
        assert!(
            false_names.iter().any(|f| f.1 == *line && f.0 == *pinyin),
            "line {line}: {pinyin} is no longer read: take it off the known misses"
        );
        babeldesk::testing::known_miss(&format!("newstest2013 line {line}: {pinyin} ({why})"));
    }
}

/// A term a spreadsheet would run as a formula goes to CSV as text (a leading apostrophe) and
/// comes back from it as it was (issue 32).
#[test]
fn csv_exports_formulas_as_text_and_reads_them_back() {
    let sb = Sandbox::new();
    let tsv = "=HYPERLINK(\"http://x\")\t@evil\t+note\nминус\t-5%\n";
    let file = put(&sb, "f.tsv", tsv.as_bytes());
    terms_json(&sb, None, &["import", &file, "--from", "ru", "--to", "en"]);
    let out = sb.run(&["terms", "export", "-o", "f.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = std::fs::read_to_string(sb.path("f.csv")).unwrap();
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            assert!(
                !cell
                    .trim_start_matches('"')
                    .starts_with(['=', '+', '-', '@']),
                "{cell} in {csv}"
            );
        }
    }
    let before: Vec<Value> = listed(&sb).iter().map(essence_value).collect();
    let fresh = sb.path("fresh.sqlite").display().to_string();
    terms_json(
        &sb,
        Some(&fresh),
        &["import", "f.csv", "--from", "ru", "--to", "en"],
    );
    let after: Vec<Value> = terms_json(&sb, Some(&fresh), &["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(essence_value)
        .collect();
    assert_eq!(after, before);
}

fn essence_value(t: &Value) -> Value {
    serde_json::json!([t["source"], t["target"], t["note"]])
}

/// A TSV line with more columns than OmegaT's three keeps them in the note (no tab, so the
/// term exports again), and a forbidden term's TSV refusal names formats that can hold it
/// (issue 40).
#[test]
fn extra_tsv_columns_stay_in_the_note_and_refusals_name_a_way_out() {
    let sb = Sandbox::new();
    let file = put(
        &sb,
        "four.tsv",
        "завод\tplant\tnote one\textra\n".as_bytes(),
    );
    let out = sb.run(&["terms", "import", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 entry added, 0 updated, 0 unchanged, 0 skipped\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(listed(&sb)[0]["note"], "note one; extra");
    assert!(sb
        .run(&["terms", "export", "-o", "back.tsv"])
        .status
        .success());
    assert!(sb
        .run(&["terms", "add", "плохо", "bad", "--forbidden"])
        .status
        .success());
    let out = sb.run(&["terms", "export", "-o", "t.tsv"]);
    assert_fails(&out, "export to TBX or CSV, which mark it forbidden");
}
