//! `serve` from the outside: what it refuses to start with, the URL it prints, and its guard
//! on a real socket (the pages themselves are tested in Chromium: tests/browser).

use super::*;

#[test]
fn serve_refuses_an_open_address_without_a_token_and_a_weak_token() {
    let sb = Sandbox::new();
    let out = sb.run(&["serve", "--bind", "0.0.0.0", "--port", "0"]);
    assert_fails(&out, "give an access token with --token");
    let out = sb.run(&["serve", "--port", "0", "--token", "short"]);
    assert_fails(&out, "16 or more characters");
    // A port taken by another program: one line naming it.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = sb.run(&["serve", "--port", &port]);
    assert_fails(&out, &format!("cannot listen on 127.0.0.1:{port}"));
}

/// One HTTP/1.1 request on a fresh connection: the status line and the rest.
fn request(port: u16, head: &str) -> String {
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

#[test]
fn serve_prints_a_tokened_url_and_guards_every_request() {
    let sb = Sandbox::new();
    let mut child = sb
        .cmd(&["serve", "--port", "0", "--max-upload", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    let (addr, token) = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.split_once("/?token="))
        .unwrap_or_else(|| panic!("unexpected URL {url}"));
    let port: u16 = addr.parse().unwrap();
    assert_eq!(token.len(), 32);
    let host = format!("Host: 127.0.0.1:{port}\r\n");
    let got = request(port, &format!("GET / HTTP/1.1\r\n{host}"));
    assert!(got.starts_with("HTTP/1.1 401"), "{got}");
    let got = request(port, &format!("GET /?token={token} HTTP/1.1\r\n{host}"));
    assert!(got.starts_with("HTTP/1.1 303"), "{got}");
    assert!(
        got.contains("babeldesk_token=") && got.contains("HttpOnly"),
        "{got}"
    );
    let cookie = format!("Cookie: babeldesk_token={token}\r\n");
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
