//! Crash consistency: 100 `kill -9` at random moments, 25 each during `memory import`,
//! `translate` into the memory, `memory edit` and `memory copy`. After every kill the database
//! passes `PRAGMA integrity_check` and its word index's own check, no unit is half-written (all
//! of a transaction or none of it), units and their history agree, and running the same
//! command again completes. The seed is printed; BABELDESK_CRASH_SEED replays one run.

use super::fuzz_replay::Rng;
use super::memory::{big_tmx, unsafe_kill};
use super::*;
use std::time::{Duration, Instant};

const KILLS_EACH: usize = 25;

/// The kill moments, from a seed that is printed.
struct Moments(Rng);

impl Moments {
    fn new(what: &str) -> Moments {
        let seed = std::env::var("BABELDESK_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("{what}: BABELDESK_CRASH_SEED={seed}");
        Moments(Rng(seed))
    }

    /// A moment in 0..window, uniformly.
    fn within(&mut self, window: Duration) -> Duration {
        window.mul_f64((self.0.next() % 10_000) as f64 / 10_000.0)
    }
}

/// What a killed database holds, read the way the next command would open it.
#[derive(Debug, PartialEq)]
struct Shape {
    units: i64,
    history: i64,
    /// The target of unit 2, the one the edits correct.
    second: String,
}

fn check(db: &Path) -> Shape {
    let c = rusqlite::Connection::open(db).unwrap();
    let one = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "{}", db.display());
    c.execute(
        "INSERT INTO units_words (units_words) VALUES ('integrity-check')",
        [],
    )
    .expect("the word index agrees with the units");
    let half = one(
        "SELECT count(*) FROM units WHERE source = '' OR target = '' OR source_key = '' \
         OR key_hash IS NULL OR ntok IS NULL",
    );
    assert_eq!(half, 0, "half-written units in {}", db.display());
    let orphans =
        one("SELECT count(*) FROM unit_history WHERE unit_id NOT IN (SELECT id FROM units)");
    assert_eq!(orphans, 0, "history of no unit");
    Shape {
        units: one("SELECT count(*) FROM units"),
        history: one("SELECT count(*) FROM unit_history"),
        second: c
            .query_row("SELECT target FROM units WHERE id = 2", [], |r| r.get(0))
            .unwrap_or_default(),
    }
}

/// A memory killed while it was being made: its schema may stop at any migration (each is a
/// transaction of its own), which the next command completes. Such a memory is whole and holds
/// nothing; one with its whole schema is judged by [`check`].
fn check_started(db: &Path) -> Shape {
    let c = rusqlite::Connection::open(db).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "{}", db.display());
    let has = |table: &str| -> bool {
        c.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = ?1",
            [table],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            > 0
    };
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let migrations = migrations_in("memory/migrations");
    if version == migrations {
        drop(c);
        return check(db);
    }
    let units = match has("units") {
        true => c
            .query_row("SELECT count(*) FROM units", [], |r| r.get(0))
            .unwrap(),
        false => 0,
    };
    assert_eq!(units, 0, "units in a memory whose schema is not finished");
    Shape {
        units,
        history: 0,
        second: String::new(),
    }
}

/// Starts `args`, kills it at a random moment within `window`. True when it was still
/// running then (a real kill), false when it had already finished.
fn kill_during(sb: &Sandbox, args: &[&str], input: Option<&[u8]>, at: Duration) -> bool {
    let mut child = sb
        .cmd(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    if let Some(bytes) = input {
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(bytes);
    }
    let start = Instant::now();
    while start.elapsed() < at {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let running = child.try_wait().unwrap().is_none();
    if running {
        unsafe_kill(child.id());
    }
    child.wait().unwrap();
    running
}

/// How long `args` takes uncut: the window the kills fall in (a little past its end).
fn timed(sb: &Sandbox, args: &[&str], input: Option<&[u8]>) -> Duration {
    let start = Instant::now();
    let out = match input {
        Some(bytes) => sb.run_stdin(args, bytes),
        None => sb.run(args),
    };
    assert!(out.status.success(), "{}", stderr(&out));
    start.elapsed().mul_f64(1.1)
}

fn db_args<'a>(db: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--memory", db];
    v.extend_from_slice(rest);
    v
}

/// Runs `KILLS_EACH` kills of `args` on a fresh copy of `base` each time; `after_kill` and
/// `after_rerun` judge the database. Returns how many kills hit a running command.
fn campaign(
    what: &str,
    base: &Path,
    args: &[&str],
    input: Option<&[u8]>,
    after_kill: impl Fn(&Shape),
    after_rerun: impl Fn(&Shape),
) -> usize {
    let sb = Sandbox::new();
    let db = sb.path("tm.sqlite");
    let dbs = db.display().to_string();
    let all = db_args(&dbs, args);
    std::fs::copy(base, &db).unwrap();
    let window = timed(&sb, &all, input);
    let mut moments = Moments::new(what);
    let mut killed = 0;
    for _ in 0..KILLS_EACH {
        std::fs::copy(base, &db).unwrap();
        for side in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{dbs}{side}"));
        }
        killed += kill_during(&sb, &all, input, moments.within(window)) as usize;
        after_kill(&check(&db));
        let out = match input {
            Some(bytes) => sb.run_stdin(&all, bytes),
            None => sb.run(&all),
        };
        assert!(
            out.status.success(),
            "{what}: the rerun failed: {}",
            stderr(&out)
        );
        after_rerun(&check(&db));
    }
    eprintln!("{what}: {killed} of {KILLS_EACH} kills hit it running (window {window:?})");
    killed
}

/// A memory of 3 units, one of them edited once (so there is history).
fn base_memory(sb: &Sandbox) -> PathBuf {
    let db = sb.path("base.sqlite");
    let dbs = db.display().to_string();
    let tmx = sb.path("three.tmx");
    std::fs::write(&tmx, super::memory::TMX).unwrap();
    let out = sb.run(&["--memory", &dbs, "memory", "import", tmx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb.run(&[
        "--memory",
        &dbs,
        "memory",
        "edit",
        "1",
        "--target",
        "Edited once.",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // One file, no WAL beside it, so a copy of it is the whole memory.
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "journal_mode", "DELETE")
        .unwrap();
    db
}

#[test]
fn killed_writers_leave_whole_transactions_and_reruns_complete() {
    let sb = Sandbox::new();
    let base = base_memory(&sb);
    let start = check(&base);
    assert_eq!((start.units, start.history), (3, 1));
    let second = start.second.clone();
    let mut killed = 0;

    // import: all of the file's units or none.
    let big = sb.path("big.tmx");
    std::fs::write(&big, big_tmx(5_000)).unwrap();
    let big = big.display().to_string();
    killed += campaign(
        "import",
        &base,
        &["memory", "import", &big],
        None,
        |s| assert!(s.units == 3 || s.units == 5_003, "{s:?}"),
        |s| assert_eq!(s.units, 5_003),
    );

    // translate into the memory: each stored unit whole; the rerun stores the rest.
    let model = fixture("tiny-marian-ru-en");
    let doc: String = (0..40)
        .map(|i| format!("Завод номер {i} открыли в прошлом году. "))
        .collect();
    let translate = [
        "translate",
        "--model-dir",
        model.to_str().unwrap(),
        "--beams",
        "1",
        "--max-length",
        "8",
    ];
    let whole = {
        let probe = Sandbox::new();
        let db = probe.path("probe.sqlite");
        std::fs::copy(&base, &db).unwrap();
        let dbs = db.display().to_string();
        let out = probe.run_stdin(&db_args(&dbs, &translate), doc.as_bytes());
        assert!(out.status.success(), "{}", stderr(&out));
        check(&db).units
    };
    assert!(whole > 3, "translate stored nothing");
    killed += campaign(
        "translate",
        &base,
        &translate,
        Some(doc.as_bytes()),
        |s| assert!((3..=whole).contains(&s.units) && s.history == 1, "{s:?}"),
        |s| assert_eq!(s.units, whole),
    );

    // edit: the new target and its history row together, or neither.
    killed += campaign(
        "edit",
        &base,
        &["memory", "edit", "2", "--target", "Corrected."],
        None,
        |s| {
            let before = s.history == 1 && s.second == second;
            let after = s.history == 2 && s.second == "Corrected.";
            assert!(s.units == 3 && (before || after), "{s:?}");
        },
        |s| assert!(s.history >= 2 && s.second == "Corrected.", "{s:?}"),
    );

    killed += copy_campaign(&sb, &base, &big);
    eprintln!("crash consistency: {killed} kills hit a running writer so far");
    assert!(killed > 0, "no kill hit a running command");
}

/// `memory copy` killed: the destination is empty (or absent) or whole, never partial; a
/// rerun into an empty one completes.
fn copy_campaign(sb: &Sandbox, base: &Path, big: &str) -> usize {
    let from = sb.path("from.sqlite");
    std::fs::copy(base, &from).unwrap();
    let froms = from.display().to_string();
    let out = sb.run(&["--memory", &froms, "memory", "import", big]);
    assert!(out.status.success(), "{}", stderr(&out));
    let whole = check(&from);
    let to = sb.path("to.sqlite");
    let tos = to.display().to_string();
    let args = ["--memory", &froms, "memory", "copy", "--to", &tos];
    let clear = || {
        for side in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{tos}{side}"));
        }
    };
    let window = timed(sb, &args, None);
    let mut moments = Moments::new("copy");
    let mut killed = 0;
    for _ in 0..KILLS_EACH {
        clear();
        killed += kill_during(sb, &args, None, moments.within(window)) as usize;
        let complete = to.exists() && {
            let s = check_started(&to);
            assert!(s.units == 0 || s == whole, "a partial copy: {s:?}");
            s == whole
        };
        if !complete {
            let out = sb.run(&args);
            assert!(
                out.status.success(),
                "copy: the rerun failed: {}",
                stderr(&out)
            );
        }
        assert_eq!(check(&to), whole);
        assert_eq!(check(&from), whole, "the source changed");
    }
    eprintln!("copy: {killed} of {KILLS_EACH} kills hit it running (window {window:?})");
    killed
}
