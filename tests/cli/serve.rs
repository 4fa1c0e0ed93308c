//! `serve` from the outside: what it refuses to start with, the URL it prints, and its guard
//! on a real socket (the pages themselves are tested in Chromium: tests/browser).

use super::*;

#[test]
fn serve_refuses_an_open_address_without_a_token_and_a_weak_token() {
    let sb = Sandbox::new();
    let out = sb.run(&["serve", "--bind", "0.0.0.0", "--port", "0"]);
    assert_fails(&out, "give an access token with --token");
    // Too short, blank, or with what a URL or cookie would cut or encode (issue 32).
    for weak in [
        "short",
        "                ",
        "0123456789abcdef&admin=1",
        "0123456789abcdef;x",
    ] {
        let out = sb.run(&["serve", "--port", "0", "--token", weak]);
        assert_fails(&out, "16 or more characters, each a letter, a digit");
    }
    // A port taken by another program: one line naming it.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = sb.run(&["serve", "--port", &port]);
    assert_fails(&out, &format!("cannot listen on 127.0.0.1:{port}"));
}

/// One HTTP/1.1 request on a fresh connection: the status line and the rest.
pub(super) fn request(port: u16, head: &str) -> String {
    request_with(port, head, "")
}

fn request_with(port: u16, head: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    // A write may fail where the server answered and closed before reading it all.
    let _ = write!(s, "{head}Connection: close\r\n\r\n{body}");
    let mut out = Vec::new();
    // The server may answer and close before it reads all that was sent.
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `serve` started in the sandbox: the process and the URL it printed.
pub(super) fn start(sb: &Sandbox, extra: &[&str]) -> (std::process::Child, String) {
    let mut args = vec!["serve", "--port", "0"];
    args.extend_from_slice(extra);
    let mut child = sb
        .cmd(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

/// (port, token) of a printed URL.
pub(super) fn port_and_token(url: &str) -> (u16, String) {
    let (addr, token) = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.split_once("/?token="))
        .unwrap_or_else(|| panic!("unexpected URL {url}"));
    (addr.parse().unwrap(), token.to_string())
}

/// A failed segment has no unit but is on the document screen, with the model's problem; a
/// second translation of the document shows its segments as memory matches.
#[test]
fn the_document_screen_shows_how_each_segment_was_made() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("a.txt"), "Парламент собрался во вторник.\n").unwrap();
    let runaway = fixture("tiny-llm-runaway");
    let out = sb.run(&[
        "translate",
        "a.txt",
        "--model-dir",
        runaway.to_str().unwrap(),
        "-o",
        "a.en.txt",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let marian = fixture("tiny-marian-ru-en");
    std::fs::write(sb.path("b.txt"), "Стороны обсудили сотрудничество.\n").unwrap();
    for _ in 0..2 {
        let out = sb.run(&[
            "translate",
            "b.txt",
            "--model-dir",
            marian.to_str().unwrap(),
            "-o",
            "b.en.txt",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let (mut child, url) = start(&sb, &[]);
    let (port, token) = port_and_token(&url);
    let get = |path: &str| {
        request(port, &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: babeldesk_token_{port}={token}\r\n"))
    };
    let a = get("/doc?name=a.txt");
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    assert!(
        a.contains("band-failed") && a.contains("Парламент собрался во вторник."),
        "{a}"
    );
    assert!(a.contains("did not stop"), "the problem is shown: {a}");
    let b = get("/doc?name=b.txt");
    // One segment has no neighbours: a 100 match, not 101.
    assert!(b.contains("band-memory") && b.contains("memory 100"), "{b}");
    assert!(
        get("/").contains("a.txt"),
        "a document with no stored unit is listed"
    );
    let text = get("/doc/text?name=a.txt");
    assert!(
        text.contains("Парламент собрался во вторник."),
        "no line goes missing: {text}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_prints_a_tokened_url_and_guards_every_request() {
    let sb = Sandbox::new();
    let (mut child, url) = start(&sb, &["--max-upload", "1"]);
    let (port, token) = port_and_token(&url);
    assert_eq!(token.len(), 32);
    let host = format!("Host: 127.0.0.1:{port}\r\n");
    let got = request(port, &format!("GET / HTTP/1.1\r\n{host}"));
    assert!(got.starts_with("HTTP/1.1 401"), "{got}");
    let got = request(port, &format!("GET /?token={token} HTTP/1.1\r\n{host}"));
    assert!(got.starts_with("HTTP/1.1 303"), "{got}");
    // Named for the port: instances on one host keep their cookies apart (issue 32).
    assert!(
        got.contains(&format!("babeldesk_token_{port}={token}")) && got.contains("HttpOnly"),
        "{got}"
    );
    // Another instance's cookie name does not let a request in.
    let other = format!(
        "Cookie: babeldesk_token_{}={token}\r\n",
        port.wrapping_add(1)
    );
    let got = request(port, &format!("GET / HTTP/1.1\r\n{host}{other}"));
    assert!(got.starts_with("HTTP/1.1 401"), "{got}");
    let cookie = format!("Cookie: babeldesk_token_{port}={token}\r\n");
    let got = request(port, &format!("GET / HTTP/1.1\r\n{host}{cookie}"));
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains("No translated documents yet"), "{got}");
    let got = request(
        port,
        &format!("GET / HTTP/1.1\r\nHost: rebound.example:{port}\r\n{cookie}"),
    );
    assert!(got.starts_with("HTTP/1.1 421"), "{got}");
    // A body over --max-upload (1 MiB here) is refused, not read on.
    let part = format!("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.tmx\"\r\n\r\n{}\r\n--b--\r\n", "x".repeat(2 << 20));
    let head = format!(
        "POST /import HTTP/1.1\r\n{host}{cookie}Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n",
        part.len()
    );
    let got = request_with(port, &head, &part);
    assert!(got.starts_with("HTTP/1.1 413"), "{got}");
    // Hostile or broken requests: each a 4xx with a message, none a 5xx, the server alive.
    let long = "ж".repeat(20_000);
    for path in [
        format!("/units?q={long}"),
        format!("/units?from=ru&to=en&fuzzy={long}"),
        "/units?from=xx-%ZZ&origin=robot&after=abc".to_string(),
        "/units?status=%00".to_string(),
        "/unit/abc".to_string(),
        "/unit/99999999999999999999".to_string(),
        "/unit/424242".to_string(),
        "/doc?name=%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_string(),
        "/doc".to_string(),
        "/nowhere".to_string(),
    ] {
        let got = request(port, &format!("GET {path} HTTP/1.1\r\n{host}{cookie}"));
        let status = got.split(' ').nth(1).unwrap_or("");
        let shown: String = path.chars().take(60).collect();
        // A long fuzzy query is answered (its matches); the rest are refused with a 4xx.
        let fine = status.starts_with('4') || (path.contains("fuzzy") && status == "200");
        assert!(fine, "{shown}: {}", &got[..got.len().min(200)]);
    }
    let got = request(port, &format!("GET / HTTP/1.1\r\n{host}{cookie}"));
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    child.kill().unwrap();
    child.wait().unwrap();
}
