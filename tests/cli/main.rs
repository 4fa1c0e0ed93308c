//! The integration harness: runs the real `babeldesk` binary (and through it the real
//! `babeldesk-engine` with rust-bert) in a sandbox of temporary folders.

mod crash;
mod digest;
mod eval;
mod fuzz_replay;
mod hardening;
mod llm;
mod memory;
mod postgres;
mod references;
mod remote;
mod serve;
mod soak;
mod stable_json;
mod storage;
mod summarize;
mod terms;
mod translate;

use babeldesk::testing::skip;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Sandbox {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The number of migrations in a folder of the repository: the newest schema version.
fn migrations_in(dir: &str) -> i64 {
    std::fs::read_dir(repo().join(dir))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count() as i64
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/models").join(name)
}

/// The client's sample data beside the repository. Missing, a test that needs it is skipped
/// ([`skip`]: it fails under `make test` and in CI, where it is there).
fn shared() -> Option<PathBuf> {
    let p = repo().join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        skip(&format!(
            "{} is missing (the client's sample data)",
            p.display()
        ));
        None
    }
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let p = |s: &str| dir.path().join(s).display().to_string();
        let env = vec![
            ("HOME".into(), p("home")),
            ("XDG_DATA_HOME".into(), p("data")),
            ("XDG_CONFIG_HOME".into(), p("config")),
            ("XDG_CACHE_HOME".into(), p("cache")),
            ("HF_HOME".into(), p("hf")),
            (
                "BABELDESK_ENGINE".into(),
                env!("CARGO_BIN_EXE_babeldesk-engine").into(),
            ),
            (
                "BABELDESK_LLM_ENGINE".into(),
                env!("CARGO_BIN_EXE_babeldesk-llm").into(),
            ),
            // The fixtures' expected outputs are transformers' fp32 ones (rust-bert's path);
            // the int8 tests ask for int8, or for the default (`without_precision`).
            ("BABELDESK_PRECISION".into(), "fp32".into()),
        ];
        Sandbox { dir, env }
    }

    /// The same sandbox with the user's default precision (auto).
    fn without_precision(mut self) -> Sandbox {
        self.env.retain(|(k, _)| k != "BABELDESK_PRECISION");
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_babeldesk"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().unwrap()
    }

    fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The command may refuse its flags before reading stdin: a closed pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(input);
        child.wait_with_output().unwrap()
    }

    /// Runs `args` with `input` on stdin and standard output on a terminal (a raw
    /// pseudo-terminal, so what the program wrote arrives byte for byte): the bytes the
    /// terminal got, and the exit status and stderr.
    #[cfg(unix)]
    fn run_on_terminal(&self, args: &[&str], input: &[u8]) -> (Vec<u8>, Output) {
        use std::os::fd::{FromRawFd, OwnedFd};
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two descriptors we then own; the termios is the slave's.
        let tty = unsafe {
            assert_eq!(
                libc::openpty(
                    &mut master,
                    &mut slave,
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    std::ptr::null()
                ),
                0
            );
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(slave, &mut t), 0);
            libc::cfmakeraw(&mut t);
            assert_eq!(libc::tcsetattr(slave, libc::TCSANOW, &t), 0);
            (
                std::fs::File::from(OwnedFd::from_raw_fd(master)),
                OwnedFd::from_raw_fd(slave),
            )
        };
        let (mut master, slave) = tty;
        let mut cmd = self.cmd(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::from(slave))
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // Our copy of the slave goes with the Command: the master reads EIO once the child's is closed.
        drop(cmd);
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = master.read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
            got
        });
        let _ = child.stdin.take().unwrap().write_all(input);
        let out = child.wait_with_output().unwrap();
        (reader.join().unwrap(), out)
    }

    /// Install the real MiniLM from the repo's models/ (set up by `make test`).
    fn with_minilm(&mut self) -> bool {
        let src = repo().join("models/all-minilm-l6-v2");
        if !src.join("model.safetensors").is_file() {
            skip("MiniLM is not installed in models/ (run `make models`)");
            return false;
        }
        let out = self.run(&[
            "models",
            "import",
            "all-minilm-l6-v2",
            src.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        true
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A success's JSON output.
fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap()
}

/// A usage error (a flag's value refused before any work): exit 2, naming the problem.
fn assert_usage(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "'{needle}' not in: {err}");
}

/// A failure: exit 1 and one line on stderr naming the problem.
fn assert_fails(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(err.contains(needle), "'{needle}' not in: {err}");
}

fn expected(model: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(model).join("expected.json")).unwrap())
        .unwrap()
}

#[test]
fn help_teaches_and_usage_errors_exit_2() {
    let sb = Sandbox::new();
    let out = sb.run(&["--help"]);
    assert!(out.status.success());
    for word in [
        "digest",
        "summarize",
        "translate",
        "memory",
        "models",
        "completions",
        "--device",
        "--memory",
        "--models-dir",
        "Exit codes",
    ] {
        assert!(stdout(&out).contains(word), "--help lacks {word}");
    }
    for sub in [
        &["models", "--help"][..],
        &["models", "pull", "--help"],
        &["translate", "--help"],
        &["summarize", "--help"],
    ] {
        assert!(sb.run(sub).status.success(), "{sub:?}");
    }
    assert_eq!(sb.run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        sb.run(&["translate", "--device", "tpu", "x"]).status.code(),
        Some(2)
    );
    let out = sb.run(&["completions", "bash"]);
    assert!(out.status.success() && stdout(&out).contains("babeldesk"));
}

#[test]
fn models_list_shows_the_registry_and_what_is_missing() {
    let sb = Sandbox::new();
    let out = sb.run(&["models", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for id in [
        "opus-mt-ru-en",
        "opus-mt-en-ru",
        "distilbart-cnn-12-6",
        "all-minilm-l6-v2",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert!(rows.iter().all(|r| r["status"] == "missing"));
    let text = stdout(&sb.run(&["models", "list"]));
    assert!(
        text.contains("opus-mt-ru-en") && text.contains("models pull"),
        "{text}"
    );
}

#[test]
fn missing_model_names_the_fix() {
    let sb = Sandbox::new();
    let out = sb.run_stdin(
        &["translate", "--from", "ru"],
        "Привет, мир. Как дела?".as_bytes(),
    );
    assert_fails(&out, "babeldesk models pull opus-mt-ru-en");
    assert!(stderr(&out).contains("qwen2.5-coder-1.5b-instruct-q4km"));
    // Forced to Marian: exactly which files are missing.
    let out = sb.run_stdin(
        &["translate", "--from", "ru", "--engine", "marian"],
        "Привет, мир. Как дела?".as_bytes(),
    );
    assert_fails(&out, "babeldesk models pull opus-mt-ru-en");
    assert!(stderr(&out).contains("source.spm"));
}

#[test]
fn translate_matches_python_transformers_token_for_token() {
    let sb = Sandbox::new();
    let exp = expected("tiny-marian-ru-en");
    let inputs: Vec<&str> = exp["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let doc = format!("{}\n\n{}\n", inputs[0], inputs[1]);
    let model = fixture("tiny-marian-ru-en");
    let out = sb.run_stdin(
        &[
            "translate",
            "--model-dir",
            model.to_str().unwrap(),
            "--beams",
            "1",
            "--max-length",
            "12",
            "--format",
            "json",
        ],
        doc.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["from"], "ru", "language detected");
    let segs = json["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 2);
    for (i, seg) in segs.iter().enumerate() {
        assert_eq!(seg["target"], exp["outputs"][i], "segment {i}");
        let (s, e) = (
            seg["start"].as_u64().unwrap() as usize,
            seg["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            &doc[s..e],
            seg["source"].as_str().unwrap(),
            "byte range of segment {i}"
        );
        assert_eq!(seg["origin"], "mt");
        assert_eq!(seg["model"], "tiny-marian-ru-en");
    }
    // Text output keeps the paragraphs, and -o writes a file.
    let target = sb.path("out.txt");
    let out = sb.run_stdin(
        &[
            "translate",
            "--model-dir",
            model.to_str().unwrap(),
            "--beams",
            "1",
            "--max-length",
            "12",
            "-o",
            target.to_str().unwrap(),
        ],
        doc.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&target).unwrap();
    assert_eq!(
        text,
        format!(
            "{}\n\n{}\n",
            exp["outputs"][0].as_str().unwrap(),
            exp["outputs"][1].as_str().unwrap()
        )
    );
}

#[test]
fn translate_refuses_bad_input_clearly() {
    let sb = Sandbox::new();
    let model = fixture("tiny-marian-ru-en");
    let m = model.to_str().unwrap();
    std::fs::write(sb.path("bin.dat"), b"\x7fELF\x00\x01\x02").unwrap();
    std::fs::write(sb.path("empty.txt"), b"").unwrap();
    std::fs::write(sb.path("cp1251.txt"), b"\xcf\xf0\xe8\xe2\xe5\xf2").unwrap();
    assert_fails(
        &sb.run(&["translate", "bin.dat", "--model-dir", m]),
        "binary data",
    );
    assert_fails(
        &sb.run(&["translate", "empty.txt", "--model-dir", m]),
        "empty",
    );
    assert_fails(
        &sb.run(&["translate", "cp1251.txt", "--model-dir", m]),
        "not UTF-8",
    );
    assert_fails(
        &sb.run(&["translate", "nope.txt", "--model-dir", m]),
        "nope.txt",
    );
    assert_usage(
        &sb.run_stdin(
            &["translate", "--from", "russian!", "--model-dir", m],
            "Привет.".as_bytes(),
        ),
        "for '--from <LANG>': 'russian!' is not a BCP-47 language tag",
    );
    assert_fails(
        &sb.run_stdin(
            &["translate", "--device", "cuda", "--model-dir", m],
            "Привет, как дела у вас?".as_bytes(),
        ),
        "no CUDA device",
    );
}

#[test]
fn a_dead_engine_is_a_clear_error() {
    let mut sb = Sandbox::new();
    sb.env.retain(|(k, _)| k != "BABELDESK_ENGINE");
    sb.env
        .push(("BABELDESK_ENGINE".into(), "/bin/false".into()));
    let model = fixture("tiny-marian-ru-en");
    let out = sb.run_stdin(
        &["translate", "--model-dir", model.to_str().unwrap()],
        "Привет, как дела у вас?".as_bytes(),
    );
    assert_fails(&out, "model engine stopped unexpectedly");
}

#[test]
fn abstractive_summaries_match_python_for_bart_and_t5() {
    let sb = Sandbox::new();
    for name in ["tiny-bart", "tiny-t5"] {
        let exp = expected(name);
        let model = fixture(name);
        let out = sb.run_stdin(
            &[
                "summarize",
                "--keep-all",
                "--no-cache",
                "--model-dir",
                model.to_str().unwrap(),
                "--beams",
                "1",
                "--max-length",
                "12",
                "--format",
                "json",
            ],
            exp["inputs"][0].as_str().unwrap().as_bytes(),
        );
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(json[0]["method"], "abstractive");
        assert_eq!(json[0]["sentences"][0]["text"], exp["outputs"][0], "{name}");
    }
}

#[test]
fn abstractive_chunks_articles_longer_than_the_model_limit() {
    let sb = Sandbox::new();
    // tiny-bart reads at most 64 positions; this article is several times longer.
    let article: String = (0..30)
        .map(|i| {
            format!("The council met on day {i} and discussed the budget for the new harbour. ")
        })
        .collect();
    let model = fixture("tiny-bart");
    let out = sb.run_stdin(
        &[
            "summarize",
            "-v",
            "--no-cache",
            "--keep-all",
            "--model-dir",
            model.to_str().unwrap(),
            "--beams",
            "1",
            "--max-length",
            "8",
        ],
        article.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let chunks: usize = err
        .lines()
        .find_map(|l| l.strip_prefix("chunks: "))
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(chunks > 1, "expected several chunks: {err}");
}

#[test]
fn models_import_then_list_shows_it_present_and_verified() {
    let mut sb = Sandbox::new();
    if !sb.with_minilm() {
        return;
    }
    let rows: Vec<Value> =
        serde_json::from_str(&stdout(&sb.run(&["models", "list", "--format", "json"]))).unwrap();
    let minilm = rows.iter().find(|r| r["id"] == "all-minilm-l6-v2").unwrap();
    assert_eq!(minilm["status"], "present");
    assert!(minilm["bytes"].as_u64().unwrap() > 90_000_000);
    let out = sb.run(&["models", "verify", "all-minilm-l6-v2"]);
    assert!(
        out.status.success() && stdout(&out).contains("verified"),
        "{}",
        stdout(&out)
    );
    // A corrupted weight file is caught.
    let weights = sb.path("data/babeldesk/models/all-minilm-l6-v2/model.safetensors");
    std::fs::remove_file(&weights).unwrap(); // break the hard link before writing
    std::fs::write(&weights, b"corrupt").unwrap();
    let out = sb.run(&["models", "verify", "all-minilm-l6-v2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("MISMATCH"));
}

#[test]
fn extractive_summary_of_the_seeds_on_real_minilm() {
    let Some(shared) = shared() else { return };
    let mut sb = Sandbox::new();
    if !sb.with_minilm() {
        return;
    }
    for seed in ["000", "001", "002", "004"] {
        let file = std::fs::read_dir(shared.join("seeds"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(seed))
            .unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let args = [
            "summarize",
            file.to_str().unwrap(),
            "--method",
            "extractive",
            "--sentences",
            "3",
            "--format",
            "json",
        ];
        let out = sb.run(&args);
        assert!(out.status.success(), "{seed}: {}", stderr(&out));
        let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(json[0]["model"], "all-minilm-l6-v2");
        let sents = json[0]["sentences"].as_array().unwrap();
        assert!(!sents.is_empty() && sents.len() <= 3, "{seed}");
        let mut last = 0;
        for s in sents {
            let (a, b) = (
                s["start"].as_u64().unwrap() as usize,
                s["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(&text[a..b], s["text"].as_str().unwrap(), "{seed}: offsets");
            assert!(a >= last, "{seed}: order kept");
            last = b;
            let t = s["text"].as_str().unwrap();
            for junk in [
                "Editor:",
                "Disclaimer",
                "Detail",
                "Top News",
                "•",
                "Guess you like",
            ] {
                assert!(!t.contains(junk), "{seed}: junk in summary: {t}");
            }
        }
        // Second run comes from the cache.
        let again: Value = serde_json::from_str(&stdout(&sb.run(&args))).unwrap();
        assert_eq!(again[0]["cached"], true);
        assert_eq!(again[0]["sentences"], json[0]["sentences"]);
    }
}

#[test]
fn summarize_refuses_text_without_sentences() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("empty.txt"), b"\n\n").unwrap();
    assert_fails(
        &sb.run(&["summarize", "empty.txt", "--method", "extractive"]),
        "empty",
    );
    std::fs::write(sb.path("bin.dat"), b"\x00\x01\x02").unwrap();
    assert_fails(
        &sb.run(&["summarize", "bin.dat", "--method", "extractive"]),
        "binary data",
    );
    std::fs::write(sb.path("dots.txt"), b"... --- ...\n").unwrap();
    let out = sb.run(&[
        "summarize",
        "dots.txt",
        "--method",
        "extractive",
        "--no-cache",
    ]);
    assert_fails(&out, "dots.txt: no sentence to summarize");
}

#[test]
fn memory_stats_in_json_and_text() {
    let sb = Sandbox::new();
    let db = sb.path("tm.sqlite");
    let out = sb.run(&[
        "--memory",
        db.to_str().unwrap(),
        "memory",
        "stats",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["units"], 0);
    assert!(json["schema_version"].as_i64().unwrap() >= 1);
    // A read-only command makes nothing: no database, no folder.
    assert!(!db.exists());
    let nowhere = sb.path("no/such/dir/x.sqlite");
    let out = sb.run(&["--memory", nowhere.to_str().unwrap(), "memory", "stats"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!sb.path("no").exists());
    let text = stdout(&out);
    assert!(
        text.contains(&format!("memory    {}", nowhere.display())),
        "{text}"
    );
    assert!(
        text.contains("size      0 B") && text.contains("units     0"),
        "{text}"
    );
    // Once something is stored, the text counts it by pair, origin and status.
    let tmx = sb.path("one.tmx");
    std::fs::write(&tmx, "<tmx version=\"1.4\"><header srclang=\"ru\"/><body><tu><tuv xml:lang=\"ru\"><seg>Да</seg></tuv><tuv xml:lang=\"en\"><seg>Yes</seg></tuv></tu></body></tmx>").unwrap();
    let db_arg = db.to_str().unwrap();
    let out = sb.run(&[
        "--memory",
        db_arg,
        "memory",
        "import",
        tmx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&sb.run(&["--memory", db_arg, "memory", "stats"]));
    assert!(text.contains("units     1"), "{text}");
    assert!(text.contains("by pair:\n  ru-en               1"), "{text}");
    assert!(
        text.contains("by origin:\n  import              1"),
        "{text}"
    );
    let path = stdout(&sb.run(&["memory", "path"]));
    assert!(
        path.trim()
            .ends_with("data/babeldesk/memory/babeldesk.sqlite"),
        "{path}"
    );
}

// ---- models pull against a loopback server in the hub's URL layout ----

/// Serves `files` as /acme/tiny/resolve/main/NAME for `requests` requests, then stops.
fn serve(files: Vec<(String, Vec<u8>)>, requests: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            BufReader::new(stream.try_clone().unwrap())
                .read_line(&mut line)
                .unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let body = files
                .iter()
                .find(|(n, _)| path == format!("/acme/tiny/resolve/main/{n}"))
                .map(|(_, b)| b.clone());
            let head = match &body {
                Some(b) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    b.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string(),
            };
            let _ = stream.write_all(head.as_bytes());
            if let Some(b) = body {
                let _ = stream.write_all(&b);
            }
            let mut sink = [0u8; 1024];
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = stream.read(&mut sink);
        }
    });
    (url, handle)
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn registry_for(sb: &Sandbox, config: &[u8], weights_sha: &str) -> PathBuf {
    let reg = sb.path("registry.toml");
    std::fs::write(
        &reg,
        format!(
            "[[model]]\nid = \"tiny-test\"\ntask = \"embedding\"\narchitecture = \"bert\"\nlanguages = [\"en\"]\nhf_repo = \"acme/tiny\"\nlicense = \"MIT\"\nfiles = [{{ name = \"config.json\", sha256 = \"{}\" }}]\nweights = [{{ name = \"model.safetensors\", sha256 = \"{weights_sha}\" }}]\n",
            sha256(config)
        ),
    )
    .unwrap();
    reg
}

#[test]
fn pull_downloads_verifies_and_writes_atomically() {
    let mut sb = Sandbox::new();
    let (config, weights) = (b"{\"model_type\": \"bert\"}".to_vec(), vec![7u8; 300_000]);
    let reg = registry_for(&sb, &config, &sha256(&weights));
    sb.env
        .push(("BABELDESK_REGISTRY".into(), reg.display().to_string()));
    let (url, server) = serve(
        vec![
            ("config.json".into(), config.clone()),
            ("model.safetensors".into(), weights.clone()),
        ],
        2,
    );
    let out = sb
        .cmd(&["models", "pull", "tiny-test"])
        .env("HF_ENDPOINT", &url)
        .output()
        .unwrap();
    server.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = sb.path("data/babeldesk/models/tiny-test");
    assert_eq!(
        std::fs::read(dir.join("model.safetensors")).unwrap(),
        weights
    );
    let rows: Vec<Value> =
        serde_json::from_str(&stdout(&sb.run(&["models", "list", "--format", "json"]))).unwrap();
    assert_eq!(
        rows.iter().find(|r| r["id"] == "tiny-test").unwrap()["status"],
        "present"
    );
}

#[test]
fn pull_rejects_a_bad_checksum_and_leaves_nothing() {
    let mut sb = Sandbox::new();
    let config = b"{}".to_vec();
    let reg = registry_for(&sb, &config, &"ab".repeat(32));
    sb.env
        .push(("BABELDESK_REGISTRY".into(), reg.display().to_string()));
    let (url, server) = serve(
        vec![
            ("config.json".into(), config),
            ("model.safetensors".into(), vec![1u8; 1000]),
        ],
        2,
    );
    let out = sb
        .cmd(&["models", "pull", "tiny-test"])
        .env("HF_ENDPOINT", &url)
        .output()
        .unwrap();
    server.join().unwrap();
    assert_fails(&out, "checksum mismatch for model.safetensors");
    let dir = sb.path("data/babeldesk/models/tiny-test");
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["config.json"], "no partial weight file may remain");
}

#[test]
fn pull_from_a_gone_server_is_a_clear_error() {
    let mut sb = Sandbox::new();
    let reg = registry_for(&sb, b"{}", &"ab".repeat(32));
    sb.env
        .push(("BABELDESK_REGISTRY".into(), reg.display().to_string()));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // bound, then closed
    let out = sb
        .cmd(&["models", "pull", "tiny-test"])
        .env("HF_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert_fails(&out, "download of http://127.0.0.1");
    assert!(stderr(&out).contains("onnect"), "{}", stderr(&out));
}

#[test]
fn model_free_commands_do_not_load_libtorch() {
    // The CLI must not link libtorch: its start-up cost belongs to the engine alone.
    let exe = Path::new(env!("CARGO_BIN_EXE_babeldesk"));
    let ldd = |exe: &str| match Command::new("ldd").arg(exe).output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => panic!("ldd {exe} failed: {}", stderr(&o)),
        Err(_) => {
            skip("no ldd here to list the executables' libraries");
            None
        }
    };
    let Some(libs) = ldd(exe.to_str().unwrap()) else {
        return;
    };
    // ldd answered about this executable (its C library at least), so an absent libtorch
    // means something.
    assert!(libs.contains("libc.so"), "{libs}");
    assert!(
        !libs.contains("libtorch"),
        "babeldesk links libtorch:\n{libs}"
    );
    let libs = ldd(env!("CARGO_BIN_EXE_babeldesk-engine")).unwrap();
    assert!(
        libs.contains("libtorch_cpu") && !libs.contains("not found"),
        "engine must find libtorch by rpath:\n{libs}"
    );
}

/// Each command's help shows the options it uses (issue 40): a memory command leaves out the
/// model-server and speed options, which still work where they stand; arguments are
/// described; global options have their own heading.
#[test]
fn help_shows_each_command_its_own_options() {
    let sb = Sandbox::new();
    let help = stdout(&sb.run(&["memory", "delete", "-h"]));
    assert!(help.lines().count() < 20, "{help}");
    assert!(
        !help.contains("--engine-url") && !help.contains("--parallel"),
        "{help}"
    );
    assert!(
        help.contains("Unit ids, as `memory list`") && help.contains("Global options:"),
        "{help}"
    );
    let help = stdout(&sb.run(&["translate", "-h"]));
    assert!(
        help.contains("--engine-url") && help.contains("Model speed:"),
        "{help}"
    );
    let help = stdout(&sb.run(&["models", "list", "-h"]));
    assert!(
        help.contains("--models-dir") && !help.contains("--engine-url"),
        "{help}"
    );
    // Hidden, not gone: before the command or after it.
    for args in [
        vec!["--engine-url", "http://127.0.0.1:1", "memory", "stats"],
        vec!["memory", "stats", "--threads", "2"],
    ] {
        assert!(sb.run(&args).status.success(), "{args:?}");
    }
}
