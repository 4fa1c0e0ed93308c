//! One raw request through the review server's handlers, in process: what the fuzz target
//! (`fuzz/fuzz_targets/serve_request.rs`) and the corpus replay run. See `crate::invariants`.

use super::{pages, State};
use crate::memory::Memory;
use axum::body::Body;
use axum::http::Request;
use std::sync::{Arc, Mutex, OnceLock};
use tower::ServiceExt;

/// `$T`, `$C` and `$H` in a request stand for these, so the fuzzer can present them.
const TOKEN: &str = "fuzz-token-0123456789abcdef";
const CSRF: &str = "fuzz-csrf-0123456789abcdef";
const HOST: &str = "127.0.0.1:8080";

/// A memory holding one document of three units, and a server over it: once per process.
struct App {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

const SEED: [(&str, &str); 3] = [
    ("Завод открыт.", "The plant is open."),
    ("Да.", "Yes."),
    ("Нет 3.", "No 3."),
];

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let tmx = dir.path().join("seed.tmx");
        let mut units = String::new();
        for (i, (ru, en)) in SEED.iter().enumerate() {
            units += &format!(
                "<tu srclang=\"ru\"><prop type=\"x-babeldesk-document\">doc.txt</prop>\
                 <prop type=\"x-babeldesk-position\">{i}</prop>\
                 <tuv xml:lang=\"ru\"><seg>{ru}</seg></tuv><tuv xml:lang=\"en\"><seg>{en}</seg></tuv></tu>"
            );
        }
        let file = format!("<tmx version=\"1.4\"><header srclang=\"ru\"/><body>{units}</body></tmx>");
        std::fs::write(&tmx, file).expect("a scratch file");
        let mut memory = Memory::open(&dir.path().join("memory.sqlite")).expect("a memory");
        crate::exchange::import_files(&mut memory, &[tmx], &crate::progress::Silent)
            .expect("the seed imports");
        let state = State {
            memory: Mutex::new(memory),
            token: TOKEN.into(),
            // The seeds' cookie header names it so, for HOST's port (`Cookie: babeldesk_token_8080=$T`).
            cookie: super::guard::cookie_name(8080),
            csrf: CSRF.into(),
            hosts: vec![HOST.into()],
        };
        App {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
            router: pages::router(Arc::new(state), 1 << 20),
            _dir: dir,
        }
    })
}

/// `METHOD TARGET` on the first line, `Name: value` header lines, a blank line, the body.
/// None when it is no HTTP request at all (hyper refuses those before any handler).
fn parse(data: &[u8]) -> Option<Request<Body>> {
    let text = String::from_utf8_lossy(data)
        .replace("$T", TOKEN)
        .replace("$C", CSRF)
        .replace("$H", HOST);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let (method, target) = lines.next()?.split_once(' ')?;
    let mut request = Request::builder().method(method).uri(target);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        request = request.header(name.trim(), value.trim());
    }
    request.body(Body::from(body.to_owned())).ok()
}

/// Sends one request; panics if the server panics or fails (5xx).
pub fn fuzz_one_request(data: &[u8]) {
    answer(data);
}

/// The status of the answer to `data`, None when it is no request.
fn answer(data: &[u8]) -> Option<axum::http::StatusCode> {
    let request = parse(data)?;
    let app = app();
    let response = app
        .runtime
        .block_on(app.router.clone().oneshot(request))
        .expect("the router never fails");
    let status = response.status();
    let body = app
        .runtime
        .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
        .expect("a whole body");
    assert!(
        !status.is_server_error(),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    Some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds reach the handlers (not only the guard), so the fuzzer starts past it.
    #[test]
    fn seeds_reach_the_handlers() {
        let seeds =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/serve_request");
        for (name, want) in [
            ("token", 303),
            ("units", 200),
            ("doc", 200),
            ("edit", 303),
            ("bulk", 303),
            ("import", 200),
            ("doc-status", 303),
            ("export", 200),
        ] {
            let data = std::fs::read(seeds.join(name)).unwrap();
            let status = answer(&data).map(|s| s.as_u16());
            assert_eq!(status, Some(want), "seed {name}");
        }
        assert_eq!(
            answer(b"GET /units\nHost: $H\n\n").map(|s| s.as_u16()),
            Some(401)
        );
    }
}
