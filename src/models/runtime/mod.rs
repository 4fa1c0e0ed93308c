//! The engine side: everything that touches rust-bert and tch. These files are compiled into
//! the `babeldesk-engine` executable only (see src/bin/babeldesk-engine.rs), which serves the
//! protocol on stdin/stdout, so libtorch is loaded by model commands alone.

mod bert;
mod embed;
mod generate;
mod int8;
mod layers;
mod marian;
mod search;
mod seq2seq;

use babeldesk::config::Device;
use babeldesk::models::protocol::{
    self, EngineFailure, LoadRequest, Reply, Request, PROTOCOL_VERSION,
};
use babeldesk::models::registry::Task;
use std::io::{BufRead, Write};
use std::time::Instant;

pub(crate) type EngineResult<T> = std::result::Result<T, EngineFailure>;

enum Loaded {
    Translator(generate::Translator),
    Summarizer(generate::Summarizer),
    Embedder(embed::Embedder),
}

/// Serve requests until `shutdown` or end of input. Returns the process exit code.
pub fn serve(input: impl BufRead, output: impl Write) -> i32 {
    let mut loaded: Option<Loaded> = None;
    protocol::serve(input, output, |req| handle(req, &mut loaded))
}

fn handle(req: Request, loaded: &mut Option<Loaded>) -> EngineResult<Reply> {
    match req {
        Request::Hello { version } if version != PROTOCOL_VERSION => {
            Err(EngineFailure::request(format!(
                "protocol version {version} is not supported (engine speaks {PROTOCOL_VERSION})"
            )))
        }
        Request::Hello { .. } => Ok(Reply::Hello {
            version: PROTOCOL_VERSION,
            engine: format!(
                "babeldesk-engine {} (libtorch via tch)",
                env!("CARGO_PKG_VERSION")
            ),
            cuda_devices: tch::Cuda::device_count(),
        }),
        Request::Load(req) => {
            let started = Instant::now();
            let device = device(req.device)?;
            if let Some(t) = req.threads {
                tch::set_num_threads(t.min(i32::MAX as usize) as i32);
            }
            let (model, max_input) = load(&req, device)?;
            let precision = match &model {
                Loaded::Translator(t) => Some(t.precision),
                Loaded::Summarizer(s) => Some(s.precision),
                Loaded::Embedder(e) => Some(e.precision),
            };
            *loaded = Some(model);
            Ok(Reply::Loaded {
                device: format!("{device:?}").to_lowercase(),
                millis: started.elapsed().as_millis() as u64,
                max_input_tokens: max_input,
                precision,
            })
        }
        Request::Translate { texts, .. } => match loaded {
            Some(Loaded::Translator(t)) => Ok(texts_reply(t.translate(&texts)?)),
            _ => Err(EngineFailure::request("no translation model is loaded")),
        },
        Request::Summarize { texts, .. } => match loaded {
            Some(Loaded::Summarizer(s)) => Ok(texts_reply(s.summarize(&texts)?)),
            _ => Err(EngineFailure::request("no summarization model is loaded")),
        },
        Request::Embed { texts } => match loaded {
            Some(Loaded::Embedder(e)) => Ok(Reply::Embeddings {
                vectors: e.embed(&texts)?,
            }),
            _ => Err(EngineFailure::request("no embedding model is loaded")),
        },
        Request::CountTokens { texts } => {
            let counts = match loaded {
                Some(Loaded::Translator(t)) => t.count_tokens(&texts),
                Some(Loaded::Summarizer(s)) => s.count_tokens(&texts),
                Some(Loaded::Embedder(e)) => e.count_tokens(&texts)?,
                None => return Err(EngineFailure::request("no model is loaded")),
            };
            Ok(Reply::Counts { counts })
        }
        Request::Shutdown => Ok(Reply::Bye),
    }
}

fn load(req: &LoadRequest, device: tch::Device) -> EngineResult<(Loaded, Option<i64>)> {
    // rust-bert panics on a config.json it cannot parse; read it first, so a broken one is an
    // error that names the file.
    read_json(&req.dir.join("config.json"))?;
    Ok(match req.task {
        Task::Translation => {
            let t = generate::Translator::load(req, device)?;
            let max = t.max_input_tokens;
            (Loaded::Translator(t), Some(max))
        }
        Task::Summarization => {
            let s = generate::Summarizer::load(req, device)?;
            let max = s.max_input_tokens;
            (Loaded::Summarizer(s), max)
        }
        Task::Embedding => {
            let e = embed::Embedder::load(req, device)?;
            let max = e.max_tokens as i64;
            (Loaded::Embedder(e), Some(max))
        }
        Task::Chat => {
            return Err(EngineFailure::unsupported(
                "chat (GGUF) models run in babeldesk-llm, not here",
            ))
        }
    })
}

fn texts_reply(texts: Vec<String>) -> Reply {
    Reply::Texts {
        texts,
        problems: Vec::new(),
        tokens: None,
    }
}

fn device(wanted: Device) -> EngineResult<tch::Device> {
    match wanted {
        Device::Cpu => Ok(tch::Device::Cpu),
        Device::Auto => Ok(tch::Device::cuda_if_available()),
        Device::Cuda if tch::Cuda::is_available() => Ok(tch::Device::Cuda(0)),
        Device::Cuda => Err(EngineFailure::Device(
            "--device cuda: libtorch sees no CUDA device on this machine; use --device cpu or auto"
                .into(),
        )),
    }
}

/// Read `config.json` of a model folder as JSON.
pub(crate) fn read_json(path: &std::path::Path) -> EngineResult<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| EngineFailure::file(path, e))?;
    serde_json::from_str(&text).map_err(|e| EngineFailure::bad_file(path, e))
}
