//! babeldesk's own encoder-decoder forward pass for the BART family (Marian, BART), written on
//! tch so its Linear layers can run in int8 (layers.rs). Post-norm layers, as both
//! architectures have: attention or feed-forward, residual, then layer norm.
//!
//! The order of operations follows the Hugging Face models these weights come from (the query
//! scaled before the product, masks added as the most negative float), so fp32 here matches
//! transformers and int8 matches transformers under torch's dynamic quantization.

use super::layers::{LayerNorm, Linear, Weights};
use super::{marian, EngineResult};
use babeldesk::models::protocol::{EngineFailure, Precision};
use babeldesk::models::registry::Architecture;
use serde_json::Value;
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Activation {
    Swish,
    Gelu,
    Relu,
}

impl Activation {
    fn apply(self, xs: &Tensor) -> Tensor {
        match self {
            Activation::Swish => xs.silu(),
            Activation::Gelu => xs.gelu("none"),
            Activation::Relu => xs.relu(),
        }
    }
}

/// What generation needs to know of the model's config.json.
#[derive(Debug, Clone)]
pub struct Seq2SeqConfig {
    pub d_model: i64,
    pub encoder_layers: i64,
    pub decoder_layers: i64,
    pub encoder_heads: i64,
    pub decoder_heads: i64,
    activation: Activation,
    pub scale_embedding: bool,
    pub max_positions: i64,
    pub vocab_size: i64,
    pub pad: i64,
    pub eos: i64,
    pub decoder_start: i64,
    pub forced_bos: Option<i64>,
    pub forced_eos: Option<i64>,
    /// Single tokens the model must never produce (`bad_words_ids`; Marian's pad).
    pub bad_tokens: Vec<i64>,
    architecture: Architecture,
}

impl Seq2SeqConfig {
    pub fn from_json(v: &Value, architecture: Architecture) -> EngineResult<Seq2SeqConfig> {
        let int = |key: &str| v.get(key).and_then(Value::as_i64);
        let need = |key: &str| {
            int(key).ok_or_else(|| EngineFailure::unsupported(format!("config.json lacks {key}")))
        };
        let activation = match v.get("activation_function").and_then(Value::as_str) {
            Some("swish") | Some("silu") => Activation::Swish,
            Some("gelu") | None => Activation::Gelu,
            Some("relu") => Activation::Relu,
            Some(other) => {
                return Err(EngineFailure::unsupported(format!(
                    "activation function '{other}' is not supported by the int8 engine"
                )))
            }
        };
        let bad_tokens = v
            .get("bad_words_ids")
            .and_then(Value::as_array)
            .map(|words| {
                words
                    .iter()
                    .filter_map(|w| match w.as_array().map(Vec::as_slice) {
                        Some([one]) => one.as_i64(),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let d_model = need("d_model")?;
        let encoder_heads = need("encoder_attention_heads")?;
        let decoder_heads = need("decoder_attention_heads")?;
        if d_model % encoder_heads != 0 || d_model % decoder_heads != 0 {
            return Err(EngineFailure::unsupported(
                "config.json: d_model is not a multiple of the attention heads",
            ));
        }
        let pad = need("pad_token_id")?;
        Ok(Seq2SeqConfig {
            d_model,
            encoder_layers: need("encoder_layers")?,
            decoder_layers: need("decoder_layers")?,
            encoder_heads,
            decoder_heads,
            activation,
            scale_embedding: v
                .get("scale_embedding")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            max_positions: int("max_position_embeddings").unwrap_or(512),
            vocab_size: need("vocab_size")?,
            pad,
            eos: need("eos_token_id")?,
            decoder_start: int("decoder_start_token_id").unwrap_or(pad),
            forced_bos: int("forced_bos_token_id"),
            forced_eos: int("forced_eos_token_id"),
            bad_tokens,
            architecture,
        })
    }
}

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    heads: i64,
    scaling: f64,
}

impl Attention {
    fn load(
        w: &Weights,
        prefix: &str,
        heads: i64,
        d_model: i64,
        p: Precision,
    ) -> EngineResult<Self> {
        Ok(Attention {
            q: w.linear(&format!("{prefix}.q_proj"), p)?,
            k: w.linear(&format!("{prefix}.k_proj"), p)?,
            v: w.linear(&format!("{prefix}.v_proj"), p)?,
            out: w.linear(&format!("{prefix}.out_proj"), p)?,
            heads,
            scaling: ((d_model / heads) as f64).powf(-0.5),
        })
    }

    /// [batch, time, d_model] to [batch, heads, time, head_dim].
    fn split(&self, xs: &Tensor) -> Tensor {
        let (b, t, d) = xs.size3().expect("3-d hidden states");
        xs.view([b, t, self.heads, d / self.heads]).transpose(1, 2)
    }

    fn query(&self, xs: &Tensor) -> Tensor {
        self.split(&(self.q.forward(xs) * self.scaling))
    }

    fn keys_values(&self, xs: &Tensor) -> (Tensor, Tensor) {
        (
            self.split(&self.k.forward(xs)),
            self.split(&self.v.forward(xs)),
        )
    }

    fn attend(&self, q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Tensor {
        let mut scores = q.matmul(&k.transpose(-1, -2));
        if let Some(m) = mask {
            scores = scores + m;
        }
        let ctx = scores.softmax(-1, Kind::Float).matmul(v);
        let (b, h, t, hd) = ctx.size4().expect("4-d context");
        self.out
            .forward(&ctx.transpose(1, 2).reshape([b, t, h * hd]))
    }
}

struct FeedForward {
    fc1: Linear,
    fc2: Linear,
    norm: LayerNorm,
}

impl FeedForward {
    fn load(w: &Weights, prefix: &str, p: Precision) -> EngineResult<Self> {
        Ok(FeedForward {
            fc1: w.linear(&format!("{prefix}.fc1"), p)?,
            fc2: w.linear(&format!("{prefix}.fc2"), p)?,
            norm: w.layer_norm(&format!("{prefix}.final_layer_norm"), 1e-5)?,
        })
    }

    fn forward(&self, xs: &Tensor, act: Activation) -> Tensor {
        let h = self.fc2.forward(&act.apply(&self.fc1.forward(xs)));
        self.norm.forward(&(xs + h))
    }
}

struct EncoderLayer {
    attn: Attention,
    attn_norm: LayerNorm,
    ffn: FeedForward,
}

struct DecoderLayer {
    attn: Attention,
    attn_norm: LayerNorm,
    cross: Attention,
    cross_norm: LayerNorm,
    ffn: FeedForward,
}

/// One decoder layer's keys and values: its own past tokens, and the encoder's (fixed).
struct LayerCache {
    keys: Option<Tensor>,
    values: Option<Tensor>,
    cross: (Tensor, Tensor),
}

/// The decoder's state between steps, one row per hypothesis.
pub struct DecoderCache {
    layers: Vec<LayerCache>,
}

impl DecoderCache {
    /// Keep rows `rows` (beam search moves hypotheses between rows). The encoder's keys and
    /// values are the same for all beams of a sentence: they move only when a row takes
    /// another sentence's (`across`).
    pub fn reorder(&mut self, rows: &Tensor, across: bool) {
        for l in &mut self.layers {
            l.keys = l.keys.as_ref().map(|k| k.index_select(0, rows));
            l.values = l.values.as_ref().map(|v| v.index_select(0, rows));
            if across {
                l.cross = (
                    l.cross.0.index_select(0, rows),
                    l.cross.1.index_select(0, rows),
                );
            }
        }
    }
}

/// An encoded batch: hidden states and the additive attention mask over source positions.
pub struct Encoded {
    pub hidden: Tensor,
    pub mask: Tensor,
}

impl Encoded {
    /// Each row repeated `times` times in place (beams of one sentence sit together).
    pub fn repeat_rows(&self, times: i64) -> Encoded {
        Encoded {
            hidden: self.hidden.repeat_interleave_self_int(times, 0, None),
            mask: self.mask.repeat_interleave_self_int(times, 0, None),
        }
    }
}

pub struct Seq2Seq {
    pub config: Seq2SeqConfig,
    embed: Tensor,
    embed_scale: f64,
    encoder_positions: Tensor,
    decoder_positions: Tensor,
    /// BART's learned tables start two rows in.
    position_offset: i64,
    encoder_embed_norm: Option<LayerNorm>,
    decoder_embed_norm: Option<LayerNorm>,
    encoder: Vec<EncoderLayer>,
    decoder: Vec<DecoderLayer>,
    lm_head: Linear,
    logits_bias: Option<Tensor>,
}

fn encoder_layers(c: &Seq2SeqConfig, w: &Weights, p: Precision) -> EngineResult<Vec<EncoderLayer>> {
    (0..c.encoder_layers)
        .map(|i| {
            let pre = format!("model.encoder.layers.{i}");
            Ok(EncoderLayer {
                attn: Attention::load(
                    w,
                    &format!("{pre}.self_attn"),
                    c.encoder_heads,
                    c.d_model,
                    p,
                )?,
                attn_norm: w.layer_norm(&format!("{pre}.self_attn_layer_norm"), 1e-5)?,
                ffn: FeedForward::load(w, &pre, p)?,
            })
        })
        .collect()
}

fn decoder_layers(c: &Seq2SeqConfig, w: &Weights, p: Precision) -> EngineResult<Vec<DecoderLayer>> {
    (0..c.decoder_layers)
        .map(|i| {
            let pre = format!("model.decoder.layers.{i}");
            Ok(DecoderLayer {
                attn: Attention::load(
                    w,
                    &format!("{pre}.self_attn"),
                    c.decoder_heads,
                    c.d_model,
                    p,
                )?,
                attn_norm: w.layer_norm(&format!("{pre}.self_attn_layer_norm"), 1e-5)?,
                cross: Attention::load(
                    w,
                    &format!("{pre}.encoder_attn"),
                    c.decoder_heads,
                    c.d_model,
                    p,
                )?,
                cross_norm: w.layer_norm(&format!("{pre}.encoder_attn_layer_norm"), 1e-5)?,
                ffn: FeedForward::load(w, &pre, p)?,
            })
        })
        .collect()
}

impl Seq2Seq {
    pub fn load(config: Seq2SeqConfig, w: &Weights, p: Precision) -> EngineResult<Seq2Seq> {
        let c = &config;
        let embed = w.first(&["model.shared.weight", "model.encoder.embed_tokens.weight"])?;
        // Weights of another model (or size) fail deep inside libtorch otherwise.
        w.expect_shape("the token embeddings", &embed, &[c.vocab_size, c.d_model])?;
        let table = |side: &str| -> EngineResult<Tensor> {
            let name = format!("model.{side}.embed_positions.weight");
            if w.has(&name) || c.architecture != Architecture::Marian {
                return w.get(&name);
            }
            // Marian's sinusoidal tables are not saved by transformers: computed as it does.
            let t = marian::sinusoidal_table(c.max_positions, c.d_model);
            Ok(Tensor::from_slice(&t).view([c.max_positions, c.d_model]))
        };
        let bart = c.architecture == Architecture::Bart;
        let embed_norm = |side: &str| {
            bart.then(|| w.layer_norm(&format!("model.{side}.layernorm_embedding"), 1e-5))
                .transpose()
        };
        // Quantizing and packing the matrices takes seconds for a big model: the encoder's on
        // one thread, the decoder's and the output layer's on another.
        let (encoder, decoder) = std::thread::scope(|scope| {
            let encoder = scope.spawn(|| encoder_layers(c, w, p));
            let decoder = decoder_layers(c, w, p).and_then(|layers| {
                let head = w.first(&["lm_head.weight", "model.shared.weight"])?;
                Ok((layers, Linear::new(&head, None, p)?))
            });
            let encoder = encoder
                .join()
                .unwrap_or_else(|_| Err(EngineFailure::unsupported("loading the encoder failed")));
            (encoder, decoder)
        });
        let (decoder, lm_head) = decoder?;
        Ok(Seq2Seq {
            embed_scale: if c.scale_embedding {
                (c.d_model as f64).sqrt()
            } else {
                1.0
            },
            encoder_positions: table("encoder")?,
            decoder_positions: table("decoder")?,
            position_offset: if bart { 2 } else { 0 },
            encoder_embed_norm: embed_norm("encoder")?,
            decoder_embed_norm: embed_norm("decoder")?,
            encoder: encoder?,
            decoder,
            lm_head,
            logits_bias: w.get("final_logits_bias").ok(),
            embed,
            config,
        })
    }

    fn embed(
        &self,
        ids: &Tensor,
        positions: &Tensor,
        start: i64,
        norm: Option<&LayerNorm>,
    ) -> Tensor {
        let len = ids.size()[1];
        let tokens =
            Tensor::embedding(&self.embed, ids, self.config.pad, false, false) * self.embed_scale;
        let at = Tensor::arange_start(
            start + self.position_offset,
            start + self.position_offset + len,
            (Kind::Int64, ids.device()),
        );
        let xs = tokens + positions.index_select(0, &at);
        match norm {
            Some(n) => n.forward(&xs),
            None => xs,
        }
    }

    /// Longest input the position table allows.
    pub fn max_input_tokens(&self) -> i64 {
        self.encoder_positions.size()[0] - self.position_offset
    }

    /// `ids` [batch, time] right-padded, `mask` 1 for tokens and 0 for padding.
    pub fn encode(&self, ids: &Tensor, mask: &Tensor) -> Encoded {
        // 0 where a token is, the most negative float where padding is.
        let padding = mask.to_kind(Kind::Float) * -1.0 + 1.0;
        let additive = (padding * f32::MIN as f64).unsqueeze(1).unsqueeze(1);
        let mut xs = self.embed(
            ids,
            &self.encoder_positions,
            0,
            self.encoder_embed_norm.as_ref(),
        );
        for l in &self.encoder {
            let q = l.attn.query(&xs);
            let (k, v) = l.attn.keys_values(&xs);
            let h = l.attn.attend(&q, &k, &v, Some(&additive));
            xs = l.attn_norm.forward(&(xs + h));
            xs = l.ffn.forward(&xs, self.config.activation);
        }
        Encoded {
            hidden: xs,
            mask: additive,
        }
    }

    pub fn new_cache(&self, enc: &Encoded) -> DecoderCache {
        DecoderCache {
            layers: self
                .decoder
                .iter()
                .map(|l| LayerCache {
                    keys: None,
                    values: None,
                    cross: l.cross.keys_values(&enc.hidden),
                })
                .collect(),
        }
    }

    /// Logits [rows, vocab] for the next token after `tokens` [rows], the token at `step`.
    pub fn step(
        &self,
        tokens: &Tensor,
        step: i64,
        enc: &Encoded,
        cache: &mut DecoderCache,
    ) -> Tensor {
        let ids = tokens.unsqueeze(1);
        let mut xs = self.embed(
            &ids,
            &self.decoder_positions,
            step,
            self.decoder_embed_norm.as_ref(),
        );
        for (l, c) in self.decoder.iter().zip(&mut cache.layers) {
            let q = l.attn.query(&xs);
            let (k, v) = l.attn.keys_values(&xs);
            let k = match &c.keys {
                Some(past) => Tensor::cat(&[past, &k], 2),
                None => k,
            };
            let v = match &c.values {
                Some(past) => Tensor::cat(&[past, &v], 2),
                None => v,
            };
            let h = l.attn.attend(&q, &k, &v, None);
            c.keys = Some(k);
            c.values = Some(v);
            xs = l.attn_norm.forward(&(xs + h));
            let q = l.cross.query(&xs);
            let h = l.cross.attend(&q, &c.cross.0, &c.cross.1, Some(&enc.mask));
            xs = l.cross_norm.forward(&(xs + h));
            xs = l.ffn.forward(&xs, self.config.activation);
        }
        let logits = self.lm_head.forward(&xs).squeeze_dim(1);
        match &self.logits_bias {
            Some(b) => logits + b,
            None => logits,
        }
    }
}
