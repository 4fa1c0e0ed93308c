//! The translation memory through the binary: TMX import/export, review commands, robustness.

use super::*;
use std::time::{Duration, Instant};

pub(super) const TMX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
<header creationtool="test" creationtoolversion="1" segtype="sentence" o-tmf="test" adminlang="en" srclang="ru" datatype="plaintext"/>
<body>
<tu><tuv xml:lang="ru"><seg>Завод открыли в прошлом году на севере страны.</seg></tuv><tuv xml:lang="EN-us"><seg>The plant opened last year in the north of the country.</seg></tuv></tu>
<tu><tuv xml:lang="ru"><seg>Работы начнутся весной и закончатся осенью.</seg></tuv><tuv xml:lang="en"><seg>Work will start in spring and end in autumn.</seg></tuv></tu>
<tu><tuv xml:lang="ru"><seg>Нажмите <bpt i="1">&lt;b&gt;</bpt>здесь<ept i="1">&lt;/b&gt;</ept>.</seg></tuv><tuv xml:lang="en"><seg>Click <bpt i="1">&lt;b&gt;</bpt>here<ept i="1">&lt;/b&gt;</ept>.</seg></tuv></tu>
</body>
</tmx>
"#;

impl Sandbox {
    fn with_memory(&self) -> String {
        self.path("tm.sqlite").display().to_string()
    }

    fn mem(&self, args: &[&str]) -> Output {
        let db = self.with_memory();
        let mut all = vec!["--memory", db.as_str(), "memory"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    fn mem_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "json"]);
        let out = self.mem(&all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    }

    fn units(&self) -> i64 {
        self.mem_json(&["stats"])["units"].as_i64().unwrap()
    }
}

fn write(sb: &Sandbox, name: &str, bytes: &[u8]) -> String {
    let p = sb.path(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

#[test]
fn import_review_and_export_round_trip() {
    let sb = Sandbox::new();
    let tmx = write(&sb, "small.tmx", TMX.as_bytes());
    let report = sb.mem_json(&["import", &tmx]);
    assert_eq!(
        (report["added"].as_u64(), report["merged"].as_u64()),
        (Some(3), Some(0))
    );
    let again = sb.mem_json(&["import", &tmx]);
    assert_eq!(
        (again["added"].as_u64(), again["merged"].as_u64()),
        (Some(0), Some(3))
    );

    // Fuzzy search: array of units with the fields scripts rely on.
    let hits = sb.mem_json(&[
        "search",
        "Завод открыли в позапрошлом году на севере страны.",
        "--from",
        "ru",
        "--to",
        "en",
    ]);
    let first = &hits[0];
    for field in [
        "id",
        "source",
        "target",
        "source_lang",
        "target_lang",
        "score",
        "origin",
        "status",
    ] {
        assert!(!first[field].is_null(), "{field} missing in {first}");
    }
    assert_eq!(first["score"], 87); // one word of eight: 100·7/8
    assert_eq!(first["target_lang"], "en-US");
    let id = first["id"].as_i64().unwrap().to_string();

    // Concordance: substring, any case, either side.
    assert_eq!(
        sb.mem_json(&["search", "--concordance", "ВЕСНОЙ"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        sb.mem_json(&["search", "--concordance", "autumn"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // SQL-looking input is only text.
    assert_eq!(
        sb.mem_json(&["search", "--concordance", "'; DROP TABLE units; --"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        sb.mem_json(&["search", "\" OR 1=1 --"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(sb.units(), 3);

    // Edit keeps the old target in the history; approve, reject, delete.
    let edited = sb.mem_json(&[
        "edit",
        &id,
        "--target",
        "The plant was opened last year in the country's north.",
    ]);
    assert_eq!(edited["origin"], "human");
    let shown = sb.mem_json(&["show", &id]);
    assert_eq!(
        shown["history"][0]["target"],
        "The plant opened last year in the north of the country."
    );
    assert!(sb.mem(&["approve", &id]).status.success());
    assert_eq!(
        sb.mem_json(&["list", "--status", "approved"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        sb.mem_json(&["list", "--origin", "human", "--lang", "ru:en-US"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        sb.mem_json(&["list", "--lang", "ru-en", "--limit", "2", "--offset", "2"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        sb.mem_json(&["list", "--since", "2000-01-01"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_fails(&sb.mem(&["approve", &id, "9999"]), "no unit with id 9999");
    assert_usage(
        &sb.mem(&["list", "--since", "yesterday"]),
        "for '--since <DATE>': 'yesterday' is not a day",
    );
    assert_usage(
        &sb.mem(&["list", "--lang", "russian"]),
        "'russian' is not a pair",
    );
    assert_usage(&sb.mem(&["list", "--lang", "ru"]), "'ru' is not a pair");
    // Three-letter codes are the two-letter ones (issue 40).
    let rus = json(&sb.mem(&["list", "--lang", "rus-eng", "--format", "json"]));
    let ru = json(&sb.mem(&["list", "--lang", "ru-en", "--format", "json"]));
    assert_eq!(rus, ru);
    let text = stdout(&sb.mem(&["list"]));
    assert!(
        text.contains("approved") && text.contains("→ Click <g1>here</g1>."),
        "{text}"
    );

    // Export keeps inline codes and review state; importing it elsewhere gives the same units.
    let out = sb.path("out.tmx");
    assert!(sb
        .mem(&["export", "-o", out.to_str().unwrap()])
        .status
        .success());
    let xml = std::fs::read_to_string(&out).unwrap();
    assert!(
        xml.contains("<bpt i=\"1\">&lt;b&gt;</bpt>here<ept i=\"1\">&lt;/b&gt;</ept>"),
        "{xml}"
    );
    let other = Sandbox::new();
    let db2 = other.path("tm.sqlite");
    let imp = other.run(&[
        "--memory",
        db2.to_str().unwrap(),
        "memory",
        "import",
        out.to_str().unwrap(),
    ]);
    assert!(imp.status.success(), "{}", stderr(&imp));
    let strip = |v: Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| {
                let mut u = u.clone();
                u.as_object_mut().unwrap().remove("id");
                u
            })
            .collect()
    };
    assert_eq!(
        strip(sb.mem_json(&["list"])),
        strip(other.mem_json(&["list"]))
    );
    // Export to stdout, filtered.
    let piped = stdout(&sb.mem(&["export", "--status", "approved"]));
    assert_eq!(piped.matches("<tu ").count(), 1);

    assert!(sb.mem(&["reject", &id]).status.success());
    assert!(
        sb.mem_json(&["search", "Завод открыли в прошлом году на севере страны."])
            .as_array()
            .unwrap()[0]["status"]
            == "rejected"
    );
    assert!(sb.mem(&["delete", &id]).status.success());
    assert_eq!(sb.units(), 2);
    assert_fails(&sb.mem(&["show", &id]), &format!("no unit with id {id}"));
}

#[test]
fn analyze_reports_match_bands() {
    let sb = Sandbox::new();
    let tmx = write(&sb, "small.tmx", TMX.as_bytes());
    assert!(sb.mem(&["import", &tmx]).status.success());
    let doc = write(&sb, "doc.txt", "Завод открыли в прошлом году на севере страны. Работы начнутся летом и закончатся осенью. Совсем новая фраза о погоде сегодня.\n\nЗавод открыли в прошлом году на севере страны.\n".as_bytes());
    let a = sb.mem_json(&["analyze", &doc, "--from", "ru", "--to", "en"]);
    let band = |name: &str| {
        a["bands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["band"] == name)
            .unwrap()["segments"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        (
            band("100"),
            band("75-84"),
            band("no match"),
            band("repetitions")
        ),
        (1, 1, 1, 1)
    );
    let text = stdout(&sb.mem(&["analyze", &doc, "--to", "en"]));
    assert!(
        text.contains("repetitions") && text.contains("4 segments"),
        "{text}"
    );
    assert_usage(
        &sb.mem(&["analyze", &doc, "--to", "english!"]),
        "for '--to <LANG>': 'english!' is not a BCP-47",
    );
}

#[test]
fn the_lisa_compliance_kit_imports() {
    let Some(shared) = shared() else { return };
    let sb = Sandbox::new();
    let dir = shared.join("data/tmx/lisa-compliance-kit");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tmx"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 20);
    for f in &files {
        let out = sb.mem(&["import", f]);
        assert!(out.status.success(), "{f}: {}", stderr(&out));
    }
    // UTF-16 files, inline codes and *all* among them: spot checks.
    let hits = sb.mem_json(&["search", "--concordance", "Texte du segment"]);
    assert!(!hits.as_array().unwrap().is_empty());
    let units = sb.units();
    assert!(units > 40, "{units}");
    // The whole kit again in one go merges everything.
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let again = sb.mem_json(&args);
    assert_eq!(again["added"], 0);
    assert_eq!(sb.units(), units);
}

#[test]
fn a_malformed_tmx_changes_nothing_and_says_where() {
    let sb = Sandbox::new();
    let good = write(&sb, "good.tmx", TMX.as_bytes());
    assert!(sb.mem(&["import", &good]).status.success());
    let before = stdout(&sb.mem(&["export"]));
    // The good units of a broken file come first: none of them may land.
    let broken = TMX
        .replace("Работы начнутся", "Работы начнутся ещё")
        .replace("</tu>\n</body>", "</tuv>\n</body>");
    let bad = write(&sb, "bad.tmx", broken.as_bytes());
    assert_fails(&sb.mem(&["import", &bad]), "bad.tmx:8:");
    let entity = write(
        &sb,
        "entity.tmx",
        TMX.replace("здесь", "&secret;").as_bytes(),
    );
    assert_fails(
        &sb.mem(&["import", &entity]),
        "entity.tmx:8:63: unknown entity &secret;",
    );
    let binary = write(&sb, "binary.tmx", b"\x00\x01\x02PK\x03\x04");
    assert_fails(
        &sb.mem(&["import", &binary]),
        "binary.tmx:1:1: not a TMX file",
    );
    let empty = write(&sb, "empty.tmx", b"");
    assert_fails(
        &sb.mem(&["import", &empty]),
        "empty.tmx:1:1: not a TMX file",
    );
    let mut invalid = TMX.as_bytes().to_vec();
    let at = TMX.find("весной").unwrap();
    invalid[at] = 0xE9;
    let inv = write(&sb, "invalid.tmx", &invalid);
    assert_fails(&sb.mem(&["import", &inv]), "invalid.tmx:7:");
    assert_fails(&sb.mem(&["import", "missing.tmx"]), "missing.tmx");
    assert_fails(
        &sb.mem(&["import", &write(&sb, "units.csv", b"a,b")]),
        "unknown format",
    );
    assert_eq!(stdout(&sb.mem(&["export"])), before, "the memory changed");
}

/// A TMX of `n` distinct units.
pub(super) fn big_tmx(n: usize) -> String {
    let mut t = String::with_capacity(n * 200);
    t.push_str("<?xml version=\"1.0\"?>\n<tmx version=\"1.4\"><header srclang=\"ru\" creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" adminlang=\"en\" datatype=\"plaintext\"/><body>\n");
    for i in 0..n {
        t.push_str(&format!("<tu><tuv xml:lang=\"ru\"><seg>Предложение номер {i} о заводе, городе и погоде.</seg></tuv><tuv xml:lang=\"en\"><seg>Sentence number {i} about the plant, the town and the weather.</seg></tuv></tu>\n"));
    }
    t.push_str("</body></tmx>\n");
    t
}

#[test]
fn a_killed_import_leaves_the_memory_as_it_was() {
    let sb = Sandbox::new();
    let good = write(&sb, "good.tmx", TMX.as_bytes());
    assert!(sb.mem(&["import", &good]).status.success());
    let before = stdout(&sb.mem(&["export"]));
    let big = write(&sb, "big.tmx", big_tmx(150_000).as_bytes());
    let db = sb.with_memory();
    let saved = sb.path("saved.sqlite");
    std::fs::copy(&db, &saved).unwrap();
    // Killed while it writes its transaction into the WAL (the import keeps its pages in
    // memory and writes them at the commit, some tens of megabytes here): the WAL holds pages
    // of a transaction that never committed. That moment lasts a few tens of milliseconds, so
    // an import that ended before it was seen is tried again.
    let wal = PathBuf::from(format!("{db}-wal"));
    let mut killed_writing = false;
    for _ in 0..3 {
        let mut child = sb
            .cmd(&["--memory", &db, "memory", "import", &big])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        while child.try_wait().unwrap().is_none() {
            if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 1 << 20) {
                unsafe_kill(child.id());
                killed_writing = !child.wait().unwrap().success();
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        if killed_writing {
            break;
        }
        // It committed: back to the three units for the next try.
        let _ = child.wait();
        std::fs::copy(&saved, &db).unwrap();
        let _ = std::fs::remove_file(&wal);
        let _ = std::fs::remove_file(format!("{db}-shm"));
    }
    assert!(
        killed_writing,
        "three imports ended before they were seen writing"
    );
    assert_eq!(stdout(&sb.mem(&["export"])), before, "the memory changed");
    assert_eq!(sb.units(), 3);
}

pub(super) fn unsafe_kill(pid: u32) {
    let ok = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn a_locked_memory_waits_then_says_so() {
    let sb = Sandbox::new();
    let db = sb.with_memory();
    let tmx = write(&sb, "small.tmx", TMX.as_bytes());
    assert!(sb.mem(&["import", &tmx]).status.success());
    // Another process holds the write lock for two seconds.
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\ntime.sleep(2)\nc.execute('COMMIT')",
            &db,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    let mut impatient = sb.cmd(&["--memory", &db, "memory", "import", &tmx]);
    impatient.env("BABELDESK_LOCK_TIMEOUT", "0.3");
    let t = Instant::now();
    let out = impatient.output().unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_fails(&out, "is locked by another process (waited 0.3 s)");
    // A patient writer waits for the lock and succeeds.
    let out = sb.mem(&["import", &tmx]);
    assert!(out.status.success(), "{}", stderr(&out));
    holder.wait().unwrap();
    assert_eq!(sb.units(), 3);
}

/// A deleted unit's id is never given to another (issue 40): links and notes citing it must
/// not come to point at another sentence.
#[test]
fn a_deleted_units_id_is_never_given_out_again() {
    let sb = Sandbox::new();
    let tmx = |ru: &str, en: &str| {
        format!("<tmx version=\"1.4\"><header srclang=\"ru\"/><body><tu><tuv xml:lang=\"ru\"><seg>{ru}</seg></tuv><tuv xml:lang=\"en\"><seg>{en}</seg></tuv></tu></body></tmx>")
    };
    for (i, (ru, en)) in [("Один.", "One."), ("Два.", "Two."), ("Три.", "Three.")]
        .iter()
        .enumerate()
    {
        let f = sb.path(&format!("{i}.tmx"));
        std::fs::write(&f, tmx(ru, en)).unwrap();
        assert!(sb
            .run(&["memory", "import", f.to_str().unwrap()])
            .status
            .success());
        if i == 1 {
            assert!(sb.run(&["memory", "delete", "2"]).status.success());
        }
    }
    let units = json(&sb.run(&["memory", "list", "--format", "json"]));
    let ids: Vec<i64> = units
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 3]);
}

/// `memory qa` is one table: its header once, each unit's flags under it, a count (issue 40).
#[test]
fn memory_qa_is_one_table() {
    let sb = Sandbox::new();
    let tmx = "<tmx version=\"1.4\"><header srclang=\"ru\"/><body>\
        <tu><tuv xml:lang=\"ru\"><seg>В 2020 году завод открыли.</seg></tuv><tuv xml:lang=\"en\"><seg>The plant opened in 2021.</seg></tuv></tu>\
        <tu><tuv xml:lang=\"ru\"><seg>Выпуск вырос на 15%.</seg></tuv><tuv xml:lang=\"en\"><seg>Output grew by 51%.</seg></tuv></tu>\
        </body></tmx>";
    std::fs::write(sb.path("qa.tmx"), tmx).unwrap();
    assert!(sb.run(&["memory", "import", "qa.tmx"]).status.success());
    let out = sb.run(&["memory", "qa"]);
    let text = stdout(&out);
    assert_eq!(text.matches("source / target").count(), 1, "{text}");
    assert_eq!(text.matches("! number:").count(), 2, "{text}");
    assert!(text.ends_with("2 segments flagged: 2 numbers\n"), "{text}");
}
