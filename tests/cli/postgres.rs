//! The memory on a real PostgreSQL server (`make test` starts a throwaway one and names it in
//! `BABELDESK_TEST_POSTGRES`): the same commands give the same results as on SQLite, many
//! writers lose nothing, a killed writer leaves nothing half-written, and bad URLs, wrong
//! passwords, unreachable hosts and other schemas each give one line and change nothing.

use super::memory::{big_tmx, unsafe_kill, TMX};
use super::*;
use std::time::{Duration, Instant};

/// The test server's superuser URL. Without one the test is skipped ([`skip`]: it fails under
/// `make test` and in CI, which start one).
fn server() -> Option<String> {
    match std::env::var("BABELDESK_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip("no PostgreSQL (BABELDESK_TEST_POSTGRES is unset; `make test` starts one)");
            None
        }
    }
}

fn admin(url: &str) -> ::postgres::Client {
    ::postgres::Client::connect(url, ::postgres::NoTls).unwrap()
}

/// A new, empty database on the test server: its URL.
fn fresh_database(server: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "bd_cli_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    admin(server)
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// The server's TCP port (the socket URL's `:port`).
fn port(server: &str) -> String {
    let after_host = server.rsplit_once(':').unwrap().1;
    after_host.split('/').next().unwrap().to_string()
}

/// A TMX file of ru→en units, `(source, target)` each.
fn write_tmx(sb: &Sandbox, name: &str, units: impl Iterator<Item = (String, String)>) -> PathBuf {
    let mut t = String::from("<?xml version=\"1.0\"?>\n<tmx version=\"1.4\"><header srclang=\"ru\" creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" adminlang=\"en\" datatype=\"plaintext\"/><body>\n");
    for (source, target) in units {
        t.push_str(&format!("<tu><tuv xml:lang=\"ru\"><seg>{source}</seg></tuv><tuv xml:lang=\"en\"><seg>{target}</seg></tuv></tu>\n"));
    }
    t.push_str("</body></tmx>\n");
    let p = sb.path(name);
    std::fs::write(&p, t).unwrap();
    p
}

/// Imports running at once, one process per file: their JSON reports.
fn import_at_once(sb: &Sandbox, memory: &str, files: &[PathBuf]) -> Vec<Value> {
    let children: Vec<_> = files
        .iter()
        .map(|f| {
            sb.cmd(&[
                "--memory",
                memory,
                "memory",
                "import",
                f.to_str().unwrap(),
                "--format",
                "json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| json(&c.wait_with_output().unwrap()))
        .collect()
}

fn on(sb: &Sandbox, memory: &str, args: &[&str]) -> Output {
    let mut all = vec!["--memory", memory, "memory"];
    all.extend_from_slice(args);
    sb.run(&all)
}

fn on_json(sb: &Sandbox, memory: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    json(&on(sb, memory, &all))
}

/// JSON without times (two imports a second apart differ only there).
fn timeless(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Array(items) => items.iter_mut().for_each(strip),
            Value::Object(o) => {
                for k in ["created_at", "updated_at", "changed_at"] {
                    o.remove(k);
                }
                o.values_mut().for_each(strip);
            }
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// The same commands on SQLite and on PostgreSQL give the same output: imports, fuzzy and
/// concordance search with scores, review, export, analyze, stats.
#[test]
fn the_same_commands_give_the_same_results_on_sqlite_and_postgres() {
    let Some(server) = server() else { return };
    let sb = Sandbox::new();
    let pg = fresh_database(&server);
    let lite = sb.path("tm.sqlite").display().to_string();
    let tmx = sb.path("units.tmx");
    std::fs::write(&tmx, TMX).unwrap();
    let big = sb.path("big.tmx");
    std::fs::write(&big, big_tmx(2_000)).unwrap();
    for m in [&lite, &pg] {
        for file in [&tmx, &big] {
            let out = on(&sb, m, &["import", file.to_str().unwrap()]);
            assert!(out.status.success(), "{m}: {}", stderr(&out));
        }
        assert!(on(
            &sb,
            m,
            &["edit", "1", "--target", "The plant opened a year ago."]
        )
        .status
        .success());
        assert!(on(&sb, m, &["approve", "2", "5"]).status.success());
        assert!(on(&sb, m, &["reject", "7"]).status.success());
    }
    let same = |args: &[&str]| {
        let (a, b) = (on_json(&sb, &lite, args), on_json(&sb, &pg, args));
        assert_eq!(timeless(a.clone()), timeless(b), "{args:?}");
        a
    };
    let found = same(&["search", "Завод закрыли в прошлом году на севере страны."]);
    assert_eq!(found[0]["score"], 87);
    let found = same(&[
        "search",
        "Предложение номер 1234 о заводе, городе и погоде!",
        "--min-match",
        "60",
        "--limit",
        "50",
    ]);
    assert!(found.as_array().unwrap().len() >= 10, "{found}");
    assert_eq!(found[0]["score"], 99);
    assert_eq!(
        same(&["search", "--concordance", "ЗДЕСЬ"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        same(&["search", "--concordance", "номер 12", "--limit", "500"])
            .as_array()
            .unwrap()
            .len(),
        111
    );
    same(&["list", "--status", "approved"]);
    same(&["list", "--origin", "human"]);
    same(&["show", "1"]);
    let (a, b) = (
        on_json(&sb, &lite, &["stats"]),
        on_json(&sb, &pg, &["stats"]),
    );
    for k in [
        "units",
        "by_pair",
        "by_origin",
        "by_status",
        "terms",
        "summaries",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
    assert_eq!(b["units"], 2003);
    assert!(b["bytes"].as_u64().unwrap() > 0);
    assert!(b["path"].as_str().unwrap().starts_with("postgres://"));
    let export = |m: &str| {
        let out = on(&sb, m, &["export", "--lang", "ru-en"]);
        assert!(out.status.success(), "{}", stderr(&out));
        // Times differ between the two imports; the rest must not.
        let re = regex::Regex::new(r#"(creation|change)date="[^"]*""#).unwrap();
        re.replace_all(&stdout(&out), "").into_owned()
    };
    assert_eq!(export(&lite), export(&pg));
}

/// Moving a memory: SQLite → PostgreSQL → SQLite keeps every unit, its history and state; a
/// copy into a memory that holds units is refused and changes nothing.
#[test]
fn memory_copy_moves_a_memory_both_ways() {
    let Some(server) = server() else { return };
    let sb = Sandbox::new();
    let pg = fresh_database(&server);
    let lite = sb.path("tm.sqlite").display().to_string();
    let back = sb.path("back.sqlite").display().to_string();
    let big = sb.path("big.tmx");
    std::fs::write(&big, big_tmx(3_000)).unwrap();
    assert!(on(&sb, &lite, &["import", big.to_str().unwrap()])
        .status
        .success());
    assert!(on(&sb, &lite, &["edit", "10", "--target", "Fixed."])
        .status
        .success());
    assert!(on(&sb, &lite, &["approve", "10", "11"]).status.success());
    let report = on_json(&sb, &lite, &["copy", "--to", &pg]);
    assert_eq!(
        (report["units"].as_u64(), report["history"].as_u64()),
        (Some(3000), Some(3))
    );
    let report = on_json(&sb, &pg, &["copy", "--to", &back]);
    assert_eq!(report["units"], 3000);
    for m in [&pg, &back] {
        assert_eq!(
            on_json(&sb, m, &["show", "10"]),
            on_json(&sb, &lite, &["show", "10"])
        );
        assert_eq!(
            on_json(&sb, m, &["list", "--limit", "3000"]),
            on_json(&sb, &lite, &["list", "--limit", "3000"])
        );
    }
    let out = on(&sb, &lite, &["copy", "--to", &pg]);
    assert_fails(&out, "already holds units");
    assert_eq!(on_json(&sb, &pg, &["stats"])["units"], 3000);
}

/// Eight processes import 10,000 units each into one memory at once; half of each file is
/// also in the others'. Nothing is lost and nothing is stored twice.
#[test]
fn eight_writers_at_once_lose_nothing_and_double_nothing() {
    let Some(server) = server() else { return };
    let sb = Sandbox::new();
    let pg = fresh_database(&server);
    let files: Vec<PathBuf> = (0..8)
        .map(|w| {
            // Even units are shared by all writers (in the same order), odd ones are their own.
            let units = (0..10_000).map(move |i| {
                let n = match i % 2 {
                    0 => format!("общий {i}"),
                    _ => format!("писатель {w} строка {i}"),
                };
                (
                    format!("Предложение {n} о заводе."),
                    format!("Sentence {n} about the plant."),
                )
            });
            write_tmx(&sb, &format!("w{w}.tmx"), units)
        })
        .collect();
    let mut added = 0;
    for v in import_at_once(&sb, &pg, &files) {
        assert_eq!(v["read"], 10_000);
        added += v["added"].as_i64().unwrap();
    }
    let expected = 5_000 + 8 * 5_000;
    assert_eq!(added, expected, "each unit added once");
    let stats = on_json(&sb, &pg, &["stats"]);
    assert_eq!(stats["units"], expected);
    let mut db = admin(&pg);
    let dup: i64 = db
        .query_one("SELECT count(*) FROM (SELECT source, target FROM units GROUP BY 1, 2 HAVING count(*) > 1) d", &[])
        .unwrap()
        .get(0);
    assert_eq!(dup, 0);
    // The word counts the fuzzy lookup relies on saw every writer.
    let df: i64 = db
        .query_one("SELECT df FROM token_df WHERE term = 'заводе'", &[])
        .unwrap()
        .get(0);
    assert_eq!(df, expected);
}

/// A writer killed mid-transaction leaves nothing; one cut off by the server (its connection
/// terminated) says so in one line; a rerun completes.
#[test]
fn a_killed_or_cut_off_writer_leaves_nothing_half_written() {
    let Some(server) = server() else { return };
    let sb = Sandbox::new();
    let pg = fresh_database(&server);
    let tmx = sb.path("units.tmx");
    std::fs::write(&tmx, TMX).unwrap();
    assert!(on(&sb, &pg, &["import", tmx.to_str().unwrap()])
        .status
        .success());
    let big = sb.path("big.tmx");
    std::fs::write(&big, big_tmx(200_000)).unwrap();
    let mut db = admin(&pg);
    let importing = |db: &mut ::postgres::Client| -> bool {
        let n: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'babeldesk' \
                 AND datname = current_database() AND state IN ('active', 'idle in transaction')",
                &[],
            )
            .unwrap()
            .get(0);
        n > 0
    };
    for how in ["kill", "terminate"] {
        let mut child = sb
            .cmd(&["--memory", &pg, "memory", "import", big.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        // Wait until the import has been writing for a while.
        while !importing(&mut db) && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended first"
        );
        match how {
            "kill" => unsafe_kill(child.id()),
            _ => {
                db.batch_execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = 'babeldesk' AND datname = current_database()",
                )
                .unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success());
        if how == "terminate" {
            assert_fails(&out, "memory database postgres://");
            assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        }
        // The server rolls the transaction back: the three units from before, nothing else.
        let n: i64 = db
            .query_one("SELECT count(*) FROM units", &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 3, "after {how}");
        let df: Option<i64> = db
            .query_opt("SELECT df FROM token_df WHERE term = 'номер'", &[])
            .unwrap()
            .map(|r| r.get(0));
        assert_eq!(df, None, "after {how}");
    }
    let small = sb.path("small.tmx");
    std::fs::write(&small, big_tmx(5_000)).unwrap();
    assert!(on(&sb, &pg, &["import", small.to_str().unwrap()])
        .status
        .success());
    assert_eq!(on_json(&sb, &pg, &["stats"])["units"], 5_003);
}

/// Bad URLs, a wrong password, an unreachable host, another application's database and a
/// newer schema: one line each, exit 1, nothing changed, and never the password shown.
#[test]
fn bad_urls_passwords_hosts_and_schemas_give_one_line_and_change_nothing() {
    let Some(server) = server() else { return };
    let sb = Sandbox::new();
    let port = port(&server);
    let stats = |m: &str| sb.run(&["--memory", m, "memory", "stats"]);
    assert_fails(
        &stats("postgres://bd@localhost:notaport/tm"),
        "not a PostgreSQL URL",
    );
    let wrong = format!("postgres://bd_pw:not-the-password@127.0.0.1:{port}/postgres");
    let out = stats(&wrong);
    assert_fails(&out, "password authentication failed");
    assert!(
        !stderr(&out).contains("not-the-password"),
        "{}",
        stderr(&out)
    );
    // The right password from PGPASSWORD, as libpq reads it; the database is made by a write.
    let db = fresh_database(&server);
    let name = db.rsplit_once('/').unwrap().1;
    admin(&server)
        .batch_execute(&format!("ALTER DATABASE {name} OWNER TO bd_pw"))
        .unwrap();
    let url = format!("postgres://bd_pw@127.0.0.1:{port}/{name}");
    let out = sb
        .cmd(&["--memory", &url, "memory", "import", "/dev/null"])
        .env("PGPASSWORD", "bd-secret")
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("/dev/null") && !stderr(&out).contains("password"),
        "{}",
        stderr(&out)
    );
    // ~/.pgpass, as libpq reads it (home is the sandbox's).
    let pgpass = sb.path("home/.pgpass");
    std::fs::create_dir_all(pgpass.parent().unwrap()).unwrap();
    std::fs::write(&pgpass, format!("127.0.0.1:{port}:*:bd_pw:bd-secret\n")).unwrap();
    let out = stats(&url);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("postgres://bd_pw@127.0.0.1:{port}/{name}")));
    // Nothing listens on port 1.
    assert_fails(
        &stats("postgres://bd@127.0.0.1:1/tm"),
        "memory database postgres://bd@127.0.0.1:1/tm",
    );
    // A database of another application (a `units` table of its own) is refused untouched.
    let other = fresh_database(&server);
    admin(&other)
        .batch_execute("CREATE TABLE units (id int, what text)")
        .unwrap();
    let tmx = sb.path("units.tmx");
    std::fs::write(&tmx, TMX).unwrap();
    assert_fails(
        &sb.run(&[
            "--memory",
            &other,
            "memory",
            "import",
            tmx.to_str().unwrap(),
        ]),
        "is not a babeldesk memory",
    );
    let tables: i64 = admin(&other)
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1);
    // A memory written by a newer babeldesk.
    let newer = fresh_database(&server);
    assert!(on(&sb, &newer, &["import", tmx.to_str().unwrap()])
        .status
        .success());
    admin(&newer)
        .batch_execute("UPDATE babeldesk_schema SET version = 99")
        .unwrap();
    assert_fails(
        &on(&sb, &newer, &["import", tmx.to_str().unwrap()]),
        "has schema version 99, newer than this babeldesk knows",
    );
    let n: i64 = admin(&newer)
        .query_one("SELECT count(*) FROM units", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
}

/// Eight clients opening a new database at once: the migrations run once (advisory lock).
#[test]
fn clients_starting_at_once_migrate_once() {
    let Some(server) = server() else { return };
    let sb = Sandbox::new();
    let pg = fresh_database(&server);
    let tmx = sb.path("units.tmx");
    std::fs::write(&tmx, TMX).unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            sb.cmd(&["--memory", &pg, "memory", "import", tmx.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let mut db = admin(&pg);
    let v: i64 = db
        .query_one("SELECT version FROM babeldesk_schema", &[])
        .unwrap()
        .get(0);
    let rows: i64 = db
        .query_one("SELECT count(*) FROM babeldesk_schema", &[])
        .unwrap()
        .get(0);
    let units: i64 = db
        .query_one("SELECT count(*) FROM units", &[])
        .unwrap()
        .get(0);
    // The newest version is the number of PostgreSQL migrations.
    let newest = migrations_in("memory/migrations/postgres");
    assert!(newest >= 2);
    assert_eq!((v, rows, units), (newest, 1, 3));
}

/// Two imports of the same units in opposite orders wait on each other; PostgreSQL stops one
/// (a deadlock), and the import runs again by itself: both succeed, each unit stored once.
#[test]
fn imports_of_the_same_units_in_opposite_orders_both_succeed() {
    let Some(server) = server() else { return };
    let sb = Sandbox::new();
    let pg = fresh_database(&server);
    let units = |reversed: bool| {
        let mut ids: Vec<usize> = (0..20_000).collect();
        if reversed {
            ids.reverse();
        }
        ids.into_iter().map(|i| {
            (
                format!("Строка {i} отчёта."),
                format!("Line {i} of the report."),
            )
        })
    };
    let files = [
        write_tmx(&sb, "a.tmx", units(false)),
        write_tmx(&sb, "b.tmx", units(true)),
    ];
    let reports = import_at_once(&sb, &pg, &files);
    assert_eq!(reports.len(), 2);
    assert_eq!(on_json(&sb, &pg, &["stats"])["units"], 20_000);
}
