//! What the unit tests and the integration harness (tests/cli) share about tests that cannot
//! run here. Not part of the API.

use std::io::Write;

/// Whether every test must run: under `BABELDESK_REQUIRE_MODELS` (what `make test` sets) and
/// in CI (`CI=true`), where the models, servers, tools and `../shared` are all there.
pub fn all_required() -> bool {
    std::env::var_os("BABELDESK_REQUIRE_MODELS").is_some()
        || std::env::var("CI").as_deref() == Ok("true")
}

/// A test that cannot run here: fails where every test must run ([`all_required`]);
/// elsewhere says why on stderr and records the skip in `BABELDESK_SKIP_LOG`, which `make
/// test` counts on its last line. A skipped test is never a silent pass.
pub fn skip(reason: &str) {
    let test = current_test();
    assert!(
        !all_required(),
        "{test} cannot run: {reason} (BABELDESK_REQUIRE_MODELS or CI=true: no test may be skipped)"
    );
    eprintln!("skipped: {reason}");
    record("skipped", &test, reason);
}

/// An int8 reference made on the machine that runs the tests: `make test` has torch (from the
/// venv) write them into `BABELDESK_INT8_REFERENCES` (target/int8-references). fbgemm picks its
/// int8 kernels by the CPU (AVX2, AVX-512, VNNI), which round and sum differently: outputs made
/// on one machine do not hold on another, while babeldesk's int8 and torch's agree token for
/// token on each. Without them the test skips ([`skip`]).
pub fn int8_reference(name: &str) -> Option<serde_json::Value> {
    let Some(dir) = std::env::var_os("BABELDESK_INT8_REFERENCES") else {
        skip("no int8 references made on this machine (BABELDESK_INT8_REFERENCES; `make test` makes them)");
        return None;
    };
    let path = std::path::Path::new(&dir).join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (make test makes it)", path.display()));
    Some(serde_json::from_str(&text).expect("a JSON reference"))
}

/// An output the test knows to be wrong and accepts for now: said on stderr and recorded in
/// `BABELDESK_SKIP_LOG`, which `make test` lists and counts as known misses.
pub fn known_miss(what: &str) {
    let test = current_test();
    eprintln!("known miss: {what}");
    record("known miss", &test, what);
}

/// libtest names each test's thread after the test.
fn current_test() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

fn record(kind: &str, test: &str, what: &str) {
    let Some(log) = std::env::var_os("BABELDESK_SKIP_LOG") else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log);
    if let Ok(mut f) = file {
        let _ = writeln!(f, "{kind}\t{test}\t{}", what.replace(['\n', '\t'], " "));
    }
}
