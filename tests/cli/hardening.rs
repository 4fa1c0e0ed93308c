//! Hardening: what bad or hostile input must never do (write outside a folder, drive the
//! terminal, replace a device, grow without bound, panic, touch what a read-only command
//! should not), through the real binary.

use super::*;
use std::time::{Duration, Instant};

fn entry(id: &str, file: &str) -> String {
    format!(
        "[[model]]\nid = {id:?}\ntask = \"embedding\"\narchitecture = \"bert\"\nlanguages = [\"en\"]\n\
         hf_repo = \"acme/tiny\"\nlicense = \"MIT\"\nfiles = [{{ name = {file:?} }}]\n\
         weights = [{{ name = \"model.safetensors\" }}]\n"
    )
}

/// A cloned folder whose `babeldesk.toml` names a hostile registry.
fn workspace_with_registry(sb: &Sandbox, registry: &str) {
    std::fs::write(sb.path("babeldesk.toml"), "registry = \"evil.toml\"\n").unwrap();
    std::fs::write(sb.path("evil.toml"), registry).unwrap();
}

#[test]
fn a_registry_cannot_write_outside_the_models_folder() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("outside.txt"), "keep me").unwrap();
    for (id, file) in [("../outside", "config.json"), ("fine", "../outside.txt")] {
        workspace_with_registry(&sb, &entry(id, file));
        let src = sb.path("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("config.json"), "{}").unwrap();
        for args in [
            vec!["models", "list"],
            vec!["models", "import", id, src.to_str().unwrap()],
            vec!["models", "pull", id],
        ] {
            let out = sb.run(&args);
            assert_fails(&out, "evil.toml");
            assert!(stderr(&out).contains("model '"), "{}", stderr(&out));
        }
        assert_eq!(
            std::fs::read_to_string(sb.path("outside.txt")).unwrap(),
            "keep me"
        );
    }
}

const ESCAPES: &str = "<tmx version=\"1.4\"><header srclang=\"en\"/><body><tu>\
    <tuv xml:lang=\"en\"><seg>Title\u{1b}]0;pwned\u{7} &#27;[2J done</seg></tuv>\
    <tuv xml:lang=\"ru\"><seg>Заголовок</seg></tuv></tu></body></tmx>";

/// The TMX with control characters, imported into the sandbox's memory.
fn import_escapes(sb: &Sandbox) {
    let tmx = sb.path("esc.tmx");
    std::fs::write(&tmx, ESCAPES).unwrap();
    let out = sb.run(&["memory", "import", tmx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn stored_control_characters_never_reach_the_terminal_raw() {
    let sb = Sandbox::new();
    import_escapes(&sb);
    for args in [
        vec!["memory", "list"],
        vec!["memory", "show", "1"],
        vec!["memory", "search", "--concordance", "title"],
    ] {
        let out = sb.run(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            !out.stdout.iter().any(|&b| b == 0x1b || b == 0x07),
            "{args:?} printed a raw control byte"
        );
        assert!(
            stdout(&out).contains("\\u{1b}]0;pwned\\u{7}"),
            "{}",
            stdout(&out)
        );
        assert!(stdout(&out).contains("\\u{1b}[2J"), "{}", stdout(&out));
    }
    // Kept as data: JSON escapes them as JSON does, and export writes them back.
    let json = stdout(&sb.run(&["memory", "list", "--format", "json"]));
    assert!(json.contains("\\u001b]0;pwned\\u0007"), "{json}");
}

#[test]
fn output_paths_replace_files_and_write_through_devices() {
    let sb = Sandbox::new();
    import_escapes(&sb);
    // `-o -` is standard output: no file named "-".
    let out = sb.run(&["memory", "export", "-o", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("<tmx"));
    assert!(!sb.path("-").exists());
    // A symbolic link is followed: its file is replaced, it stays a link; the mode is kept.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let real = sb.path("real.tmx");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o664)).unwrap();
        let link = sb.path("link.tmx");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let out = sb.run(&["memory", "export", "-o", link.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::read_to_string(&real).unwrap().contains("<tmx"));
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o664);
    }
    // Devices are written through, never replaced.
    let out = sb.run(&["memory", "export", "-o", "/dev/null"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    if Path::new("/dev/full").exists() {
        let out = sb.run(&["memory", "export", "-o", "/dev/full"]);
        assert_fails(&out, "/dev/full");
        assert!(!std::fs::metadata("/dev/full").unwrap().is_file());
    }
}

#[test]
fn hostile_files_are_refused_fast() {
    let sb = Sandbox::new();
    #[cfg(unix)]
    {
        let zero = sb.path("zero.tmx");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let started = Instant::now();
        let out = sb.run(&["memory", "import", zero.to_str().unwrap()]);
        assert_fails(
            &out,
            "zero.tmx:1:1: not a TMX file: it does not start with markup",
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    let long = "слово ".repeat(10_000);
    let started = Instant::now();
    let out = sb.run(&["memory", "search", "--concordance", &long]);
    assert_fails(&out, "at most 1000 are searched for");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Runs `args` with standard output closed before anything is written.
fn closed_stdout(sb: &Sandbox, args: &[&str]) -> Output {
    let mut child = sb
        .cmd(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_is_a_normal_end() {
    let sb = Sandbox::new();
    import_escapes(&sb);
    for args in [
        vec!["completions", "bash"],
        vec!["memory", "export"],
        vec!["memory", "list"],
        vec!["models", "list"],
    ] {
        let out = closed_stdout(&sb, &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

#[test]
fn read_only_commands_touch_nothing_and_other_databases_are_refused() {
    let sb = Sandbox::new();
    let other = sb.path("other-app.sqlite");
    let made = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute('CREATE TABLE notes(x)')\nc.execute(\"INSERT INTO notes VALUES ('mine')\")\nc.commit()",
            other.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(made.success());
    let before = std::fs::read(&other).unwrap();
    for cmd in [vec!["memory", "stats"], vec!["memory", "import", "x.tmx"]] {
        let mut args = vec!["--memory", other.to_str().unwrap()];
        args.extend(cmd);
        assert_fails(&sb.run(&args), "is not a babeldesk memory");
    }
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "the other database changed"
    );
    assert!(!sb.path("other-app.sqlite-wal").exists());
    // An in-memory database would keep nothing: refused for writing.
    let tmx = sb.path("esc.tmx");
    std::fs::write(&tmx, ESCAPES).unwrap();
    let out = sb.run(&[
        "--memory",
        ":memory:",
        "memory",
        "import",
        tmx.to_str().unwrap(),
    ]);
    assert_fails(&out, "keeps nothing");
    assert!(!sb.path(":memory:").exists());
}

#[test]
fn wrong_values_are_refused_and_ids_counted_once() {
    let sb = Sandbox::new();
    for day in ["2024-13-45", "2023-02-29", "2024-01-01garbage"] {
        assert_usage(&sb.run(&["memory", "list", "--since", day]), "is not a day");
    }
    assert!(sb
        .run(&["memory", "list", "--since", "2024-02-29"])
        .status
        .success());
    import_escapes(&sb);
    let out = sb.run(&["memory", "approve", "1", "1", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("approved 1 unit\n"),
        "{}",
        stdout(&out)
    );
    let out = sb.run(&["memory", "delete", "1", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("deleted 1 unit\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn limits_and_outputs_say_what_they_did() {
    let sb = Sandbox::new();
    // One 500-word sentence with --max-words 20: cut at a word boundary, and said so.
    let long = format!("{}.\n", vec!["word"; 500].join(" "));
    let out = sb.run_stdin(
        &[
            "summarize",
            "--method",
            "extractive",
            "--max-words",
            "20",
            "--no-cache",
            "--format",
            "json",
        ],
        long.as_bytes(),
    );
    let s = json(&out);
    let text = s[0]["sentences"][0]["text"].as_str().unwrap();
    assert_eq!(text.split_whitespace().count(), 20, "{text}");
    assert_eq!(
        s[0]["sentences"][0]["end"].as_u64().unwrap() as usize,
        text.len()
    );
    assert!(
        stderr(&out).contains("cut at a word boundary"),
        "{}",
        stderr(&out)
    );
    // translate --dry-run -o writes the report there.
    let report = sb.path("report.json");
    let out = sb.run_stdin(
        &[
            "translate",
            "--from",
            "ru",
            "--dry-run",
            "--format",
            "json",
            "-o",
            report.to_str().unwrap(),
        ],
        "Завод открыли весной. Работы идут.".as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["segments"], 2);
    // UTF-16 with a byte order mark is text, not binary data.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "Завод открыли весной. Работы идут.\n".encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let out = sb.run_stdin(
        &["translate", "--from", "ru", "--dry-run", "--format", "json"],
        &utf16,
    );
    assert_eq!(json(&out)["segments"], 2);
    // models import from a folder that is not there says so.
    let out = sb.run(&[
        "models",
        "import",
        "all-minilm-l6-v2",
        "/nonexistent/folder",
    ]);
    assert_fails(&out, "/nonexistent/folder: no such folder");
}

/// A memory in a folder the user cannot write is still read (stats, list, export); a write
/// fails with one line. As root (CI) the commands run as `nobody`, since root writes anyway.
#[cfg(unix)]
#[test]
fn a_memory_in_a_read_only_folder_is_still_read() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let tmx = sb.path("one.tmx");
    std::fs::write(&tmx, ESCAPES).unwrap();
    // A folder every user can enter (the sandbox itself is private).
    let open = tempfile::Builder::new()
        .prefix("bd-ro-")
        .tempdir_in("/tmp")
        .unwrap();
    let db_dir = open.path().join("db");
    std::fs::create_dir(&db_dir).unwrap();
    let db = db_dir.join("tm.sqlite");
    let db_arg = db.to_str().unwrap();
    let out = sb.run(&[
        "--memory",
        db_arg,
        "memory",
        "import",
        tmx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(open.path(), 0o755);
    mode(&db_dir, 0o555);
    mode(&db, 0o444);
    let root = stdout(&Command::new("id").arg("-u").output().unwrap()).trim() == "0";
    let run = |args: &[&str]| -> Output {
        let mut all = vec!["--memory", db_arg];
        all.extend_from_slice(args);
        let mut c = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_babeldesk")]);
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_babeldesk"))
        };
        c.args(&all)
            .env("HOME", open.path())
            .env("XDG_CONFIG_HOME", open.path());
        c.current_dir(open.path()).output().unwrap()
    };
    let exe = Path::new(env!("CARGO_BIN_EXE_babeldesk"));
    let reachable = run(&["memory", "path"]);
    if root && !reachable.status.success() {
        // The build folder itself is private to root: nothing to learn here.
        assert!(
            !exe.ancestors()
                .all(
                    |d| std::fs::metadata(d).map_or(false, |m| m.permissions().mode() & 0o001 != 0)
                ),
            "nobody could not run babeldesk: {}",
            stderr(&reachable)
        );
        eprintln!(
            "note: {} is not reachable by nobody; checked as root only",
            exe.display()
        );
        return;
    }
    for args in [
        &["memory", "stats"][..],
        &["memory", "list"],
        &["memory", "export"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    assert!(stdout(&run(&["memory", "list"])).contains("Заголовок"));
    let readable = open.path().join("one.tmx");
    std::fs::copy(&tmx, &readable).unwrap();
    mode(&readable, 0o644);
    let out = run(&["memory", "import", readable.to_str().unwrap()]);
    assert_fails(&out, "readonly");
    assert_eq!(
        std::fs::read_dir(&db_dir).unwrap().count(),
        1,
        "nothing new in the folder"
    );
    mode(&db_dir, 0o755);
}

/// Weights changed in place after `models import` checked them: loading warns (without
/// hashing them again), and `models verify` says which file and exits 1 with one line.
#[test]
fn weights_changed_in_place_are_reported() {
    use sha2::Digest;
    let mut sb = Sandbox::new();
    let src = fixture("tiny-marian-ru-en");
    let sha = |p: &Path| format!("{:x}", sha2::Sha256::digest(std::fs::read(p).unwrap()));
    let reg = sb.path("registry.toml");
    std::fs::write(
        &reg,
        format!(
            "[[model]]\nid = \"tiny-ru-en\"\ntask = \"translation\"\narchitecture = \"marian\"\n\
             languages = [\"ru\", \"en\"]\nhf_repo = \"x/y\"\nlicense = \"MIT\"\n\
             files = [{{ name = \"config.json\" }}, {{ name = \"vocab.json\" }}, {{ name = \"source.spm\" }}, {{ name = \"target.spm\" }}]\n\
             weights = [{{ name = \"model.safetensors\", sha256 = \"{}\" }}]\n",
            sha(&src.join("model.safetensors"))
        ),
    )
    .unwrap();
    sb.env
        .push(("BABELDESK_REGISTRY".into(), reg.display().to_string()));
    // A copy, so that changing the installed weights leaves the fixture alone.
    let copy = sb.path("tiny");
    std::fs::create_dir(&copy).unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), copy.join(f.file_name())).unwrap();
    }
    let out = sb.run(&["models", "import", "tiny-ru-en", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let args = [
        "translate",
        "--model",
        "tiny-ru-en",
        "--no-memory",
        "--max-length",
        "8",
    ];
    let out = sb.run_stdin(&args, "Привет.".as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("changed"), "{}", stderr(&out));
    // Corrupt the installed weights in place (same size: one byte near the end flipped).
    let installed = sb.path("data/babeldesk/models/tiny-ru-en/model.safetensors");
    let mut bytes = std::fs::read(&installed).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x01;
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&installed, &bytes).unwrap();
    let out = sb.run_stdin(&args, "Привет.".as_bytes());
    assert!(
        stderr(&out).contains(
            "warning: tiny-ru-en: model.safetensors changed since its checksum was checked"
        ),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["models", "verify", "tiny-ru-en"]);
    assert_fails(&out, "checksum mismatch in tiny-ru-en (model.safetensors)");
}

/// A document the memory covers translates with no model installed (en-US → en-GB is a pair
/// too); the missing model is an error only when a segment needs it.
#[test]
fn a_document_the_memory_covers_needs_no_model() {
    let sb = Sandbox::new();
    let tmx = sb.path("us-gb.tmx");
    std::fs::write(
        &tmx,
        "<tmx version=\"1.4\"><header srclang=\"en-US\"/><body><tu>\
         <tuv xml:lang=\"en-US\"><seg>The color of the harbor changed.</seg></tuv>\
         <tuv xml:lang=\"en-GB\"><seg>The colour of the harbour changed.</seg></tuv></tu></body></tmx>",
    )
    .unwrap();
    assert!(sb
        .run(&["memory", "import", tmx.to_str().unwrap()])
        .status
        .success());
    let args = [
        "translate",
        "--from",
        "en-US",
        "--to",
        "en-GB",
        "--format",
        "json",
    ];
    let t = json(&sb.run_stdin(&args, b"The color of the harbor changed.\n"));
    assert_eq!(
        t["segments"][0]["target"],
        "The colour of the harbour changed."
    );
    assert_eq!(t["model_calls"], 0);
    let out = sb.run_stdin(&args, b"A sentence the memory does not have.\n");
    assert_fails(&out, "no translation model for en-US→en-GB is installed");
    let out = sb.run_stdin(&["translate", "--from", "en", "--to", "en"], b"Same.\n");
    assert_fails(&out, "already in 'en'");
}

/// Weights of another model in a model folder: one line naming the file and the mismatch in
/// either precision, no libtorch stack.
#[test]
fn weights_of_another_model_are_one_clear_line() {
    let sb = Sandbox::new().without_precision();
    let dir = sb.path("mixed");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(fixture("tiny-marian-ru-en")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        fixture("tiny-bart").join("model.safetensors"),
        dir.join("model.safetensors"),
    )
    .unwrap();
    let m = dir.to_str().unwrap();
    for precision in ["int8", "fp32"] {
        let out = sb.run_stdin(
            &["translate", "--model-dir", m, "--precision", precision],
            "Завод открыт.".as_bytes(),
        );
        assert_fails(&out, "mixed");
        assert!(!stderr(&out).contains("frame #"), "{}", stderr(&out));
    }
}

/// A PostgreSQL password never reaches the terminal: not from the user part (an unencoded `@`
/// in it included), not from a `password=` parameter, in `memory path` or in the error of a
/// server that cannot be reached; a scheme in capitals is a URL, not a file to create.
#[test]
fn postgres_passwords_are_never_shown() {
    let sb = Sandbox::new();
    for url in [
        "postgres://bd:s3cret@127.0.0.1:1/tm",
        "postgres://bd:s3c@ret@127.0.0.1:1/tm",
        "postgresql://bd@127.0.0.1:1/tm?password=s3cret&connect_timeout=2",
        "Postgres://bd:s3cret@127.0.0.1:1/tm",
    ] {
        for args in [&["memory", "path"][..], &["memory", "stats"][..]] {
            let mut all = vec!["--memory", url];
            all.extend_from_slice(args);
            let out = sb.run(&all);
            let shown = format!("{}{}", stdout(&out), stderr(&out));
            assert!(!shown.contains("s3c"), "{url} {args:?}: {shown}");
            assert!(shown.contains("127.0.0.1:1"), "{url} {args:?}: {shown}");
        }
    }
    let made: Vec<_> = std::fs::read_dir(sb.path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.to_ascii_lowercase().contains("postgres"))
        .collect();
    assert!(made.is_empty(), "files named after a URL: {made:?}");
}

/// A Russian → English unit whose target would drive a terminal: set its title, ring, return
/// the carriage, and reverse what follows (U+202E, the trick that hides a file's real name).
const DRIVES_TERMINAL: &str = "<tmx version=\"1.4\"><header srclang=\"ru\"/><body><tu>\
    <tuv xml:lang=\"ru\"><seg>Заголовок.</seg></tuv>\
    <tuv xml:lang=\"en\"><seg>Title\u{1b}]0;pwned\u{7} \u{202e}fdp.exe\u{202c} done&#13;</seg></tuv>\
    </tu></body></tmx>";

/// What a terminal must never get raw: ESC (but in babeldesk's own styles), BEL, CR, U+202E.
fn assert_shown(tty: &[u8], what: &str) {
    let text = String::from_utf8_lossy(tty).into_owned();
    let mut rest = text.clone();
    for code in ["0", "1", "2", "31", "32", "33"] {
        rest = rest.replace(&format!("\u{1b}[{code}m"), "");
    }
    for raw in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(
            !rest.contains(raw),
            "{what}: {raw:?} reached the terminal: {text:?}"
        );
    }
    assert!(text.contains("\\u{1b}]0;pwned\\u{7}"), "{what}: {text:?}");
    assert!(
        text.contains("\\u{202e}fdp.exe\\u{202c}"),
        "{what}: {text:?}"
    );
}

/// The rule for stored text: a terminal is shown it (escapes), a pipe or a file gets it whole,
/// JSON escapes it for every reader; stderr always shows it.
#[test]
#[cfg(unix)]
fn the_terminal_is_shown_stored_text_and_files_and_pipes_get_it_whole() {
    let sb = Sandbox::new();
    let tmx = sb.path("drives.tmx");
    std::fs::write(&tmx, DRIVES_TERMINAL).unwrap();
    assert!(sb
        .run(&["memory", "import", tmx.to_str().unwrap()])
        .status
        .success());
    let raw = "Title\u{1b}]0;pwned\u{7} \u{202e}fdp.exe\u{202c} done\r";
    let translate = ["translate", "--from", "ru", "--to", "en", "--format"];
    for format in ["text", "bilingual"] {
        let args = [&translate[..], &[format]].concat();
        let (tty, out) = sb.run_on_terminal(&args, "Заголовок.\n".as_bytes());
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert_shown(&tty, format);
        let piped = sb.run_stdin(&args, "Заголовок.\n".as_bytes());
        assert!(
            stdout(&piped).contains(raw),
            "{format}: {:?}",
            stdout(&piped)
        );
    }
    let file = sb.path("out.txt");
    let args = [&translate[..], &["text", "-o", file.to_str().unwrap()]].concat();
    assert!(sb
        .run_stdin(&args, "Заголовок.\n".as_bytes())
        .status
        .success());
    assert!(std::fs::read_to_string(&file).unwrap().contains(raw));
    let args = [&translate[..], &["json"]].concat();
    let (tty, _) = sb.run_on_terminal(&args, "Заголовок.\n".as_bytes());
    let json_text = String::from_utf8(tty).unwrap();
    assert!(
        !json_text.contains('\u{202e}') && !json_text.contains('\u{1b}'),
        "{json_text}"
    );
    let v: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(v["segments"][0]["target"], raw);
    for args in [vec!["memory", "list"], vec!["memory", "show", "1"]] {
        let (tty, out) = sb.run_on_terminal(&args, b"");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_shown(&tty, &args.join(" "));
    }
}

/// Error lines and file names are shown by the same rule: a language tag from a TMX, a file
/// name in a folder.
#[test]
#[cfg(unix)]
fn error_lines_and_file_names_are_shown_not_obeyed() {
    let sb = Sandbox::new();
    let tmx = sb.path("lang.tmx");
    let bad = DRIVES_TERMINAL.replace(
        "xml:lang=\"en\"",
        "xml:lang=\"e\u{1b}]0;pwned\u{7}\u{202e}\"",
    );
    std::fs::write(&tmx, bad).unwrap();
    let out = sb.run(&["memory", "import", tmx.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(err.contains("\\u{1b}]0;pwned\\u{7}\\u{202e}"), "{err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err:?}");

    let dir = sb.path("in");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        repo().join("examples/library-reopens.txt"),
        dir.join("news\u{1b}]0;pwned\u{7}\u{202e}fdp.txt"),
    )
    .unwrap();
    let (tty, out) = sb.run_on_terminal(&["digest", dir.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&tty).into_owned();
    assert!(
        text.contains("news\\u{1b}]0;pwned\\u{7}\\u{202e}fdp.txt"),
        "{text:?}"
    );
    let bare = text.replace("\u{1b}[1m", "").replace("\u{1b}[0m", "");
    assert!(
        !bare.contains('\u{1b}') && !bare.contains('\u{202e}'),
        "{text:?}"
    );
}
