//! Writing output files: the one place that decides what `-o PATH` does to what is already
//! there.
//!
//! - `-` is standard output.
//! - A regular file (or a new path) is written to a temporary file beside it and renamed into
//!   place only when everything was written, so a failed run leaves the old file whole. An
//!   existing file keeps its permissions.
//! - A symbolic link is followed: the file it points to is replaced as above, and the link
//!   stays a link.
//! - Anything else (a device such as `/dev/stdout` or `/dev/null`, a FIFO) is written
//!   through, never replaced.

use crate::{Error, Result};
use std::fs::{File, OpenOptions, Permissions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where an output path leads.
#[derive(Debug)]
enum Target {
    Stdout,
    /// A regular file (or nothing yet) at this resolved path, with the mode to keep.
    Replace {
        path: PathBuf,
        mode: Option<Permissions>,
    },
    /// A device or FIFO: opened and written in place.
    Through(PathBuf),
}

fn target(path: &Path) -> Result<Target> {
    if path == Path::new("-") {
        return Ok(Target::Stdout);
    }
    // Follow symbolic links to what they name; a dangling link names a new file.
    let resolved = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(_) => match std::fs::read_link(path) {
            Ok(to) if to.is_absolute() => to,
            Ok(to) => path.parent().unwrap_or(Path::new(".")).join(to),
            Err(_) => path.to_path_buf(),
        },
    };
    match std::fs::metadata(&resolved) {
        Ok(meta) if meta.is_file() => Ok(Target::Replace {
            path: resolved,
            mode: Some(meta.permissions()),
        }),
        Ok(meta) if meta.is_dir() => Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::Other, "is a folder"),
        )),
        Ok(_) => Ok(Target::Through(resolved)),
        Err(_) => Ok(Target::Replace {
            path: resolved,
            mode: None,
        }),
    }
}

/// Write `path` with `fill`: atomically for files, through for devices and FIFOs, to stdout
/// for `-`. When `fill` fails, a file is left as it was.
pub fn write_with<T>(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
    match target(path)? {
        Target::Stdout => {
            let mut out = std::io::stdout().lock();
            let value = fill(&mut out)?;
            out.flush().map_err(|e| Error::io(path, e))?;
            Ok(value)
        }
        Target::Through(p) => {
            let mut file = OpenOptions::new()
                .write(true)
                .open(&p)
                .map_err(|e| Error::io(&p, e))?;
            let value = fill(&mut file)?;
            file.flush().map_err(|e| Error::io(&p, e))?;
            Ok(value)
        }
        Target::Replace { path: p, mode } => replace(&p, mode, fill),
    }
}

/// Whether `path` can be written as [`write_with`] would, checked before any work: a file's
/// folder must exist and take a new file (a temporary one is made and removed), so hours of
/// model work never end in "cannot write".
pub fn check_writable(path: &Path) -> Result<()> {
    let Target::Replace { path: p, .. } = target(path)? else {
        return Ok(());
    };
    let dir = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        let why = format!(
            "its folder {} does not exist (make it first, e.g. mkdir -p)",
            dir.display()
        );
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, why),
        ));
    }
    tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| Error::io(path, e))
}

/// Write `bytes` to `path` as [`write_with`] does.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |w| w.write_all(bytes).map_err(|e| Error::io(path, e)))
}

fn replace<T>(
    path: &Path,
    mode: Option<Permissions>,
    fill: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(path, e))?;
    let value = {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        let value = fill(&mut w)?;
        w.flush().map_err(|e| Error::io(path, e))?;
        value
    };
    let file: &File = tmp.as_file();
    file.sync_all().map_err(|e| Error::io(path, e))?;
    if let Some(mode) = mode {
        file.set_permissions(mode).map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_place_is_checked_before_the_work() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&dir.path().join("new.txt")).is_ok());
        assert!(check_writable(Path::new("-")).is_ok());
        let e = check_writable(&dir.path().join("no/such/out.txt")).unwrap_err();
        assert!(
            e.to_string().contains("out.txt") && crate::error::chain(&e).contains("does not exist"),
            "{e}"
        );
        assert!(check_writable(dir.path()).is_err(), "a folder");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing left behind"
        );
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        std::fs::write(&p, "old").unwrap();
        let names = || -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        // Interrupted mid-way, after far more than any buffer holds has been written: the
        // bytes went to a temporary file beside the target, never into it.
        let err = write_with(&p, |w| {
            for _ in 0..64 {
                w.write_all(&[b'x'; 4096]).unwrap();
            }
            w.flush().unwrap();
            assert!(
                std::fs::read(&p).unwrap() == b"old",
                "the target was written in place"
            );
            let partial: Vec<String> = names()
                .into_iter()
                .filter(|n| n.starts_with(".partial-"))
                .collect();
            assert_eq!(partial.len(), 1, "no temporary file beside the target");
            let tmp = dir.path().join(&partial[0]);
            assert_eq!(std::fs::metadata(tmp).unwrap().len(), 64 * 4096);
            Err::<(), _>(Error::io(&p, std::io::Error::other("stopped")))
        });
        let err = format!("{:?}", err.unwrap_err());
        assert!(
            err.contains("stopped"),
            "the fill's own error comes back: {err}"
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(names(), ["out.txt"], "no temp file left");
        write_bytes(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(names(), ["out.txt"], "the temp file became the target");
    }

    #[cfg(unix)]
    #[test]
    fn modes_links_and_devices_are_respected() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, Permissions::from_mode(0o664)).unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_bytes(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o664);
        write_bytes(Path::new("/dev/null"), b"x").unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    }
}
