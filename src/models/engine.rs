//! The client side of the engine: starts `babeldesk-engine`, the one executable that links
//! libtorch, and talks to it over the protocol. Commands that run no model never start it, so
//! they do not pay libtorch's start-up cost.

use super::protocol::{Hint, LoadRequest, Reply, Request, TokenCounts, PROTOCOL_VERSION};
use super::registry::Architecture;
use crate::config::Env;
use crate::error::EngineError;
use crate::{Error, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

/// The engine that links libtorch (rust-bert models).
pub const ENGINE_EXE: &str = "babeldesk-engine";
/// The engine that links llama.cpp (GGUF models).
pub const LLM_ENGINE_EXE: &str = "babeldesk-llm";

/// The executable serving models of `arch`.
pub fn engine_exe(arch: Architecture) -> &'static str {
    match arch {
        Architecture::Gguf => LLM_ENGINE_EXE,
        _ => ENGINE_EXE,
    }
}

/// An engine executable: `$BABELDESK_ENGINE` / `$BABELDESK_LLM_ENGINE`, else the one beside
/// the running executable.
pub fn engine_path(exe: &str, env: &dyn Env) -> PathBuf {
    let var = if exe == LLM_ENGINE_EXE {
        "BABELDESK_LLM_ENGINE"
    } else {
        "BABELDESK_ENGINE"
    };
    if let Some(p) = env.var(var) {
        return PathBuf::from(p);
    }
    let me = std::env::current_exe().unwrap_or_default();
    let dir = me.parent().map(PathBuf::from).unwrap_or_default();
    // `cargo test` builds the binaries one folder above the test executables.
    [dir.join(exe), dir.join("..").join(exe)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join(exe))
}

/// A model's answers to one request: texts, what was wrong with each (instruct models check
/// their answers), and the tokens it took.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub texts: Vec<String>,
    pub problems: Vec<Option<String>>,
    pub tokens: Option<TokenCounts>,
}

impl Answers {
    pub fn problem(&self, i: usize) -> Option<&str> {
        self.problems.get(i).and_then(|p| p.as_deref())
    }

    /// The answers in `range` (token counts stay with the whole).
    pub fn part(&self, range: std::ops::Range<usize>) -> Answers {
        Answers {
            texts: self.texts[range.clone()].to_vec(),
            problems: match self.problems.is_empty() {
                true => Vec::new(),
                false => self.problems[range].to_vec(),
            },
            tokens: None,
        }
    }
}

pub struct Engine {
    child: Child,
    /// Taken (closed) when the engine is dropped.
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr_tail: Arc<Mutex<Vec<String>>>,
    pub cuda_devices: i64,
    pub calls: usize,
    /// Tokens read and written so far (engines that count them).
    pub tokens: TokenCounts,
}

impl Engine {
    /// Start the engine executable `name` (see [`engine_exe`]).
    pub fn start_exe(name: &str, env: &dyn Env) -> Result<Engine> {
        let exe = engine_path(name, env);
        // BABELDESK_DEBUG_LLM: the engine's own stderr (every prompt and raw answer) goes
        // straight to the user's; otherwise it is kept for the message if the engine dies.
        let debug = env.var("BABELDESK_DEBUG_LLM").is_some();
        let mut child = Command::new(&exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if debug {
                Stdio::inherit()
            } else {
                Stdio::piped()
            })
            .spawn()
            .map_err(|source| EngineError::Start {
                exe: exe.clone(),
                source,
            })?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        // Keep the engine's last stderr lines for the error message if it dies.
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        let tail = Arc::clone(&stderr_tail);
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                    t.push(line);
                    if t.len() > 20 {
                        t.remove(0);
                    }
                }
            });
        }
        let mut engine = Engine {
            child,
            stdin: Some(stdin),
            stdout,
            stderr_tail,
            cuda_devices: 0,
            calls: 0,
            tokens: TokenCounts::default(),
        };
        match engine.call(&Request::Hello {
            version: PROTOCOL_VERSION,
        })? {
            Reply::Hello {
                version,
                cuda_devices,
                ..
            } if version == PROTOCOL_VERSION => {
                engine.cuda_devices = cuda_devices;
                Ok(engine)
            }
            other => Err(EngineError::Protocol {
                exe,
                reply: format!("{other:?}"),
            }
            .into()),
        }
    }

    /// The engine process's peak resident memory so far (KiB; Linux), for benchmarks.
    pub fn peak_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    pub fn load(&mut self, req: LoadRequest) -> Result<Reply> {
        self.call(&Request::Load(req))
    }

    /// Translations of `texts`, each with its hint (or no hints at all).
    pub fn translate_with(&mut self, texts: Vec<String>, hints: Vec<Hint>) -> Result<Answers> {
        self.texts(Request::Translate { texts, hints })
    }

    /// Summaries of `texts`, each within `max_words` where the engine can keep a budget.
    pub fn summarize_within(
        &mut self,
        texts: Vec<String>,
        max_words: Option<usize>,
    ) -> Result<Answers> {
        self.texts(Request::Summarize { texts, max_words })
    }

    pub fn embed(&mut self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        match self.call(&Request::Embed { texts })? {
            Reply::Embeddings { vectors } => Ok(vectors),
            other => Err(unexpected(other)),
        }
    }

    pub fn count_tokens(&mut self, texts: Vec<String>) -> Result<Vec<usize>> {
        match self.call(&Request::CountTokens { texts })? {
            Reply::Counts { counts } => Ok(counts),
            other => Err(unexpected(other)),
        }
    }

    fn texts(&mut self, req: Request) -> Result<Answers> {
        let n = match &req {
            Request::Translate { texts, .. } | Request::Summarize { texts, .. } => texts.len(),
            _ => 0,
        };
        self.calls += 1;
        match self.call(&req)? {
            Reply::Texts {
                texts,
                problems,
                tokens,
            } if texts.len() == n && (problems.is_empty() || problems.len() == n) => {
                if let Some(t) = tokens {
                    self.tokens += t;
                }
                Ok(Answers {
                    texts,
                    problems,
                    tokens,
                })
            }
            other => Err(unexpected(other)),
        }
    }

    /// One request, one reply. An engine error reply becomes `Error::Engine`; a dead engine is
    /// reported with its exit status and last stderr lines.
    pub fn call(&mut self, req: &Request) -> Result<Reply> {
        let mut line = serde_json::to_string(req).expect("requests serialize");
        line.push('\n');
        let written = match self.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(line.as_bytes())
                .and_then(|_| stdin.flush())
                .is_ok(),
            None => false,
        };
        if !written {
            return Err(self.died());
        }
        let mut answer = String::new();
        match self.stdout.read_line(&mut answer) {
            Ok(0) | Err(_) => return Err(self.died()),
            Ok(_) => {}
        }
        match serde_json::from_str::<Reply>(&answer) {
            Ok(Reply::Error { message }) => Err(EngineError::Failed(message).into()),
            Ok(reply) => Ok(reply),
            Err(source) => Err(EngineError::Unreadable {
                answer: answer.trim().to_string(),
                source,
            }
            .into()),
        }
    }

    fn died(&mut self) -> Error {
        let status = self
            .child
            .wait()
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string());
        std::thread::sleep(std::time::Duration::from_millis(50));
        let tail = self
            .stderr_tail
            .lock()
            .map(|t| t.join(" | "))
            .unwrap_or_default();
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!("; it said: {tail}")
        };
        EngineError::Died { status, tail }.into()
    }
}

impl Answers {
    /// The texts, or the first problem as an error (for callers that need every answer).
    pub fn into_result(self) -> Result<Vec<String>> {
        match self.problems.iter().flatten().next() {
            Some(p) => Err(EngineError::Unusable(p.clone()).into()),
            None => Ok(self.texts),
        }
    }
}

fn unexpected(reply: Reply) -> Error {
    EngineError::Unexpected(format!("{reply:?}")).into()
}

impl Drop for Engine {
    /// Ask the engine to stop, close its input (an engine reading on stops at the end), give
    /// it a few seconds, then kill it: a stuck engine never hangs the command.
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"{\"op\":\"shutdown\"}\n");
            let _ = stdin.flush();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    //! The client against fake engines: small shell scripts that speak (or break) the
    //! protocol, so what is tested is the client's handling, not a model.

    use super::*;
    use crate::config::MapEnv;
    use crate::models::protocol::Hint;
    use std::collections::HashMap;
    use std::path::Path;

    const HELLO: &str = r#"{"reply":"hello","version":2,"engine":"fake","cuda_devices":0}"#;

    /// An executable script `name` in `dir` with `body` after the shebang.
    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// A fake engine that answers hello, then each request with the next of `replies`
    /// (shell words), `bye` on shutdown.
    fn fake(dir: &Path, replies: &[&str]) -> PathBuf {
        let mut body = format!("read line\necho '{HELLO}'\n");
        for r in replies {
            body.push_str(&format!(
                "read line || exit 0\ncase \"$line\" in *shutdown*) echo '{{\"reply\":\"bye\"}}'; exit 0;; esac\n{r}\n"
            ));
        }
        body.push_str("while read line; do case \"$line\" in *shutdown*) echo '{\"reply\":\"bye\"}'; exit 0;; esac; done");
        script(dir, "engine", &body)
    }

    fn env_for(exe: &Path) -> MapEnv {
        MapEnv(HashMap::from([(
            "BABELDESK_ENGINE",
            exe.display().to_string(),
        )]))
    }

    /// Start `exe`; a script written a moment ago can be "busy" while another test thread
    /// forks (ETXTBSY): retry then.
    fn start(exe: &Path) -> Result<Engine> {
        for _ in 0..50 {
            match Engine::start_exe(ENGINE_EXE, &env_for(exe)) {
                Err(Error::Engine(EngineError::Start { source, .. }))
                    if source.raw_os_error() == Some(26) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other,
            }
        }
        panic!("{} stayed busy", exe.display())
    }

    fn engine_error<T>(r: Result<T>) -> EngineError {
        match r {
            Err(Error::Engine(e)) => e,
            Err(other) => panic!("expected an engine error, got {other:?}"),
            Ok(_) => panic!("expected an engine error, got a success"),
        }
    }

    #[test]
    fn engine_path_comes_from_the_environment_per_engine() {
        let env = MapEnv(HashMap::from([
            ("BABELDESK_ENGINE", "/opt/e".to_string()),
            ("BABELDESK_LLM_ENGINE", "/opt/l".to_string()),
        ]));
        assert_eq!(engine_path(ENGINE_EXE, &env), PathBuf::from("/opt/e"));
        assert_eq!(engine_path(LLM_ENGINE_EXE, &env), PathBuf::from("/opt/l"));
        assert_eq!(engine_exe(Architecture::Gguf), LLM_ENGINE_EXE);
        assert_eq!(engine_exe(Architecture::Marian), ENGINE_EXE);
        // Without the variables: an executable of that name beside this one (or one up).
        let beside = engine_path(ENGINE_EXE, &MapEnv(HashMap::new()));
        assert_eq!(beside.file_name().unwrap(), ENGINE_EXE);
    }

    #[test]
    fn a_missing_engine_is_a_start_error_naming_it() {
        let e = engine_error(Engine::start_exe(
            ENGINE_EXE,
            &env_for(Path::new("/nonexistent/babeldesk-engine")),
        ));
        assert!(
            matches!(&e, EngineError::Start { exe, .. } if exe == Path::new("/nonexistent/babeldesk-engine"))
        );
        assert!(
            e.to_string().contains("/nonexistent/babeldesk-engine"),
            "{e}"
        );
    }

    #[test]
    fn an_engine_of_another_protocol_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(
            dir.path(),
            "old",
            r#"read line
echo '{"reply":"hello","version":1,"engine":"old","cuda_devices":0}'
while read line; do case "$line" in *shutdown*) exit 0;; esac; done"#,
        );
        let e = engine_error(start(&exe));
        assert!(
            matches!(&e, EngineError::Protocol { reply, .. } if reply.contains("version: 1")),
            "{e:?}"
        );
        assert!(e.to_string().contains("speaks another protocol"), "{e}");
        // An engine that refuses our version with an error reply: its own words.
        let exe = script(
            dir.path(),
            "refuses",
            r#"read line
echo '{"reply":"error","message":"protocol version 2 is not supported (engine speaks 3)"}'"#,
        );
        let e = engine_error(start(&exe));
        assert!(
            matches!(&e, EngineError::Failed(m) if m.contains("engine speaks 3")),
            "{e:?}"
        );
    }

    #[test]
    fn an_engine_that_dies_is_reported_with_its_status_and_last_words() {
        let dir = tempfile::tempdir().unwrap();
        // Dies before answering hello (a missing shared library, say).
        let exe = script(
            dir.path(),
            "dead",
            "echo 'error while loading shared libraries: libtorch_cpu.so' >&2\nexit 127",
        );
        let e = engine_error(start(&exe));
        match &e {
            EngineError::Died { status, tail } => {
                assert!(status.contains("127"), "{status}");
                assert!(tail.contains("libtorch_cpu.so"), "{tail}");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            e.to_string()
                .starts_with("the model engine stopped unexpectedly"),
            "{e}"
        );
        // Dies in the middle of a job, after a good start.
        let exe = fake(dir.path(), &["echo 'out of memory' >&2; kill -9 $$"]);
        let mut engine = start(&exe).unwrap();
        let e = engine_error(engine.count_tokens(vec!["x".into()]));
        match &e {
            EngineError::Died { status, tail } => {
                assert!(status.contains('9'), "{status}");
                assert!(tail.contains("out of memory"), "{tail}");
            }
            other => panic!("{other:?}"),
        }
        // And stays dead: the next request says so too, it does not hang.
        assert!(matches!(
            engine_error(engine.count_tokens(vec!["x".into()])),
            EngineError::Died { .. }
        ));
    }

    #[test]
    fn error_and_unreadable_replies_are_errors_and_the_engine_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let exe = fake(
            dir.path(),
            &[
                r#"echo '{"reply":"error","message":"no translation model is loaded"}'"#,
                "echo 'Segmentation fault (core dumped)'",
                r#"echo '{"reply":"counts","counts":[3]}'"#,
                r#"echo '{"reply":"counts","counts":[3]}'"#,
                r#"echo '{"reply":"texts","texts":["only one"]}'"#,
            ],
        );
        let mut engine = start(&exe).unwrap();
        let e = engine_error(engine.translate_with(vec!["a".into()], vec![]));
        assert!(matches!(&e, EngineError::Failed(m) if m == "no translation model is loaded"));
        let e = engine_error(engine.count_tokens(vec!["a".into()]));
        assert!(
            matches!(&e, EngineError::Unreadable { answer, .. } if answer == "Segmentation fault (core dumped)"),
            "{e:?}"
        );
        assert_eq!(engine.count_tokens(vec!["a".into()]).unwrap(), [3]);
        // A reply of the wrong kind, or with the wrong number of texts, is not taken.
        assert!(matches!(
            engine_error(engine.embed(vec!["a".into()])),
            EngineError::Unexpected(r) if r.contains("Counts")
        ));
        assert!(matches!(
            engine_error(engine.translate_with(vec!["a".into(), "b".into()], vec![])),
            EngineError::Unexpected(r) if r.contains("only one")
        ));
    }

    #[test]
    fn texts_problems_and_token_counts_come_through() {
        let dir = tempfile::tempdir().unwrap();
        let reply = r#"echo '{"reply":"texts","texts":["Good morning.",""],"problems":[null,"still Russian"],"tokens":{"prompt":20,"generated":5,"millis":7}}'"#;
        let log = dir.path().join("requests");
        let exe = fake(
            dir.path(),
            &[
                &format!("echo \"$line\" >> {}; {reply}", log.display()),
                &format!("echo \"$line\" >> {}; {reply}", log.display()),
            ],
        );
        let mut engine = start(&exe).unwrap();
        let hint = Hint {
            previous: Some(crate::models::protocol::Example {
                source: "Да.".into(),
                target: "Yes.".into(),
            }),
            ..Hint::default()
        };
        let a = engine
            .translate_with(
                vec!["Доброе утро.".into(), "Привет.".into()],
                vec![hint.clone(), Hint::default()],
            )
            .unwrap();
        assert_eq!(a.texts, ["Good morning.", ""]);
        assert_eq!((a.problem(0), a.problem(1)), (None, Some("still Russian")));
        assert!(
            matches!(a.clone().into_result(), Err(Error::Engine(EngineError::Unusable(p))) if p == "still Russian")
        );
        engine
            .summarize_within(vec!["a".into(), "b".into()], Some(40))
            .unwrap();
        assert_eq!(engine.calls, 2);
        assert_eq!(
            (
                engine.tokens.prompt,
                engine.tokens.generated,
                engine.tokens.millis
            ),
            (40, 10, 14)
        );
        // What the engine was sent: one request a line, hints and budget included.
        let sent = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<Request> = sent
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                Request::Translate {
                    texts: vec!["Доброе утро.".into(), "Привет.".into()],
                    hints: vec![hint, Hint::default()],
                },
                Request::Summarize {
                    texts: vec!["a".into(), "b".into()],
                    max_words: Some(40),
                },
            ]
        );
    }

    #[test]
    fn dropping_the_client_shuts_the_engine_down() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("shut");
        let exe = script(
            dir.path(),
            "engine",
            &format!(
                "read line\necho '{HELLO}'\nwhile read line; do case \"$line\" in *shutdown*) touch {}; exit 0;; esac; done",
                marker.display()
            ),
        );
        let engine = start(&exe).unwrap();
        assert!(!marker.exists());
        assert!(dropped_within(engine, 10), "dropping the client hung");
        assert!(marker.exists(), "the engine got no shutdown request");
    }

    /// Drop `engine` on another thread; whether that finished within `secs` seconds.
    fn dropped_within(engine: Engine, secs: u64) -> bool {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(engine);
            let _ = tx.send(());
        });
        rx.recv_timeout(std::time::Duration::from_secs(secs))
            .is_ok()
    }

    /// An engine that is stuck (here: it never answers `shutdown`, though it would stop at
    /// the end of its input) must not hang the command at exit. `Drop` writes `shutdown`, then
    /// waits for the process while still holding its stdin open, so it waits forever.
    #[test]
    fn dropping_the_client_does_not_wait_forever_for_a_stuck_engine() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(
            dir.path(),
            "stuck",
            &format!("read line\necho '{HELLO}'\nwhile read line; do :; done"),
        );
        let engine = start(&exe).unwrap();
        assert!(dropped_within(engine, 10), "dropping the client hung");
    }
}
