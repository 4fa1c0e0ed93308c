//! One llama.cpp context and the tokens in its cache. Prompts share their start (the system
//! prompt): it is read once, on its own, and kept; each prompt's rest is read afresh. Reading
//! the shared start alone matters: llama.cpp's numbers depend slightly on how tokens are
//! batched, and greedy decoding amplifies that, so a cache that kept "whatever the previous
//! prompt had in common" made a sentence's translation depend on the sentence before it.
//! This way the same prompt always gives the same answer.

use super::EngineResult;
use babeldesk::models::prompt::Message;
use babeldesk::models::protocol::EngineFailure;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

/// How to pick tokens. Both are deterministic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decoding {
    /// Greedy, with a mild penalty on tokens repeated in the last 64 generated: keeps small
    /// models out of loops.
    Guarded,
    /// Plain greedy: the retry.
    Greedy,
}

pub struct Output {
    pub text: String,
    /// Tokens the prompt needed that were not in the cache already.
    pub read_tokens: usize,
    pub generated: usize,
    /// Generation stopped at `max_tokens` instead of ending by itself.
    pub hit_limit: bool,
}

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
                LlamaSampler::penalties(self.model.n_vocab(), 64, 1.1, 0.0, 0.0),
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
