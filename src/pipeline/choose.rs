//! Which model a command runs. Translation prefers a dedicated Marian model for the pair, then
//! an instruct (GGUF) model that knows both languages, whichever is installed; summaries prefer
//! BART/T5, then an instruct model. `--engine` forces one kind; `--model` and `--model-dir` name
//! one model.

use crate::config::{Env, Settings};
use crate::error::ChoiceError;
use crate::models::registry::{Architecture, FileSpec, ModelEntry, Registry, Task};
use crate::models::resolve;
use crate::{Error, Result};
use std::path::Path;

/// What the flags ask for: `--model`, `--model-dir`, `--engine`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted<'a> {
    pub model: Option<&'a str>,
    pub model_dir: Option<&'a Path>,
    pub engine: Option<EngineChoice>,
}

/// Which engine runs a job: rust-bert sequence-to-sequence models (Marian for translation,
/// BART/T5 for summaries) or a GGUF instruct model through llama.cpp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    Seq2seq,
    Llm,
}

impl EngineChoice {
    /// The name `--engine` takes.
    pub fn name(self) -> &'static str {
        match self {
            EngineChoice::Seq2seq => "seq2seq",
            EngineChoice::Llm => "llm",
        }
    }

    fn of(entry: &ModelEntry) -> EngineChoice {
        if entry.architecture.is_chat() {
            EngineChoice::Llm
        } else {
            EngineChoice::Seq2seq
        }
    }
}

/// Which registry entry a command uses: `--model ID`, else the entry describing `--model-dir`,
/// else the registry's model for the task and languages.
pub fn choose(
    registry: &Registry,
    task: Task,
    model: Option<&str>,
    model_dir: Option<&Path>,
    langs: &[&str],
) -> Result<ModelEntry> {
    if let Some(id) = model {
        let entry = registry.get(id)?;
        if entry.task != task && entry.task != Task::Chat {
            return Err(ChoiceError::WrongTask {
                id: id.to_string(),
                does: format!("{:?}", entry.task).to_lowercase(),
                wanted: format!("{task:?}").to_lowercase(),
            }
            .into());
        }
        return Ok(for_job(entry, langs));
    }
    if let Some(dir) = model_dir {
        return entry_for_dir(task, dir, langs);
    }
    let found = registry.find(
        task,
        langs.first().copied().unwrap_or("en"),
        langs.get(1).copied(),
    );
    found.first().map(|e| (*e).clone()).ok_or_else(|| {
        ChoiceError::NotInRegistry {
            covers: coverage(registry, task),
            what: format!(
                "{} model for {}",
                format!("{task:?}").to_lowercase(),
                langs.join("→")
            ),
        }
        .into()
    })
}

/// A chat model's entry carries the job's languages (the engine writes them into prompts).
fn for_job(entry: &ModelEntry, langs: &[&str]) -> ModelEntry {
    let mut e = entry.clone();
    if e.task == Task::Chat && !langs.is_empty() {
        e.languages = langs.iter().map(|l| l.to_string()).collect();
    }
    e
}

/// The translation model for `from → to`: `--model`/`--model-dir` if given (checked against
/// `--engine`), else the first installed of: the pair's Marian models, then instruct models
/// knowing both languages (only one kind with `--engine`). None installed: an error naming
/// what to pull for each kind.
pub fn choose_translator(
    registry: &Registry,
    settings: &Settings,
    env: &dyn Env,
    wanted: Wanted,
    from: &str,
    to: &str,
) -> Result<ModelEntry> {
    let task = Task::Translation;
    let marians = registry.find(task, from, Some(to));
    let llms: Vec<&ModelEntry> = registry
        .entries()
        .iter()
        .filter(|e| e.task == Task::Chat && e.knows(from) && e.knows(to))
        .collect();
    let candidates = Candidates {
        task,
        dedicated: &marians,
        llms: &llms,
        langs: &[from, to],
    };
    pick(registry, settings, env, wanted, candidates)
}

/// The abstractive summarizer for `lang`, chosen like [`choose_translator`]: BART/T5 first,
/// then instruct models.
pub fn choose_summarizer(
    registry: &Registry,
    settings: &Settings,
    env: &dyn Env,
    wanted: Wanted,
    lang: &str,
) -> Result<ModelEntry> {
    let task = Task::Summarization;
    let berts = registry.find(task, lang, None);
    let llms: Vec<&ModelEntry> = registry
        .entries()
        .iter()
        .filter(|e| e.task == Task::Chat && e.knows(lang))
        .collect();
    let candidates = Candidates {
        task,
        dedicated: &berts,
        llms: &llms,
        langs: &[lang],
    };
    pick(registry, settings, env, wanted, candidates)
}

/// What the registry's models of `task` cover: the pairs of dedicated models, the languages of
/// instruct ones.
fn coverage(registry: &Registry, task: Task) -> String {
    let mut pairs = Vec::new();
    let mut chat: Vec<&str> = Vec::new();
    for e in registry.entries() {
        if e.task == task {
            let pair = match task {
                Task::Translation => e.languages.join("→"),
                _ => e.languages.join(", "),
            };
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        } else if e.task == Task::Chat {
            for l in &e.languages {
                if !chat.contains(&l.as_str()) {
                    chat.push(l);
                }
            }
        }
    }
    let mut covers = format!(
        "its {} models cover {}",
        format!("{task:?}").to_lowercase(),
        pairs.join(", ")
    );
    if !chat.is_empty() {
        covers += &format!("; its instruct models know {}", chat.join(", "));
    }
    covers
}

/// The models that could do a job, best kind first.
struct Candidates<'a> {
    task: Task,
    dedicated: &'a [&'a ModelEntry],
    llms: &'a [&'a ModelEntry],
    langs: &'a [&'a str],
}

fn pick(
    registry: &Registry,
    settings: &Settings,
    env: &dyn Env,
    wanted: Wanted,
    c: Candidates,
) -> Result<ModelEntry> {
    let Wanted {
        model,
        model_dir,
        engine,
    } = wanted;
    let Candidates {
        task,
        dedicated,
        llms,
        langs,
    } = c;
    if model.is_some() || model_dir.is_some() {
        let entry = choose(registry, task, model, model_dir, langs)?;
        if let Some(want) = engine {
            if EngineChoice::of(&entry) != want {
                return Err(ChoiceError::WrongEngine {
                    engine: want.name().to_string(),
                    id: entry.id.clone(),
                    architecture: format!("{:?}", entry.architecture).replace("Gguf", "GGUF"),
                }
                .into());
            }
        }
        return Ok(entry);
    }
    // A model server (`--engine-url`) does the work unless a local model is named above or
    // the dedicated kind is asked for; its model is known once connected.
    if let Some(server) = settings
        .remote
        .as_ref()
        .filter(|_| engine != Some(EngineChoice::Seq2seq))
    {
        let langs = langs.iter().map(|l| l.to_string()).collect();
        return Ok(crate::models::loaded::remote_entry(
            &server.planned_id(),
            task,
            langs,
        ));
    }
    let installed = |e: &&&ModelEntry| resolve::resolve(e, None, &settings.models_dir, env).is_ok();
    let kinds: Vec<&[&ModelEntry]> = match engine {
        Some(EngineChoice::Seq2seq) => vec![dedicated],
        Some(EngineChoice::Llm) => vec![llms],
        None => vec![dedicated, llms],
    };
    for kind in &kinds {
        if let Some(e) = kind.iter().find(installed) {
            return Ok(for_job(e, langs));
        }
    }
    // Nothing installed. Forced to one kind with one candidate: its own precise error.
    if kinds.len() == 1 {
        if let Some(e) = kinds[0].first() {
            resolve::resolve(e, None, &settings.models_dir, env)?;
        }
    }
    let what = match task {
        Task::Translation => format!("translation model for {}", langs.join("→")),
        _ => format!("summarization model for {}", langs.join(", ")),
    };
    let dedicated_kind = if task == Task::Translation {
        "a Marian model"
    } else {
        "a BART/T5 model"
    };
    let mut options = Vec::new();
    if let Some(e) = dedicated
        .first()
        .filter(|_| engine != Some(EngineChoice::Llm))
    {
        options.push(format!(
            "`babeldesk models pull {}` ({dedicated_kind})",
            e.id
        ));
    }
    if let Some(e) = llms
        .first()
        .filter(|_| engine != Some(EngineChoice::Seq2seq))
    {
        options.push(format!(
            "`babeldesk models pull {}` (an instruct model, run by llama.cpp)",
            e.id
        ));
    }
    if options.is_empty() {
        let covers = coverage(registry, task);
        return Err(ChoiceError::NotInRegistry { what, covers }.into());
    }
    Err(Error::NoModelInstalled {
        what,
        options: options.join(" or "),
    })
}

/// Describe a bare model folder (`--model-dir`): a GGUF file makes it an instruct model,
/// otherwise its config.json's `model_type` says which rust-bert architecture it is.
pub fn entry_for_dir(task: Task, dir: &Path, langs: &[&str]) -> Result<ModelEntry> {
    let spec = |n: &str| FileSpec {
        name: n.to_string(),
        sha256: None,
    };
    let id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let mut ggufs: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".gguf"))
        .collect();
    ggufs.sort();
    if !ggufs.is_empty() && !dir.join("config.json").is_file() {
        if ggufs.len() > 1 {
            return Err(ChoiceError::SeveralGguf {
                dir: dir.to_path_buf(),
                files: ggufs,
            }
            .into());
        }
        return Ok(ModelEntry {
            id,
            task: Task::Chat,
            architecture: Architecture::Gguf,
            languages: langs.iter().map(|s| s.to_string()).collect(),
            hf_repo: String::new(),
            revision: "main".into(),
            license: "unknown".into(),
            description: format!("GGUF model in {}", dir.display()),
            max_input_tokens: None,
            files: Vec::new(),
            weights: vec![spec(&ggufs[0])],
            mirror: None,
        });
    }
    let config = dir.join("config.json");
    let text = std::fs::read_to_string(&config).map_err(|e| Error::io(&config, e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Config {
        path: config.clone(),
        message: e.to_string(),
    })?;
    let kind = json
        .get("model_type")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let (architecture, files): (Architecture, &[&str]) = match kind {
        "marian" => (
            Architecture::Marian,
            &["config.json", "vocab.json", "source.spm"],
        ),
        "bart" => (
            Architecture::Bart,
            &["config.json", "vocab.json", "merges.txt"],
        ),
        "t5" => (Architecture::T5, &["config.json", "spiece.model"]),
        "bert" => (Architecture::Bert, &["config.json", "tokenizer.json"]),
        other => {
            return Err(ChoiceError::UnsupportedModelType {
                config,
                kind: other.to_string(),
            }
            .into())
        }
    };
    Ok(ModelEntry {
        id,
        task,
        architecture,
        languages: langs.iter().map(|s| s.to_string()).collect(),
        hf_repo: String::new(),
        revision: "main".into(),
        license: "unknown".into(),
        description: format!("model folder {}", dir.display()),
        max_input_tokens: None,
        files: files.iter().map(|n| spec(n)).collect(),
        weights: vec![spec("model.safetensors"), spec("rust_model.ot")],
        mirror: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MapEnv, Overrides};

    fn settings(root: &Path) -> Settings {
        let env = MapEnv([("HOME", root.display().to_string())].into_iter().collect());
        let flags = Overrides {
            models_dir: Some(root.join("models")),
            ..Default::default()
        };
        Settings::load(root, &env, &flags).unwrap()
    }

    fn install(root: &Path, entry: &ModelEntry) {
        let dir = root.join("models").join(&entry.id);
        for f in entry.files.iter().chain(&entry.weights[..1]) {
            std::fs::create_dir_all(dir.join(&f.name).parent().unwrap()).unwrap();
            std::fs::write(dir.join(&f.name), b"x").unwrap();
        }
    }

    #[test]
    fn marian_then_llm_then_an_error_naming_both() {
        let root = tempfile::tempdir().unwrap();
        let s = settings(root.path());
        let env = MapEnv(
            [("HOME", root.path().display().to_string())]
                .into_iter()
                .collect(),
        );
        let reg = Registry::builtin();
        let pick = |engine| {
            let wanted = Wanted {
                engine,
                ..Default::default()
            };
            choose_translator(&reg, &s, &env, wanted, "ru", "en")
        };

        let err = pick(None).unwrap_err().to_string();
        assert!(
            err.contains("models pull opus-mt-ru-en")
                && err.contains("models pull qwen2.5-coder-1.5b-instruct-q4km"),
            "{err}"
        );
        let err = pick(Some(EngineChoice::Llm)).unwrap_err().to_string();
        assert!(
            err.contains("qwen2.5-coder-1.5b") && !err.contains("opus"),
            "{err}"
        );

        install(
            root.path(),
            reg.get("qwen2.5-coder-0.5b-instruct-q4km").unwrap(),
        );
        let e = pick(None).unwrap();
        assert_eq!(e.id, "qwen2.5-coder-0.5b-instruct-q4km");
        assert_eq!(
            e.languages,
            ["ru", "en"],
            "the job's pair goes to the prompt"
        );
        assert!(pick(Some(EngineChoice::Seq2seq)).is_err());

        install(root.path(), reg.get("opus-mt-ru-en").unwrap());
        assert_eq!(pick(None).unwrap().id, "opus-mt-ru-en");
        assert_eq!(
            pick(Some(EngineChoice::Llm)).unwrap().id,
            "qwen2.5-coder-0.5b-instruct-q4km"
        );
        let wanted = Wanted {
            model: Some("opus-mt-ru-en"),
            model_dir: None,
            engine: Some(EngineChoice::Llm),
        };
        let forced = choose_translator(&reg, &s, &env, wanted, "ru", "en");
        assert!(forced.unwrap_err().to_string().contains("--engine llm"));
    }

    #[test]
    fn a_folder_with_a_gguf_file_is_an_instruct_model() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.gguf"), b"GGUF").unwrap();
        let e = entry_for_dir(Task::Translation, dir.path(), &["ru", "en"]).unwrap();
        assert_eq!(
            (e.architecture, e.weights[0].name.as_str()),
            (Architecture::Gguf, "m.gguf")
        );
        std::fs::write(dir.path().join("n.gguf"), b"GGUF").unwrap();
        assert!(entry_for_dir(Task::Translation, dir.path(), &["ru", "en"])
            .unwrap_err()
            .to_string()
            .contains("several GGUF files"));
    }
}
