//! The app layer: turns parsed flags into library calls and prints the results. All printing,
//! colours and progress bars live here.

mod bar;
mod digest;
mod eval;
mod inputs;
mod memory;
mod models;
mod out;
mod serve;
mod summarize;
mod terms;
mod translate;

use crate::cli::{Cli, Command};
use anyhow::{Context as _, Result};
use babeldesk::config::{Overrides, ProcessEnv, Settings};
use babeldesk::models::Registry;
use std::path::Path;
use std::process::ExitCode;

/// What every command needs: resolved settings, the registry, and how loud to be.
pub struct Ctx {
    pub settings: Settings,
    pub registry: Registry,
    pub env: ProcessEnv,
    pub quiet: bool,
    pub verbose: u8,
}

impl Ctx {
    pub fn progress(&self) -> bar::Bars {
        bar::Bars::new(self.quiet, self.verbose)
    }

    /// Where the library's jobs find models and settings.
    pub fn pipeline(&self) -> babeldesk::pipeline::summarize::Context<'_> {
        babeldesk::pipeline::summarize::Context {
            registry: &self.registry,
            settings: &self.settings,
            env: &self.env,
        }
    }

    /// The memory database, opened with the configured lock timeout.
    pub fn memory(&self) -> Result<babeldesk::memory::Memory> {
        self.open_memory(babeldesk::memory::Access::Write)
    }

    /// The memory database for a command that only reads: nothing is created or changed.
    pub fn memory_read(&self) -> Result<babeldesk::memory::Memory> {
        self.open_memory(babeldesk::memory::Access::Read)
    }

    fn open_memory(&self, access: babeldesk::memory::Access) -> Result<babeldesk::memory::Memory> {
        let (path, timeout) = (&self.settings.memory, self.settings.lock_timeout);
        Ok(babeldesk::memory::Memory::open_for(path, timeout, access)?)
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::Completions { shell } = cli.command {
        let mut cmd = Cli::full_command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "babeldesk", &mut script);
        out::text_out(&String::from_utf8_lossy(&script))?;
        return Ok(ExitCode::SUCCESS);
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let flags = Overrides {
        memory: cli.global.memory.clone(),
        models_dir: cli.global.models_dir.clone(),
        device: cli.global.device,
        precision: cli.global.precision,
        threads: cli.global.threads.map(usize::from),
        remote: babeldesk::config::RemoteOverrides {
            url: cli.global.engine_url.clone(),
            api_key: cli
                .global
                .api_key
                .clone()
                .map(babeldesk::models::remote::Secret::new),
            model: cli.global.remote_model.clone(),
            parallel: cli.global.parallel.map(usize::from),
            timeout: cli.global.timeout,
            retries: cli.global.retries,
        },
    };
    let settings = Settings::load(&cwd, &ProcessEnv, &flags)?;
    let registry = Registry::load(settings.registry.as_deref())?;
    let ctx = Ctx {
        settings,
        registry,
        env: ProcessEnv,
        quiet: cli.global.quiet,
        verbose: cli.global.verbose,
    };
    match cli.command {
        Command::Digest(args) => digest::run(&ctx, args),
        Command::Summarize(args) => summarize::run(&ctx, args),
        Command::Translate(args) => translate::run(&ctx, args),
        Command::Memory(cmd) => memory::run(&ctx, cmd),
        Command::Terms(cmd) => terms::run(&ctx, cmd),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::Models(cmd) => models::run(&ctx, cmd),
        Command::Eval(cmd) => eval::run(&ctx, cmd),
        Command::Completions { .. } => unreachable!("handled above"),
    }
}

/// The generation settings the model flags ask for.
pub fn generation(m: &crate::cli::ModelArgs) -> babeldesk::models::protocol::Generation {
    babeldesk::models::protocol::Generation {
        num_beams: m.beams,
        max_length: m.max_length,
        min_length: m.min_length,
        ..Default::default()
    }
}

/// The model the flags name, if any.
pub fn wanted(m: &crate::cli::ModelArgs) -> babeldesk::pipeline::Wanted<'_> {
    babeldesk::pipeline::Wanted {
        model: m.model.as_deref(),
        model_dir: m.model_dir.as_deref(),
        engine: engine_choice(m),
    }
}

/// The engine `--engine` forces, if any.
pub fn engine_choice(m: &crate::cli::ModelArgs) -> Option<babeldesk::pipeline::EngineChoice> {
    m.engine.map(|e| match e {
        crate::cli::EngineArg::Seq2seq => babeldesk::pipeline::EngineChoice::Seq2seq,
        crate::cli::EngineArg::Llm => babeldesk::pipeline::EngineChoice::Llm,
    })
}

/// The translation model for a pair, as the flags choose it: `--model`, `--model-dir`, or the
/// installed model for the pair (Marian first, then an instruct model; `--engine` forces one).
/// Choosing checks the flags; nothing is started yet.
pub fn translation_entry(
    ctx: &Ctx,
    m: &crate::cli::ModelArgs,
    from: &str,
    to: &str,
) -> Result<babeldesk::models::ModelEntry> {
    Ok(babeldesk::pipeline::choose_translator(
        &ctx.registry,
        &ctx.settings,
        &ctx.env,
        wanted(m),
        from,
        to,
    )?)
}

/// Start `entry` in its engine process as the model flags ask.
pub fn load_model(
    ctx: &Ctx,
    entry: &babeldesk::models::ModelEntry,
    m: &crate::cli::ModelArgs,
    bars: &bar::Bars,
) -> babeldesk::Result<babeldesk::models::loaded::LoadedModel> {
    babeldesk::models::loaded::load(
        &ctx.settings,
        &ctx.env,
        entry,
        m.model_dir.as_deref(),
        generation(m),
        bars,
    )
}

/// Flags that do not go together (what clap cannot check): exit 2 like clap's own refusals.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The exit code for a failure: 2 for flags refused, 1 for the rest.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<Usage>() {
        Some(_) => 2,
        None => 1,
    }
}

/// Whether the error is standard output closed by its reader (`babeldesk … | head`): a
/// normal end, not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// One line on stderr: the error and its causes.
pub fn report_error(err: &anyhow::Error) {
    let chain: Vec<String> = err
        .chain()
        .map(|e| e.to_string())
        .filter(|s| !s.is_empty())
        .collect();
    out::err_line(&format!("babeldesk: error: {}", chain.join(": ")));
}

/// The document in `bytes`, with one stderr line naming the lines taken for page junk and
/// left out of `what` ("translated", "summarized"…), and the flag that keeps them when the
/// command has one: nothing a document holds is dropped without a word.
pub fn open_document(
    bytes: Vec<u8>,
    name: &str,
    keep_all: Option<bool>,
    what: &str,
    bars: &bar::Bars,
) -> Result<babeldesk::text::Document> {
    let doc = babeldesk::text::Document::from_bytes(bytes, name, keep_all.unwrap_or(false))?;
    let lines: Vec<String> = doc
        .left_out_lines()
        .iter()
        .map(|l| l.line.to_string())
        .collect();
    if !lines.is_empty() {
        let n = lines.len();
        let shown = match n {
            13.. => format!("{}, … ({} more)", lines[..12].join(", "), n - 12),
            _ => lines.join(", "),
        };
        let (s, were) = if n == 1 { ("", "was") } else { ("s", "were") };
        let hint = match keep_all {
            Some(_) => "; --keep-all keeps them".to_string(),
            None => String::new(),
        };
        bars.say(&format!(
            "note: {name}: {n} line{s} taken for page junk around the article {were} not {what} (line{s} {shown}){hint}"
        ));
    }
    Ok(doc)
}

/// Read an input: a file, or standard input for "-".
pub fn read_input(path: &Path) -> Result<(Vec<u8>, String)> {
    use std::io::Read;
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        return Ok((buf, "<stdin>".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| babeldesk::Error::io(path, e))?;
    Ok((bytes, path.display().to_string()))
}
