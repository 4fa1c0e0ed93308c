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
}

pub struct Engine {
    child: Child,
    stdin: ChildStdin,
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
        let mut child = Command::new(&exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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
        let stderr = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                t.push(line);
                if t.len() > 20 {
                    t.remove(0);
                }
            }
        });
        let mut engine = Engine {
            child,
            stdin,
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
        if self
            .stdin
            .write_all(line.as_bytes())
            .and_then(|_| self.stdin.flush())
            .is_err()
        {
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
    fn drop(&mut self) {
        let _ = self.stdin.write_all(b"{\"op\":\"shutdown\"}\n");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}
