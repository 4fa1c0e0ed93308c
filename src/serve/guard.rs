//! Who may talk to the server: the access token (query once, then a cookie), the Host header
//! (DNS rebinding), the Origin of a POST, the CSRF token of a form, and the headers every
//! answer carries (CSP and friends).

use super::State;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// The token cookie's name on a server listening on `port`. Cookies are scoped by host, not by
/// port: one name for every instance on 127.0.0.1 would let each overwrite the other's, and
/// two review pages open at once would log each other out.
pub fn cookie_name(port: u16) -> String {
    format!("babeldesk_token_{port}")
}

/// 32 hex digits from the system's random source.
pub fn random_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom (not Linux): the clock and the process, hashed.
        use sha2::Digest;
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        bytes.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes())[..16]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a token given with --token will do: 16 or more characters that a URL and a cookie
/// carry as they are (RFC 3986's unreserved ones), so it is printed, sent and compared
/// unchanged; spaces, `&`, `;` and non-ASCII would be cut or encoded on the way.
pub fn token_ok(token: &str) -> bool {
    token.len() >= 16
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The Host values a browser sends to this server. Bound to every address, any host will do
/// (the token still guards it); on loopback only loopback names, so a rebound DNS name fails.
pub fn allowed_hosts(bind: IpAddr, port: u16) -> Vec<String> {
    if bind.is_unspecified() {
        return Vec::new();
    }
    let mut names = match bind {
        IpAddr::V6(ip) => vec![format!("[{ip}]")],
        IpAddr::V4(ip) => vec![ip.to_string()],
    };
    if bind.is_loopback() {
        names.extend(["localhost".to_string(), "127.0.0.1".into(), "[::1]".into()]);
    }
    // On port 80 browsers send the name alone.
    let mut hosts: Vec<String> = names.iter().map(|n| format!("{n}:{port}")).collect();
    if port == 80 {
        hosts.extend(names);
    }
    hosts
}

/// Equal strings, compared in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether a form's CSRF token is this server's.
pub fn csrf_ok(state: &State, token: &str) -> bool {
    same(&state.csrf, token)
}

fn header_str<'a>(headers: &'a HeaderMap, name: header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn cookie_token<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    header_str(headers, header::AUTHORIZATION)?.strip_prefix("Bearer ")
}

/// `token=…` in a query string, and the query without it.
fn query_token(query: &str) -> (Option<&str>, String) {
    let mut token = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| match p.strip_prefix("token=") {
            Some(t) => {
                token = Some(t);
                false
            }
            None => !p.is_empty(),
        })
        .collect();
    (token, rest.join("&"))
}

/// Whether a POST's Origin is this server as the browser reached it: `http://` directly,
/// `https://` through a TLS reverse proxy that passes the Host header on.
fn same_origin(origin: &str, host: &str) -> bool {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|h| !host.is_empty() && h.eq_ignore_ascii_case(host))
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{why}\n"),
    )
        .into_response()
}

/// The checks every request passes before a handler sees it, and the headers on every answer.
pub async fn check(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = match admit(&state, &request) {
        Err(refused) => refused,
        Ok(Some(entry)) => entry,
        Ok(None) => next.run(request).await,
    };
    secure_headers(response.headers_mut());
    response
}

/// None: let the request through; Some: the answer instead (the token's first visit
/// redirects to the same page with the cookie set); Err: refused.
fn admit(state: &State, request: &Request) -> Result<Option<Response>, Response> {
    let headers = request.headers();
    let host = header_str(headers, header::HOST).unwrap_or("");
    if !state.hosts.is_empty() && !state.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "unknown Host: open the URL babeldesk serve printed",
        ));
    }
    if request.method() == Method::POST {
        if !header_str(headers, header::ORIGIN).is_none_or(|o| same_origin(o, host)) {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "a request from another site was refused",
            ));
        }
    }
    let query = request.uri().query().unwrap_or("");
    let (given, rest) = query_token(query);
    if let Some(t) = given {
        if !same(t, &state.token) {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "wrong access token: open the URL babeldesk serve printed",
            ));
        }
        // Trade the token in the URL for a cookie, so it leaves the address bar and history.
        // The same path, unless a browser would read it as another host's (`//evil.example/`).
        let path = request.uri().path();
        let path = if super::pages::local_path(path) {
            path
        } else {
            "/"
        };
        let to = if rest.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{rest}")
        };
        let mut r = Redirect::to(&to).into_response();
        let cookie = format!(
            "{}={}; HttpOnly; SameSite=Strict; Path=/",
            state.cookie, state.token
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        return Ok(Some(r));
    }
    let presented = cookie_token(headers, &state.cookie).or_else(|| bearer_token(headers));
    match presented {
        Some(t) if same(t, &state.token) => Ok(None),
        _ => Err(refuse(StatusCode::UNAUTHORIZED, "an access token is required: open the URL babeldesk serve printed (it ends in ?token=…)")),
    }
}

fn secure_headers(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'",
    );
    set(h, "x-content-type-options", "nosniff");
    // Not no-referrer: under it Chromium sends `Origin: null` with a form POST, which the
    // Origin check must refuse.
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_hosts_and_queries() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
        let hosts = allowed_hosts("127.0.0.1".parse().unwrap(), 8080);
        assert!(hosts.contains(&"localhost:8080".to_string()));
        assert!(!hosts.contains(&"evil.example:8080".to_string()));
        assert!(allowed_hosts("0.0.0.0".parse().unwrap(), 1).is_empty());
        // Port 80: browsers leave the port out of Host (issue 32).
        let on_80 = allowed_hosts("127.0.0.1".parse().unwrap(), 80);
        assert!(on_80.contains(&"localhost".to_string()) && on_80.contains(&"127.0.0.1:80".into()));
        assert!(!hosts.contains(&"localhost".to_string()));
        assert!(token_ok("0123456789abcdef-._~"));
        for weak in [
            "short",
            &" ".repeat(16),
            "0123456789abcdef&x",
            "0123456789abcdef;x",
            "0123456789abcdefé",
        ] {
            assert!(!token_ok(weak), "{weak:?}");
        }
        assert_eq!(
            query_token("a=1&token=xyz&b=2"),
            (Some("xyz"), "a=1&b=2".into())
        );
        assert_eq!(query_token("token=xyz"), (Some("xyz"), String::new()));
        assert_eq!(query_token("a=1"), (None, "a=1".into()));
    }

    #[test]
    fn a_post_comes_from_this_server_directly_or_through_a_tls_proxy() {
        assert!(same_origin("http://127.0.0.1:8700", "127.0.0.1:8700"));
        assert!(same_origin("https://Desk.example", "desk.example"));
        for (origin, host) in [
            ("https://evil.example", "desk.example"),
            ("http://desk.example.evil.example", "desk.example"),
            ("null", "desk.example"),
            ("ftp://desk.example", "desk.example"),
            ("https://", ""),
        ] {
            assert!(!same_origin(origin, host), "{origin} for {host}");
        }
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static(
                "x=1; babeldesk_token_8701=other; babeldesk_token_8700=t0k; y=2",
            ),
        );
        assert_eq!(cookie_token(&h, &cookie_name(8700)), Some("t0k"));
        assert_eq!(cookie_token(&h, &cookie_name(8701)), Some("other"));
        assert_eq!(cookie_token(&h, &cookie_name(870)), None);
    }
}
