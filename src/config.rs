//! Where things live and how they are configured.
//!
//! A *workspace* is a folder holding `babeldesk.toml` (the repository is one): inside it,
//! `models/` and `memory/` beside that file are used. Elsewhere the XDG directories are:
//! `$XDG_DATA_HOME/babeldesk/{models,memory}` and `$XDG_CONFIG_HOME/babeldesk/config.toml`.
//! Settings are layered: config file, then `BABELDESK_*` environment variables, then flags.

use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub const WORKSPACE_FILE: &str = "babeldesk.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl FromStr for Device {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            _ => Err(Error::InvalidValue {
                name: "device".into(),
                message: format!("'{s}' (expected auto, cpu or cuda)"),
            }),
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        })
    }
}

/// The arithmetic a local seq2seq or embedding model runs in (`--precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// int8 for the architectures whose int8 path is checked against torch's int8 reference
    /// (Marian, BART, BERT) on a CPU that has fbgemm's kernels, fp32 for the others.
    #[default]
    Auto,
    /// babeldesk's own forward pass with int8 Linear layers (fbgemm).
    Int8,
    /// rust-bert's fp32 pipelines, token for token equal to transformers.
    Fp32,
}

impl FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Precision::Auto),
            "int8" => Ok(Precision::Int8),
            "fp32" | "float32" => Ok(Precision::Fp32),
            _ => Err(Error::InvalidValue {
                name: "precision".into(),
                message: format!("'{s}' (expected auto, int8 or fp32)"),
            }),
        }
    }
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::Int8 => "int8",
            Precision::Fp32 => "fp32",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The config file's keys; every one is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    memory: Option<PathBuf>,
    models_dir: Option<PathBuf>,
    device: Option<Device>,
    precision: Option<Precision>,
    registry: Option<PathBuf>,
    lock_timeout: Option<f64>,
    engine_url: Option<String>,
    remote_model: Option<String>,
    parallel: Option<usize>,
    remote_timeout: Option<f64>,
    threads: Option<usize>,
}

/// What flags can override.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub memory: Option<PathBuf>,
    pub models_dir: Option<PathBuf>,
    pub device: Option<Device>,
    pub precision: Option<Precision>,
    pub threads: Option<usize>,
    pub remote: RemoteOverrides,
}

/// The model-server flags (`--engine-url` and its companions).
#[derive(Debug, Default, Clone)]
pub struct RemoteOverrides {
    pub url: Option<String>,
    pub api_key: Option<crate::models::remote::Secret>,
    pub model: Option<String>,
    pub parallel: Option<usize>,
    pub timeout: Option<f64>,
    pub retries: Option<u32>,
}

/// The resolved settings every command works with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub workspace: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
    pub memory: PathBuf,
    pub models_dir: PathBuf,
    /// The user's own models folder (`$XDG_DATA_HOME/babeldesk/models`): a model installed in
    /// a workspace is linked from there, so babeldesk finds it from any folder.
    pub user_models_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub device: Device,
    /// int8 or fp32 for local seq2seq and embedding models (`--precision`).
    pub precision: Precision,
    /// An extra registry file whose entries add to (or replace) the built-in ones.
    pub registry: Option<PathBuf>,
    /// How long a write to the memory waits while another process writes.
    pub lock_timeout: std::time::Duration,
    /// The model server that runs model work instead of local engines, when one is set.
    pub remote: Option<crate::models::remote::RemoteOptions>,
    /// Texts worked on at once when set (`--parallel`): requests in flight to a server, or
    /// prompts a local GGUF model decodes together; each engine has its own default.
    pub parallel: Option<usize>,
    /// CPU threads for local models when set (`--threads`).
    pub threads: Option<usize>,
}

/// The environment as a lookup function, so tests need not touch the process environment.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

/// A fixed environment, for tests.
#[cfg(test)]
pub(crate) struct MapEnv(pub std::collections::HashMap<&'static str, String>);
#[cfg(test)]
impl Env for MapEnv {
    fn var(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}
impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Settings {
    pub fn load(cwd: &Path, env: &dyn Env, flags: &Overrides) -> Result<Settings> {
        let workspace = env
            .var("BABELDESK_WORKSPACE")
            .map(PathBuf::from)
            .or_else(|| find_workspace(cwd));
        let home = env
            .var("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        let xdg = |key: &str, fallback: &str| {
            env.var(key)
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(fallback))
                .join("babeldesk")
        };
        let data = xdg("XDG_DATA_HOME", ".local/share");
        let (config_file, base) = match &workspace {
            Some(ws) => (ws.join(WORKSPACE_FILE), ws.clone()),
            None => (
                xdg("XDG_CONFIG_HOME", ".config").join("config.toml"),
                data.clone(),
            ),
        };
        let file = read_config(&config_file)?;
        let config_dir = config_file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let rel = |p: PathBuf| {
            if p.is_relative() {
                config_dir.join(p)
            } else {
                p
            }
        };

        let mut s = Settings {
            memory: base.join("memory").join("babeldesk.sqlite"),
            models_dir: base.join("models"),
            user_models_dir: data.join("models"),
            cache_dir: xdg("XDG_CACHE_HOME", ".cache"),
            device: Device::Auto,
            precision: Precision::Auto,
            registry: None,
            lock_timeout: crate::memory::DEFAULT_LOCK_TIMEOUT,
            config_file: config_file.is_file().then(|| config_file.clone()),
            workspace,
            remote: None,
            parallel: None,
            threads: None,
        };
        let mut remote = RemoteOverrides::default();
        if let Some(cfg) = file {
            if let Some(p) = cfg.memory {
                // A PostgreSQL URL is no path to resolve.
                s.memory = match p.to_str().is_some_and(crate::memory::is_database_url) {
                    true => p,
                    false => rel(p),
                };
            }
            if let Some(p) = cfg.models_dir {
                s.models_dir = rel(p);
            }
            if let Some(d) = cfg.device {
                s.device = d;
            }
            if let Some(p) = cfg.precision {
                s.precision = p;
            }
            s.registry = cfg.registry.map(rel);
            if let Some(t) = cfg.lock_timeout {
                s.lock_timeout = seconds("lock_timeout", &t.to_string())?;
            }
            remote.url = cfg.engine_url;
            remote.model = cfg.remote_model;
            remote.parallel = cfg.parallel;
            remote.timeout = cfg.remote_timeout;
            s.threads = cfg.threads;
        }
        if let Some(p) = env.var("BABELDESK_MEMORY") {
            s.memory = PathBuf::from(p);
        }
        if let Some(p) = env.var("BABELDESK_MODELS_DIR") {
            s.models_dir = PathBuf::from(p);
        }
        if let Some(d) = env.var("BABELDESK_DEVICE") {
            s.device = d.parse().map_err(|e: Error| Error::InvalidValue {
                name: "BABELDESK_DEVICE".into(),
                message: e.to_string(),
            })?;
        }
        if let Some(p) = env.var("BABELDESK_PRECISION") {
            s.precision = p.parse().map_err(|e: Error| Error::InvalidValue {
                name: "BABELDESK_PRECISION".into(),
                message: e.to_string(),
            })?;
        }
        if let Some(t) = env.var("BABELDESK_LOCK_TIMEOUT") {
            s.lock_timeout = seconds("BABELDESK_LOCK_TIMEOUT", &t)?;
        }
        if let Some(t) = env.var("BABELDESK_THREADS") {
            s.threads = Some(t.trim().parse().map_err(|_| Error::InvalidValue {
                name: "BABELDESK_THREADS".into(),
                message: format!("'{t}' is not a number of threads"),
            })?);
        }
        if let Some(p) = env.var("BABELDESK_REGISTRY") {
            s.registry = Some(PathBuf::from(p));
        }
        if let Some(p) = &flags.memory {
            s.memory = p.clone();
        }
        if let Some(p) = &flags.models_dir {
            s.models_dir = p.clone();
        }
        if let Some(d) = flags.device {
            s.device = d;
        }
        if let Some(p) = flags.precision {
            s.precision = p;
        }
        s.threads = flags.threads.or(s.threads).map(|t| t.clamp(1, 1024));
        s.parallel = flags.remote.parallel.or(remote.parallel);
        s.remote = remote_options(remote, env, &flags.remote)?;
        Ok(s)
    }
}

/// The server settings, file < environment < flags; None without a URL.
fn remote_options(
    file: RemoteOverrides,
    env: &dyn Env,
    flags: &RemoteOverrides,
) -> Result<Option<crate::models::remote::RemoteOptions>> {
    let url = flags
        .url
        .clone()
        .or_else(|| env.var("BABELDESK_ENGINE_URL"))
        .or(file.url);
    let Some(url) = url else {
        return Ok(None);
    };
    let mut o = crate::models::remote::RemoteOptions::new(url);
    o.api_key = flags.api_key.clone().or_else(|| {
        env.var("BABELDESK_API_KEY")
            .map(crate::models::remote::Secret::new)
    });
    o.model = flags
        .model
        .clone()
        .or_else(|| env.var("BABELDESK_REMOTE_MODEL"))
        .or(file.model);
    if let Some(n) = flags.parallel.or(file.parallel) {
        o.parallel = n.clamp(1, crate::models::remote::MAX_PARALLEL);
    }
    let timeout = match (flags.timeout, file.timeout) {
        (Some(t), _) => Some(("--timeout", t)),
        (None, Some(t)) => Some(("remote_timeout", t)),
        (None, None) => None,
    };
    if let Some((name, t)) = timeout {
        o.timeout = seconds(name, &t.to_string())?.max(std::time::Duration::from_millis(100));
    }
    if let Some(r) = flags.retries {
        o.retries = r;
    }
    Ok(Some(o))
}

fn seconds(name: &str, value: &str) -> Result<std::time::Duration> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| Error::InvalidValue {
            name: name.into(),
            message: format!("'{value}' is not a number of seconds"),
        })
}

fn find_workspace(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .find(|dir| dir.join(WORKSPACE_FILE).is_file())
        .map(Path::to_path_buf)
}

fn read_config(path: &Path) -> Result<Option<FileConfig>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    toml::from_str(&text).map(Some).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&'static str, &str)]) -> MapEnv {
        MapEnv(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }

    #[test]
    fn outside_a_workspace_uses_xdg_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(&[("HOME", "/home/u"), ("XDG_DATA_HOME", "/data")]);
        let s = Settings::load(dir.path(), &e, &Overrides::default()).unwrap();
        assert_eq!(s.workspace, None);
        assert_eq!(s.models_dir, PathBuf::from("/data/babeldesk/models"));
        assert_eq!(
            s.memory,
            PathBuf::from("/data/babeldesk/memory/babeldesk.sqlite")
        );
        assert_eq!(s.cache_dir, PathBuf::from("/home/u/.cache/babeldesk"));
    }

    #[test]
    fn workspace_file_then_env_then_flags() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(
            ws.path().join(WORKSPACE_FILE),
            "device = \"cpu\"\nmemory = \"tm.db\"\n",
        )
        .unwrap();
        let sub = ws.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let s = Settings::load(&sub, &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(s.workspace.as_deref(), Some(ws.path()));
        assert_eq!(s.device, Device::Cpu);
        assert_eq!(s.memory, ws.path().join("tm.db"));
        assert_eq!(s.models_dir, ws.path().join("models"));

        let e = env(&[
            ("BABELDESK_DEVICE", "cuda"),
            ("BABELDESK_MEMORY", "/env.db"),
        ]);
        let s = Settings::load(&sub, &e, &Overrides::default()).unwrap();
        assert_eq!(
            (s.device, s.memory),
            (Device::Cuda, PathBuf::from("/env.db"))
        );

        let flags = Overrides {
            device: Some(Device::Auto),
            ..Default::default()
        };
        let s = Settings::load(&sub, &e, &flags).unwrap();
        assert_eq!(s.device, Device::Auto);
    }

    #[test]
    fn a_postgres_url_in_the_workspace_file_is_kept_as_written() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(
            ws.path().join(WORKSPACE_FILE),
            "memory = \"postgres://desk@db.example:5432/tm\"\n",
        )
        .unwrap();
        let s = Settings::load(ws.path(), &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(
            s.memory,
            PathBuf::from("postgres://desk@db.example:5432/tm")
        );
    }

    #[test]
    fn bad_config_names_the_file() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join(WORKSPACE_FILE), "colour = 1\n").unwrap();
        let err = Settings::load(ws.path(), &env(&[]), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("babeldesk.toml"), "{err}");
        let err = Settings::load(
            ws.path(),
            &env(&[
                ("BABELDESK_WORKSPACE", "/nonexistent"),
                ("BABELDESK_DEVICE", "tpu"),
            ]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("tpu"), "{err}");
    }
}
