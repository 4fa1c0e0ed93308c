//! Bad storage: a damaged database file (three ways), one of a newer schema, a full disk (a
//! small tmpfs the test mounts, as root). Each gives one line with the path and the fix, exits
//! 1 and changes nothing already stored. A read-only file or folder
//! (`hardening::a_memory_in_a_read_only_folder_is_still_read`) and a lock held past the
//! timeout (`memory::a_locked_memory_waits_then_says_so`) are tested beside their features.

use super::memory::{big_tmx, TMX};
use super::*;

fn sha(path: &Path) -> String {
    sha256(&std::fs::read(path).unwrap())
}

/// A memory of three units in one file (no WAL beside it).
fn memory_file(sb: &Sandbox, name: &str) -> PathBuf {
    let db = sb.path(name);
    let tmx = sb.path("three.tmx");
    std::fs::write(&tmx, TMX).unwrap();
    let dbs = db.to_str().unwrap();
    let out = sb.run(&["--memory", dbs, "memory", "import", tmx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "journal_mode", "DELETE")
        .unwrap();
    db
}

/// Every command here fails with `needle` and the path in its one line, leaving the bytes.
fn refused_untouched(sb: &Sandbox, db: &Path, needle: &str) {
    let dbs = db.to_str().unwrap();
    let tmx = sb.path("three.tmx");
    let before = sha(db);
    for args in [
        vec!["memory", "import", tmx.to_str().unwrap()],
        vec!["memory", "edit", "1", "--target", "Changed."],
        vec!["memory", "export"],
    ] {
        let mut all = vec!["--memory", dbs];
        all.extend_from_slice(&args);
        let out = sb.run(&all);
        assert_fails(&out, needle);
        assert!(stderr(&out).contains(dbs), "no path in: {}", stderr(&out));
        assert_eq!(sha(db), before, "{args:?} changed {dbs}");
    }
}

#[test]
fn damaged_and_newer_databases_are_refused_with_the_fix() {
    let sb = Sandbox::new();
    let base = memory_file(&sb, "base.sqlite");
    let page = 4096;
    let damages: [(&str, fn(&mut Vec<u8>, usize), &str); 3] = [
        (
            "header",
            |b, _| b[..16].copy_from_slice(b"garbage garbage!"),
            "not a SQLite database",
        ),
        (
            "pages",
            |b, p| b[2 * p..].iter_mut().for_each(|x| *x = 0xFF),
            "is damaged",
        ),
        ("truncated", |b, p| b.truncate(p + p / 2), "is damaged"),
    ];
    for (what, damage, needle) in damages {
        let db = sb.path(&format!("{what}.sqlite"));
        let mut bytes = std::fs::read(&base).unwrap();
        damage(&mut bytes, page);
        std::fs::write(&db, bytes).unwrap();
        refused_untouched(&sb, &db, needle);
    }
    // A memory a newer babeldesk wrote.
    let newer = sb.path("newer.sqlite");
    std::fs::copy(&base, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    refused_untouched(
        &sb,
        &newer,
        &format!(
            "newer than this babeldesk knows ({}); upgrade babeldesk",
            migrations_in("memory/migrations")
        ),
    );
}

/// A tmpfs of `size` mounted on a new folder, unmounted when dropped; None where mounting is
/// not allowed (not root, or a container without the right).
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::Builder::new()
            .prefix("bd-full-")
            .tempdir_in("/tmp")
            .ok()?
            .keep();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_full_disk_rolls_back_and_loses_nothing() {
    let Some(disk) = SmallDisk::mount("3m") else {
        skip("cannot mount a tmpfs here (needs root); the full-disk case is untested");
        return;
    };
    let sb = Sandbox::new();
    let db = disk.0.join("tm.sqlite");
    let dbs = db.to_str().unwrap();
    let tmx = sb.path("three.tmx");
    std::fs::write(&tmx, TMX).unwrap();
    let out = sb.run(&["--memory", dbs, "memory", "import", tmx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = stdout(&sb.run(&["--memory", dbs, "memory", "export"]));
    let big = sb.path("big.tmx");
    std::fs::write(&big, big_tmx(20_000)).unwrap();
    let out = sb.run(&["--memory", dbs, "memory", "import", big.to_str().unwrap()]);
    assert_fails(&out, "the disk is full");
    assert!(stderr(&out).contains(dbs), "{}", stderr(&out));
    // What was stored is all there, whole, and the memory takes work again once there is room.
    let after = stdout(&sb.run(&["--memory", dbs, "memory", "export"]));
    assert_eq!(after, before, "the memory changed");
    let c = rusqlite::Connection::open(&db).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    drop(c);
    let out = sb.run(&[
        "--memory",
        dbs,
        "memory",
        "edit",
        "1",
        "--target",
        "Room again.",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}
