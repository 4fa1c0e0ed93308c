//! One llama.cpp context and the tokens in its cache. Prompts share their start (the system
//! prompt): it is read once, on its own, and kept; each prompt's rest is read afresh. Reading
//! the shared start alone matters: llama.cpp's numbers depend slightly on how tokens are
//! batched, and greedy decoding amplifies that, so a cache that kept "whatever the previous
//! prompt had in common" made a sentence's translation depend on the sentence before it.
//! This way the same prompt always gives the same answer.

use super::EngineResult;
use babeldesk::models::chat::{self, Completion as Output, Decoding};
use babeldesk::models::prompt::Message;
use babeldesk::models::protocol::EngineFailure;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

pub struct Session {
    model: &'static LlamaModel,
    ctx: LlamaContext<'static>,
    template: Option<LlamaChatTemplate>,
    /// The shared start in the cache (read on its own).
    anchor: Vec<LlamaToken>,
    n_batch: usize,
}

impl Session {
    pub fn new(model: &'static LlamaModel, ctx: LlamaContext<'static>, n_batch: usize) -> Session {
        Session {
            model,
            ctx,
            template: model.chat_template(None).ok(),
            anchor: Vec::new(),
            n_batch,
        }
    }

    pub fn n_ctx(&self) -> usize {
        self.ctx.n_ctx() as usize
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

    /// Answer `prompt`, whose first `anchor` bytes (the rendered system prompt) are the start
    /// it shares with other prompts.
    pub fn generate(
        &mut self,
        prompt: &str,
        anchor: &str,
        max_tokens: usize,
        decoding: Decoding,
    ) -> EngineResult<Output> {
        let vocab = self.model.vocab();
        let add_bos = vocab.should_add_bos();
        let tokens = vocab.tokenize(prompt.as_bytes(), add_bos, true);
        if tokens.is_empty() {
            return Err(EngineFailure::request("empty prompt"));
        }
        if tokens.len() + max_tokens > self.n_ctx() {
            return Err(EngineFailure::request(format!(
                "the prompt ({} tokens) and answer ({max_tokens}) do not fit the context of {} tokens",
                tokens.len(),
                self.n_ctx()
            )));
        }
        // The anchor counts only if it tokenizes as the prompt's own start, and leaves a token
        // to read (its logits start the answer).
        let mut anchor_tokens = if prompt.starts_with(anchor) {
            vocab.tokenize(anchor.as_bytes(), add_bos, true)
        } else {
            Vec::new()
        };
        if !tokens.starts_with(&anchor_tokens) || anchor_tokens.len() >= tokens.len() {
            anchor_tokens.clear();
        }
        let mut batch = LlamaBatch::new(self.n_batch.max(1), 1);
        let mut read = 0;
        if anchor_tokens != self.anchor {
            self.ctx
                .clear_kv_cache_seq(Some(0), None, None)
                .map_err(|e| EngineFailure::model("cache", e))?;
            self.anchor.clear();
            self.read(&mut batch, &anchor_tokens, 0, false)?;
            read += anchor_tokens.len();
            self.anchor = anchor_tokens;
        } else {
            self.ctx
                .clear_kv_cache_seq(Some(0), Some(self.anchor.len() as u32), None)
                .map_err(|e| EngineFailure::model("cache", e))?;
        }
        let keep = self.anchor.len();
        self.read(&mut batch, &tokens[keep..], keep, true)?;
        read += tokens.len() - keep;
        let mut pos = tokens.len();

        let mut sampler = match decoding {
            Decoding::Guarded => LlamaSampler::chain_simple([
                LlamaSampler::penalties(
                    self.model.n_vocab(),
                    chat::PENALTY_LAST_N,
                    chat::REPEAT_PENALTY,
                    0.0,
                    0.0,
                ),
                LlamaSampler::greedy(),
            ]),
            Decoding::Greedy => LlamaSampler::greedy(),
        };
        let mut bytes = Vec::new();
        let mut generated = 0;
        let mut hit_limit = true;
        let mut logits_at = batch.n_tokens() - 1;
        while generated < max_tokens {
            let token = sampler.sample(&self.ctx, logits_at);
            sampler.accept(token);
            if vocab.is_eog(token) {
                hit_limit = false;
                break;
            }
            bytes.extend(vocab.token_to_piece(token, false, None));
            generated += 1;
            batch.clear();
            batch
                .add(token, pos as i32, &[0], true)
                .map_err(|e| EngineFailure::model("batch", e))?;
            self.ctx
                .decode(&mut batch)
                .map_err(|e| EngineFailure::model("generating", e))?;
            pos += 1;
            logits_at = 0;
        }
        Ok(Output {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            read_tokens: read,
            generated,
            hit_limit,
            refused: None,
        })
    }

    /// Decode `tokens` at positions from `start`, in batches; logits for the last one only
    /// when `last_logits`.
    fn read(
        &mut self,
        batch: &mut LlamaBatch,
        tokens: &[LlamaToken],
        start: usize,
        last_logits: bool,
    ) -> EngineResult<()> {
        let mut pos = start;
        for chunk in tokens.chunks(self.n_batch.max(1)) {
            batch.clear();
            for (j, &t) in chunk.iter().enumerate() {
                let last = last_logits && pos + j + 1 == start + tokens.len();
                batch
                    .add(t, (pos + j) as i32, &[0], last)
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

#[cfg(test)]
mod tests {
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
    static SERIAL: Mutex<()> = Mutex::new(());

    fn session(name: &str, n_ctx: u32, n_batch: usize) -> Session {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/models")
            .join(name)
            .join("model.gguf");
        let model =
            LlamaModel::load_from_file(backend(), &path, &LlamaModelParams::default()).unwrap();
        let model: &'static LlamaModel = Box::leak(Box::new(model));
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(n_batch as u32)
            .with_n_threads(2)
            .with_n_threads_batch(2);
        let ctx = model.new_context(backend(), params).unwrap();
        Session::new(model, ctx, n_batch)
    }

    fn chat(system: &str, user: &str) -> Vec<Message> {
        vec![("system", system.to_string()), ("user", user.to_string())]
    }

    /// The tokens llama.cpp reads for `text` (as `generate` tokenizes a prompt).
    fn tokens(s: &Session, text: &str) -> usize {
        let vocab = s.model.vocab();
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
        if !s.model.vocab().should_add_bos() {
            let e = s.generate("", "", 8, Decoding::Greedy).err().unwrap();
            assert_eq!(e.message(), "empty prompt");
        }
    }
}
