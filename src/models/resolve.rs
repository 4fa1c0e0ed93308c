//! Offline-first model resolution. Order: an explicit `--model-dir`, then `<models_dir>/<id>/`,
//! then the Hugging Face cache (`$HF_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`,
//! snapshot layout), so models a user already has are reused. Nothing is downloaded here.

use super::registry::ModelEntry;
use super::store::Inventory;
use crate::config::Env;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Explicit,
    ModelsDir,
    HfCache,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub inventory: Inventory,
    pub source: Source,
}

/// Where the Hugging Face hub cache lives.
pub fn hf_cache_dir(env: &dyn Env) -> Option<PathBuf> {
    if let Some(p) = env.var("HF_HUB_CACHE") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = env.var("HF_HOME") {
        return Some(PathBuf::from(p).join("hub"));
    }
    let cache = env
        .var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env.var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("huggingface").join("hub"))
}

/// Snapshot folders of a repo in the hub cache, the one `refs/<revision>` names first.
fn hf_snapshots(cache: &Path, entry: &ModelEntry) -> Vec<PathBuf> {
    let repo_dir = cache.join(format!("models--{}", entry.hf_repo.replace('/', "--")));
    let mut out = Vec::new();
    if let Ok(commit) = std::fs::read_to_string(repo_dir.join("refs").join(&entry.revision)) {
        out.push(repo_dir.join("snapshots").join(commit.trim()));
    }
    // A pinned commit revision is a snapshot name itself.
    out.push(repo_dir.join("snapshots").join(&entry.revision));
    if let Ok(rd) = std::fs::read_dir(repo_dir.join("snapshots")) {
        let mut others: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        others.sort();
        out.extend(others);
    }
    out.dedup();
    out
}

/// Find a complete copy of `entry`, or say exactly what is missing and how to get it.
pub fn resolve(
    entry: &ModelEntry,
    explicit: Option<&Path>,
    models_dir: &Path,
    env: &dyn Env,
) -> Result<Resolved> {
    if let Some(dir) = explicit {
        let inventory = Inventory::of(entry, dir);
        if !inventory.complete() {
            return Err(Error::ModelDirIncomplete {
                dir: dir.to_path_buf(),
                missing: inventory.missing.join(", "),
            });
        }
        return Ok(Resolved {
            inventory,
            source: Source::Explicit,
        });
    }
    let local = Inventory::of(entry, &models_dir.join(&entry.id));
    if local.complete() {
        return Ok(Resolved {
            inventory: local,
            source: Source::ModelsDir,
        });
    }
    let mut searched = vec![local.dir.display().to_string()];
    if let Some(cache) = hf_cache_dir(env) {
        for snap in hf_snapshots(&cache, entry) {
            let inv = Inventory::of(entry, &snap);
            if inv.complete() {
                return Ok(Resolved {
                    inventory: inv,
                    source: Source::HfCache,
                });
            }
        }
        searched.push(
            cache
                .join(format!("models--{}", entry.hf_repo.replace('/', "--")))
                .display()
                .to_string(),
        );
    }
    Err(Error::ModelMissing {
        id: entry.id.clone(),
        missing: local.missing.join(", "),
        searched: searched.join(" and "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapEnv;
    use crate::models::registry::Registry;

    fn fill(entry: &ModelEntry, dir: &Path) {
        for f in entry.files.iter().chain(&entry.weights[..1]) {
            let p = dir.join(&f.name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
    }

    #[test]
    fn order_is_explicit_then_models_dir_then_hf_cache() {
        let reg = Registry::builtin();
        let entry = reg.get("opus-mt-ru-en").unwrap();
        let root = tempfile::tempdir().unwrap();
        let models = root.path().join("models");
        let hf = root.path().join("hf");
        let env = MapEnv(
            [("HF_HOME", hf.display().to_string())]
                .into_iter()
                .collect(),
        );

        let err = resolve(entry, None, &models, &env).unwrap_err().to_string();
        assert!(
            err.contains("models pull opus-mt-ru-en") && err.contains("source.spm"),
            "{err}"
        );

        let snap = hf.join("hub/models--Helsinki-NLP--opus-mt-ru-en/snapshots/abc123");
        fill(entry, &snap);
        std::fs::create_dir_all(hf.join("hub/models--Helsinki-NLP--opus-mt-ru-en/refs")).unwrap();
        std::fs::write(
            hf.join("hub/models--Helsinki-NLP--opus-mt-ru-en/refs/main"),
            "abc123\n",
        )
        .unwrap();
        let r = resolve(entry, None, &models, &env).unwrap();
        assert_eq!((r.source, r.inventory.dir.clone()), (Source::HfCache, snap));

        fill(entry, &models.join("opus-mt-ru-en"));
        assert_eq!(
            resolve(entry, None, &models, &env).unwrap().source,
            Source::ModelsDir
        );

        let explicit = root.path().join("mine");
        std::fs::create_dir_all(&explicit).unwrap();
        let err = resolve(entry, Some(&explicit), &models, &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mine") && err.contains("config.json"), "{err}");
        fill(entry, &explicit);
        assert_eq!(
            resolve(entry, Some(&explicit), &models, &env)
                .unwrap()
                .source,
            Source::Explicit
        );
    }
}
