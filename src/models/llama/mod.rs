//! The GGUF engine: instruct models run by llama.cpp. These files are compiled into the
//! `babeldesk-llm` executable only (see src/bin/babeldesk-llm.rs). It speaks the same protocol
//! as the rust-bert engine, so the pipeline, the memory and the outputs do not care which
//! engine ran; the attempts, the prompts and the answer checks are in
//! `babeldesk::models::chat` and `babeldesk::models::prompt`, shared with the remote engine.

mod session;

use babeldesk::config::{Device, Env, ProcessEnv};
use babeldesk::models::chat::{self, Answer, Chat, Completion, Decoding};
use babeldesk::models::loaded::{LOCAL_PARALLEL, MAX_LOCAL_PARALLEL};
use babeldesk::models::prompt::Message;
use babeldesk::models::protocol::{
    self, EngineFailure, LoadRequest, Reply, Request, TokenCounts, PROTOCOL_VERSION,
};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use session::{Lane, Prompter, Session};
use std::io::{BufRead, Write};
use std::num::NonZeroU32;
use std::time::Instant;

pub(crate) type EngineResult<T> = std::result::Result<T, EngineFailure>;

/// Context size: the model's own, at most this (a sentence, its examples and the answer need
/// far less; a summary chunk is cut to fit).
const MAX_CTX: u32 = 4096;
const SUMMARY_WORDS: usize = 80;

struct Loaded {
    session: Session,
    languages: Vec<String>,
    max_input_tokens: usize,
}

pub fn serve(input: impl BufRead, output: impl Write) -> i32 {
    let mut backend = match LlamaBackend::init() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("babeldesk-llm: cannot start llama.cpp: {e}");
            return 1;
        }
    };
    // llama.cpp logs every tensor it loads; babeldesk reports what matters itself.
    if ProcessEnv.var("BABELDESK_LLAMA_LOG").is_none() {
        backend.void_logs();
    }
    let mut loaded: Option<Loaded> = None;
    protocol::serve(input, output, |req| handle(req, &backend, &mut loaded))
}

fn handle(
    req: Request,
    backend: &LlamaBackend,
    loaded: &mut Option<Loaded>,
) -> EngineResult<Reply> {
    match req {
        Request::Hello { version } if version != PROTOCOL_VERSION => {
            Err(EngineFailure::request(format!(
                "protocol version {version} is not supported (engine speaks {PROTOCOL_VERSION})"
            )))
        }
        Request::Hello { .. } => Ok(Reply::Hello {
            version: PROTOCOL_VERSION,
            engine: format!("babeldesk-llm {} (llama.cpp)", env!("CARGO_PKG_VERSION")),
            cuda_devices: 0,
        }),
        Request::Load(req) => {
            let started = Instant::now();
            let model = load(&req, backend)?;
            let max = model.max_input_tokens;
            *loaded = Some(model);
            Ok(Reply::Loaded {
                device: "cpu".into(),
                millis: started.elapsed().as_millis() as u64,
                max_input_tokens: Some(max as i64),
                precision: None,
            })
        }
        Request::Translate { texts, hints } => {
            let m = loaded.as_mut().ok_or_else(not_loaded)?;
            let [from, to, ..] = &m.languages.clone()[..] else {
                return Err(EngineFailure::request(
                    "the model was loaded without a language pair",
                ));
            };
            answer_all(&mut m.session, &texts, |lane, i| {
                let hint = hints.get(i).cloned().unwrap_or_default();
                chat::translate(lane, from, to, &texts[i], &hint)
            })
        }
        Request::Summarize { texts, max_words } => {
            let m = loaded.as_mut().ok_or_else(not_loaded)?;
            let lang = m.languages.last().cloned().unwrap_or_else(|| "en".into());
            let words = max_words.unwrap_or(SUMMARY_WORDS);
            answer_all(&mut m.session, &texts, |lane, i| {
                chat::summarize(lane, &lang, &texts[i], words)
            })
        }
        Request::CountTokens { texts } => {
            let m = loaded.as_ref().ok_or_else(not_loaded)?;
            Ok(Reply::Counts {
                counts: texts.iter().map(|t| m.session.count(t)).collect(),
            })
        }
        Request::Embed { .. } => Err(EngineFailure::unsupported(
            "GGUF chat models do not make embeddings",
        )),
        Request::Shutdown => Ok(Reply::Bye),
    }
}

fn not_loaded() -> EngineFailure {
    EngineFailure::request("no model is loaded")
}

fn load(req: &LoadRequest, backend: &LlamaBackend) -> EngineResult<Loaded> {
    if req.device == Device::Cuda {
        return Err(EngineFailure::Device(
            "--device cuda: this babeldesk-llm runs llama.cpp on the CPU; use --device cpu or auto"
                .into(),
        ));
    }
    let path = req.dir.join(&req.weights);
    if !path.is_file() {
        return Err(EngineFailure::bad_file(&path, "no such GGUF file"));
    }
    let model = LlamaModel::load_from_file(backend, &path, &LlamaModelParams::default())
        .map_err(|e| EngineFailure::refused(&path, "not a usable GGUF model", e))?;
    // One model per engine process, for the life of the process: the context borrows it.
    let model: &'static LlamaModel = Box::leak(Box::new(model));
    let n_ctx = model.n_ctx_train().clamp(256, MAX_CTX);
    let lanes = req
        .parallel
        .unwrap_or(LOCAL_PARALLEL)
        .clamp(1, MAX_LOCAL_PARALLEL);
    let threads = req
        .threads
        .or_else(|| {
            ProcessEnv
                .var("BABELDESK_THREADS")
                .and_then(|t| t.parse().ok())
        })
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1) as i32;
    let n_batch = 512;
    // One cache for all sequences (kv_unified), so they share the system prompt's cells;
    // sequence 0 holds that alone.
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx * lanes as u32))
        .with_n_seq_max(lanes as u32 + 1)
        .with_kv_unified(true)
        .with_n_batch(n_batch)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let ctx = model
        .new_context(backend, params)
        .map_err(|e| EngineFailure::refused(&path, "cannot make a context", e))?;
    Ok(Loaded {
        session: Session::new(model, ctx, n_batch as usize, lanes, n_ctx as usize),
        languages: req.languages.clone(),
        // A segment, a few examples and the answer must fit the context together.
        max_input_tokens: (n_ctx as usize / 4).min(1024),
    })
}

#[derive(Default)]
struct Answers {
    texts: Vec<String>,
    problems: Vec<Option<String>>,
    tokens: TokenCounts,
}

impl Answers {
    fn push(&mut self, a: Answer) {
        self.texts.push(a.text);
        self.problems.push(a.problem);
        self.tokens += a.tokens;
    }

    fn into_reply(self) -> Reply {
        let any = self.problems.iter().any(Option::is_some);
        Reply::Texts {
            texts: self.texts,
            problems: if any { self.problems } else { Vec::new() },
            tokens: Some(self.tokens),
        }
    }
}

/// Answer `texts`, `ask(chat, i)` for text i, on as many threads as the session has lanes;
/// the session decodes what they ask together (see [`Session::answer_each`]). Longest texts
/// first, so the request does not end waiting on one long answer decoded alone. The answers
/// in the texts' order. A text the engine could not ask for (its prompt does not fit) is a
/// problem of that text alone; a failure of the model fails the request.
fn answer_all(
    session: &mut Session,
    texts: &[String],
    ask: impl Fn(&mut Asker, usize) -> EngineResult<Answer> + Sync,
) -> EngineResult<Reply> {
    let started = Instant::now();
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(texts[i].len()));
    let prompter = session.prompter().clone();
    let lanes = session.lanes();
    let results = session.answer_in_order(&order, lanes, |lane, i| {
        ask(
            &mut Asker {
                lane,
                prompter: &prompter,
            },
            i,
        )
    });
    let mut reply = Answers::default();
    for got in results {
        match got.unwrap_or_else(|| Err(EngineFailure::request("a text was not answered"))) {
            Ok(answer) => reply.push(answer),
            Err(EngineFailure::Request(why)) => reply.push(Answer {
                problem: Some(why),
                ..Answer::default()
            }),
            Err(e) => return Err(e),
        }
    }
    // Answers overlap in time: the request's wall time, not their sum.
    reply.tokens.millis = started.elapsed().as_millis() as u64;
    Ok(reply.into_reply())
}

/// A lane of the session, as a [`Chat`] the shared attempts in `chat` ask.
struct Asker<'a> {
    lane: &'a mut Lane,
    prompter: &'a Prompter,
}

impl Chat for Asker<'_> {
    type Error = EngineFailure;

    fn complete(
        &mut self,
        messages: &[Message],
        max_tokens: usize,
        decoding: Decoding,
    ) -> EngineResult<Completion> {
        let rendered = self.prompter.render(messages)?;
        let anchor = self.prompter.render_anchor(messages)?;
        let out =
            self.lane
                .complete_prompt(self.prompter, &rendered, &anchor, max_tokens, decoding)?;
        debug(&rendered, &out);
        Ok(out)
    }

    fn count(&self, text: &str) -> usize {
        self.prompter.count(text)
    }
}

/// `BABELDESK_DEBUG_LLM=1`: every prompt and raw answer on stderr (run the engine by hand).
fn debug(prompt: &str, out: &Completion) {
    if ProcessEnv.var("BABELDESK_DEBUG_LLM").is_some() {
        eprintln!(
            "--- prompt\n{prompt}\n--- answer ({} tokens, stopped by cap: {})\n{}\n",
            out.generated, out.hit_limit, out.text
        );
    }
}

#[cfg(test)]
mod tests {
    use super::session::tests::{lanes, SERIAL};
    use super::*;

    #[test]
    fn a_text_whose_prompt_does_not_fit_is_a_problem_of_its_own() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = lanes("tiny-llm-chat", 256, 256, 2);
        let texts: Vec<String> = ["Доброе утро.", "Привет.", "Да."].map(String::from).into();
        let reply = answer_all(&mut s, &texts, |chat, i| {
            let messages = vec![
                ("system", "Translate into English.".to_string()),
                ("user", texts[i].clone()),
            ];
            let cap = if i == 1 { 10_000 } else { 32 };
            let out = chat.complete(&messages, cap, Decoding::Greedy)?;
            Ok(Answer {
                text: out.text,
                ..Answer::default()
            })
        })
        .unwrap();
        let Reply::Texts {
            texts, problems, ..
        } = reply
        else {
            panic!("{reply:?}")
        };
        assert_eq!(texts[0], "Here is the translation: «Good morning.»");
        assert_eq!(texts[2], texts[0]);
        assert!(problems[1]
            .as_deref()
            .is_some_and(|p| p.contains("do not fit the context of 256 tokens")));
        assert!(problems[0].is_none() && problems[2].is_none());
    }
}
