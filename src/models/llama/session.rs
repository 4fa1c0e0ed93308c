//! One llama.cpp context decoding several prompts at once. Each prompt gets its own sequence
//! (its own range of the KV cache); every step decodes one token of every running sequence
//! in one batch, so one pass over the weights gives several tokens (on a CPU the weights'
//! trip through memory, not the arithmetic, bounds a step).
//!
//! Prompts share their start (the system prompt): it is read once, on its own, into
//! sequence 0 and kept; a new prompt's sequence starts as a copy of it (the cache cells are
//! shared, not copied) and reads the prompt's rest on its own, never mixed with other
//! sequences' tokens. Reading the shared start alone matters: llama.cpp's numbers depend
//! slightly on how tokens are batched, and greedy decoding amplifies that, so a cache that
//! kept "whatever the previous prompt had in common" made a sentence's translation depend on
//! the sentence before it. A prompt is read in batches of its own tokens only; the steps that
//! write answers are shared (see `BENCHMARKS.md` for how often that changes an answer), and
//! the schedule is deterministic (see [`Session::answer_in_order`]).

use super::EngineResult;
use babeldesk::models::chat::{self, Completion as Output, Decoding};
use babeldesk::models::prompt::Message;
use babeldesk::models::protocol::EngineFailure;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Mutex;

/// Turning chats into tokens: the model's template and tokenizer (shared by the threads that
/// ask, while the session decodes).
#[derive(Clone)]
pub struct Prompter {
    model: &'static LlamaModel,
    template: Option<LlamaChatTemplate>,
}

/// One prompt to answer: its tokens, the start it shares with other prompts (a prefix of
/// them, possibly empty), and where the answer goes.
pub struct Job {
    pub prompt: Vec<LlamaToken>,
    pub anchor: Vec<LlamaToken>,
    pub max_tokens: usize,
    pub decoding: Decoding,
    pub reply: Sender<EngineResult<Output>>,
}

impl Prompter {
    pub fn new(model: &'static LlamaModel) -> Prompter {
        Prompter {
            model,
            template: model.chat_template(None).ok(),
        }
    }

    pub fn count(&self, text: &str) -> usize {
        self.model
            .vocab()
            .tokenize(text.as_bytes(), false, false)
            .len()
    }

    /// The chat as the model's own template writes it, ending where the assistant answers.
    /// Models without a template (or one llama.cpp does not know) get ChatML.
    pub fn render(&self, messages: &[Message]) -> EngineResult<String> {
        self.render_with(messages, true)
    }

    /// The system message alone, as the template writes it: the start prompts share.
    pub fn render_anchor(&self, messages: &[Message]) -> EngineResult<String> {
        self.render_with(&messages[..messages.len().min(1)], false)
    }

    fn render_with(&self, messages: &[Message], add_assistant: bool) -> EngineResult<String> {
        if let Some(t) = &self.template {
            let chat: Result<Vec<_>, _> = messages
                .iter()
                .map(|(role, content)| LlamaChatMessage::new(role.to_string(), content.clone()))
                .collect();
            let chat = chat.map_err(|e| EngineFailure::model("prompt", e))?;
            if let Ok(text) = self.model.apply_chat_template(t, &chat, add_assistant) {
                return Ok(text);
            }
        }
        let mut text = String::new();
        for (role, content) in messages {
            text.push_str(&format!("<|im_start|>{role}\n{content}<|im_end|>\n"));
        }
        if add_assistant {
            text.push_str("<|im_start|>assistant\n");
        }
        Ok(text)
    }

    /// The job for `prompt`, whose first `anchor` bytes (the rendered system prompt) are the
    /// start it shares with other prompts. The anchor counts only if it tokenizes as the
    /// prompt's own start and leaves a token to read (its logits start the answer).
    pub fn job(
        &self,
        prompt: &str,
        anchor: &str,
        max_tokens: usize,
        decoding: Decoding,
        reply: Sender<EngineResult<Output>>,
    ) -> EngineResult<Job> {
        let vocab = self.model.vocab();
        let add_bos = vocab.should_add_bos();
        let tokens = vocab.tokenize(prompt.as_bytes(), add_bos, true);
        if tokens.is_empty() {
            return Err(EngineFailure::request("empty prompt"));
        }
        let mut anchor_tokens = if prompt.starts_with(anchor) {
            vocab.tokenize(anchor.as_bytes(), add_bos, true)
        } else {
            Vec::new()
        };
        if !tokens.starts_with(&anchor_tokens) || anchor_tokens.len() >= tokens.len() {
            anchor_tokens.clear();
        }
        Ok(Job {
            prompt: tokens,
            anchor: anchor_tokens,
            max_tokens,
            decoding,
            reply,
        })
    }
}

/// What a lane tells the session.
pub enum Msg {
    /// Lane k wants this prompt answered.
    Ask(usize, Job),
    /// Lane k is free: the index of its next text, or None when none is left.
    Next(usize, Sender<Option<usize>>),
    /// Lane k stopped (its thread ended early).
    Gone(usize),
}

/// Where a lane stands, as the session sees it.
enum LaneState {
    /// Between messages: the session waits for it before anything else.
    Thinking,
    Asking(Job),
    Idle(Sender<Option<usize>>),
    Running,
    Done,
}

/// One thread's way to the session (see [`Session::answer_each`]).
pub struct Lane {
    id: usize,
    tx: Sender<Msg>,
}

impl Lane {
    fn next_text(&mut self) -> Option<usize> {
        let (tx, rx) = mpsc::channel();
        self.tx.send(Msg::Next(self.id, tx)).ok()?;
        rx.recv().ok().flatten()
    }

    /// Answer `prompt` (see [`Prompter::job`]).
    pub fn complete_prompt(
        &mut self,
        prompter: &Prompter,
        prompt: &str,
        anchor: &str,
        max_tokens: usize,
        decoding: Decoding,
    ) -> EngineResult<Output> {
        let (tx, rx) = mpsc::channel();
        let job = prompter.job(prompt, anchor, max_tokens, decoding, tx)?;
        let gone = || EngineFailure::request("the engine stopped decoding");
        self.tx.send(Msg::Ask(self.id, job)).map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Gone(self.id));
    }
}

pub struct Session {
    prompter: Prompter,
    ctx: LlamaContext<'static>,
    /// The shared start in the cache (read on its own), in sequence 0.
    anchor: Vec<LlamaToken>,
    n_batch: usize,
    /// Prompts decoded at once, in sequences 1..=lanes.
    lanes: usize,
    /// The context each sequence may fill (prompt and answer).
    n_ctx_seq: usize,
    /// What was decoded, in order: the sequence a prompt was read into (one entry), or the
    /// sequences one step decoded together.
    #[cfg(test)]
    trace: Vec<Vec<i32>>,
}

/// A prompt being answered.
struct Running {
    seq: i32,
    /// Where the next token goes.
    pos: usize,
    last: LlamaToken,
    sampler: LlamaSampler,
    bytes: Vec<u8>,
    generated: usize,
    max_tokens: usize,
    read: usize,
    /// The model ended the answer itself.
    ended: bool,
    reply: Sender<EngineResult<Output>>,
}

impl Session {
    /// A session over `ctx`, made with `lanes + 1` sequences and `lanes * n_ctx_seq` cells.
    pub fn new(
        model: &'static LlamaModel,
        ctx: LlamaContext<'static>,
        n_batch: usize,
        lanes: usize,
        n_ctx_seq: usize,
    ) -> Session {
        Session {
            prompter: Prompter::new(model),
            ctx,
            anchor: Vec::new(),
            n_batch: n_batch.max(1),
            lanes: lanes.max(1),
            n_ctx_seq,
            #[cfg(test)]
            trace: Vec::new(),
        }
    }

    pub fn prompter(&self) -> &Prompter {
        &self.prompter
    }

    pub fn lanes(&self) -> usize {
        self.lanes
    }

    #[cfg(test)]
    pub fn n_ctx(&self) -> usize {
        self.n_ctx_seq
    }

    pub fn count(&self, text: &str) -> usize {
        self.prompter.count(text)
    }

    #[cfg(test)]
    pub fn render(&self, messages: &[Message]) -> EngineResult<String> {
        self.prompter.render(messages)
    }

    #[cfg(test)]
    pub fn render_anchor(&self, messages: &[Message]) -> EngineResult<String> {
        self.prompter.render_anchor(messages)
    }

    #[cfg(test)]
    /// Answer one prompt (nothing else running).
    pub fn generate(
        &mut self,
        prompt: &str,
        anchor: &str,
        max_tokens: usize,
        decoding: Decoding,
    ) -> EngineResult<Output> {
        let prompter = self.prompter.clone();
        let mut out = self.answer_each(1, 1, |lane, _| {
            lane.complete_prompt(&prompter, prompt, anchor, max_tokens, decoding)
        });
        out.pop()
            .flatten()
            .unwrap_or_else(|| Err(EngineFailure::request("no answer")))
    }

    #[cfg(test)]
    /// [`Self::answer_in_order`] for texts 0..n in order.
    pub fn answer_each<R: Send>(
        &mut self,
        n: usize,
        lanes: usize,
        ask: impl Fn(&mut Lane, usize) -> R + Sync,
    ) -> Vec<Option<R>> {
        self.answer_in_order(&(0..n).collect::<Vec<_>>(), lanes, ask)
    }

    /// `ask(lane, i)` for every text i of `order` (the order texts are handed out in), on
    /// `lanes.min(self.lanes)` threads, each with a lane of its own. What each returned, by
    /// text index (None for an index `order` does not hold). A lane that panics panics the
    /// caller, after the others have stopped.
    ///
    /// The schedule is deterministic: the session hands out texts and starts and steps
    /// sequences only when every lane has told it what it wants next, always in lane order,
    /// so which sequences share a step never depends on thread timing, and the same request
    /// gives the same answers (llama.cpp's numbers depend on how tokens are batched).
    pub fn answer_in_order<R: Send>(
        &mut self,
        order: &[usize],
        lanes: usize,
        ask: impl Fn(&mut Lane, usize) -> R + Sync,
    ) -> Vec<Option<R>> {
        let n = order.iter().map(|&i| i + 1).max().unwrap_or(0);
        let results: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
        let lanes = lanes.min(self.lanes).min(order.len());
        let (tx, msgs) = mpsc::channel();
        std::thread::scope(|s| {
            for id in 0..lanes {
                let mut lane = Lane { id, tx: tx.clone() };
                let (results, ask) = (&results, &ask);
                s.spawn(move || {
                    while let Some(i) = lane.next_text() {
                        let got = ask(&mut lane, i);
                        *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(got);
                    }
                });
            }
            drop(tx);
            // `run` owns the receiver: if it panics, the lanes' messages fail and they stop,
            // instead of waiting for an answer nobody will give.
            self.run(order, lanes, msgs);
        });
        results
            .into_iter()
            .map(|r| r.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect()
    }

    /// Serve `lanes` lanes until each has no text left: hand out texts (in `order`), start
    /// the prompts lanes ask for (lane k in sequence k + 1), step the running ones together.
    fn run(&mut self, order: &[usize], lanes: usize, msgs: Receiver<Msg>) {
        let mut states: Vec<LaneState> = (0..lanes).map(|_| LaneState::Thinking).collect();
        let mut texts = order.iter().copied();
        let mut running: Vec<Running> = Vec::with_capacity(lanes);
        let mut batch = LlamaBatch::new(self.n_batch.max(lanes), 1);
        loop {
            // Hear from every lane that is working out what it wants.
            // (Every lane gone while one was thinking: nobody waits for anything.)
            if states.iter().any(|s| matches!(s, LaneState::Thinking))
                && !self.hear(&mut states, &msgs)
            {
                break;
            }
            let mut handed = false;
            for state in states.iter_mut() {
                if !matches!(state, LaneState::Idle(_)) {
                    continue;
                }
                if let LaneState::Idle(reply) = std::mem::replace(state, LaneState::Done) {
                    let next = texts.next();
                    if next.is_some() && reply.send(next).is_ok() {
                        *state = LaneState::Thinking;
                        handed = true;
                    }
                }
            }
            for (l, state) in states.iter_mut().enumerate() {
                if !matches!(state, LaneState::Asking(_)) {
                    continue;
                }
                if let LaneState::Asking(job) = std::mem::replace(state, LaneState::Running) {
                    if let Some(r) = self.start(job, l as i32 + 1, &mut batch) {
                        running.push(r);
                    } else {
                        *state = LaneState::Thinking;
                    }
                }
            }
            if handed || states.iter().any(|s| matches!(s, LaneState::Thinking)) {
                continue;
            }
            if running.is_empty() {
                break;
            }
            if let Err(e) = self.step(&mut running, &mut batch) {
                let message = e.message();
                for r in running.drain(..) {
                    states[r.seq as usize - 1] = LaneState::Thinking;
                    self.forget(r.seq);
                    let _ = r
                        .reply
                        .send(Err(EngineFailure::model("generating", message.clone())));
                }
            }
            for r in std::mem::take(&mut running) {
                match r.done() {
                    true => {
                        states[r.seq as usize - 1] = LaneState::Thinking;
                        self.finish(r);
                    }
                    false => running.push(r),
                }
            }
        }
        for r in running {
            self.forget(r.seq);
        }
    }

    /// Wait until no lane is thinking; false when every lane is gone.
    fn hear(&self, states: &mut [LaneState], msgs: &Receiver<Msg>) -> bool {
        while states.iter().any(|s| matches!(s, LaneState::Thinking)) {
            match msgs.recv() {
                Ok(Msg::Ask(l, job)) => states[l] = LaneState::Asking(job),
                Ok(Msg::Next(l, reply)) => states[l] = LaneState::Idle(reply),
                Ok(Msg::Gone(l)) => states[l] = LaneState::Done,
                Err(_) => return false,
            }
        }
        true
    }

    /// Read `job`'s prompt into sequence `seq` and take its first token; None when the job is
    /// answered already (refused, or done after one token).
    fn start(&mut self, job: Job, seq: i32, batch: &mut LlamaBatch) -> Option<Running> {
        let read = match self.prefill(&job, seq, batch) {
            Ok(read) => read,
            Err(e) => {
                self.forget(seq);
                let _ = job.reply.send(Err(e));
                return None;
            }
        };
        let model = self.prompter.model;
        let sampler = match job.decoding {
            Decoding::Guarded => LlamaSampler::chain_simple([
                LlamaSampler::penalties(
                    model.n_vocab(),
                    chat::PENALTY_LAST_N,
                    chat::REPEAT_PENALTY,
                    0.0,
                    0.0,
                ),
                LlamaSampler::greedy(),
            ]),
            Decoding::Greedy => LlamaSampler::greedy(),
        };
        let mut r = Running {
            seq,
            pos: job.prompt.len(),
            last: LlamaToken(0),
            sampler,
            bytes: Vec::new(),
            generated: 0,
            max_tokens: job.max_tokens,
            read,
            ended: false,
            reply: job.reply,
        };
        if r.max_tokens > 0 {
            r.take(&self.ctx, batch.n_tokens() - 1, model);
        }
        if r.done() {
            self.finish(r);
            return None;
        }
        Some(r)
    }

    /// The prompt read into `seq` (the anchor from sequence 0); the tokens that had to be read.
    fn prefill(&mut self, job: &Job, seq: i32, batch: &mut LlamaBatch) -> EngineResult<usize> {
        let n = job.prompt.len();
        #[cfg(test)]
        self.trace.push(vec![seq]);
        self.forget(seq);
        if n + job.max_tokens > self.n_ctx_seq {
            return Err(EngineFailure::request(format!(
                "the prompt ({n} tokens) and answer ({}) do not fit the context of {} tokens",
                job.max_tokens, self.n_ctx_seq
            )));
        }
        let mut read = 0;
        if job.anchor != self.anchor {
            // Sequences started from the old anchor keep its cells: they are theirs too.
            self.forget(0);
            self.anchor.clear();
            self.read(batch, &job.anchor, 0, 0, false)?;
            read += job.anchor.len();
            self.anchor = job.anchor.clone();
        }
        let keep = self.anchor.len();
        if keep > 0 {
            self.ctx
                .kv_cache_seq_cp(0, seq, None, None)
                .map_err(|e| EngineFailure::model("cache", e))?;
        }
        self.read(batch, &job.prompt[keep..], keep, seq, true)?;
        Ok(read + n - keep)
    }

    /// One token for every running sequence, in one batch.
    fn step(&mut self, running: &mut [Running], batch: &mut LlamaBatch) -> EngineResult<()> {
        if running.is_empty() {
            return Ok(());
        }
        #[cfg(test)]
        self.trace.push(running.iter().map(|r| r.seq).collect());
        batch.clear();
        for r in running.iter() {
            batch
                .add(r.last, r.pos as i32, &[r.seq], true)
                .map_err(|e| EngineFailure::model("batch", e))?;
        }
        self.ctx
            .decode(batch)
            .map_err(|e| EngineFailure::model("generating", e))?;
        for (i, r) in running.iter_mut().enumerate() {
            r.pos += 1;
            r.take(&self.ctx, i as i32, self.prompter.model);
        }
        Ok(())
    }

    fn finish(&mut self, r: Running) {
        self.forget(r.seq);
        let _ = r.reply.send(Ok(Output {
            text: String::from_utf8_lossy(&r.bytes).into_owned(),
            read_tokens: r.read,
            generated: r.generated,
            hit_limit: !r.ended,
            refused: None,
        }));
    }

    /// Drop sequence `seq`'s cells (shared cells stay for the other sequences holding them).
    fn forget(&mut self, seq: i32) {
        let _ = self.ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
    }

    /// Decode `tokens` into `seq` at positions from `start`, in batches; logits for the last
    /// one only when `last_logits`.
    fn read(
        &mut self,
        batch: &mut LlamaBatch,
        tokens: &[LlamaToken],
        start: usize,
        seq: i32,
        last_logits: bool,
    ) -> EngineResult<()> {
        let mut pos = start;
        for chunk in tokens.chunks(self.n_batch) {
            batch.clear();
            for (j, &t) in chunk.iter().enumerate() {
                let last = last_logits && pos + j + 1 == start + tokens.len();
                batch
                    .add(t, (pos + j) as i32, &[seq], last)
                    .map_err(|e| EngineFailure::model("batch", e))?;
            }
            self.ctx
                .decode(batch)
                .map_err(|e| EngineFailure::model("reading the prompt", e))?;
            pos += chunk.len();
        }
        Ok(())
    }
}

impl Running {
    /// Sample the token the logits at batch index `at` give, and keep it.
    fn take(&mut self, ctx: &LlamaContext, at: i32, model: &LlamaModel) {
        let vocab = model.vocab();
        let token = self.sampler.sample(ctx, at);
        self.sampler.accept(token);
        if vocab.is_eog(token) {
            self.ended = true;
            return;
        }
        self.bytes.extend(vocab.token_to_piece(token, false, None));
        self.generated += 1;
        self.last = token;
    }

    fn done(&self) -> bool {
        self.ended || self.generated >= self.max_tokens
    }
}

#[cfg(test)]
pub(super) mod tests {
    //! Real llama.cpp inference on the tiny GGUF fixtures (tests/fixtures/make_gguf.py): each
    //! is a bigram model whose greedy answer after `<|im_start|>assistant\n` is a known chain.

    use super::*;
    use llama_cpp_2::context::params::LlamaContextParams;
    use llama_cpp_2::llama_backend::LlamaBackend;
    use llama_cpp_2::model::params::LlamaModelParams;
    use std::num::NonZeroU32;
    use std::sync::{Mutex, OnceLock};

    /// One backend per process; llama.cpp calls serialized (contexts share global state).
    fn backend() -> &'static LlamaBackend {
        static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
        BACKEND.get_or_init(|| {
            let mut b = LlamaBackend::init().unwrap();
            b.void_logs();
            b
        })
    }
    pub(in crate::llama) static SERIAL: Mutex<()> = Mutex::new(());

    fn session(name: &str, n_ctx: u32, n_batch: usize) -> Session {
        lanes(name, n_ctx, n_batch, 1)
    }

    /// A session decoding up to `lanes` prompts together, `n_ctx` tokens each.
    pub(in crate::llama) fn lanes(name: &str, n_ctx: u32, n_batch: usize, lanes: usize) -> Session {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/models")
            .join(name)
            .join("model.gguf");
        let model =
            LlamaModel::load_from_file(backend(), &path, &LlamaModelParams::default()).unwrap();
        let model: &'static LlamaModel = Box::leak(Box::new(model));
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx * lanes as u32))
            .with_n_seq_max(lanes as u32 + 1)
            .with_kv_unified(true)
            .with_n_batch(n_batch as u32)
            .with_n_threads(2)
            .with_n_threads_batch(2);
        let ctx = model.new_context(backend(), params).unwrap();
        Session::new(model, ctx, n_batch, lanes, n_ctx as usize)
    }

    fn chat(system: &str, user: &str) -> Vec<Message> {
        vec![("system", system.to_string()), ("user", user.to_string())]
    }

    /// The tokens llama.cpp reads for `text` (as `generate` tokenizes a prompt).
    fn tokens(s: &Session, text: &str) -> usize {
        let vocab = s.prompter.model.vocab();
        vocab
            .tokenize(text.as_bytes(), vocab.should_add_bos(), true)
            .len()
    }

    #[test]
    fn render_writes_the_models_template_and_the_anchor_is_its_system_turn() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let s = session("tiny-llm-chat", 512, 512);
        let m = chat("Translate into English.", "Доброе утро.");
        let prompt = s.render(&m).unwrap();
        assert_eq!(
            prompt,
            "<|im_start|>system\nTranslate into English.<|im_end|>\n<|im_start|>user\nДоброе утро.<|im_end|>\n<|im_start|>assistant\n"
        );
        let anchor = s.render_anchor(&m).unwrap();
        assert_eq!(
            anchor,
            "<|im_start|>system\nTranslate into English.<|im_end|>\n"
        );
        assert!(prompt.starts_with(&anchor));
        // Special tokens are read as such: the whole turn marker is one token.
        assert!(tokens(&s, "<|im_start|>") == 1 && s.count("<|im_start|>") > 1);
        assert_eq!(s.count(""), 0);
    }

    #[test]
    fn answers_follow_the_models_chain_and_end_by_themselves() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = session("tiny-llm-chat", 512, 512);
        let m = chat("Translate into English.", "Доброе утро.");
        let (prompt, anchor) = (s.render(&m).unwrap(), s.render_anchor(&m).unwrap());
        for decoding in [Decoding::Guarded, Decoding::Greedy] {
            let out = s.generate(&prompt, &anchor, 64, decoding).unwrap();
            assert_eq!(
                out.text, "Here is the translation: «Good morning.»",
                "{decoding:?}"
            );
            // Ten tokens, then <|im_end|>, which is not part of the answer.
            assert_eq!((out.generated, out.hit_limit), (10, false), "{decoding:?}");
        }
        // A cap below the answer's length cuts it there and says so.
        let out = s.generate(&prompt, &anchor, 4, Decoding::Greedy).unwrap();
        assert_eq!(
            (out.text.as_str(), out.generated, out.hit_limit),
            ("Here is the translation", 4, true)
        );
    }

    #[test]
    fn a_runaway_answer_stops_at_the_cap_and_says_so() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = session("tiny-llm-runaway", 512, 512);
        let m = chat("Translate into English.", "Привет.");
        let (prompt, anchor) = (s.render(&m).unwrap(), s.render_anchor(&m).unwrap());
        let out = s.generate(&prompt, &anchor, 9, Decoding::Greedy).unwrap();
        assert_eq!(
            out.text,
            "Hello againHello againHello againHello againHello"
        );
        assert_eq!((out.generated, out.hit_limit), (9, true));
        let out = s.generate(&prompt, &anchor, 9, Decoding::Guarded).unwrap();
        assert_eq!((out.generated, out.hit_limit), (9, true));
    }

    #[test]
    fn the_shared_start_is_read_once_and_kept() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = session("tiny-llm-chat", 512, 512);
        let a = chat("Translate into English.", "Доброе утро.");
        let b = chat(
            "Translate into English.",
            "Министр сказал, что голосование пройдёт.",
        );
        let (pa, pb) = (s.render(&a).unwrap(), s.render(&b).unwrap());
        let anchor = s.render_anchor(&a).unwrap();
        let n_anchor = tokens(&s, &anchor);
        assert!(n_anchor > 3);
        let first = s.generate(&pa, &anchor, 32, Decoding::Guarded).unwrap();
        assert_eq!(
            first.read_tokens,
            tokens(&s, &pa),
            "all of the first prompt"
        );
        let second = s.generate(&pb, &anchor, 32, Decoding::Guarded).unwrap();
        assert_eq!(
            second.read_tokens,
            tokens(&s, &pb) - n_anchor,
            "the anchor is kept"
        );
        let again = s.generate(&pa, &anchor, 32, Decoding::Guarded).unwrap();
        assert_eq!(again.read_tokens, tokens(&s, &pa) - n_anchor);
        assert_eq!(again.text, first.text, "the same prompt, the same answer");
        // Another system prompt replaces the anchor: read in full again, then kept.
        let c = chat("Summarize the article.", "Доброе утро.");
        let (pc, anchor_c) = (s.render(&c).unwrap(), s.render_anchor(&c).unwrap());
        let other = s.generate(&pc, &anchor_c, 32, Decoding::Guarded).unwrap();
        assert_eq!(other.read_tokens, tokens(&s, &pc));
        let other = s.generate(&pc, &anchor_c, 32, Decoding::Guarded).unwrap();
        assert_eq!(other.read_tokens, tokens(&s, &pc) - tokens(&s, &anchor_c));
        // An "anchor" the prompt does not start with is no anchor: all is read.
        let stray = s.generate(&pa, &anchor_c, 32, Decoding::Guarded).unwrap();
        assert_eq!(stray.read_tokens, tokens(&s, &pa));
        assert_eq!(stray.text, first.text);
    }

    #[test]
    fn reading_in_small_batches_gives_the_same_answer() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let m = chat(
            "Translate into English.",
            "Министр сказал, что голосование пройдёт.",
        );
        let mut answers = Vec::new();
        for n_batch in [512, 3] {
            let mut s = session("tiny-llm-chat", 512, n_batch);
            let (prompt, anchor) = (s.render(&m).unwrap(), s.render_anchor(&m).unwrap());
            assert!(tokens(&s, &prompt) > 3 * n_batch.min(10));
            let out = s.generate(&prompt, &anchor, 32, Decoding::Guarded).unwrap();
            assert_eq!(out.read_tokens, tokens(&s, &prompt));
            answers.push((out.text, out.generated, out.hit_limit));
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(answers[0].0, "Here is the translation: «Good morning.»");
    }

    #[test]
    fn prompts_that_cannot_be_answered_are_refused() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = session("tiny-llm-chat", 256, 256);
        let m = chat("Translate into English.", "Доброе утро.");
        let (prompt, anchor) = (s.render(&m).unwrap(), s.render_anchor(&m).unwrap());
        let n_ctx = s.n_ctx();
        let room = n_ctx - tokens(&s, &prompt);
        // Exactly filling the context is fine; one token more is refused before any work.
        assert!(s.generate(&prompt, &anchor, room, Decoding::Greedy).is_ok());
        let e = s
            .generate(&prompt, &anchor, room + 1, Decoding::Greedy)
            .err()
            .unwrap();
        assert!(
            e.message()
                .contains(&format!("do not fit the context of {n_ctx} tokens")),
            "{}",
            e.message()
        );
        if !s.prompter.model.vocab().should_add_bos() {
            let e = s.generate("", "", 8, Decoding::Greedy).err().unwrap();
            assert_eq!(e.message(), "empty prompt");
        }
    }

    /// Every prompt answered on a session's lanes, decoded together; the answers in order.
    fn answered_together(
        s: &mut Session,
        prompts: &[(String, String, usize, Decoding)],
    ) -> Vec<Output> {
        let prompter = s.prompter.clone();
        let lanes = s.lanes;
        s.answer_each(prompts.len(), lanes, |lane, i| {
            let (p, a, cap, d) = &prompts[i];
            lane.complete_prompt(&prompter, p, a, *cap, *d).unwrap()
        })
        .into_iter()
        .map(Option::unwrap)
        .collect()
    }

    #[test]
    fn prompts_decoded_together_get_the_answers_they_get_alone() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        // Two models (two chains), two system prompts (two anchors), both decodings, caps
        // that cut answers and caps that do not: more prompts than lanes, so sequences end,
        // are reused, and start while others run.
        let mut prompts = Vec::new();
        for (i, user) in [
            "Доброе утро.",
            "Министр сказал.",
            "Привет.",
            "Да.",
            "Нет, спасибо.",
        ]
        .iter()
        .enumerate()
        {
            for system in ["Translate into English.", "Summarize the article."] {
                let m = chat(system, user);
                let s = session("tiny-llm-chat", 512, 512);
                let decoding = [Decoding::Guarded, Decoding::Greedy][i % 2];
                let cap = [64, 4, 12][i % 3];
                prompts.push((
                    s.render(&m).unwrap(),
                    s.render_anchor(&m).unwrap(),
                    cap,
                    decoding,
                ));
            }
        }
        for name in ["tiny-llm-chat", "tiny-llm-runaway"] {
            let mut alone = session(name, 512, 512);
            let expected: Vec<Output> = prompts
                .iter()
                .map(|(p, a, cap, d)| alone.generate(p, a, *cap, *d).unwrap())
                .collect();
            for n in [2, 3, 16] {
                let mut s = lanes(name, 512, 512, n);
                let got = answered_together(&mut s, &prompts);
                let texts = |o: &[Output]| -> Vec<(String, usize, bool)> {
                    o.iter()
                        .map(|o| (o.text.clone(), o.generated, o.hit_limit))
                        .collect()
                };
                assert_eq!(texts(&got), texts(&expected), "{name}, {n} lanes");
                // Every work sequence is empty again; sequence 0 holds the last anchor alone.
                for seq in 1..=n as i32 {
                    assert_eq!(s.ctx.kv_cache_seq_pos_max(seq), -1, "{name}, {n} lanes");
                }
                assert_eq!(s.ctx.kv_cache_seq_pos_max(0), s.anchor.len() as i32 - 1);
            }
        }
    }

    #[test]
    fn a_prompt_that_does_not_fit_fails_alone_and_the_others_are_answered() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = lanes("tiny-llm-chat", 256, 256, 2);
        let m = chat("Translate into English.", "Доброе утро.");
        let (p, a) = (s.render(&m).unwrap(), s.render_anchor(&m).unwrap());
        let prompter = s.prompter.clone();
        let caps = [32, 10_000, 32];
        let got: Vec<EngineResult<Output>> = s
            .answer_each(3, 2, |lane, i| {
                lane.complete_prompt(&prompter, &p, &a, caps[i], Decoding::Greedy)
            })
            .into_iter()
            .map(Option::unwrap)
            .collect();
        assert_eq!(
            got[0].as_ref().unwrap().text,
            "Here is the translation: «Good morning.»"
        );
        assert!(got[1]
            .as_ref()
            .err()
            .unwrap()
            .message()
            .contains("do not fit the context of 256 tokens"));
        assert_eq!(got[2].as_ref().unwrap().text, got[0].as_ref().unwrap().text);
    }

    #[test]
    fn the_schedule_does_not_depend_on_thread_timing() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        // Lanes that take different times to ask (as chats of different lengths do): which
        // prompts share a step must not change with that, or llama.cpp's batch-dependent
        // numbers would make the same request give different answers from run to run.
        let mut traces = Vec::new();
        for run in 0..3u64 {
            let mut s = lanes("tiny-llm-chat", 512, 512, 3);
            let prompter = s.prompter.clone();
            let prompts: Vec<(String, String)> = [
                "Да.",
                "Министр сказал, что голосование пройдёт.",
                "Нет.",
                "Привет.",
                "Доброе утро.",
                "Пока.",
            ]
            .iter()
            .map(|u| {
                let m = chat("Translate into English.", u);
                (
                    prompter.render(&m).unwrap(),
                    prompter.render_anchor(&m).unwrap(),
                )
            })
            .collect();
            let answers = s.answer_each(prompts.len(), 3, |lane, i| {
                let pause = (i as u64 * 7 + run * 13) % 5;
                std::thread::sleep(std::time::Duration::from_millis(3 * pause));
                let (p, a) = &prompts[i];
                let first = lane
                    .complete_prompt(&prompter, p, a, 6 + i, Decoding::Greedy)
                    .unwrap();
                std::thread::sleep(std::time::Duration::from_millis(2 * (5 - pause)));
                let second = lane
                    .complete_prompt(&prompter, p, a, 3, Decoding::Guarded)
                    .unwrap();
                (first.text, second.text)
            });
            assert!(answers.iter().all(Option::is_some));
            assert!(s.trace.iter().any(|step| step.len() == 3), "{:?}", s.trace);
            traces.push(std::mem::take(&mut s.trace));
        }
        assert_eq!(traces[0], traces[1]);
        assert_eq!(traces[0], traces[2]);
    }

    #[test]
    fn decoded_together_the_shared_start_is_still_read_once() {
        let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = lanes("tiny-llm-chat", 512, 512, 3);
        let prompter = s.prompter.clone();
        let users = ["Да.", "Нет.", "Привет.", "Доброе утро.", "Пока, спасибо."];
        let prompts: Vec<(String, String, usize, Decoding)> = users
            .iter()
            .map(|u| {
                let m = chat("Translate into English.", u);
                let (p, a) = (
                    prompter.render(&m).unwrap(),
                    prompter.render_anchor(&m).unwrap(),
                );
                (p, a, 8, Decoding::Greedy)
            })
            .collect();
        let got = answered_together(&mut s, &prompts);
        let n_anchor = tokens(&s, &prompts[0].1);
        let all: usize = prompts.iter().map(|(p, ..)| tokens(&s, p)).sum();
        let read: usize = got.iter().map(|o| o.read_tokens).sum();
        assert_eq!(read, all - (users.len() - 1) * n_anchor);
        // The anchor stays for the next request: no prompt reads it again.
        let again = answered_together(&mut s, &prompts);
        let read: usize = again.iter().map(|o| o.read_tokens).sum();
        assert_eq!(read, all - users.len() * n_anchor);
    }
}
