//! The remote engine: an instruct model behind an OpenAI-compatible server (llama.cpp's
//! `llama-server`, vLLM, Ollama, TGI, LM Studio). Prompts, attempts, cleaning and checks are
//! the local LLM engine's ([`super::chat`]); only the transport differs. Requests are plain
//! blocking HTTP, several in flight from as many threads, so a batching server fills its batch.
//!
//! Failures: a refused connection, a timeout, HTTP 429 and 5xx are retried with a growing
//! pause, a few times; then the server counts as gone ([`RemoteError::Unavailable`]) and the
//! caller stops. A wrong key (401/403) stops at once. An answer that is not chat JSON, has no
//! text, or is a refusal is a problem for that one segment, never an error. The timeout is a
//! deadline for each whole answer, however slowly it comes; redirects are refused
//! ([`RemoteError::Redirected`]), never followed.

use super::chat::{self, Answer, Chat, Completion, Decoding};
use super::engine::Answers;
use super::prompt::Message;
use super::protocol::{Hint, TokenCounts};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to reach the server and how hard to try.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// The server's base URL (`http://host:8080`, or with `/v1`).
    pub url: String,
    pub api_key: Option<Secret>,
    /// The model to ask for; the server's first model when unset.
    pub model: Option<String>,
    /// Requests in flight at once.
    pub parallel: usize,
    pub connect_timeout: Duration,
    /// How long one answer may take.
    pub timeout: Duration,
    /// Retries of one request after a refused connection, a timeout, 429 or 5xx.
    pub retries: u32,
}

pub const DEFAULT_PARALLEL: usize = 8;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_RETRIES: u32 = 4;
/// As many as `--parallel` takes: a thread and a connection each.
pub const MAX_PARALLEL: usize = 256;

impl RemoteOptions {
    /// The id a model on this server goes by before connecting: `MODEL@HOST:PORT` when the
    /// model is named (what the connected engine's units record too), else
    /// `(default)@HOST:PORT`. Caches and "is this model loaded" compare it.
    pub fn planned_id(&self) -> String {
        let host = base_url(&self.url).map_or_else(|_| redact(&self.url), |(_, host)| host);
        format!("{}@{host}", self.model.as_deref().unwrap_or("(default)"))
    }

    pub fn new(url: impl Into<String>) -> RemoteOptions {
        RemoteOptions {
            url: url.into(),
            api_key: None,
            model: None,
            parallel: DEFAULT_PARALLEL,
            connect_timeout: Duration::from_secs(10),
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
        }
    }
}

/// A value never shown: `Debug` and messages print `<hidden>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hidden>")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("--engine-url '{url}': {why}")]
    BadUrl { url: String, why: String },
    #[error("the model server {server} refused the API key (HTTP {code}); check --api-key or BABELDESK_API_KEY")]
    Unauthorized { server: String, code: u16 },
    #[error("the model server {server} is unavailable after {tries} {}: {last}", if *tries == 1 { "try" } else { "tries" })]
    Unavailable {
        server: String,
        tries: u32,
        last: String,
    },
    #[error("the model server {server} answered HTTP {code} to {path}: {message}")]
    Refused {
        server: String,
        code: u16,
        path: &'static str,
        message: String,
    },
    #[error("the model server {server} has no model '{model}' (it serves: {served})")]
    NoSuchModel {
        server: String,
        model: String,
        served: String,
    },
    #[error("the model server {server} lists no model; name one with --remote-model")]
    NoModels { server: String },
    #[error("the model server {server} answered {path} with a redirect (HTTP {code}) to '{to}'; babeldesk follows no redirects from a model server: give --engine-url the server's own address")]
    Redirected {
        server: String,
        code: u16,
        path: &'static str,
        to: String,
    },
}

const CHAT_PATH: &str = "/v1/chat/completions";
const MODELS_PATH: &str = "/v1/models";

/// A connected server and the model asked for there.
pub struct RemoteEngine {
    agent: ureq::Agent,
    /// Scheme, host, port and path prefix, without `/v1` and without credentials.
    base: String,
    key: Option<Secret>,
    model: String,
    host: String,
    languages: Vec<String>,
    parallel: usize,
    retries: u32,
    tokens: Mutex<TokenCounts>,
    /// Requests under way, and since when at least one has been: the time counted is the
    /// wall time the server worked for us, not the sum over requests in flight.
    busy: Mutex<(usize, Option<Instant>)>,
    calls: AtomicUsize,
}

impl RemoteEngine {
    /// Check the server answers (and takes the key), and settle the model.
    pub fn connect(opts: &RemoteOptions, languages: Vec<String>) -> Result<Self, RemoteError> {
        let (base, host) = base_url(&opts.url)?;
        // `timeout` is a deadline for the whole answer, on a fresh or a pooled connection
        // alike: per-read timeouts alone let a server that sends a byte now and then, or a
        // pooled connection whose read timeout was off, hold a request forever. No redirects:
        // another host's answer is never taken for the model's.
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(opts.connect_timeout)
            .timeout(opts.timeout)
            .redirects(0)
            .tls_config(Arc::new(
                crate::tls::client_config().expect("ring supports the default TLS versions"),
            ))
            .build();
        let mut engine = RemoteEngine {
            agent,
            base,
            key: opts.api_key.clone(),
            model: String::new(),
            host,
            languages,
            parallel: opts.parallel.max(1),
            retries: opts.retries,
            tokens: Mutex::new(TokenCounts::default()),
            busy: Mutex::new((0, None)),
            calls: AtomicUsize::new(0),
        };
        let listed = engine.send(MODELS_PATH, None)?;
        let served: Vec<String> = serde_json::from_str::<Value>(&listed)
            .ok()
            .and_then(|v| {
                v["data"].as_array().map(|a| {
                    a.iter()
                        .filter_map(|m| m["id"].as_str().map(String::from))
                        .collect()
                })
            })
            .unwrap_or_default();
        engine.model = match (&opts.model, served.first()) {
            (Some(m), _) if served.is_empty() || served.contains(m) => m.clone(),
            (Some(m), _) => {
                return Err(RemoteError::NoSuchModel {
                    server: engine.shown(),
                    model: m.clone(),
                    served: served.join(", "),
                })
            }
            (None, Some(first)) => first.clone(),
            (None, None) => {
                return Err(RemoteError::NoModels {
                    server: engine.shown(),
                })
            }
        };
        Ok(engine)
    }

    /// The model as units record it: the server's name for it `@` the endpoint's host.
    pub fn model_id(&self) -> String {
        format!("{}@{}", self.model, self.host)
    }

    /// The server as messages show it (no credentials).
    pub fn shown(&self) -> String {
        self.base.clone()
    }

    pub fn parallel(&self) -> usize {
        self.parallel
    }

    /// Tokens read and written so far, and the wall time spent waiting for them.
    pub fn tokens(&self) -> TokenCounts {
        let mut t = *lock(&self.tokens);
        if let (_, Some(since)) = *lock(&self.busy) {
            t.millis += since.elapsed().as_millis() as u64;
        }
        t
    }

    fn begin(&self) {
        let mut busy = lock(&self.busy);
        busy.0 += 1;
        busy.1.get_or_insert_with(Instant::now);
    }

    fn end(&self, read: usize, generated: usize) {
        let mut busy = lock(&self.busy);
        busy.0 = busy.0.saturating_sub(1);
        let mut t = lock(&self.tokens);
        *t += TokenCounts {
            prompt: read as u64,
            generated: generated as u64,
            millis: 0,
        };
        if busy.0 == 0 {
            if let Some(since) = busy.1.take() {
                t.millis += since.elapsed().as_millis() as u64;
            }
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Tokens a text takes, estimated: the API has no tokenizer. Generous (two characters a
    /// token; subword vocabularies average three to four), so a piece cut to fit does fit.
    pub fn estimate_tokens(text: &str) -> usize {
        text.chars().count().div_ceil(2)
    }

    /// One text (as its pieces, each with `hint`) translated; its answers in order.
    pub fn translate_text(&self, pieces: &[String], hint: &Hint) -> Result<Answers, RemoteError> {
        let (from, to) = self.pair();
        let mut out = Answers::default();
        for piece in pieces {
            let a = chat::translate(&mut self.chat(), from, to, piece, hint)?;
            push(&mut out, a);
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// Translations of `texts` (each with its hint, or none), `parallel` at a time.
    pub fn translate_with(
        &self,
        texts: Vec<String>,
        hints: Vec<Hint>,
    ) -> Result<Answers, RemoteError> {
        let (from, to) = self.pair();
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.fan_out(&texts, |chat, i, text| {
            let hint = hints.get(i).cloned().unwrap_or_default();
            chat::translate(chat, from, to, text, &hint)
        })
    }

    /// Summaries of `texts` in the target language, `parallel` at a time.
    pub fn summarize_within(
        &self,
        texts: Vec<String>,
        max_words: usize,
    ) -> Result<Answers, RemoteError> {
        let lang = self.languages.last().map_or("en", String::as_str);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.fan_out(&texts, |chat, _, text| {
            chat::summarize(chat, lang, text, max_words)
        })
    }

    fn pair(&self) -> (&str, &str) {
        match self.languages.as_slice() {
            [from, to, ..] => (from, to),
            [to] => ("", to),
            [] => ("", "en"),
        }
    }

    fn chat(&self) -> RemoteChat<'_> {
        RemoteChat { engine: self }
    }

    /// `ask` on every text from `parallel` threads; the answers in the texts' order. The
    /// first error stops the others after their current request.
    fn fan_out(
        &self,
        texts: &[String],
        ask: impl Fn(&mut RemoteChat, usize, &str) -> Result<Answer, RemoteError> + Sync,
    ) -> Result<Answers, RemoteError> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let results: Mutex<Vec<Option<Answer>>> = Mutex::new(vec![None; texts.len()]);
        let failure: Mutex<Option<RemoteError>> = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..self.parallel.min(texts.len()) {
                s.spawn(|| {
                    let mut chat = self.chat();
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(text) = texts.get(i) else { break };
                        match ask(&mut chat, i, text) {
                            Ok(a) => lock(&results)[i] = Some(a),
                            Err(e) => {
                                stop.store(true, Ordering::Relaxed);
                                lock(&failure).get_or_insert(e);
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        let mut out = Answers::default();
        for a in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
            push(&mut out, a.unwrap_or_default());
        }
        Ok(out)
    }

    /// One chat completion.
    fn complete(
        &self,
        messages: &[Message],
        max_tokens: usize,
        decoding: Decoding,
    ) -> Result<Completion, RemoteError> {
        let body = request_body(&self.model, messages, max_tokens, decoding);
        self.begin();
        let out = match self.send(CHAT_PATH, Some(&body)) {
            Ok(answer) => read_completion(&answer),
            Err(RemoteError::Refused { code, message, .. }) if is_per_request(code) => Completion {
                refused: Some(format!(
                    "the server refused the request (HTTP {code}): {message}"
                )),
                ..Completion::default()
            },
            Err(e) => {
                self.end(0, 0);
                return Err(e);
            }
        };
        self.end(out.read_tokens, out.generated);
        Ok(out)
    }

    /// GET (no body) or POST `path`; the answer's text. Retried as the module says.
    fn send(&self, path: &'static str, body: Option<&Value>) -> Result<String, RemoteError> {
        let url = format!("{}{path}", self.base);
        let mut last = String::new();
        for attempt in 0..=self.retries {
            let mut req = match body {
                Some(_) => self.agent.post(&url),
                None => self.agent.get(&url),
            };
            if let Some(key) = &self.key {
                req = req.set("Authorization", &format!("Bearer {}", key.expose()));
            }
            let result = match body {
                Some(b) => req
                    .set("Content-Type", "application/json")
                    .send_string(&b.to_string()),
                None => req.call(),
            };
            let mut pause = backoff(attempt);
            match result {
                Ok(resp) if (300..400).contains(&resp.status()) => {
                    return Err(RemoteError::Redirected {
                        server: self.shown(),
                        code: resp.status(),
                        path,
                        to: resp
                            .header("Location")
                            .unwrap_or("")
                            .chars()
                            .take(200)
                            .collect(),
                    })
                }
                Ok(resp) => match resp.into_string() {
                    Ok(text) => return Ok(text),
                    Err(e) => last = format!("the answer broke off: {e}"),
                },
                Err(ureq::Error::Status(code @ (401 | 403), _)) => {
                    return Err(RemoteError::Unauthorized {
                        server: self.shown(),
                        code,
                    })
                }
                Err(ureq::Error::Status(code, resp)) if code == 429 || code >= 500 => {
                    if let Some(s) = resp
                        .header("Retry-After")
                        .and_then(|s| s.parse::<u64>().ok())
                    {
                        pause = Duration::from_secs(s.min(30));
                    }
                    last = format!("HTTP {code}: {}", message_of(resp));
                }
                Err(ureq::Error::Status(code, resp)) => {
                    return Err(RemoteError::Refused {
                        server: self.shown(),
                        code,
                        path,
                        message: message_of(resp),
                    })
                }
                Err(ureq::Error::Transport(t)) => last = transport_message(&t),
            }
            if attempt < self.retries {
                std::thread::sleep(pause);
            }
        }
        Err(RemoteError::Unavailable {
            server: self.shown(),
            tries: self.retries + 1,
            last,
        })
    }
}

/// One thread's handle on the engine, as the shared attempt logic wants it.
struct RemoteChat<'e> {
    engine: &'e RemoteEngine,
}

impl Chat for RemoteChat<'_> {
    type Error = RemoteError;

    fn complete(
        &mut self,
        messages: &[Message],
        max_tokens: usize,
        decoding: Decoding,
    ) -> Result<Completion, RemoteError> {
        self.engine.complete(messages, max_tokens, decoding)
    }

    fn count(&self, text: &str) -> usize {
        RemoteEngine::estimate_tokens(text)
    }
}

fn push(out: &mut Answers, a: Answer) {
    out.texts.push(a.text);
    out.problems.push(a.problem);
    let t = out.tokens.get_or_insert_with(TokenCounts::default);
    *t += a.tokens;
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Statuses that concern one request (too long, malformed), not the server: the segment
/// fails, the document goes on.
fn is_per_request(code: u16) -> bool {
    matches!(code, 400 | 413 | 422)
}

/// 0.5 s, doubling, at most 8 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.min(4))
}

/// The request: greedy, seeded, capped; the guarded decoding's repeat penalty in llama.cpp's
/// own fields (llama-server and Ollama read them; servers that do not know them ignore them).
fn request_body(model: &str, messages: &[Message], max_tokens: usize, decoding: Decoding) -> Value {
    let messages: Vec<Value> = messages
        .iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    let penalty = match decoding {
        Decoding::Guarded => chat::REPEAT_PENALTY,
        Decoding::Greedy => 1.0,
    };
    json!({
        "model": model,
        "messages": messages,
        "temperature": 0.0,
        "seed": 0,
        "max_tokens": max_tokens,
        "stream": false,
        "repeat_penalty": penalty,
        "repeat_last_n": chat::PENALTY_LAST_N,
        "cache_prompt": true,
    })
}

/// What a chat completion said; anything unusable is a problem of this answer.
pub(crate) fn read_completion(body: &str) -> Completion {
    let refused = |why: String| Completion {
        refused: Some(why),
        ..Completion::default()
    };
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return refused(format!(
            "the server's answer is not JSON: {}",
            excerpt(body)
        ));
    };
    let choice = &v["choices"][0];
    if choice.is_null() {
        return refused(format!(
            "the server's answer has no choice: {}",
            excerpt(body)
        ));
    }
    let usage = |k: &str| v["usage"][k].as_u64().unwrap_or(0) as usize;
    let base = Completion {
        read_tokens: usage("prompt_tokens"),
        generated: usage("completion_tokens"),
        ..Completion::default()
    };
    let message = &choice["message"];
    if let Some(r) = message["refusal"].as_str().filter(|r| !r.trim().is_empty()) {
        return Completion {
            refused: Some(format!("the model refused: {}", excerpt(r))),
            ..base
        };
    }
    match (
        message["content"].as_str(),
        choice["finish_reason"].as_str(),
    ) {
        (_, Some("content_filter")) => Completion {
            refused: Some("the server's content filter withheld the answer".into()),
            ..base
        },
        (Some(text), finish) => Completion {
            text: text.to_string(),
            hit_limit: finish == Some("length"),
            ..base
        },
        (None, _) => Completion {
            refused: Some(format!(
                "the server's answer has no text: {}",
                excerpt(body)
            )),
            ..base
        },
    }
}

/// The error message in an error response (OpenAI's `{"error": {"message"}}`, else the body).
fn message_of(resp: ureq::Response) -> String {
    let body = resp.into_string().unwrap_or_default();
    let v: Option<Value> = serde_json::from_str(&body).ok();
    let msg = v.as_ref().and_then(|v| {
        v["error"]["message"]
            .as_str()
            .or_else(|| v["error"].as_str())
            .or_else(|| v["message"].as_str())
            .map(String::from)
    });
    excerpt(&msg.unwrap_or(body))
}

fn excerpt(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

fn transport_message(t: &ureq::Transport) -> String {
    use std::error::Error as _;
    let mut msg = match t.kind() {
        ureq::ErrorKind::ConnectionFailed => "cannot connect".to_string(),
        ureq::ErrorKind::Dns => "cannot resolve the host".to_string(),
        ureq::ErrorKind::Io => "connection lost or timed out".to_string(),
        other => other.to_string(),
    };
    let mut cause = t.source();
    while let Some(c) = cause {
        msg = format!("{msg}: {c}");
        cause = c.source();
    }
    msg
}

/// The base URL (no `/v1`, no trailing slash, no credentials) and `host:port`.
fn base_url(raw: &str) -> Result<(String, String), RemoteError> {
    let bad = |why: &str| RemoteError::BadUrl {
        url: redact(raw),
        why: why.to_string(),
    };
    let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("not an http:// or https:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials in the URL; give the key with --api-key or BABELDESK_API_KEY",
        ));
    }
    let host = url.host_str().ok_or_else(|| bad("no host"))?;
    let host = match url.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/v1").unwrap_or(path);
    Ok((format!("{}://{host}{path}", url.scheme()), host))
}

/// `raw` without what a user part could hold (a password, say): everything up to its last
/// `@`. Unparsed text may put a password anywhere (`//u:pw@h`, an unencoded `/` in
/// `http://u:p/w@h`), so an `@` in a path is hidden the same way.
fn redact(raw: &str) -> String {
    let (scheme, rest) = match raw.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), raw),
    };
    match rest.rfind('@') {
        Some(at) => format!("{scheme}…@{}", &rest[at + 1..]),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    //! URL, request and answer handling. The engine itself runs against a real llama.cpp
    //! server in tests/cli/remote.rs.

    use super::*;

    #[test]
    fn base_urls_drop_v1_and_refuse_credentials() {
        let ok = |u: &str| base_url(u).unwrap();
        assert_eq!(
            ok("http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080".into(), "127.0.0.1:8080".into())
        );
        assert_eq!(ok("http://gpu:8000/v1/").0, "http://gpu:8000");
        assert_eq!(
            ok("https://llm.example/api/v1").0,
            "https://llm.example:443/api"
        );
        assert_eq!(ok("https://llm.example/api/v1").1, "llm.example:443");
        for bad in [
            "gpu:8000",
            "ftp://gpu",
            "http://u:pw@gpu:8000",
            "u:pw@gpu:8000",
            "//u:pw@gpu",
            "http://u:pw/x@gpu",
            "http://u:p@w@gpu/v1",
            "not a url",
        ] {
            let e = base_url(bad).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("--engine-url '{}'", redact(bad))),
                "{e}"
            );
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn the_key_is_never_shown() {
        let mut o = RemoteOptions::new("http://x");
        o.api_key = Some(Secret::new("sk-very-secret"));
        assert!(!format!("{o:?}").contains("sk-very-secret"));
    }

    #[test]
    fn planned_ids_name_model_and_host_as_units_do() {
        let mut o = RemoteOptions::new("http://gpu:8080/v1");
        assert_eq!(o.planned_id(), "(default)@gpu:8080");
        o.model = Some("qwen".into());
        assert_eq!(o.planned_id(), "qwen@gpu:8080");
    }

    #[test]
    fn requests_are_greedy_seeded_and_capped() {
        let m = vec![("system", "S".to_string()), ("user", "U".to_string())];
        let b = request_body("qwen", &m, 40, Decoding::Guarded);
        assert_eq!(b["temperature"], 0.0);
        assert_eq!(b["max_tokens"], 40);
        assert_eq!(b["messages"][1], json!({"role": "user", "content": "U"}));
        assert!((b["repeat_penalty"].as_f64().unwrap() - 1.1).abs() < 1e-6);
        assert_eq!(
            request_body("q", &m, 4, Decoding::Greedy)["repeat_penalty"],
            1.0
        );
    }

    /// A loopback responder that answers each connection with the next canned response (a
    /// status line, extra headers and a body) and closes; it counts the requests it got.
    /// Real servers are tested in tests/cli/remote.rs; this one makes 429 and 5xx on cue.
    fn canned(
        responses: Vec<(&'static str, &'static str, &'static str)>,
    ) -> (String, Arc<AtomicUsize>) {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&seen);
        std::thread::spawn(move || {
            for (status, headers, body) in responses {
                let Ok((mut conn, _)) = listener.accept() else {
                    return;
                };
                read_request(&mut conn);
                count.fetch_add(1, Ordering::SeqCst);
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, seen)
    }

    /// Headers to the blank line, then as many body bytes as they announce.
    fn read_request(conn: &mut std::net::TcpStream) {
        use std::io::Read;
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
            got.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        let _ = conn.read_exact(&mut body);
    }

    const MODELS: (&str, &str, &str) = ("200 OK", "", r#"{"data":[{"id":"m"}]}"#);
    const GOOD: (&str, &str, &str) = (
        "200 OK",
        "",
        r#"{"choices":[{"message":{"content":"Good morning."},"finish_reason":"stop"}]}"#,
    );

    fn engine(url: &str, retries: u32) -> RemoteEngine {
        let mut o = RemoteOptions::new(url);
        o.retries = retries;
        RemoteEngine::connect(&o, vec!["ru".into(), "en".into()]).unwrap()
    }

    #[test]
    fn busy_and_failing_servers_are_retried_then_given_up_on() {
        let busy = (
            "503 Service Unavailable",
            "",
            r#"{"error":{"message":"Loading model"}}"#,
        );
        let limited = ("429 Too Many Requests", "Retry-After: 0\r\n", "{}");
        let (url, seen) = canned(vec![MODELS, busy, limited, GOOD]);
        let e = engine(&url, 3);
        assert_eq!(e.model_id(), format!("m@{}", &url[7..]));
        let a = e
            .translate_text(&["Доброе утро.".into()], &Hint::default())
            .unwrap();
        assert_eq!((a.texts[0].as_str(), a.problem(0)), ("Good morning.", None));
        assert_eq!(seen.load(Ordering::SeqCst), 4);
        // Failing past the retries: the server counts as gone, with its last words.
        let boom = (
            "500 Internal Server Error",
            "",
            r#"{"error":{"message":"boom"}}"#,
        );
        let (url, _) = canned(vec![MODELS, boom, boom]);
        let e = engine(&url, 1);
        let err = e
            .translate_text(&["Доброе утро.".into()], &Hint::default())
            .unwrap_err();
        assert!(
            err.to_string()
                .ends_with("is unavailable after 2 tries: HTTP 500: boom"),
            "{err}"
        );
        // A request the server refuses as such fails that segment only.
        let too_long = (
            "400 Bad Request",
            "",
            r#"{"error":{"message":"exceeds the context size"}}"#,
        );
        let (url, _) = canned(vec![MODELS, too_long, too_long]);
        let a = engine(&url, 0)
            .translate_text(&["Доброе утро.".into()], &Hint::default())
            .unwrap();
        assert_eq!(
            a.problem(0),
            Some("the server refused the request (HTTP 400): exceeds the context size")
        );
    }

    #[test]
    fn unusable_answers_are_problems_not_errors() {
        let ok = read_completion(
            r#"{"choices":[{"message":{"content":"Good."},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#,
        );
        assert_eq!(
            (ok.text.as_str(), ok.hit_limit, ok.read_tokens, ok.generated),
            ("Good.", true, 12, 3)
        );
        assert!(ok.refused.is_none());
        for (body, why) in [
            ("<html>502</html>", "not JSON"),
            (r#"{"choices":[]}"#, "no choice"),
            (r#"{"choices":[{"message":{"content":null}}]}"#, "no text"),
            (
                r#"{"choices":[{"message":{"content":null,"refusal":"I can't help with that."}}]}"#,
                "the model refused: I can't help",
            ),
            (
                r#"{"choices":[{"message":{"content":""},"finish_reason":"content_filter"}]}"#,
                "content filter",
            ),
        ] {
            let c = read_completion(body);
            assert!(c.refused.as_deref().unwrap().contains(why), "{body}: {c:?}");
            assert_eq!(c.text, "");
        }
    }
}
