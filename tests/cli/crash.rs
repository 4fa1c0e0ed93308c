//! Crash consistency: 100 `kill -9` at random moments, 25 each during `memory import`,
//! `translate` into the memory, `memory edit` and `memory copy`. After every kill the database
//! passes `PRAGMA integrity_check` and its word index's own check, no unit is half-written (all
//! of a transaction or none of it), units and their history agree, and running the same
//! command again completes. The seed is printed; BABELDESK_CRASH_SEED replays one run.
//!
//! Every kill stops the process first and reads /proc/locks: a kill counts as inside a write
//! transaction when the process held SQLite's WAL write lock then. Half the kills wait for that
//! lock after their random moment (so short transactions, an edit's, are hit too), and each
//! command must have been killed inside a write transaction [`IN_TRANSACTION_EACH`] times or
//! the test fails: kills that only ever land at start-up or after the commit test nothing.

use super::fuzz_replay::Rng;
use super::memory::big_tmx;
use super::*;
use std::time::{Duration, Instant};

const KILLS_EACH: usize = 25;
/// Kills of each command that must land inside a write transaction.
const IN_TRANSACTION_EACH: usize = 8;
/// Tries for an aimed kill whose command finished before its write lock was seen.
const AIM_TRIES: usize = 5;

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

/// Where a kill landed.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Landed {
    /// The command had finished.
    Finished,
    /// The command was running, outside a write transaction.
    Running,
    /// The command held the memory's write lock.
    InTransaction,
}

/// Whether `pid` holds SQLite's WAL write lock on `db`: byte 120 of the `-shm` file, a POSIX
/// write lock that /proc/locks lists with the holder's pid and the file's inode.
fn holds_write_lock(pid: u32, db: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(shm) = std::fs::metadata(format!("{}-shm", db.display())) else {
        return false;
    };
    let (pid, inode) = (pid.to_string(), shm.ino().to_string());
    let locks = std::fs::read_to_string("/proc/locks").expect("/proc/locks (Linux)");
    locks.lines().filter(|l| !l.contains("->")).any(|l| {
        // 1: POSIX  ADVISORY  WRITE 4242 fd:01:123456 120 120
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() >= 8
            && f[1] == "POSIX"
            && f[3] == "WRITE"
            && f[4] == pid
            && f[5].rsplit(':').next() == Some(inode.as_str())
            && f[6] == "120"
    })
}

/// The state letter of `pid` in /proc/PID/stat (T stopped, Z exited and not yet waited for).
fn state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // pid (comm) STATE …: comm may hold spaces, so read after its closing parenthesis.
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
        .unwrap_or('X')
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid, which it stays until we wait for it.
    let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

/// Starts `args` on the memory `db`, waits until `at`, and, when `aimed`, on until the command
/// holds the memory's write lock; then stops it, sees whether it holds the lock, and kills it.
fn kill_during(
    sb: &Sandbox,
    db: &Path,
    args: &[&str],
    input: Option<&[u8]>,
    at: Duration,
    aimed: bool,
) -> Landed {
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
            return Landed::Finished;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    while aimed && !holds_write_lock(child.id(), db) {
        if child.try_wait().unwrap().is_some() {
            return Landed::Finished;
        }
    }
    if child.try_wait().unwrap().is_some() {
        return Landed::Finished;
    }
    // A SIGSTOP takes effect a moment after kill(2) returns, and the lock must be read from a
    // process that no longer runs; the command may also have ended just before it.
    signal(child.id(), libc::SIGSTOP);
    loop {
        match state(child.id()) {
            'T' | 't' => break,
            'Z' | 'X' => {
                child.wait().unwrap();
                return Landed::Finished;
            }
            _ => std::hint::spin_loop(),
        }
    }
    let landed = match holds_write_lock(child.id(), db) {
        true => Landed::InTransaction,
        false => Landed::Running,
    };
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    landed
}

/// How the kills of one command landed.
#[derive(Default, Debug)]
struct Kills {
    running: usize,
    in_transaction: usize,
}

impl Kills {
    fn add(&mut self, landed: Landed) {
        self.running += (landed != Landed::Finished) as usize;
        self.in_transaction += (landed == Landed::InTransaction) as usize;
    }

    /// Says how they landed, and fails when too few hit a write transaction.
    fn judge(&self, what: &str, window: Duration) -> usize {
        eprintln!(
            "{what}: {} of {KILLS_EACH} kills hit it running, {} inside a write transaction \
             (window {window:?})",
            self.running, self.in_transaction
        );
        assert!(
            self.in_transaction >= IN_TRANSACTION_EACH,
            "{what}: only {} kills landed inside a write transaction",
            self.in_transaction
        );
        self.running
    }
}

/// The `k`th kill of a command: odd ones are aimed at a write transaction, and an aimed kill
/// whose command finished before its lock was seen tries again (on a fresh start, from
/// `reset`).
fn kill_kth(
    k: usize,
    moments: &mut Moments,
    window: Duration,
    reset: &dyn Fn(),
    kill: &dyn Fn(Duration, bool) -> Landed,
) -> Landed {
    let aimed = k % 2 == 1;
    let mut landed = Landed::Finished;
    for _ in 0..if aimed { AIM_TRIES } else { 1 } {
        reset();
        // Aimed kills start waiting for the lock early in the window: a command's
        // transactions may all be near its start.
        let at = moments.within(if aimed { window / 2 } else { window });
        landed = kill(at, aimed);
        if landed != Landed::Finished {
            break;
        }
    }
    landed
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
    let mut kills = Kills::default();
    let reset = || {
        std::fs::copy(base, &db).unwrap();
        for side in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{dbs}{side}"));
        }
    };
    for k in 0..KILLS_EACH {
        let kill = |at, aimed| kill_during(&sb, &db, &all, input, at, aimed);
        kills.add(kill_kth(k, &mut moments, window, &reset, &kill));
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
    kills.judge(what, window)
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
    let mut kills = Kills::default();
    for k in 0..KILLS_EACH {
        let kill = |at, aimed| kill_during(sb, &to, &args, None, at, aimed);
        kills.add(kill_kth(k, &mut moments, window, &clear, &kill));
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
    kills.judge("copy", window)
}
