//! Installed models on disk: which files are present, their sizes and checksums, and importing
//! a user's folder.

use super::registry::{FileSpec, ModelEntry};
use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a folder holds for one registry entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inventory {
    pub dir: PathBuf,
    pub missing: Vec<String>,
    /// The weight file in use (the first alternative present).
    pub weights: Option<String>,
    pub bytes: u64,
}

/// Where `Inventory::stamp` keeps what it saw.
const STAMP: &str = ".babeldesk-checked.json";

/// A file's size and modification time, as one string.
fn file_identity(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let t = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{}:{}.{:09}",
        m.len(),
        t.as_secs(),
        t.subsec_nanos()
    ))
}

impl Inventory {
    pub fn of(entry: &ModelEntry, dir: &Path) -> Inventory {
        let mut missing = Vec::new();
        let mut bytes = 0;
        for f in &entry.files {
            match std::fs::metadata(dir.join(&f.name)) {
                Ok(m) if m.is_file() => bytes += m.len(),
                _ => missing.push(f.name.clone()),
            }
        }
        let weights = entry.weights.iter().find_map(|w| {
            let m = std::fs::metadata(dir.join(&w.name))
                .ok()
                .filter(|m| m.is_file())?;
            bytes += m.len();
            Some(w.name.clone())
        });
        if weights.is_none() {
            missing.push(weight_names(entry));
        }
        Inventory {
            dir: dir.to_path_buf(),
            missing,
            weights,
            bytes,
        }
    }

    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// Record the size and modification time of every file whose checksum was just checked
    /// (after `pull` and `import`), so a later load notices a file changed in place without
    /// hashing gigabytes each time.
    pub fn stamp(&self, entry: &ModelEntry) -> Result<()> {
        let mut seen = serde_json::Map::new();
        for f in self.files(entry).into_iter().filter(|f| f.sha256.is_some()) {
            if let Some(id) = file_identity(&self.dir.join(&f.name)) {
                seen.insert(f.name.clone(), serde_json::Value::String(id));
            }
        }
        let path = self.dir.join(STAMP);
        let text = serde_json::Value::Object(seen).to_string();
        crate::files::write_bytes(&path, text.as_bytes())
    }

    /// Whether [`Inventory::stamp`] has been here (babeldesk installed this folder).
    pub fn is_stamped(&self) -> bool {
        self.dir.join(STAMP).is_file()
    }

    /// Checked files that changed since [`Inventory::stamp`] (none without a stamp).
    pub fn changed_since_stamp(&self) -> Vec<String> {
        let Ok(text) = std::fs::read_to_string(self.dir.join(STAMP)) else {
            return Vec::new();
        };
        let seen: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_default();
        seen.into_iter()
            .filter(|(name, id)| file_identity(&self.dir.join(name)).as_deref() != id.as_str())
            .map(|(name, _)| name)
            .collect()
    }

    /// The files to check: the listed ones and the weights in use.
    pub fn files<'a>(&self, entry: &'a ModelEntry) -> Vec<&'a FileSpec> {
        let weights = entry
            .weights
            .iter()
            .filter(|w| Some(&w.name) == self.weights.as_ref());
        entry.files.iter().chain(weights).collect()
    }
}

pub fn weight_names(entry: &ModelEntry) -> String {
    entry
        .weights
        .iter()
        .map(|w| w.name.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The result of re-hashing one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileCheck {
    pub name: String,
    pub sha256: String,
    /// `None` when the registry knows no checksum for this file.
    pub ok: Option<bool>,
}

pub fn verify(entry: &ModelEntry, inv: &Inventory) -> Result<Vec<FileCheck>> {
    inv.files(entry)
        .into_iter()
        .map(|spec| {
            let sha256 = sha256_file(&inv.dir.join(&spec.name))?;
            let ok = spec
                .sha256
                .as_ref()
                .map(|want| want.eq_ignore_ascii_case(&sha256));
            Ok(FileCheck {
                name: spec.name.clone(),
                sha256,
                ok,
            })
        })
        .collect()
}

/// Links `user_dir/<id>` to a model installed elsewhere (in a workspace), so it is found from
/// any folder: the link is made when nothing of that name is there (or only a link whose
/// target is gone). The link's path when one was made.
pub fn link_for_user(id: &str, installed: &Path, user_dir: &Path) -> Result<Option<PathBuf>> {
    let link = user_dir.join(id);
    let target = installed
        .canonicalize()
        .map_err(|e| Error::io(installed, e))?;
    if link.canonicalize().is_ok_and(|t| t == target) {
        return Ok(None);
    }
    match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() && !link.exists() => {
            std::fs::remove_file(&link).map_err(|e| Error::io(&link, e))?
        }
        Ok(_) => return Ok(None),
        Err(_) => {}
    }
    std::fs::create_dir_all(user_dir).map_err(|e| Error::io(user_dir, e))?;
    symlink_dir(&target, &link).map_err(|e| Error::io(&link, e))?;
    Ok(Some(link))
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}

/// Copy a user's model folder into `dest` after checking it holds every file the entry needs
/// and that known checksums match. Files are hard-linked when possible; nothing is left in
/// `dest` when a check fails.
pub fn import(entry: &ModelEntry, src: &Path, dest: &Path) -> Result<Inventory> {
    if !src.is_dir() {
        let why = std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder");
        return Err(Error::io(src, why));
    }
    let inv = Inventory::of(entry, src);
    if !inv.complete() {
        return Err(Error::ModelDirIncomplete {
            dir: src.to_path_buf(),
            missing: inv.missing.join(", "),
        });
    }
    for check in verify(entry, &inv)? {
        if check.ok == Some(false) {
            let want = inv
                .files(entry)
                .iter()
                .find(|f| f.name == check.name)
                .and_then(|f| f.sha256.clone());
            return Err(Error::Checksum {
                file: check.name,
                expected: want.unwrap_or_default(),
                actual: check.sha256,
            });
        }
    }
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    // Build the copy beside its final place, then rename: an interrupted import leaves nothing.
    let staging = tempfile::Builder::new()
        .prefix(".import-")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    for spec in inv.files(entry) {
        let (from, to) = (src.join(&spec.name), staging.path().join(&spec.name));
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
        }
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
        }
    }
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dest).map_err(|e| Error::io(dest, e))?;
    let inv = Inventory::of(entry, dest);
    inv.stamp(entry)?;
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::registry::Registry;

    #[test]
    fn import_checks_files_and_checksums() {
        let reg = Registry::builtin();
        let entry = reg.get("all-minilm-l6-v2").unwrap();
        let src = tempfile::tempdir().unwrap();
        let dest_root = tempfile::tempdir().unwrap();
        let dest = dest_root.path().join("all-minilm-l6-v2");
        let err = import(entry, src.path(), &dest).unwrap_err();
        assert!(err.to_string().contains("model.safetensors"), "{err}");
        for f in entry.files.iter().chain(&entry.weights) {
            let p = src.path().join(&f.name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"not the real file").unwrap();
        }
        let err = import(entry, src.path(), &dest).unwrap_err();
        assert!(matches!(err, Error::Checksum { .. }), "{err}");
        assert!(!dest.exists());
        assert_eq!(
            std::fs::read_dir(dest_root.path()).unwrap().count(),
            0,
            "staging left behind"
        );
    }

    #[test]
    fn sha256_of_known_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
